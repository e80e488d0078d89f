//! `GET /engajar/publicos/importar`.

use actix_web::web;
use serde::Deserialize;

use super::{ImportFormErrors, ImportFormPage, ImportFormValues};
use crate::domain::LegalBasis;
use crate::models::Segment;
use crate::models::validation::Validation;
use crate::web::page::PageCtx;
use crate::web::{AppError, AppState};

#[derive(Deserialize)]
pub struct FormQuery {
    /// "Corrigir" on a validation's page: its choices fill the form again.
    validacao: Option<String>,
}

pub async fn import_form(
    ctx: PageCtx,
    state: web::Data<AppState>,
    query: web::Query<FormQuery>,
) -> Result<ImportFormPage, AppError> {
    let segments = state.db(|conn| Ok(Segment::list(conn)?)).await?;
    let settings = state.settings().await?;
    let validation = match query
        .validacao
        .as_deref()
        .and_then(|v| v.trim().parse().ok())
    {
        Some(id) => state
            .db(move |conn| Ok(Validation::find(conn, id)?))
            .await?
            .filter(|v| v.user_id == ctx.user.id),
        None => None,
    };
    let mut values = ImportFormValues {
        form_token: crate::web::session::new_token(),
        ..Default::default()
    };
    let mut notice = None;
    if let Some(v) = validation {
        let c = v.choices;
        values.descricao = c.description;
        values.segmento = Some(c.segment_id);
        values.autorizacao = c.legal_basis;
        values.verify = c.verify && settings.verify_enabled;
        values.nao_perturbe = c.dnd;
        values.manter_segmento = c.only_segment;
        values.limpar_tag = c.clear_tags;
        notice = Some(crate::messages::VALIDATION_REFILL_FILE);
    }
    Ok(ImportFormPage {
        ctx,
        segments,
        bases: LegalBasis::ALL,
        verify_enabled: settings.verify_enabled,
        max_upload_mb: settings.max_upload_mb,
        values,
        errors: ImportFormErrors::default(),
        notice,
    })
}
