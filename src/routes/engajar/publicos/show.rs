//! `GET /engajar/publicos/{id}`: an audience, its counts, errors and members; a progress
//! bar that refreshes itself while the import runs.

use actix_web::web;
use askama::Template;
use askama_web::WebTemplate;
use serde::Deserialize;

use crate::domain::{AudienceStatus, LegalBasis};
use crate::models::{Audience, AudienceMember, AudienceRowError, Segment, User};
use crate::time;
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
}

impl AudiencePage {
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

fn duration_text(seconds: i64) -> String {
    match seconds {
        s if s < 60 => format!("{s} s"),
        s if s < 3600 => format!("{} min {} s", s / 60, s % 60),
        s => format!("{} h {} min", s / 3600, (s / 60) % 60),
    }
}

pub async fn show_audience(
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
            .map(|(start, end)| duration_text((end - start).max(0))),
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
        audience,
    })
}
