//! `GET /engajar/publicos/{id}`: an audience, its counts, errors and members; a progress
//! bar that refreshes itself while the import runs.

use actix_web::web;
use askama::Template;
use askama_web::WebTemplate;
use serde::Deserialize;

use crate::domain::{AudienceStatus, LegalBasis};
use crate::models::{Audience, AudienceMember, AudienceRowError, Segment, User};
use crate::time;
use crate::web::display::{self, filters};
use crate::web::page::PageCtx;
use crate::web::{AppError, AppState};

const MEMBERS_PER_PAGE: i64 = 50;
const REJECTED_SHOWN: i64 = 100;

#[derive(Template, WebTemplate)]
#[template(path = "engajar/publicos/show.html")]
pub struct AudiencePage {
    ctx: PageCtx,
    audience: Audience,
    segment: String,
    created_by: String,
    status: AudienceStatus,
    legal_basis: String,
    created_at: String,
    duration: Option<String>,
    options: Vec<&'static str>,
    done: u64,
    total: u64,
    percent: u64,
    file_errors: Vec<AudienceRowError>,
    rejected: Vec<AudienceRowError>,
    members: Vec<AudienceMember>,
    member_total: i64,
    page: i64,
    pages: i64,
    /// After a WhatsApp campaign to it: its phones com / sem WhatsApp / not known yet.
    whatsapp_split: Option<(i64, i64, i64)>,
    /// A finished import's rows by where they went (empty while it runs or if it failed).
    split: Vec<SplitPart>,
}

impl AudiencePage {
    /// While it runs: the file still being validated (its total not known yet).
    fn validating(&self) -> bool {
        self.status == AudienceStatus::Processing && self.total == 0
    }

