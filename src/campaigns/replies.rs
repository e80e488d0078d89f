//! What providers tell after sending, and what customers write back — the service behind
//! the webhooks, shared by WhatsApp, Zenvia and Twilio. Every call is idempotent:
//! providers retry callbacks for days and deliver them out of order.
//!
//! - A delivery receipt moves its ledger row forward (sent → delivered → read; failed is
//!   final) and, on WhatsApp, teaches about the phone: delivered or read means com
//!   WhatsApp; a failure with one of [`NO_WHATSAPP_CODES`] means sem WhatsApp, and one with
//!   [`MARKETING_STOPPED_CODE`] that the phone takes no more marketing templates (as Meta's
//!   `user_preferences` webhook says, see [`marketing_preference`]).
//! - A customer's message becomes an interaction, exactly as the inbound API records
//!   one (so it reaches the Fila and Verify), once per provider message id; a message that
//!   is a stop word (SAIR, PARAR…) puts the phone on Não Perturbe at once, with its source.

use diesel::prelude::*;

use super::CampaignChannel;
use super::ledger::{self, Report};
use crate::channels::provider_code;
use crate::channels::whatsapp::{MARKETING_STOPPED_CODE, NO_WHATSAPP_CODES};
use crate::db::DbConnection;
use crate::domain::RecordType;
use crate::models::NewInteraction;
use crate::models::provider_settings::StopWords;
use crate::schema::unmatched_receipts;

/// What applying a receipt did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReceiptOutcome {
    /// The ledger row moved.
    pub changed: bool,
    /// The phone's WhatsApp verdict was recorded.
    pub learnt: bool,
}

/// How long a receipt for a message id not recorded yet is kept, in seconds.
pub const UNMATCHED_KEEP_SECS: i64 = 3_600;

/// Applies one delivery receipt for the message `provider` (a [`provider_code`]) knows
/// as `provider_id` — never another provider's message with the same id; `at` is when the
/// provider says it happened. A receipt for an id the ledger does not hold yet — the
/// provider answered the send and called back before the answer was committed — is kept
/// for [`UNMATCHED_KEEP_SECS`] and applied when the id is recorded.
pub fn receipt(
    conn: &mut DbConnection,
    provider: &str,
    provider_id: &str,
    report: &Report,
    at: i64,
    now: i64,
) -> QueryResult<ReceiptOutcome> {
    let channel = if provider == provider_code::WHATSAPP {
        CampaignChannel::Whatsapp
    } else {
        CampaignChannel::Sms
    };
    crate::db::write_transaction(conn, |conn| {
        let Some(reported) = ledger::report(conn, provider, provider_id, report, now)? else {
            if *report != Report::Sent && !ledger::knows_provider_id(conn, provider, provider_id)? {
                tracing::debug!(provider_id, ?report, "receipt for an unknown message kept");
                keep_unmatched(conn, channel, provider, provider_id, report, at, now)?;
            }
            return Ok(ReceiptOutcome::default());
        };
        if let (CampaignChannel::Whatsapp, Report::Failed { code, .. }) = (channel, report)
            && code == MARKETING_STOPPED_CODE
        {
            crate::models::contact::set_whatsapp_marketing(
                conn,
                &reported.channel_value,
                false,
                at,
            )?;
        }
        let verdict = match (channel, report) {
            (CampaignChannel::Whatsapp, Report::Delivered | Report::Read) => Some(true),
            (CampaignChannel::Whatsapp, Report::Failed { code, .. })
                if code
                    .parse::<i64>()
                    .is_ok_and(|c| NO_WHATSAPP_CODES.contains(&c)) =>
            {
                Some(false)
            }
            _ => None,
        };
        let learnt = match verdict {
            Some(has) => {
                crate::models::contact::set_whatsapp(conn, &reported.channel_value, has, at)? > 0
            }
            None => false,
        };
        Ok(ReceiptOutcome {
            changed: true,
            learnt,
        })
    })
}

fn keep_unmatched(
    conn: &mut DbConnection,
    channel: CampaignChannel,
    provider: &str,
    provider_id: &str,
    report: &Report,
    at: i64,
    now: i64,
) -> QueryResult<()> {
    let (status, code, error) = match report {
        Report::Failed { code, error } => ("failed", code.as_str(), error.as_str()),
        Report::Read => ("read", "", ""),
        _ => ("delivered", "", ""),
    };
    diesel::insert_into(unmatched_receipts::table)
        .values((
            unmatched_receipts::channel.eq(channel.code()),
            unmatched_receipts::provider.eq(provider),
            unmatched_receipts::provider_id.eq(provider_id),
            unmatched_receipts::status.eq(status),
            unmatched_receipts::code.eq(code),
            unmatched_receipts::error.eq(error),
            unmatched_receipts::at.eq(at),
            unmatched_receipts::received_at.eq(now),
        ))
        .execute(conn)
        .map(drop)
}

