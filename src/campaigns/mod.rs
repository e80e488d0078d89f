//! Campaigns: what the composer saves (validated here, for the pages and the command line
//! alike), the preview, and starting a run — its recipients taken at that moment and its
//! ledger written in bulk. The dispatcher sends what the ledger holds.

pub mod actions;
pub mod dispatcher;
pub mod ledger;
pub mod preview;
pub mod recipients;
pub mod replies;
pub mod schedule;
pub mod status;
pub mod unsubscribe;

use diesel::prelude::*;

use crate::db::DbConnection;
use crate::domain::template::{Fallbacks, Template, Variable};
use crate::domain::{AudienceStatus, RecordType, SegmentName};
use crate::models::campaign::CampaignOptions;
use crate::models::campaign::{Campaign, CampaignSpec};
use crate::models::whatsapp_template::WhatsAppTemplate;
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

/// A WhatsApp campaign's template as it is sent.
#[derive(Debug, Clone)]
pub struct TemplateUse {
    pub name: String,
    pub language: String,
    pub body: String,
    /// Meta's category: MARKETING templates do not go to phones that stopped them.
    pub category: String,
}

impl TemplateUse {
    pub fn is_marketing(&self) -> bool {
        self.category.trim().eq_ignore_ascii_case("MARKETING")
    }
}

/// A campaign's texts ready to render.
#[derive(Debug, Clone)]
pub struct Composed {
    pub channel: CampaignChannel,
    pub subject: Template,
    pub body: Template,
    pub fallbacks: Fallbacks,
    /// WhatsApp: the template and what each `{{n}}` takes.
    pub template: Option<TemplateUse>,
    pub params: Vec<Template>,
    pub options: crate::models::campaign::CampaignOptions,
    /// SMS with each row's MENSAGEM: the text typed for rows without one, a template in
    /// its own right, and the fallbacks it may use (not `@Mensagem` itself).
    pub row_fallback: Option<(Template, Fallbacks)>,
    /// SMS with each row's MENSAGEM: the fallbacks a row's own text may use (all but
    /// `@Mensagem`); `None` for any other campaign.
    pub row_message: Option<Fallbacks>,
}

fn parse_saved(text: &str) -> Template {
    Template::parse(text).unwrap_or_else(|_| {
        Template::parse(&text.replace('@', "@@")).expect("escaped text has no variables")
    })
}

impl Composed {
    /// Reads a saved campaign's texts (validated when saved) and, for WhatsApp, its
    /// template.
    pub fn load(conn: &mut DbConnection, campaign: &Campaign) -> QueryResult<Composed> {
        let template = match campaign.template_id {
            Some(id) => WhatsAppTemplate::find(conn, id)?.map(|t| TemplateUse {
                name: t.name,
                language: t.language,
                body: t.body,
                category: t.category,
            }),
            None => None,
        };
        let fallbacks = read_fallbacks(&campaign.fallbacks);
        let per_row = campaign.channel == CampaignChannel::Sms
            && campaign.body.trim() == format!("@{}", Variable::Mensagem.name());
        let row_message = per_row.then(|| {
            let mut others = fallbacks.clone();
            others.set(Variable::Mensagem, "");
            others
        });
        let row_fallback = match (&row_message, fallbacks.get(Variable::Mensagem)) {
            (Some(others), Some(text)) => Some((parse_saved(text), others.clone())),
            _ => None,
        };
        Ok(Composed {
            channel: campaign.channel,
            subject: parse_saved(&campaign.subject),
            body: parse_saved(&campaign.body),
            fallbacks,
            row_fallback,
            row_message,
            template,
            params: campaign
                .template_params
                .iter()
                .map(|p| parse_saved(p))
                .collect(),
            options: campaign.options,
        })
    }

