//! The preview before sending: what a run started now would do — how many messages go
//! out, how many recipients are skipped and why, how many have each variable empty, the
//! first messages exactly as they will go out, and any one recipient's message.

use diesel::prelude::*;

use super::recipients::{self, Decision, Recipient, Seen};
use super::status::SkipReason;
use super::{Composed, recipients::for_each_batch};
use crate::db::DbConnection;
use crate::domain::sms::{Encoding, SmsCost};
use crate::domain::template::Variable;
use crate::models::campaign::Campaign;

pub const SAMPLE_SIZE: usize = 20;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sample {
    pub to: String,
    pub name: Option<String>,
    pub subject: String,
    pub body: String,
    /// WhatsApp: the template parameters, as sent.
    pub parameters: Option<Vec<String>>,
    /// SMS: the message's encoding and parts.
    pub sms: Option<SmsCost>,
}

/// What an SMS run costs: the encoding ("UCS-2" when any message needs it), the parts
/// of all messages together and of the longest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SmsSummary {
    pub encoding: Encoding,
    pub parts_total: i64,
    pub parts_max: i64,
    /// Messages that need UCS-2.
    pub ucs2_messages: i64,
}

#[derive(Debug, Clone, Default)]
pub struct Preview {
    /// Messages that would go out, after every skip.
    pub recipients: i64,
    pub skipped: Vec<(SkipReason, i64)>,
    /// Recipients whose value is empty, per variable (fallbacks not applied).
    pub empty: Vec<(Variable, i64)>,
    pub sample: Vec<Sample>,
    /// The variables the texts use.
    pub used: Vec<Variable>,
    /// SMS campaigns: what the messages cost.
    pub sms: Option<SmsSummary>,
    /// WhatsApp campaigns: recipients whose phone is known to lack WhatsApp (excluded
    /// or not).
    pub known_without_whatsapp: i64,
}

impl Preview {
    pub fn skipped(&self, reason: SkipReason) -> i64 {
        self.skipped
            .iter()
            .find(|(r, _)| *r == reason)
            .map(|(_, n)| *n)
            .unwrap_or(0)
    }

    pub fn empty(&self, v: Variable) -> i64 {
        self.empty
            .iter()
            .find(|(x, _)| *x == v)
            .map(|(_, n)| *n)
            .unwrap_or(0)
    }
}

pub fn preview(conn: &mut DbConnection, campaign: &Campaign) -> QueryResult<Preview> {
    let composed = Composed::load(conn, campaign)?;
    let mut skipped = [0i64; SkipReason::ALL.len()];
    let count = |skipped: &mut [i64; SkipReason::ALL.len()], r: SkipReason| {
        let i = SkipReason::ALL
            .iter()
            .position(|x| *x == r)
            .expect("listed");
        skipped[i] += 1;
    };
    skipped[0] = recipients::without_channel(conn, campaign.target, campaign.channel)?;
    let mut empty = [0i64; 10];
    let mut seen = Seen::default();
    let mut out = Preview {
        used: composed.variables(),
        sms: (campaign.channel == super::CampaignChannel::Sms).then_some(SmsSummary {
            encoding: Encoding::Gsm7,
            parts_total: 0,
            parts_max: 0,
            ucs2_messages: 0,
        }),
        ..Default::default()
    };
    for_each_batch(conn, campaign.target, campaign.channel, |_, batch| {
        for r in batch {
            if !seen.first(&r.channel_value) {
                count(&mut skipped, SkipReason::Duplicate);
                continue;
            }
            for (i, v) in Variable::ALL.into_iter().enumerate() {
                if r.values.get(v).is_none() {
                    empty[i] += 1;
                }
            }
            if r.whatsapp == Some(false) {
                out.known_without_whatsapp += 1;
            }
            match composed.decide(&r).0 {
                Decision::Send {
                    subject,
                    body,
                    parameters,
                } => {
                    out.recipients += 1;
                    let cost = out.sms.as_mut().map(|total| {
                        let cost = crate::domain::sms::cost(&body);
                        total.parts_total += cost.parts as i64;
                        total.parts_max = total.parts_max.max(cost.parts as i64);
                        if cost.encoding == Encoding::Ucs2 {
                            total.encoding = Encoding::Ucs2;
                            total.ucs2_messages += 1;
                        }
                        cost
                    });
                    if out.sample.len() < SAMPLE_SIZE {
                        out.sample.push(Sample {
                            to: r.channel_value,
                            name: r.values.name,
                            subject,
                            body,
                            parameters,
                            sms: cost,
                        });
                    }
                }
                Decision::Skip(reason) => count(&mut skipped, reason),
            }
        }
        Ok(true)
    })?;
    out.skipped = SkipReason::ALL.into_iter().zip(skipped).collect();
    out.empty = Variable::ALL.into_iter().zip(empty).collect();
    Ok(out)
}

/// One recipient found by the preview's search, with what they would get.
#[derive(Debug, Clone)]
pub struct Found {
    pub to: String,
    pub name: Option<String>,
    pub decision: Decision,
    pub empty_variable: Option<Variable>,
}

/// Recipients whose address or name contains `query` (ignoring case and accents), up
/// to `limit`, each with the message they would get or why they get none.
pub fn find(
    conn: &mut DbConnection,
    campaign: &Campaign,
    query: &str,
    limit: usize,
) -> QueryResult<Vec<Found>> {
    let composed = Composed::load(conn, campaign)?;
    let needle = crate::domain::text::search_key(query);
    let digits: String = query.chars().filter(char::is_ascii_digit).collect();
    let mut found = Vec::new();
    if needle.is_empty() {
        return Ok(found);
    }
    let matches = |r: &Recipient| {
        crate::domain::text::search_key(&r.channel_value).contains(&needle)
            || (digits.len() >= 4 && r.channel_value.contains(&digits))
            || r.values
                .name
                .as_deref()
                .is_some_and(|n| crate::domain::text::search_key(n).contains(&needle))
    };
    let mut seen = Seen::default();
    for_each_batch(conn, campaign.target, campaign.channel, |_, batch| {
        for r in batch {
            let first = seen.first(&r.channel_value);
            if !matches(&r) {
                continue;
            }
            let (decision, empty_variable) = if first {
                composed.decide(&r)
            } else {
                (Decision::Skip(SkipReason::Duplicate), None)
            };
            found.push(Found {
                to: r.channel_value,
                name: r.values.name,
                decision,
                empty_variable,
            });
            if found.len() >= limit {
                return Ok(false);
            }
        }
        Ok(true)
    })?;
    Ok(found)
}
