//! Excluir público (undo an import): a confirmation page with what would go, then the
//! deletion, audited. The work itself is `erase::undo_import`.

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use askama_web::WebTemplate;

use crate::messages;
use crate::models::erase::{self, ImportUndo};
use crate::models::{Audience, audit};
use crate::web::csrf::{CsrfForm, NoFields};
use crate::web::display::filters;
use crate::web::page::PageCtx;
use crate::web::{AppError, AppState, client_ip, see_other};

#[derive(Template, WebTemplate)]
#[template(path = "engajar/publicos/excluir.html")]
pub struct DeleteAudiencePage {
    ctx: PageCtx,
    audience: Audience,
    /// What would go, or why it cannot.
    undo: Result<ImportUndo, String>,
}

async fn preview(ctx: PageCtx, state: &AppState, id: i64) -> Result<DeleteAudiencePage, AppError> {
    let (audience, undo) = state
        .db(move |conn| {
            let audience = Audience::find(conn, id)?.ok_or(AppError::NotFound)?;
            let undo = erase::undo_import(conn, id, false)?.ok_or(AppError::NotFound)?;
            Ok((audience, undo))
        })
        .await?;
    Ok(DeleteAudiencePage {
        ctx,
        audience,
        undo: undo.map_err(|r| messages::undo_refused(&r)),
    })
}

/// `GET /admin/publicos/{id}/excluir`.
pub async fn confirm_delete(
    ctx: PageCtx,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> Result<DeleteAudiencePage, AppError> {
    preview(ctx, &state, id.into_inner()).await
}

/// `POST /admin/publicos/{id}/excluir`.
pub async fn delete_audience(
    req: HttpRequest,
    ctx: PageCtx,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let user = ctx.user.id;
    let ip = client_ip(&req);
    let undone = state
        .db(move |conn| {
            Ok(crate::db::write_transaction(conn, |conn| {
                let undone = erase::undo_import(conn, id, true)?;
                if let Some(Ok(undo)) = &undone {
                    audit(
                        conn,
                        Some(user),
                        "audience_delete",
                        &messages::audience_deleted(id, undo, false),
                        ip.as_deref(),
                    )?;
                }
                Ok::<_, diesel::result::Error>(undone)
            })?)
        })
        .await?;
    match undone {
        None => Err(AppError::NotFound),
        Some(Err(refusal)) => Err(AppError::Conflict(messages::undo_refused(&refusal))),
        Some(Ok(_)) => Ok(see_other("/engajar/publicos?excluido=1")),
    }
}