    /// The variables the texts use, each once, in the order of [`Variable::ALL`].
    pub fn variables(&self) -> Vec<Variable> {
        let mut used = self.subject.variables();
        used.extend(self.body.variables());
        for p in &self.params {
            used.extend(p.variables());
        }
        if let Some((t, _)) = &self.row_fallback {
            used.extend(t.variables());
        }
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
    /// WhatsApp: the template, by id or by name (`name` or `name:language`).
    pub template: String,
    /// WhatsApp: what `{{1}}`, `{{2}}`… take, in order.
    pub params: Vec<String>,
    /// SMS: send each row's MENSAGEM; `body` is then the text for rows without one.
    pub per_row_message: bool,
    pub options: CampaignOptions,
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
/// Twilio's limit for one SMS body (ten parts of UCS-2 or so).
pub const SMS_BODY_MAX_CHARS: usize = 1_600;
/// Meta's limit for one template parameter.
pub const PARAM_MAX_CHARS: usize = 1_024;

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
        Some(c) => Some(c),
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
    if with_subject {
        check_text("subject", &input.subject, SUBJECT_MAX_CHARS, true);
    }
    let mut body = input.body.replace("\r\n", "\n");
    let mut template = None;
    let mut params = Vec::new();
    let mut extra_fallback = None;
    match channel {
        Some(CampaignChannel::Whatsapp) => match whatsapp_params(conn, input, &mut errors)? {
            Some((t, p)) => {
                body = t.body.clone();
                template = Some(t.id);
                params = p;
            }
            None => body.clear(),
        },
        Some(CampaignChannel::Sms) if input.per_row_message => {
            // Each row's MENSAGEM; what was typed is for rows without one.
            check_text("body", &body, SMS_BODY_MAX_CHARS, false);
            if !body.trim().is_empty() {
                extra_fallback = Some(body.trim().to_string());
            }
            body = format!("@{}", Variable::Mensagem.name());
        }
        Some(CampaignChannel::Sms) => check_text("body", &body, SMS_BODY_MAX_CHARS, true),
        _ => check_text("body", &body, BODY_MAX_CHARS, true),
    }
    let mut fallbacks = Fallbacks::default();
    if let Some(text) = &extra_fallback {
        fallbacks.set(Variable::Mensagem, text);
    }
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
        Ok(s) => match schedule_refusal(&s, now) {
            Some((field, message)) => {
                errors.push(field_error(field, "past", message));
                None
            }
            None => Some(s),
        },
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
        body,
        fallbacks: write_fallbacks(&fallbacks),
        schedule,
        template_id: template,
        template_params: params,
        options: CampaignOptions {
            strip_accents: channel == CampaignChannel::Sms && input.options.strip_accents,
            exclude_no_whatsapp: channel == CampaignChannel::Whatsapp
                && input.options.exclude_no_whatsapp,
        },
    }))
}

/// Why `schedule` would never run if it went out at `now`, as (field, pt-BR message): a
/// one-off time that has passed, a recurrence whose end date has passed, or one with no
/// occurrence left before its end date. The composer and a draft's Enviar both ask.
pub fn schedule_refusal(schedule: &Schedule, now: i64) -> Option<(&'static str, &'static str)> {
    use crate::messages::campaign as m;
    match schedule {
        Schedule::Now => None,
        Schedule::Once { at } => (*at <= now).then_some(("at", m::SCHEDULE_PAST)),
        Schedule::Daily { until, .. }
        | Schedule::Weekly { until, .. }
        | Schedule::Monthly { until, .. } => {
            if schedule.next_after(now - 1).is_some() {
                None
            } else if until.is_some_and(|end| end < now) {
                Some(("until", m::SCHEDULE_UNTIL_PAST))
            } else {
                Some(("until", m::SCHEDULE_NO_OCCURRENCE))
            }
        }
    }
}

/// A WhatsApp campaign's template and parameters: the template must exist and the
/// parameters given must be exactly `{{1}}…{{n}}` of it (Meta refuses any other count
/// with error 132000), each a variable or fixed text.
fn whatsapp_params(
    conn: &mut DbConnection,
    input: &CampaignInput,
    errors: &mut Vec<FieldError>,
) -> QueryResult<Option<(WhatsAppTemplate, Vec<String>)>> {
    use crate::messages::whatsapp as m;
    let raw = input.template.trim();
    if raw.is_empty() {
        errors.push(field_error("template", "required", m::TEMPLATE_REQUIRED));
        return Ok(None);
    }
    let found = match raw.parse::<i64>() {
        Ok(id) => WhatsAppTemplate::find(conn, id)?,
        Err(_) => match raw.split_once(':') {
            Some((name, language)) => WhatsAppTemplate::find_by_name(conn, name, Some(language))?,
            None => WhatsAppTemplate::find_by_name(conn, raw, None)?,
        },
    };
    let Some(template) = found else {
        errors.push(field_error("template", "not_found", m::TEMPLATE_NOT_FOUND));
        return Ok(None);
    };
    let mut params: Vec<String> = input.params.iter().map(|p| p.trim().to_string()).collect();
    while params.last().is_some_and(String::is_empty) {
        params.pop();
    }
    let expected = template.parameters as usize;
    let before = errors.len();
    if params.len() != expected {
        errors.push(field_error(
            "params",
            "param_count",
            m::parameter_count(&template.name, expected, params.len()),
        ));
    }
    for (i, p) in params.iter().enumerate() {
        let field = format!("param_{}", i + 1);
        if p.is_empty() {
            errors.push(field_error(&field, "required", m::parameter_empty(i + 1)));
        } else if p.chars().count() > PARAM_MAX_CHARS {
            errors.push(field_error(
                &field,
                "too_long",
                crate::messages::campaign::text_too_long(PARAM_MAX_CHARS),
            ));
        } else if let Err(unknown) = Template::parse(p) {
            for u in unknown {
                errors.push(field_error(&field, "unknown_variable", u.message()));
            }
        }
    }
    Ok((errors.len() == before).then_some((template, params)))
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
    let composed = Composed::load(conn, campaign)?;
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
                recipients::Decision::Send {
                    subject,
                    body,
                    parameters,
                } => {
                    to_send += 1;
                    ledger::NewMessage::to_send(run, r, subject, body, parameters, now)
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
