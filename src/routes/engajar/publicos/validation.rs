//! "Validar sem importar" leads somewhere: the form's POST keeps what the dry run found
//! (and the upload, for `validation::KEEP_SECS`) and redirects here. From this page
//! **Importar este arquivo** imports the very same upload with the same choices, and
//! **Corrigir** returns to the form with every field but the file filled in.

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use askama_web::WebTemplate;

use crate::domain::LegalBasis;
use crate::models::validation::{Findings, Problem, Validation};
use crate::models::{Audience, Segment};
use crate::web::csrf::{CsrfForm, NoFields};
use crate::web::display::filters;
use crate::web::page::PageCtx;
use crate::web::{AppError, AppState, client_ip, see_other};

#[derive(Template, WebTemplate)]
#[template(path = "engajar/publicos/validacao.html")]
pub struct ValidationPage {
    ctx: PageCtx,
    id: i64,
    file_name: String,
    description: String,
    segment: String,
    legal_basis: String,
    options: Vec<&'static str>,
    findings: Findings,
    /// The upload is still kept and the file can be imported.
    can_import: bool,
    expired: bool,
    minutes_left: i64,
    keep_minutes: i64,
    /// Why the import just pressed could not be made.
    error: Option<String>,
}

impl ValidationPage {
    fn problems(&self) -> impl Iterator<Item = &Problem> {
        self.findings
            .file_errors
            .iter()
            .chain(self.findings.rejected_rows.iter())
    }
}

/// Someone else's validation is no more theirs to see than one that never was.
fn owned(found: Option<Validation>, ctx: &PageCtx) -> Result<Validation, AppError> {
    found
        .filter(|v| v.user_id == ctx.user.id)
        .ok_or(AppError::NotFound)
}

async fn page(
    ctx: PageCtx,
    state: &AppState,
    id: i64,
    error: Option<String>,
) -> Result<ValidationPage, AppError> {
    let found = state
        .db(move |conn| Ok(Validation::find(conn, id)?))
        .await?;
    let validation = owned(found, &ctx)?;
    let segment_id = validation.choices.segment_id;
    let segment = state
        .db(move |conn| Ok(Segment::find(conn, segment_id)?))
        .await?
        .map(|s| s.name)
        .unwrap_or_else(|| "(segmento excluído)".to_string());
    let now = crate::time::now();
    let expired = validation.is_expired(now);
    Ok(ValidationPage {
        ctx,
        id: validation.id,
        file_name: validation.choices.file_name.clone(),
        description: validation.choices.description.clone(),
        segment,
        legal_basis: LegalBasis::label_for(&validation.choices.legal_basis),
        options: validation
            .choices
            .options()
            .enabled()
            .into_iter()
            .map(|o| o.label)
            .collect(),
        can_import: validation.findings.importable && validation.upload.is_some() && !expired,
        expired,
        minutes_left: validation.minutes_left(now),
        keep_minutes: crate::models::validation::KEEP_SECS / 60,
        error,
        findings: validation.findings,
    })
}

/// `GET /engajar/publicos/validacoes/{id}`.
pub async fn show_validation(
    ctx: PageCtx,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> Result<ValidationPage, AppError> {
    page(ctx, &state, id.into_inner(), None).await
}

/// `POST /engajar/publicos/validacoes/{id}/importar`: queues the kept upload as an
/// audience with the validated choices; pressed twice, it leads to the same audience.
pub async fn import_validated(
    req: HttpRequest,
    ctx: PageCtx,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let found = state
        .db(move |conn| Ok(Validation::find(conn, id)?))
        .await?;
    let validation = owned(found, &ctx)?;
    let token = validation.form_token();
    let again = token.clone();
    if let Some(first) = state
        .db(move |conn| Ok(Audience::find_by_form_token(conn, &again)?))
        .await?
    {
        return Ok(see_other(&format!("/engajar/publicos/{}", first.id)));
    }
    let refuse = |message: &str| {
        let message = message.to_string();
        let ctx = ctx.clone();
        let state = state.clone();
        async move {
            let page = page(ctx, &state, id, Some(message)).await?;
            Ok::<_, AppError>(
                HttpResponse::Conflict()
                    .content_type("text/html; charset=utf-8")
                    .body(page.render()?),
            )
        }
    };
    let (Some(upload), true) = (validation.upload.clone(), validation.findings.importable) else {
        return refuse(crate::messages::VALIDATION_NOT_IMPORTABLE).await;
    };
    if validation.is_expired(crate::time::now()) {
        return refuse(crate::messages::VALIDATION_EXPIRED).await;
    }
    let segment_id = validation.choices.segment_id;
    let Some(segment) = state
        .db(move |conn| Ok(Segment::find(conn, segment_id)?))
        .await?
    else {
        return refuse(crate::messages::VALIDATION_SEGMENT_GONE).await;
    };
    let Some(import) = validation.choices.import(&segment.name, ctx.user.id) else {
        return refuse(crate::messages::VALIDATION_NOT_IMPORTABLE).await;
    };
    let ip = client_ip(&req);
    let token_again = token.clone();
    let queued = state
        .db(move |conn| {
            Ok(Audience::queue(
                conn,
                &import,
                &upload,
                Some(&token),
                ip.as_deref(),
            )?)
        })
        .await;
    let audience = match queued {
        Ok((audience, _)) => audience,
        // Two presses at the same instant on PostgreSQL: the unique token let one in.
        Err(e) => state
            .db(move |conn| Ok(Audience::find_by_form_token(conn, &token_again)?))
            .await?
            .ok_or(e)?,
    };
    state.jobs.wake();
    Ok(see_other(&format!("/engajar/publicos/{}", audience.id)))
}
