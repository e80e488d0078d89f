//! `GET /engajar/campanhas/{id}`: a campaign — its status and schedule, its runs, the
//! chosen run's counts with a progress bar that refreshes itself while it sends, a chart
//! of the run, and its messages filterable by status.

use actix_web::web;
use askama::Template;
use askama_web::WebTemplate;
use serde::Deserialize;

use crate::campaigns::ledger::{self, Counts, MessageView, UNSENT_CANCELLED as UNSENT};
use crate::campaigns::status::{CampaignStatus, MessageStatus, RunStatus};
use crate::models::campaign::{Campaign, RunRow};
use crate::time;
use crate::web::display::filters;
use crate::web::page::PageCtx;
use crate::web::{AppError, AppState};

const MESSAGES_PER_PAGE: i64 = 50;

pub struct RunLine {
    pub id: i64,
    pub scheduled_for: String,
    pub status: &'static str,
    pub status_code: &'static str,
    pub reason: String,
    pub recipients: i64,
    pub selected: bool,
}

/// One line of the chart: (label, css class, dash pattern, points "x,y x,y", last value,
/// marker points).
type Series = (
    &'static str,
    &'static str,
    &'static str,
    String,
    i64,
    Vec<(i64, i64)>,
);

/// The chart: three cumulative series over the run's minutes, each with its own line
/// style and marker so it reads without colour.
pub struct Chart {
    pub width: i64,
    pub height: i64,
    /// (label, css class, dash pattern, points "x,y x,y", last value, marker points)
    pub series: Vec<Series>,
    pub max: i64,
    pub start: String,
    pub end: String,
}

