//! What a person does to a campaign — create, schedule, pause, resume, cancel, resend
//! the uncertain — each checked against the campaign's status and audited, for the pages
//! and the command line alike.

use diesel::prelude::*;

use super::status::CampaignStatus;
use super::{CampaignInput, FieldError};
use crate::db::DbConnection;
use crate::models::audit;
use crate::models::campaign::{Campaign, DeleteRefusal, NotAllowed};

/// A person's action on a campaign.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Schedule,
    Pause,
    Resume,
    Cancel,
    ResendUncertain,
}

impl Action {
    pub fn audit_code(self) -> &'static str {
        match self {
            Action::Schedule => "campaign_schedule",
            Action::Pause => "campaign_pause",
            Action::Resume => "campaign_resume",
            Action::Cancel => "campaign_cancel",
            Action::ResendUncertain => "campaign_resend_uncertain",
        }
    }
}

/// Why an action was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The campaign's status does not allow it.
    NotAllowed(CampaignStatus),
    /// A draft's schedule no longer runs (its time or its end date passed): the pt-BR
    /// problem.
    Schedule(&'static str),
}

impl Refusal {
    /// What the page says.
    pub fn message(&self) -> String {
        match self {
            Refusal::NotAllowed(_) => crate::messages::campaign::NOT_ALLOWED.into(),
            Refusal::Schedule(problem) => crate::messages::campaign::draft_schedule_stale(problem),
        }
    }
}

impl From<NotAllowed> for Refusal {
    fn from(n: NotAllowed) -> Self {
        Refusal::NotAllowed(n.0)
    }
}

/// Who acts: a user (with the address they came from) or the command line.
#[derive(Debug, Clone)]
pub struct Actor {
    pub user: Option<i64>,
    pub ip: Option<String>,
}

/// Validates and saves a campaign (a draft, or scheduled), audited.
pub fn create(
    conn: &mut DbConnection,
    input: &CampaignInput,
    draft: bool,
    actor: &Actor,
    now: i64,
) -> QueryResult<Result<Campaign, Vec<FieldError>>> {
    let spec = match super::validate(conn, input, now)? {
        Ok(spec) => spec,
        Err(errors) => return Ok(Err(errors)),
    };
    crate::db::write_transaction(conn, |conn| {
        let c = Campaign::create(conn, &spec, draft, actor.user, now)?;
        audit(
            conn,
            actor.user,
            "campaign_create",
            &format!("campanha #{}: {} ({})", c.id, c.name, c.status.label()),
            actor.ip.as_deref(),
        )?;
        Ok(Ok(c))
    })
}

/// Replaces a draft's content.
pub fn update(
    conn: &mut DbConnection,
    id: i64,
    input: &CampaignInput,
    actor: &Actor,
    now: i64,
) -> QueryResult<Result<Result<(), NotAllowed>, Vec<FieldError>>> {
    let spec = match super::validate(conn, input, now)? {
        Ok(spec) => spec,
        Err(errors) => return Ok(Err(errors)),
    };
    crate::db::write_transaction(conn, |conn| {
        let done = Campaign::update_draft(conn, id, &spec, now)?;
        if done.is_ok() {
            audit(
                conn,
                actor.user,
                "campaign_update",
                &format!("campanha #{id}: {}", spec.name),
                actor.ip.as_deref(),
            )?;
        }
        Ok(Ok(done))
    })
}

/// Applies an action when the campaign's status allows it; returns how many messages
/// it touched for [`Action::ResendUncertain`]. A draft whose schedule would never run
/// (checked as the composer checks it) is refused and stays a draft.
pub fn act(
    conn: &mut DbConnection,
    id: i64,
    action: Action,
    actor: &Actor,
    now: i64,
) -> QueryResult<Result<usize, Refusal>> {
    crate::db::write_transaction(conn, |conn| {
        let Some(campaign) = Campaign::find(conn, id)? else {
            return Err(diesel::result::Error::NotFound);
        };
        let result: Result<usize, Refusal> = match action {
            Action::Schedule if campaign.status == CampaignStatus::Draft => {
                match super::schedule_refusal(&campaign.schedule, now) {
                    Some((_, problem)) => Err(Refusal::Schedule(problem)),
                    None => Campaign::schedule(conn, id, now)?
                        .map(|_| 0)
                        .map_err(Refusal::from),
                }
            }
            Action::Schedule => Campaign::schedule(conn, id, now)?
                .map(|_| 0)
                .map_err(Refusal::from),
            Action::Pause => Campaign::pause(conn, id, None, now)?
                .map(|_| 0)
                .map_err(Refusal::from),
            Action::Resume => Campaign::resume(conn, id, now)?
                .map(|_| 0)
                .map_err(Refusal::from),
            Action::Cancel => Campaign::cancel(conn, id, now)?
                .map(|_| 0)
                .map_err(Refusal::from),
            Action::ResendUncertain
                if matches!(
                    campaign.status,
                    CampaignStatus::Cancelled | CampaignStatus::Draft
                ) =>
            {
                Err(Refusal::NotAllowed(campaign.status))
            }
            Action::ResendUncertain => {
                let mut n = 0;
                for run in Campaign::runs(conn, id)? {
                    n += super::ledger::resend_uncertain(conn, run.id, now)?;
                }
                if n > 0 {
                    Campaign::reopen_runs_with_pending(conn, id, now)?;
                }
                Ok(n)
            }
        };
        if let Ok(n) = &result {
            let extra = match action {
                Action::ResendUncertain => format!(" ({n} mensagens)"),
                _ => String::new(),
            };
            audit(
                conn,
                actor.user,
                action.audit_code(),
                &format!("campanha #{id}: {}{extra}", campaign.name),
                actor.ip.as_deref(),
            )?;
        }
        Ok(result)
    })
}

/// Deletes a campaign that never sent anything (Excluir campanha), audited; `None` when
/// there is no such campaign.
pub fn delete(
    conn: &mut DbConnection,
    id: i64,
    actor: &Actor,
) -> QueryResult<Option<Result<Campaign, DeleteRefusal>>> {
    crate::db::write_transaction(conn, |conn| {
        let deleted = Campaign::delete_unsent(conn, id)?;
        if let Some(Ok(c)) = &deleted {
            audit(
                conn,
                actor.user,
                "campaign_delete",
                &format!("campanha #{id}: {} ({})", c.name, c.status.label()),
                actor.ip.as_deref(),
            )?;
        }
        Ok(deleted)
    })
}
