//! `GET /engajar/publicos`: every audience, newest first.

use actix_web::web;
use askama::Template;
use askama_web::WebTemplate;
use serde::Deserialize;

use crate::domain::LegalBasis;
use crate::models::AudienceListItem;
use crate::time;
use crate::web::display::filters;
use crate::web::page::PageCtx;
use crate::web::{AppError, AppState};

pub const PAGE_SIZE: i64 = 25;

pub struct AudienceRow {
    pub id: i64,
    pub description: String,
    pub segment: String,
    pub file_name: String,
    pub legal_basis: String,
    pub created_by: String,
    pub created_at: String,
    pub status: String,
    pub status_code: String,
    pub imported: i64,
    pub updated: i64,
    pub discarded: i64,
    pub rejected: i64,
}

impl From<AudienceListItem> for AudienceRow {
    fn from(item: AudienceListItem) -> Self {
        AudienceRow {
            id: item.id,
            legal_basis: LegalBasis::label_for(&item.legal_basis),
            status: item.status.label().to_string(),
            status_code: item.status.code().to_string(),
            created_at: time::format_br(item.created_at),
            description: item.description,
            segment: item.segment_name,
            file_name: item.file_name,
            created_by: item
                .created_by_name
                .unwrap_or_else(|| crate::messages::CLI_AUTHOR.to_string()),
            imported: item.imported,
            updated: item.contacts_updated,
            discarded: item.dnd_skipped + item.verify_discarded + item.duplicate_rows,
            rejected: item.rejected,
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "engajar/publicos/list.html")]
pub struct AudienceListPage {
    ctx: PageCtx,
    rows: Vec<AudienceRow>,
    total: i64,
    page: i64,
    pages: i64,
    q: String,
    /// Just after "Excluir público".
    deleted: bool,
}

impl AudienceListPage {
    /// The list's address for another page, keeping the search.
    fn page_url(&self, page: &i64) -> String {
        if self.q.is_empty() {
            format!("/engajar/publicos?page={page}")
        } else {
            format!(
                "/engajar/publicos?q={}&page={page}",
                urlencoding::encode(&self.q)
            )
        }
    }
}

#[derive(Deserialize)]
pub struct ListQuery {
    page: Option<i64>,
    q: Option<String>,
    excluido: Option<String>,
}

pub async fn audience_list(
    ctx: PageCtx,
    state: web::Data<AppState>,
    query: web::Query<ListQuery>,
) -> Result<AudienceListPage, AppError> {
    let requested = crate::web::paging::Pager::requested(query.page);
    let q = query.q.clone().unwrap_or_default().trim().to_string();
    let search = q.clone();
    let (items, total, page, pages) = state
        .db(move |conn| {
            let search = Some(search.as_str()).filter(|s| !s.is_empty());
            let total = AudienceListItem::count(conn, search)?;
            let pages = ((total + PAGE_SIZE - 1) / PAGE_SIZE).max(1);
            let page = requested.min(pages);
            let items = AudienceListItem::page(conn, search, (page - 1) * PAGE_SIZE, PAGE_SIZE)?;
            Ok((items, total, page, pages))
        })
        .await?;
    Ok(AudienceListPage {
        ctx,
        rows: items.into_iter().map(AudienceRow::from).collect(),
        total,
        page,
        pages,
        q,
        deleted: query.excluido.is_some(),
    })
}