/// Applies the receipts that arrived before this message's id was recorded; called in
/// the transaction that records it. Returns how many there were.
pub fn apply_unmatched(
    conn: &mut DbConnection,
    provider: &str,
    provider_id: &str,
    now: i64,
) -> QueryResult<usize> {
    let waiting: Vec<(i64, String, String, String, i64)> = unmatched_receipts::table
        .filter(unmatched_receipts::provider_id.eq(provider_id))
        .filter(unmatched_receipts::provider.eq(provider))
        .order(unmatched_receipts::at.asc())
        .select((
            unmatched_receipts::id,
            unmatched_receipts::status,
            unmatched_receipts::code,
            unmatched_receipts::error,
            unmatched_receipts::at,
        ))
        .load(conn)?;
    if waiting.is_empty() {
        return Ok(0);
    }
    let ids: Vec<i64> = waiting.iter().map(|w| w.0).collect();
    diesel::delete(unmatched_receipts::table.filter(unmatched_receipts::id.eq_any(&ids)))
        .execute(conn)?;
    for (_, status, code, error, at) in &waiting {
        let report = match status.as_str() {
            "read" => Report::Read,
            "failed" => Report::Failed {
                code: code.clone(),
                error: error.clone(),
            },
            _ => Report::Delivered,
        };
        receipt(conn, provider, provider_id, &report, *at, now)?;
    }
    Ok(waiting.len())
}

/// Forgets receipts that never found their message (another system's, or too old).
pub fn prune_unmatched(conn: &mut DbConnection, now: i64) -> QueryResult<usize> {
    diesel::delete(
        unmatched_receipts::table
            .filter(unmatched_receipts::received_at.lt(now - UNMATCHED_KEEP_SECS)),
    )
    .execute(conn)
}

/// A WhatsApp user stopped (`takes_marketing` false) or resumed marketing messages; the
/// newest word wins, whatever order Meta delivers them in.
pub fn marketing_preference(
    conn: &mut DbConnection,
    phone: &str,
    takes_marketing: bool,
    at: i64,
) -> QueryResult<usize> {
    crate::models::contact::set_whatsapp_marketing(conn, phone, takes_marketing, at)
}

/// A customer's message that arrived through a provider.
#[derive(Debug, Clone)]
pub struct Incoming {
    pub channel: CampaignChannel,
    /// The sender's phone as the contact base keeps it (E.164).
    pub phone: String,
    pub text: String,
    /// The provider's id for the message.
    pub external_id: String,
    pub at: i64,
}

/// What receiving a message did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IncomingOutcome {
    /// A new interaction (false for a message already recorded).
    pub recorded: bool,
    /// The message was a stop word and the phone went on Não Perturbe now.
    pub opted_out: bool,
}

/// Longest incoming text kept, as the inbound API.
const MAX_TEXT_CHARS: usize = crate::routes::api::MAX_TEXT_CHARS;

pub fn incoming(conn: &mut DbConnection, m: &Incoming, now: i64) -> QueryResult<IncomingOutcome> {
    let text: String = m
        .text
        .chars()
        .filter(|c| !c.is_control() || matches!(c, '\n' | '\t'))
        .take(MAX_TEXT_CHARS)
        .collect();
    crate::db::write_transaction(conn, |conn| {
        let recorded = NewInteraction {
            kind: RecordType::Telefone,
            value: &m.phone,
            body: &text,
            occurred_at: m.at,
            external_id: Some(&m.external_id),
        }
        .insert_once(conn, now)?
        .is_some();
        let mut opted_out = false;
        if recorded && StopWords::load(conn)?.matches(&text) {
            let source = match m.channel {
                CampaignChannel::Whatsapp => "whatsapp_reply",
                _ => "sms_reply",
            };
            opted_out = crate::models::dnd::opt_out(
                conn,
                RecordType::Telefone,
                &m.phone,
                &format!("{source}: {}", text.trim()),
                now,
            )?;
        }
        Ok(IncomingOutcome {
            recorded,
            opted_out,
        })
    })
}
