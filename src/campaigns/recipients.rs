//! Who a run goes to, read in line order a batch at a time (a million rows never sit in
//! memory), and what each recipient gets: a rendered message or a reason to skip.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Nullable, Text};

use super::status::SkipReason;
use super::{CampaignChannel, Composed, Target};
use crate::db::DbConnection;
use crate::domain::template::{Template, Values, Variable};

/// Recipients read per query.
pub const BATCH: i64 = 5_000;

/// One recipient as stored: its position (the audience line, or the channel's id for a
/// segment), contact, channel value and the values its variables take.
#[derive(Debug, Clone)]
pub struct Recipient {
    pub position: i64,
    pub contact_id: i64,
    pub channel_value: String,
    pub values: Values,
    pub dnd: bool,
    /// What WhatsApp's callbacks taught about this phone: `Some(false)` sem WhatsApp.
    pub whatsapp: Option<bool>,
    /// Its owner stopped WhatsApp marketing messages.
    pub marketing_stopped: bool,
}

#[derive(QueryableByName)]
struct Row {
    #[diesel(sql_type = BigInt)]
    position: i64,
    #[diesel(sql_type = BigInt)]
    contact_id: i64,
    #[diesel(sql_type = Text)]
    channel_value: String,
    #[diesel(sql_type = Nullable<Text>)]
    name: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    customer_code: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    tag: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    coringa1: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    coringa2: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    coringa3: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    coringa4: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    coringa5: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    message: Option<String>,
    #[diesel(sql_type = Integer)]
    dnd: i32,
    #[diesel(sql_type = Nullable<Text>)]
    whatsapp: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    whatsapp_marketing: Option<String>,
}

impl From<Row> for Recipient {
    fn from(r: Row) -> Self {
        Recipient {
            position: r.position,
            contact_id: r.contact_id,
            channel_value: r.channel_value,
            values: Values {
                name: r.name,
                customer_code: r.customer_code,
                tag: r.tag,
                coringas: [r.coringa1, r.coringa2, r.coringa3, r.coringa4, r.coringa5],
                message: r.message,
            },
            dnd: r.dnd != 0,
            whatsapp: match r.whatsapp.as_deref() {
                Some("yes") => Some(true),
                Some("no") => Some(false),
                _ => None,
            },
            marketing_stopped: r.whatsapp_marketing.as_deref() == Some("stop"),
        }
    }
}

/// The query for the recipients after `after`, in order. Only integers and the channel's
/// fixed kind are written into the text; nothing a user typed.
fn batch_sql(target: Target, channel: CampaignChannel, after: i64, limit: i64) -> String {
    let kind = channel.record_type().as_str();
    let dnd = format!(
        "CASE WHEN EXISTS (SELECT 1 FROM dnd_entries d WHERE d.kind = '{kind}' AND d.value = {{v}}) THEN 1 ELSE 0 END AS dnd, {}",
        // Only WhatsApp campaigns ask what is known about WhatsApp.
        if channel == CampaignChannel::Whatsapp {
            format!(
                "(SELECT w.whatsapp FROM contact_channels w WHERE w.kind = '{kind}' AND w.value = {{v}}) AS whatsapp, \
                 (SELECT w.whatsapp_marketing FROM contact_channels w WHERE w.kind = '{kind}' AND w.value = {{v}}) AS whatsapp_marketing"
            )
        } else {
            "NULL AS whatsapp, NULL AS whatsapp_marketing".to_string()
        }
    );
    match target {
        Target::Audience(audience) => format!(
            "SELECT m.line AS position, m.contact_id, m.channel_value, c.name, c.customer_code, \
             m.tag, m.coringa1, m.coringa2, m.coringa3, m.coringa4, m.coringa5, m.message, {} \
             FROM audience_members m JOIN contacts c ON c.id = m.contact_id \
             WHERE m.audience_id = {audience} AND m.channel_kind = '{kind}' AND m.line > {after} \
             ORDER BY m.line LIMIT {limit}",
            dnd.replace("{v}", "m.channel_value")
        ),
        // A segment's contacts as they are now; the variables from each contact's most
        // recent row in an audience of this segment.
        Target::Segment(segment) => format!(
            "SELECT ch.id AS position, c.id AS contact_id, ch.value AS channel_value, c.name, \
             c.customer_code, m.tag, m.coringa1, m.coringa2, m.coringa3, m.coringa4, m.coringa5, \
             m.message, {} \
             FROM contact_segments cs \
             JOIN contacts c ON c.id = cs.contact_id \
             JOIN contact_channels ch ON ch.contact_id = c.id AND ch.kind = '{kind}' \
             LEFT JOIN audience_members m ON m.id = ( \
                 SELECT MAX(m2.id) FROM audience_members m2 \
                 JOIN audiences a ON a.id = m2.audience_id \
                 WHERE m2.contact_id = c.id AND a.segment_id = {segment}) \
             WHERE cs.segment_id = {segment} AND ch.id > {after} \
             ORDER BY ch.id LIMIT {limit}",
            dnd.replace("{v}", "ch.value")
        ),
    }
}

