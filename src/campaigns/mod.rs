//! Campaigns: what the composer saves (validated here, for the pages and the command line
//! alike), the preview, and starting a run — its recipients taken at that moment and its
//! ledger written in bulk. The dispatcher sends what the ledger holds.

pub mod actions;
pub mod dispatcher;
pub mod ledger;
pub mod preview;
pub mod recipients;
pub mod schedule;
pub mod status;
pub mod unsubscribe;

use diesel::prelude::*;

use crate::db::DbConnection;
use crate::domain::template::{Fallbacks, Template, Variable};
use crate::domain::{AudienceStatus, RecordType, SegmentName};
use crate::models::campaign::{Campaign, CampaignSpec};
use crate::models::{Audience, Segment};
use schedule::{Schedule, ScheduleInput};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CampaignChannel {
    Email,
    Whatsapp,
    Sms,
}

impl CampaignChannel {
    pub fn code(self) -> &'static str {
        match self {
            CampaignChannel::Email => "email",
            CampaignChannel::Whatsapp => "whatsapp",
            CampaignChannel::Sms => "sms",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            CampaignChannel::Email => "E-mail",
            CampaignChannel::Whatsapp => "WhatsApp",
            CampaignChannel::Sms => "SMS",
        }
    }

    pub fn from_code(code: &str) -> Option<CampaignChannel> {
        match code.trim().to_ascii_lowercase().as_str() {
            "email" | "e-mail" => Some(CampaignChannel::Email),
            "whatsapp" => Some(CampaignChannel::Whatsapp),
            "sms" => Some(CampaignChannel::Sms),
            _ => None,
        }
    }

    /// The kind of contact channel its messages go to.
    pub fn record_type(self) -> RecordType {
        match self {
            CampaignChannel::Email => RecordType::Email,
            _ => RecordType::Telefone,
        }
    }

    /// Whether it has a subject line.
    pub fn has_subject(self) -> bool {
        self == CampaignChannel::Email
    }
}

/// Who a campaign goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// An audience's accepted rows, each with its own MENSAGEM and coringas.
    Audience(i64),
    /// A segment's contacts as they are at each run.
    Segment(i64),
}

impl Target {
    /// (audience_id, segment_id) as stored.
    pub fn columns(self) -> (Option<i64>, Option<i64>) {
        match self {
            Target::Audience(a) => (Some(a), None),
            Target::Segment(s) => (None, Some(s)),
        }
    }
}

/// A campaign's texts ready to render.
#[derive(Debug, Clone)]
pub struct Composed {
    pub channel: CampaignChannel,
    pub subject: Template,
    pub body: Template,
    pub fallbacks: Fallbacks,
}

impl Composed {
    /// Reads a saved campaign's texts (validated when saved).
    pub fn of(campaign: &Campaign) -> Composed {
        let parse = |text: &str| {
            Template::parse(text).unwrap_or_else(|_| {
                Template::parse(&text.replace('@', "@@")).expect("escaped text has no variables")
            })
        };
        Composed {
            channel: campaign.channel,
            subject: parse(&campaign.subject),
            body: parse(&campaign.body),
            fallbacks: read_fallbacks(&campaign.fallbacks),
        }
    }

    /// The variables either text uses, each once, in the order of [`Variable::ALL`].
    pub fn variables(&self) -> Vec<Variable> {
        let mut used = self.subject.variables();
        used.extend(self.body.variables());
        Variable::ALL
            .into_iter()
            .filter(|v| used.contains(v))
            .collect()
    }
}

/// Stored fallbacks: one `Variable=text` per line.
pub fn read_fallbacks(text: &str) -> Fallbacks {
    let mut f = Fallbacks::default();
    for line in text.lines() {
        if let Some((var, value)) = line.split_once('=')
            && let Some(v) = Variable::parse(var.trim())
        {
            f.set(v, value);
        }
    }
    f
}

fn write_fallbacks(f: &Fallbacks) -> String {
    Variable::ALL
        .into_iter()
        .filter_map(|v| {
            f.get(v)
                .map(|t| format!("{}={}\n", v.name(), t.replace('\n', " ")))
        })
        .collect()
}

/// Who the composer (or the command line) named as the target.
#[derive(Debug, Clone, Default)]
pub enum TargetInput {
    #[default]
    None,
    Audience(String),
    SegmentId(String),
    SegmentName(String),
}

