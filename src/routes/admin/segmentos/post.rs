//! `POST /admin/segmentos`: creates a segment; names are unique ignoring case.

use actix_web::{Either, HttpRequest, HttpResponse, web};
use serde::Deserialize;

use super::SegmentListPage;
use crate::domain::SegmentName;
use crate::messages;
use crate::models::{NewSegment, Segment, audit};
use crate::time;
use crate::web::csrf::CsrfForm;
use crate::web::page::PageCtx;
use crate::web::{AppError, AppState, client_ip, see_other};

#[derive(Deserialize)]
pub struct SegmentForm {
    #[serde(default)]
    name: String,
}

pub async fn create_segment(
    req: HttpRequest,
    ctx: PageCtx,
    state: web::Data<AppState>,
    CsrfForm(form): CsrfForm<SegmentForm>,
) -> Result<Either<SegmentListPage, HttpResponse>, AppError> {
    let error = match SegmentName::parse(&form.name) {
        Ok(name) => {
            let user_id = ctx.user.id;
            let ip = client_ip(&req);
            let created = state
                .db(move |conn| {
                    let now = time::now();
                    let (segment, created) = NewSegment {
                        name: name.as_str(),
                        name_key: name.key(),
                        created_by: Some(user_id),
                        created_at: now,
                    }
                    .insert_if_absent(conn)?;
                    if created {
                        audit(
                            conn,
                            Some(user_id),
                            "segment_create",
                            &format!("segmento #{}: {}", segment.id, segment.name),
                            ip.as_deref(),
                        )?;
                    }
                    Ok(created)
                })
                .await?;
            if created {
                return Ok(Either::Right(see_other("/admin/segmentos?ok=criado")));
            }
            messages::SEGMENT_EXISTS
        }
        Err(message) => message,
    };
    let segments = state
        .db(|conn| Ok(Segment::list_with_counts(conn)?))
        .await?;
    Ok(Either::Left(SegmentListPage {
        ctx,
        segments,
        name: form.name,
        error: Some(error),
        notice: None,
        rename_error: None,
    }))
}