/// Calls `each` with every batch of recipients, in order, until it returns `false`.
pub fn for_each_batch(
    conn: &mut DbConnection,
    target: Target,
    channel: CampaignChannel,
    mut each: impl FnMut(&mut DbConnection, Vec<Recipient>) -> QueryResult<bool>,
) -> QueryResult<()> {
    let mut after = i64::MIN;
    loop {
        let rows: Vec<Row> =
            diesel::sql_query(batch_sql(target, channel, after, BATCH)).load(conn)?;
        let Some(last) = rows.last() else {
            return Ok(());
        };
        after = last.position;
        let full = rows.len() as i64 == BATCH;
        if !each(conn, rows.into_iter().map(Recipient::from).collect())? || !full {
            return Ok(());
        }
    }
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Rows (or contacts, for a segment) that have no channel of this kind at all.
pub fn without_channel(
    conn: &mut DbConnection,
    target: Target,
    channel: CampaignChannel,
) -> QueryResult<i64> {
    let kind = channel.record_type().as_str();
    let sql = match target {
        Target::Audience(audience) => format!(
            "SELECT COUNT(*) AS n FROM audience_members WHERE audience_id = {audience} \
             AND channel_kind <> '{kind}'"
        ),
        Target::Segment(segment) => format!(
            "SELECT COUNT(*) AS n FROM contact_segments cs WHERE cs.segment_id = {segment} \
             AND NOT EXISTS (SELECT 1 FROM contact_channels ch WHERE ch.contact_id = cs.contact_id \
             AND ch.kind = '{kind}')"
        ),
    };
    Ok(diesel::sql_query(sql).get_result::<Count>(conn)?.n)
}

/// What one recipient gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// `parameters`: a WhatsApp template's, as sent (`body` is then the template with
    /// them filled in, for people to read).
    Send {
        subject: String,
        body: String,
        parameters: Option<Vec<String>>,
    },
    Skip(SkipReason),
}

impl Composed {
    /// The message for a recipient, or why there is none. An address that no longer
    /// reads as one is invalid; Não Perturbe comes next; then every variable must have a
    /// value or a fallback.
    pub fn decide(&self, r: &Recipient) -> (Decision, Option<Variable>) {
        let valid = match self.channel {
            CampaignChannel::Email => crate::domain::Email::parse(&r.channel_value).is_ok(),
            _ => crate::domain::Phone::parse(&r.channel_value).is_ok(),
        };
        if !valid {
            return (Decision::Skip(SkipReason::Invalid), None);
        }
        if r.dnd {
            return (Decision::Skip(SkipReason::Dnd), None);
        }
        if self.channel == CampaignChannel::Whatsapp
            && self.options.exclude_no_whatsapp
            && r.whatsapp == Some(false)
        {
            return (Decision::Skip(SkipReason::NoWhatsapp), None);
        }
        if let Some(template) = &self.template {
            if r.marketing_stopped && template.is_marketing() {
                return (Decision::Skip(SkipReason::MarketingStopped), None);
            }
            let mut parameters = Vec::with_capacity(self.params.len());
            for p in &self.params {
                match p.render(&r.values, &self.fallbacks) {
                    Ok(text) if !text.trim().is_empty() =>
                    // Meta refuses template parameters with line breaks, tabs or more than four
                    // spaces in a row: a value imported with them is sent on one line.
                    {
                        parameters.push(crate::domain::text::collapse_spaces(&text))
                    }
                    Ok(_) => return (Decision::Skip(SkipReason::EmptyVariable), None),
                    Err(v) => return (Decision::Skip(SkipReason::EmptyVariable), Some(v)),
                }
            }
            let body = crate::models::whatsapp_template::fill(&template.body, &parameters);
            return (
                Decision::Send {
                    subject: String::new(),
                    body,
                    parameters: Some(parameters),
                },
                None,
            );
        }
        let subject = match self.subject.render(&r.values, &self.fallbacks) {
            Ok(s) => s,
            Err(v) => return (Decision::Skip(SkipReason::EmptyVariable), Some(v)),
        };
        let rendered = match &self.row_fallback {
            // A row without its own MENSAGEM gets the typed text, its variables filled
            // and skipped on an empty one like any message.
            Some((text, fallbacks)) if r.values.get(Variable::Mensagem).is_none() => {
                text.render(&r.values, fallbacks)
            }
            _ => match (&self.row_message, r.values.get(Variable::Mensagem)) {
                // A row's own MENSAGEM may use variables too ("Oi @PrimeiroNome…"): they
                // are filled like the typed text's. Text that is not a template (an
                // unknown `@word`, `@Mensagem` itself) goes as written.
                (Some(fallbacks), Some(own)) => match Template::parse(&own) {
                    Ok(t) if !t.variables().contains(&Variable::Mensagem) => {
                        t.render(&r.values, fallbacks)
                    }
                    _ => Ok(own),
                },
                _ => self.body.render(&r.values, &self.fallbacks),
            },
        };
        match rendered {
            Ok(body) => {
                let body = if self.options.strip_accents {
                    crate::domain::sms::strip_accents(&body)
                } else {
                    body
                };
                (
                    Decision::Send {
                        subject,
                        body,
                        parameters: None,
                    },
                    None,
                )
            }
            Err(v) => (Decision::Skip(SkipReason::EmptyVariable), Some(v)),
        }
    }
}

/// Remembers the channel values a run has seen, as 128-bit hashes (a million addresses
/// fit in a few tens of megabytes), so the first occurrence wins.
#[derive(Default)]
pub struct Seen(std::collections::HashSet<u128>);

impl Seen {
    /// `true` the first time a value is offered.
    pub fn first(&mut self, value: &str) -> bool {
        use sha2::Digest;
        let digest = sha2::Sha256::digest(value.as_bytes());
        let mut key = [0u8; 16];
        key.copy_from_slice(&digest[..16]);
        self.0.insert(u128::from_le_bytes(key))
    }
}