/// What a person typed in the composer or passed on the command line.
#[derive(Debug, Clone, Default)]
pub struct CampaignInput {
    pub name: String,
    pub channel: String,
    pub target: TargetInput,
    pub subject: String,
    pub body: String,
    /// (variable as typed, text).
    pub fallbacks: Vec<(String, String)>,
    pub schedule: ScheduleInput,
}

/// A field that cannot be saved, with a stable code and the pt-BR message.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FieldError {
    pub field: String,
    pub code: &'static str,
    pub message: String,
}

fn field_error(field: &str, code: &'static str, message: impl Into<String>) -> FieldError {
    FieldError {
        field: field.to_string(),
        code,
        message: message.into(),
    }
}

/// Ledgers at least this large are followed by ANALYZE on PostgreSQL.
const ANALYZE_AFTER_ROWS: i64 = 50_000;

pub const NAME_MAX_CHARS: usize = 200;
pub const SUBJECT_MAX_CHARS: usize = 500;
pub const BODY_MAX_CHARS: usize = 20_000;

/// Checks everything before anything is saved: every error found, not just the first.
/// `now` decides whether a one-off time is still ahead.
pub fn validate(
    conn: &mut DbConnection,
    input: &CampaignInput,
    now: i64,
) -> QueryResult<Result<CampaignSpec, Vec<FieldError>>> {
    use crate::messages::campaign as m;
    let mut errors = Vec::new();
    let name = input.name.trim().to_string();
    if name.is_empty() {
        errors.push(field_error("name", "required", m::NAME_REQUIRED));
    } else if name.chars().count() > NAME_MAX_CHARS {
        errors.push(field_error("name", "too_long", m::NAME_TOO_LONG));
    }
    let channel = match CampaignChannel::from_code(&input.channel) {
        Some(CampaignChannel::Email) => Some(CampaignChannel::Email),
        Some(_) => {
            errors.push(field_error(
                "channel",
                "unavailable",
                m::CHANNEL_UNAVAILABLE,
            ));
            None
        }
        None => {
            errors.push(field_error("channel", "required", m::CHANNEL_REQUIRED));
            None
        }
    };
    let target = match &input.target {
        TargetInput::None => {
            errors.push(field_error("target", "required", m::TARGET_REQUIRED));
            None
        }
        TargetInput::Audience(raw) => {
            match raw
                .trim()
                .parse::<i64>()
                .ok()
                .map(|id| Audience::find(conn, id))
                .transpose()?
            {
                Some(Some(a))
                    if matches!(
                        a.status,
                        AudienceStatus::Done | AudienceStatus::DoneWithRejections
                    ) =>
                {
                    Some(Target::Audience(a.id))
                }
                Some(Some(_)) => {
                    errors.push(field_error("audience", "not_ready", m::AUDIENCE_NOT_READY));
                    None
                }
                _ => {
                    errors.push(field_error("audience", "not_found", m::AUDIENCE_NOT_FOUND));
                    None
                }
            }
        }
        TargetInput::SegmentId(raw) => {
            match raw
                .trim()
                .parse::<i64>()
                .ok()
                .map(|id| Segment::find(conn, id))
                .transpose()?
            {
                Some(Some(s)) => Some(Target::Segment(s.id)),
                _ => {
                    errors.push(field_error("segment", "not_found", m::SEGMENT_NOT_FOUND));
                    None
                }
            }
        }
        TargetInput::SegmentName(raw) => {
            let found = match SegmentName::parse(raw) {
                Ok(name) => Segment::find_by_name(conn, &name)?,
                Err(_) => None,
            };
            match found {
                Some(s) => Some(Target::Segment(s.id)),
                None => {
                    errors.push(field_error("segment", "not_found", m::SEGMENT_NOT_FOUND));
                    None
                }
            }
        }
    };
    let mut check_text = |field: &str, text: &str, max: usize, required: bool| {
        if text.trim().is_empty() {
            if required {
                errors.push(field_error(field, "required", m::text_required(field)));
            }
        } else if text.chars().count() > max {
            errors.push(field_error(field, "too_long", m::text_too_long(max)));
        } else if let Err(unknown) = Template::parse(text) {
            for u in unknown {
                errors.push(field_error(field, "unknown_variable", u.message()));
            }
        }
    };
    let with_subject = channel.is_none_or(CampaignChannel::has_subject);
    check_text("subject", &input.subject, SUBJECT_MAX_CHARS, with_subject);
    check_text("body", &input.body, BODY_MAX_CHARS, true);
    let mut fallbacks = Fallbacks::default();
    for (var, text) in &input.fallbacks {
        let word = var.trim().trim_start_matches('@');
        match Variable::parse(word) {
            Some(v) => fallbacks.set(v, text),
            None => errors.push(field_error(
                "fallback",
                "unknown_variable",
                crate::domain::template::UnknownVariable {
                    word: word.to_string(),
                    position: 0,
                }
                .message(),
            )),
        }
    }
    let schedule = match Schedule::parse(&input.schedule) {
        Ok(Schedule::Once { at }) if at <= now => {
            errors.push(field_error("at", "past", m::SCHEDULE_PAST));
            None
        }
        Ok(s) => Some(s),
        Err(e) => {
            errors.push(field_error(e.field, "invalid_schedule", e.message));
            None
        }
    };
    if !errors.is_empty() {
        return Ok(Err(errors));
    }
    let (Some(channel), Some(target), Some(schedule)) = (channel, target, schedule) else {
        unreachable!("every missing part recorded an error");
    };
    Ok(Ok(CampaignSpec {
        name,
        channel,
        target,
        subject: if channel.has_subject() {
            input.subject.trim().to_string()
        } else {
            String::new()
        },
        body: input.body.replace("\r\n", "\n"),
        fallbacks: write_fallbacks(&fallbacks),
        schedule,
    }))
}

