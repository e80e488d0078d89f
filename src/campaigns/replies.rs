//! What providers tell after sending, and what customers write back — the service behind
//! the webhooks, shared by WhatsApp, Zenvia and Twilio. Every call is idempotent:
//! providers retry callbacks for days and deliver them out of order.
//!
//! - A delivery receipt moves its ledger row forward (sent → delivered → read; failed is
//!   final) and, on WhatsApp, teaches about the phone: delivered or read means com
//!   WhatsApp; a failure with one of [`NO_WHATSAPP_CODES`] means sem WhatsApp.
//! - A customer's message becomes an interaction, exactly as the inbound API records
//!   one (so it reaches the Fila and Verify), once per provider message id; a message that
//!   is a stop word (SAIR, PARAR…) puts the phone on Não Perturbe at once, with its source.

use diesel::prelude::*;

use super::CampaignChannel;
use super::ledger::{self, Report};
use crate::channels::whatsapp::NO_WHATSAPP_CODES;
use crate::db::DbConnection;
use crate::domain::RecordType;
use crate::models::NewInteraction;
use crate::models::provider_settings::StopWords;

/// What applying a receipt did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReceiptOutcome {
    /// The ledger row moved.
    pub changed: bool,
    /// The phone's WhatsApp verdict was recorded.
    pub learnt: bool,
}

/// Applies one delivery receipt for the message the provider knows as `provider_id`;
/// `at` is when the provider says it happened.
pub fn receipt(
    conn: &mut DbConnection,
    channel: CampaignChannel,
    provider_id: &str,
    report: &Report,
    at: i64,
    now: i64,
) -> QueryResult<ReceiptOutcome> {
    crate::db::write_transaction(conn, |conn| {
        let Some(reported) = ledger::report(conn, provider_id, report, now)? else {
            tracing::debug!(provider_id, ?report, "receipt for no message it could move");
            return Ok(ReceiptOutcome::default());
        };
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
