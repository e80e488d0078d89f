//! `GET /engajar/campanhas`: every campaign, newest first, searchable by name.

use actix_web::web;
use askama::Template;
use askama_web::WebTemplate;
use serde::Deserialize;

use crate::campaigns::ledger;
use crate::models::campaign::Campaign;
use crate::time;
use crate::web::display::filters;
use crate::web::page::PageCtx;
use crate::web::{AppError, AppState};

pub const PAGE_SIZE: i64 = 25;

pub struct CampaignRow {
    pub id: i64,
    pub name: String,
    pub channel: &'static str,
    pub target: String,
    pub status: &'static str,
    pub status_code: &'static str,
    pub next_run: String,
    pub counts: ledger::Counts,
}

#[derive(Template, WebTemplate)]
#[template(path = "engajar/campanhas/list.html")]
pub struct CampaignListPage {
    ctx: PageCtx,
    rows: Vec<CampaignRow>,
    total: i64,
    page: i64,
    pages: i64,
    q: String,
}

impl CampaignListPage {
    fn page_url(&self, page: &i64) -> String {
        if self.q.is_empty() {
            format!("/engajar/campanhas?page={page}")
        } else {
            format!(
                "/engajar/campanhas?q={}&page={page}",
                urlencoding::encode(&self.q)
            )
        }
    }
}

#[derive(Deserialize)]
pub struct ListQuery {
    page: Option<i64>,
    q: Option<String>,
}

/// "Público #3 Clientes de março" or "Segmento Varejo".
pub fn target_label(conn: &mut crate::db::DbConnection, c: &Campaign) -> Result<String, AppError> {
    Ok(match c.target {
        crate::campaigns::Target::Audience(id) => match crate::models::Audience::find(conn, id)? {
            Some(a) => format!("Público #{id} · {}", a.description),
            None => format!("Público #{id} (excluído)"),
        },
        crate::campaigns::Target::Segment(id) => match crate::models::Segment::find(conn, id)? {
            Some(s) => format!("Segmento {}", s.name),
            None => format!("Segmento #{id} (excluído)"),
        },
    })
}

pub async fn campaign_list(
    ctx: PageCtx,
    state: web::Data<AppState>,
    query: web::Query<ListQuery>,
) -> Result<CampaignListPage, AppError> {
    let requested = crate::web::paging::Pager::requested(query.page);
    let q = query.q.clone().unwrap_or_default().trim().to_string();
    let search = q.clone();
    let (rows, total, page, pages) = state
        .db(move |conn| {
            let search = Some(search.as_str()).filter(|s| !s.is_empty());
            let (_, total) = Campaign::page(conn, search, 0, 0)?;
            let pages = ((total + PAGE_SIZE - 1) / PAGE_SIZE).max(1);
            let page = requested.min(pages);
            let (items, _) = Campaign::page(conn, search, (page - 1) * PAGE_SIZE, PAGE_SIZE)?;
            let mut rows = Vec::with_capacity(items.len());
            for c in items {
                let mut counts = ledger::Counts::default();
                for run in Campaign::runs(conn, c.id)? {
                    let r = ledger::counts(conn, run.id)?;
                    counts.pending += r.pending;
                    counts.sending += r.sending;
                    counts.sent += r.sent;
                    counts.failed += r.failed;
                    counts.skipped += r.skipped;
                    counts.uncertain += r.uncertain;
                }
                rows.push(CampaignRow {
                    id: c.id,
                    target: target_label(conn, &c)?,
                    channel: c.channel.label(),
                    status: c.status.label(),
                    status_code: c.status.code(),
                    next_run: c
                        .next_run_at
                        .map(time::format_br)
                        .unwrap_or_else(|| "—".into()),
                    counts,
                    name: c.name,
                });
            }
            Ok((rows, total, page, pages))
        })
        .await?;
    Ok(CampaignListPage {
        ctx,
        rows,
        total,
        page,
        pages,
        q,
    })
}
