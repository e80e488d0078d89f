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
    criado: Option<String>,
}

pub async fn segment_list(
    ctx: PageCtx,
    state: web::Data<AppState>,
    query: web::Query<SegmentQuery>,
) -> Result<SegmentListPage, AppError> {
    let segments = state
        .db(|conn| Ok(Segment::list_with_counts(conn)?))
        .await?;
    Ok(SegmentListPage {
        ctx,
        segments,
        name: String::new(),
        error: None,
        notice: query.criado.as_ref().map(|_| messages::SEGMENT_CREATED),
    })
}
