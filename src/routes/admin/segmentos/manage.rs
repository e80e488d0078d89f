//! Renaming and deleting a segment. Deleting asks first, and is refused while any
//! audience was imported into the segment.

use actix_web::{Either, HttpRequest, HttpResponse, web};
use askama::Template;
use askama_web::WebTemplate;
use serde::Deserialize;

use super::SegmentListPage;
use crate::domain::SegmentName;
use crate::messages;
use crate::models::segment::SegmentChangeError;
use crate::models::{Segment, SegmentWithCounts, audit};
use crate::web::csrf::{CsrfForm, NoFields};
use crate::web::page::PageCtx;
use crate::web::{AppError, AppState, client_ip, see_other};

#[derive(Deserialize)]
pub struct RenameForm {
    #[serde(default)]
    name: String,
}

/// `POST /admin/segmentos/{id}/renomear`.
pub async fn rename_segment(
    req: HttpRequest,
    ctx: PageCtx,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    CsrfForm(form): CsrfForm<RenameForm>,
) -> Result<Either<SegmentListPage, HttpResponse>, AppError> {
    let id = path.into_inner();
    let error = match SegmentName::parse(&form.name) {
        Ok(name) => {
            let user_id = ctx.user.id;
            let ip = client_ip(&req);
            let outcome = state
                .db(move |conn| {
                    let outcome = Segment::rename(conn, id, &name)?;
                    if let Ok(old) = &outcome {
                        audit(
                            conn,
                            Some(user_id),
                            "segment_rename",
                            &format!("segmento #{id}: {old} → {}", name.as_str()),
                            ip.as_deref(),
                        )?;
                    }
                    Ok(outcome)
                })
                .await?;
            match outcome {
                Ok(_) => return Ok(Either::Right(see_other("/admin/segmentos?ok=renomeado"))),
                Err(SegmentChangeError::NotFound) => return Err(AppError::NotFound),
                Err(_) => messages::SEGMENT_EXISTS,
            }
        }
        Err(message) => message,
    };
    let segments = state
        .db(|conn| Ok(Segment::list_with_counts(conn)?))
        .await?;
    Ok(Either::Left(SegmentListPage {
        ctx,
        segments,
        name: String::new(),
        error: None,
        notice: None,
        rename_error: Some((id, form.name, error)),
    }))
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/segmento_excluir.html")]
pub struct DeletePage {
    ctx: PageCtx,
    segment: SegmentWithCounts,
}

/// `GET /admin/segmentos/{id}/excluir`: the confirmation, or why it cannot be done.
pub async fn confirm_delete(
    ctx: PageCtx,
    state: web::Data<AppState>,
    path: web::Path<i64>,
) -> Result<DeletePage, AppError> {
    let id = path.into_inner();
    let segment = state
        .db(move |conn| SegmentWithCounts::find(conn, id)?.ok_or(AppError::NotFound))
        .await?;
    Ok(DeletePage { ctx, segment })
}

/// `POST /admin/segmentos/{id}/excluir`.
pub async fn delete_segment(
    req: HttpRequest,
    ctx: PageCtx,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> Result<Either<DeletePage, HttpResponse>, AppError> {
    let id = path.into_inner();
    let user_id = ctx.user.id;
    let ip = client_ip(&req);
    let outcome = state
        .db(move |conn| {
            let outcome = match Segment::delete(conn, id) {
                // An import created at this very moment holds the segment.
                Err(diesel::result::Error::DatabaseError(
                    diesel::result::DatabaseErrorKind::ForeignKeyViolation,
                    _,
                )) => Ok(Err(SegmentChangeError::InUse { audiences: 1 })),
                other => other,
            }?;
            if let Ok((name, removed)) = &outcome {
                audit(
                    conn,
                    Some(user_id),
                    "segment_delete",
                    &format!("segmento #{id}: {name} ({removed} contato(s) saíram dele)"),
                    ip.as_deref(),
                )?;
            }
            Ok(outcome)
        })
        .await?;
    match outcome {
        Ok(_) => Ok(Either::Right(see_other("/admin/segmentos?ok=excluido"))),
        Err(SegmentChangeError::NotFound) => Err(AppError::NotFound),
        Err(_) => {
            let segment = state
                .db(move |conn| SegmentWithCounts::find(conn, id)?.ok_or(AppError::NotFound))
                .await?;
            Ok(Either::Left(DeletePage { ctx, segment }))
        }
    }
}
