//! The preview before sending: what a run started now would do — how many messages go
//! out, how many recipients are skipped and why, how many have each variable empty, the
//! first messages exactly as they will go out, and any one recipient's message.

use diesel::prelude::*;

use super::recipients::{self, Decision, Recipient, Seen};
use super::status::SkipReason;
use super::{Composed, recipients::for_each_batch};
use crate::db::DbConnection;
use crate::domain::template::Variable;
use crate::models::campaign::Campaign;

pub const SAMPLE_SIZE: usize = 20;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sample {
    pub to: String,
    pub name: Option<String>,
    pub subject: String,
    pub body: String,
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
    let composed = Composed::of(campaign);
    let mut skipped = [0i64; 5];
    let count = |skipped: &mut [i64; 5], r: SkipReason| {
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
            match composed.decide(&r).0 {
                Decision::Send { subject, body } => {
                    out.recipients += 1;
                    if out.sample.len() < SAMPLE_SIZE {
                        out.sample.push(Sample {
                            to: r.channel_value,
                            name: r.values.name,
                            subject,
                            body,
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
    let composed = Composed::of(campaign);
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