    /// The split in words, for those who do not see the bar.
    fn split_summary(&self) -> String {
        self.split
            .iter()
            .map(|p| format!("{}: {}", p.label, display::count(&p.rows.to_string())))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn running(&self) -> bool {
        matches!(
            self.status,
            AudienceStatus::Queued | AudienceStatus::Processing
        )
    }
}

/// What the page reads from the database in one go.
struct Loaded {
    audience: Audience,
    segment: String,
    created_by: String,
    file_errors: Vec<AudienceRowError>,
    rejected: Vec<AudienceRowError>,
    members: Vec<AudienceMember>,
    member_total: i64,
    page: i64,
    pages: i64,
    whatsapp_split: Option<(i64, i64, i64)>,
}

#[derive(Deserialize)]
pub struct ShowQuery {
    page: Option<i64>,
}

/// One part of an audience's rows in the bar of its split.
pub struct SplitPart {
    pub key: &'static str,
    pub label: &'static str,
    pub rows: i64,
    /// Where the part starts and how wide it is, in percent of the bar.
    pub x: f64,
    pub width: f64,
}

impl SplitPart {
    /// Its share of the file's rows, as a person reads it (`12,5%`).
    pub fn share(&self) -> String {
        format!("{:.1}%", self.width).replace('.', ",")
    }
}

/// Where a finished import's rows went: importadas, rejeitadas, Não Perturbe, Verify,
/// duplicadas, each with its place in a bar of 100.
fn split_of(audience: &Audience) -> Vec<SplitPart> {
    let parts = [
        ("imported", "Importadas", audience.imported),
        ("rejected", "Rejeitadas", audience.rejected),
        ("dnd", "Não Perturbe", audience.dnd_skipped),
        (
            "verify",
            "Descartadas pelo Verify",
            audience.verify_discarded,
        ),
        (
            "duplicates",
            "Duplicadas no arquivo",
            audience.duplicate_rows,
        ),
    ];
    let total: i64 = parts.iter().map(|p| p.2.max(0)).sum();
    let mut x = 0.0;
    parts
        .into_iter()
        .map(|(key, label, rows)| {
            let width = if total > 0 {
                rows.max(0) as f64 * 100.0 / total as f64
            } else {
                0.0
            };
            let part = SplitPart {
                key,
                label,
                rows,
                x,
                width,
            };
            x += width;
            part
        })
        .collect()
}

pub async fn show_audience(
    req: actix_web::HttpRequest,
    ctx: PageCtx,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    query: web::Query<ShowQuery>,
) -> Result<AudiencePage, AppError> {
    let id = id.into_inner();
    let requested = crate::web::paging::Pager::requested(query.page);
    let Loaded {
        audience,
        segment,
        created_by,
        file_errors,
        rejected,
        members,
        member_total,
        page,
        pages,
        whatsapp_split,
    } = state
        .db(move |conn| {
            let audience = Audience::find(conn, id)?.ok_or(AppError::NotFound)?;
            let segment = Segment::find(conn, audience.segment_id)?
                .map(|s| s.name)
                .unwrap_or_default();
            let created_by = match audience.created_by {
                Some(user) => User::find(conn, user)?.map(|u| u.name).unwrap_or_default(),
                None => crate::messages::CLI_AUTHOR.to_string(),
            };
            let file_errors = AudienceRowError::list(conn, id, "file", None)?;
            let rejected = AudienceRowError::list(conn, id, "row", Some(REJECTED_SHOWN))?;
            // A finished import's members are exactly its imported rows: no need to
            // count a million of them on every view.
            let member_total = match audience.status {
                AudienceStatus::Done | AudienceStatus::DoneWithRejections => audience.imported,
                _ => AudienceMember::count(conn, id)?,
            };
            let pages = ((member_total + MEMBERS_PER_PAGE - 1) / MEMBERS_PER_PAGE).max(1);
            let page = requested.min(pages);
            let members =
                AudienceMember::page(conn, id, (page - 1) * MEMBERS_PER_PAGE, MEMBERS_PER_PAGE)?;
            let whatsapp_campaign = crate::models::campaign::Campaign::for_audience(conn, id)?
                .iter()
                .any(|c| c.channel == crate::campaigns::CampaignChannel::Whatsapp);
            let whatsapp_split = if whatsapp_campaign {
                Some(crate::models::contact::WhatsAppKnown::split_of_audience(
                    conn, id,
                )?)
            } else {
                None
            };
            Ok(Loaded {
                audience,
                segment,
                created_by,
                file_errors,
                rejected,
                members,
                member_total,
                page,
                pages,
                whatsapp_split,
            })
        })
        .await?;
    let status = audience.status;
    // Listing an import's people is recorded (LGPD art. 37); not the refreshes of a
    // running import's page.
    if !members.is_empty() && !matches!(status, AudienceStatus::Queued | AudienceStatus::Processing)
    {
        state.audit.record_view(
            &req,
            ctx.user.id,
            "audience_view",
            format!("Consultou os contatos do público #{id} (página {page})."),
            None,
        );
    }
    let (done, total) = state.jobs.progress(audience.id).unwrap_or((
        audience.rows_done.max(0) as u64,
        audience.rows_total.max(0) as u64,
    ));
    let percent = match (status, total) {
        (AudienceStatus::Done | AudienceStatus::DoneWithRejections, _) => 100,
        (_, 0) => 0,
        _ => (done * 100 / total).min(100),
    };
    let options = audience
        .options
        .enabled()
        .into_iter()
        .map(|o| o.label)
        .collect();
    Ok(AudiencePage {
        legal_basis: LegalBasis::label_for(&audience.legal_basis),
        created_at: time::format_br(audience.created_at),
        duration: audience
            .started_at
            .zip(audience.finished_at)
            .map(|(start, end)| display::duration(end - start)),
        ctx,
        segment,
        created_by,
        status,
        options,
        done,
        total,
        percent,
        file_errors,
        rejected,
        members,
        member_total,
        page,
        pages,
        whatsapp_split,
        split: match status {
            AudienceStatus::Done | AudienceStatus::DoneWithRejections => split_of(&audience),
            _ => Vec::new(),
        },
        audience,
    })
}