/// What starting a run did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Started {
    Run(i64),
    Missed,
    NotDue,
}

/// Starts a campaign's due run (or records it as missed when it is later than the grace
/// period) in one transaction: the run, its whole ledger and the campaign's next time
/// are written together or not at all, and only one server does it.
pub fn start_due(
    conn: &mut DbConnection,
    campaign: i64,
    now: i64,
    grace_secs: i64,
) -> QueryResult<Started> {
    crate::db::write_transaction(conn, |conn| {
        let Some(c) = Campaign::lock_due(conn, campaign, now)? else {
            return Ok(Started::NotDue);
        };
        let scheduled_for = c.next_run_at.unwrap_or(now);
        if now - scheduled_for > grace_secs {
            let reason = crate::messages::campaign::missed_reason(scheduled_for, grace_secs);
            Campaign::record_missed(conn, &c, scheduled_for, &reason, now)?;
            return Ok(Started::Missed);
        }
        let run = Campaign::begin_run(conn, &c, scheduled_for, now)?;
        write_ledger(conn, &c, run, now)?;
        Ok(Started::Run(run))
    })
}

/// Writes a run's ledger: every recipient in order, the first row of each channel value
/// kept, a message rendered for each or the reason it is skipped.
fn write_ledger(
    conn: &mut DbConnection,
    campaign: &Campaign,
    run: i64,
    now: i64,
) -> QueryResult<()> {
    let composed = Composed::of(campaign);
    let no_channel = recipients::without_channel(conn, campaign.target, campaign.channel)?;
    let mut seen = recipients::Seen::default();
    let mut duplicates = 0i64;
    let mut to_send = 0i64;
    recipients::for_each_batch(conn, campaign.target, campaign.channel, |conn, batch| {
        let mut rows = Vec::with_capacity(batch.len());
        for r in &batch {
            if !seen.first(&r.channel_value) {
                duplicates += 1;
                continue;
            }
            rows.push(match composed.decide(r).0 {
                recipients::Decision::Send { subject, body } => {
                    to_send += 1;
                    ledger::NewMessage::to_send(run, r, subject, body, now)
                }
                recipients::Decision::Skip(reason) => {
                    ledger::NewMessage::skipped(run, r, reason, now)
                }
            });
        }
        ledger::write(conn, &rows)?;
        Ok(true)
    })?;
    Campaign::record_run_counts(conn, run, to_send, no_channel, duplicates)?;
    // A large ledger changes the table's statistics at once: without them PostgreSQL
    // plans the dispatcher's claims for a handful of rows and sorts a million each time.
    if conn.backend() == crate::db::Backend::Postgres && to_send >= ANALYZE_AFTER_ROWS {
        diesel::sql_query("ANALYZE campaign_messages").execute(conn)?;
    }
    if to_send == 0 {
        Campaign::finish_run(conn, run, now)?;
    }
    Ok(())
}
