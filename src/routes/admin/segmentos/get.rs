//! `GET /admin/segmentos`.

use actix_web::web;
use serde::Deserialize;

use super::SegmentListPage;
use crate::messages;
use crate::models::Segment;
use crate::web::page::PageCtx;
use crate::web::{AppError, AppState};

#[derive(Deserialize)]
pub struct SegmentQuery {
    ok: Option<String>,
}

pub async fn segment_list(
    ctx: PageCtx,
    state: web::Data<AppState>,
    query: web::Query<SegmentQuery>,
) -> Result<SegmentListPage, AppError> {
    let segments = state
        .db(|conn| Ok(Segment::list_with_counts(conn)?))
        .await?;
    let notice = match query.ok.as_deref() {
        Some("criado") => Some(messages::SEGMENT_CREATED),
        Some("renomeado") => Some(messages::SEGMENT_RENAMED),
        Some("excluido") => Some(messages::SEGMENT_DELETED),
        _ => None,
    };
    Ok(SegmentListPage {
        ctx,
        segments,
        name: String::new(),
        error: None,
        notice,
        rename_error: None,
    })
}
