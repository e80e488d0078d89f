//! `GET /engajar/publicos/importar`.

use actix_web::web;

use super::{ImportFormErrors, ImportFormPage, ImportFormValues};
use crate::domain::LegalBasis;
use crate::models::Segment;
use crate::web::page::PageCtx;
use crate::web::{AppError, AppState};

pub async fn import_form(
    ctx: PageCtx,
    state: web::Data<AppState>,
) -> Result<ImportFormPage, AppError> {
    let segments = state.db(|conn| Ok(Segment::list(conn)?)).await?;
    let settings = state.settings().await?;
    Ok(ImportFormPage {
        ctx,
        segments,
        bases: LegalBasis::ALL,
        verify_enabled: settings.verify_enabled,
        max_upload_mb: settings.max_upload_mb,
        values: ImportFormValues {
            form_token: crate::web::session::new_token(),
            ..Default::default()
        },
        errors: ImportFormErrors::default(),
    })
}