fn chart(buckets: &[(i64, i64, i64, i64)]) -> Option<Chart> {
    let (first, last) = (buckets.first()?.0, buckets.last()?.0);
    let (w, h, pad) = (600i64, 200i64, 30i64);
    let mut totals = [0i64; 3];
    let mut points: [Vec<(i64, i64)>; 3] = Default::default();
    let span = (last - first).max(60);
    let cumulative: Vec<(i64, [i64; 3])> = buckets
        .iter()
        .map(|(m, s, f, k)| {
            totals[0] += s;
            totals[1] += f;
            totals[2] += k;
            (*m, totals)
        })
        .collect();
    let max = totals.iter().copied().max().unwrap_or(0).max(1);
    for (m, t) in &cumulative {
        let x = pad + (m - first) * (w - 2 * pad) / span;
        for i in 0..3 {
            points[i].push((x, h - pad - t[i] * (h - 2 * pad) / max));
        }
    }
    let styles = [
        ("Enviadas", "sent", ""),
        ("Falhas", "failed", "6 4"),
        ("Ignoradas", "skipped", "2 3"),
    ];
    let series = styles
        .into_iter()
        .zip(points)
        .zip(totals)
        .map(|(((label, class, dash), pts), total)| {
            let line = pts
                .iter()
                .map(|(x, y)| format!("{x},{y}"))
                .collect::<Vec<_>>()
                .join(" ");
            (label, class, dash, line, total, pts)
        })
        .collect();
    Some(Chart {
        width: w,
        height: h,
        series,
        max,
        start: time::format_br(first),
        end: time::format_br(last + 60),
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "engajar/campanhas/show.html")]
pub struct CampaignPage {
    ctx: PageCtx,
    campaign: Campaign,
    target: String,
    schedule: String,
    next_run: Option<String>,
    runs: Vec<RunLine>,
    run: Option<RunRow>,
    counts: Counts,
    percent: i64,
    chart: Option<Chart>,
    messages: Vec<MessageView>,
    filter: String,
    filters: Vec<(&'static str, &'static str)>,
    message_total: i64,
    page: i64,
    pages: i64,
}

impl CampaignPage {
    /// A one-time token for the form whose action is `/engajar/campanhas/{id}/{action}`.
    fn once_token(&self, action: &str) -> String {
        self.ctx
            .once_token(format!("/engajar/campanhas/{}/{action}", self.campaign.id))
    }

    fn sending(&self) -> bool {
        self.run
            .as_ref()
            .is_some_and(|r| r.status() == RunStatus::Sending)
    }

    fn can(&self, action: &str) -> bool {
        let s = self.campaign.status;
        match action {
            "agendar" | "editar" => s == CampaignStatus::Draft,
            "pausar" => matches!(s, CampaignStatus::Scheduled | CampaignStatus::Sending),
            "retomar" => s == CampaignStatus::Paused,
            "cancelar" => !matches!(
                s,
                CampaignStatus::Done | CampaignStatus::Cancelled | CampaignStatus::Failed
            ),
            // The confirmation page says why one that sent anything stays.
            "excluir" => !matches!(s, CampaignStatus::Sending | CampaignStatus::Paused),
            "reenviar-incertas" => {
                self.counts.uncertain > 0
                    && !matches!(s, CampaignStatus::Cancelled | CampaignStatus::Draft)
            }
            _ => false,
        }
    }

    /// A cancelled run's messages that never left are not "pending": nothing will send them.
    fn cancelled(&self) -> bool {
        self.run
            .as_ref()
            .is_some_and(|r| r.status() == crate::campaigns::status::RunStatus::Cancelled)
    }

    fn message_status(&self, m: &crate::campaigns::ledger::MessageView) -> &'static str {
        m.status_label_in(self.cancelled())
    }

    fn filter_label(&self, code: &str, label: &'static str) -> &'static str {
        if code == "pending" && self.cancelled() {
            UNSENT
        } else {
            label
        }
    }

    fn run_id(&self) -> i64 {
        self.run.as_ref().map(|r| r.id).unwrap_or(0)
    }

    fn page_url(&self, page: &i64) -> String {
        format!(
            "/engajar/campanhas/{}?execucao={}&situacao={}&page={page}",
            self.campaign.id,
            self.run_id(),
            self.filter
        )
    }

    fn when(&self, ts: &i64) -> String {
        time::format_br(*ts)
    }
}

#[derive(Deserialize)]
pub struct ShowQuery {
    execucao: Option<i64>,
    situacao: Option<String>,
    page: Option<i64>,
}

pub async fn show_campaign(
    ctx: PageCtx,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    query: web::Query<ShowQuery>,
) -> Result<CampaignPage, AppError> {
    let id = id.into_inner();
    let requested = crate::web::paging::Pager::requested(query.page);
    let filter = query.situacao.clone().unwrap_or_default();
    let status_filter = MessageStatus::from_code(&filter);
    let filter = status_filter
        .map(|s| s.code().to_string())
        .unwrap_or_default();
    let chosen = query.execucao;
    let page = state
        .db(move |conn| {
            let campaign = Campaign::find(conn, id)?.ok_or(AppError::NotFound)?;
            let target = super::list::target_label(conn, &campaign)?;
            let all_runs = Campaign::runs(conn, id)?;
            let run = match chosen {
                Some(r) => all_runs.iter().find(|x| x.id == r).cloned(),
                None => all_runs.first().cloned(),
            };
            let (counts, buckets, messages, total) = match &run {
                Some(r) => {
                    let counts = ledger::counts(conn, r.id)?;
                    let buckets = ledger::timeline(conn, r.id)?;
                    // Only the total: the page of rows comes once the page number is known.
                    let (_, total) = ledger::page(conn, r.id, status_filter, 0, 0)?;
                    (counts, buckets, Vec::new(), total)
                }
                None => (Counts::default(), Vec::new(), Vec::new(), 0),
            };
            let pages = ((total + MESSAGES_PER_PAGE - 1) / MESSAGES_PER_PAGE).max(1);
            let page = requested.min(pages);
            let messages = match &run {
                Some(r) => {
                    ledger::page(
                        conn,
                        r.id,
                        status_filter,
                        (page - 1) * MESSAGES_PER_PAGE,
                        MESSAGES_PER_PAGE,
                    )?
                    .0
                }
                None => messages,
            };
            let runs = all_runs
                .iter()
                .map(|r| RunLine {
                    id: r.id,
                    scheduled_for: time::format_br(r.scheduled_for),
                    status: r.status().label(),
                    status_code: r.status().code(),
                    reason: r
                        .reason
                        .clone()
                        .or(r.last_error.clone())
                        .unwrap_or_default(),
                    recipients: r.recipients,
                    selected: run.as_ref().is_some_and(|x| x.id == r.id),
                })
                .collect();
            let total_messages = counts.total().max(1);
            Ok(CampaignPage {
                ctx: ctx.clone(),
                schedule: campaign.schedule.describe(),
                next_run: campaign.next_run_at.map(time::format_br),
                target,
                runs,
                percent: counts.settled() * 100 / total_messages,
                counts,
                chart: chart(&buckets),
                run,
                messages,
                filter: filter.clone(),
                filters: vec![
                    ("", "Todas"),
                    ("pending", "Pendentes"),
                    ("sent", "Enviadas"),
                    ("failed", "Falhas"),
                    ("skipped", "Ignoradas"),
                    ("uncertain", "Incertas"),
                ],
                message_total: total,
                page,
                pages,
                campaign,
            })
        })
        .await?;
    Ok(page)
}
