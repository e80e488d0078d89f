//! The message ledger: one row per recipient of a run, and the only code that writes a
//! message's status. A message moves pending → queued (claimed by one server) → sending
//! (being handed to the provider) → sent or failed; a temporary failure goes back to
//! pending for a later attempt. A row left `sending` by a server that died becomes
//! `uncertain` and is sent again only when a person asks.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

use super::status::{MessageStatus, RunStatus, SkipReason};
use crate::db::{Backend, DbConnection};
use crate::schema::{campaign_messages, campaign_runs, campaigns};

#[derive(Debug, Insertable)]
#[diesel(table_name = campaign_messages)]
#[diesel(treat_none_as_default_value = false)]
pub struct NewMessage {
    pub run_id: i64,
    pub contact_id: Option<i64>,
    pub channel_value: String,
    pub line: i64,
    pub subject: String,
    pub body: String,
    pub status: &'static str,
    pub skip_reason: Option<&'static str>,
    pub created_at: i64,
    pub updated_at: i64,
    /// A WhatsApp message's template parameters, as a JSON array.
    pub parameters: Option<String>,
}

impl NewMessage {
    fn new(
        run: i64,
        r: &super::recipients::Recipient,
        status: MessageStatus,
        reason: Option<SkipReason>,
        (subject, body, parameters): (String, String, Option<Vec<String>>),
        now: i64,
    ) -> Self {
        NewMessage {
            run_id: run,
            contact_id: Some(r.contact_id),
            channel_value: r.channel_value.clone(),
            line: r.position,
            subject,
            body,
            status: status.code(),
            skip_reason: reason.map(SkipReason::code),
            created_at: now,
            updated_at: now,
            parameters: parameters.map(|p| serde_json::Value::from(p).to_string()),
        }
    }

    pub fn to_send(
        run: i64,
        r: &super::recipients::Recipient,
        subject: String,
        body: String,
        parameters: Option<Vec<String>>,
        now: i64,
    ) -> Self {
        let texts = (subject, body, parameters);
        Self::new(run, r, MessageStatus::Pending, None, texts, now)
    }

    pub fn skipped(
        run: i64,
        r: &super::recipients::Recipient,
        reason: SkipReason,
        now: i64,
    ) -> Self {
        let texts = (String::new(), String::new(), None);
        Self::new(run, r, MessageStatus::Skipped, Some(reason), texts, now)
    }
}

/// Writes a batch of a run's messages (COPY on PostgreSQL).
pub fn write(conn: &mut DbConnection, rows: &[NewMessage]) -> QueryResult<usize> {
    Ok(crate::insert_all!(conn, campaign_messages::table, rows))
}

/// A message claimed by this server, ready to send.
#[derive(Debug, Clone, Queryable)]
pub struct Claimed {
    pub id: i64,
    pub run_id: i64,
    pub channel_value: String,
    pub subject: String,
    pub body: String,
    pub attempts: i32,
    pub parameters: Option<String>,
}

impl Claimed {
    /// A WhatsApp message's template parameters.
    pub fn parameters(&self) -> Vec<String> {
        self.parameters
            .as_deref()
            .and_then(|p| serde_json::from_str(p).ok())
            .unwrap_or_default()
    }
}

#[derive(QueryableByName)]
struct IdRow {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

/// Claims up to `limit` pending messages of sending runs on `channel` for `server`.
/// Não Perturbe is checked here, at send time: a message whose address was listed after
/// its run started is skipped instead.
pub fn claim(
    conn: &mut DbConnection,
    server: &str,
    channel: &str,
    kind: &str,
    limit: i64,
    now_ms: i64,
) -> QueryResult<Vec<Claimed>> {
    let lock = match conn.backend() {
        Backend::Postgres => " FOR UPDATE SKIP LOCKED",
        Backend::Sqlite => "",
    };
    let now = now_ms / 1000;
    crate::db::write_transaction(conn, |conn| {
        // Run by run, each an ordered walk of the pending index that stops at `limit`:
        // a million pending rows cost no more to claim from than a hundred.
        let runs: Vec<i64> = campaign_runs::table
            .inner_join(campaigns::table)
            .filter(campaign_runs::status.eq(RunStatus::Sending.code()))
            .filter(campaigns::channel.eq(channel))
            .order(campaign_runs::id.asc())
            .select(campaign_runs::id)
            .load(conn)?;
        let mut ids: Vec<i64> = Vec::new();
        for run in runs {
            let wanted = limit - ids.len() as i64;
            if wanted <= 0 {
                break;
            }
            let sql = format!(
                "SELECT id FROM campaign_messages WHERE run_id = {run} AND status = 'pending' \
                 AND next_attempt_ms <= {now_ms} ORDER BY id LIMIT {wanted}{lock}"
            );
            ids.extend(
                diesel::sql_query(sql)
                    .load::<IdRow>(conn)?
                    .into_iter()
                    .map(|r| r.id),
            );
        }
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
        diesel::sql_query(format!(
            "UPDATE campaign_messages SET status = 'skipped', skip_reason = 'dnd', updated_at = {now} \
             WHERE id IN ({list}) AND EXISTS (SELECT 1 FROM dnd_entries d \
             WHERE d.kind = '{kind}' AND d.value = campaign_messages.channel_value)"
        ))
        .execute(conn)?;
        // An address an elimination anonymised is no one's: never sent.
        skip_erased(conn, &ids, now)?;
        diesel::update(
            campaign_messages::table
                .filter(campaign_messages::id.eq_any(&ids))
                .filter(campaign_messages::status.eq(MessageStatus::Pending.code())),
        )
        .set((
            campaign_messages::status.eq(MessageStatus::Queued.code()),
            campaign_messages::claimed_by.eq(server),
            campaign_messages::updated_at.eq(now),
        ))
        .execute(conn)?;
        campaign_messages::table
            .filter(campaign_messages::id.eq_any(&ids))
            .filter(campaign_messages::status.eq(MessageStatus::Queued.code()))
            .filter(campaign_messages::claimed_by.eq(server))
            .order(campaign_messages::id.asc())
            .select((
                campaign_messages::id,
                campaign_messages::run_id,
                campaign_messages::channel_value,
                campaign_messages::subject,
                campaign_messages::body,
                campaign_messages::attempts,
                campaign_messages::parameters,
            ))
            .load(conn)
    })
}

/// Marks claimed messages as being handed to the provider, right before they are, in
/// one statement whose answer is authoritative: only the rows it changed may go. The
/// others (their run paused or cancelled meanwhile, or no longer this server's) are given
/// back when still this server's.
pub fn begin_send_many(
    conn: &mut DbConnection,
    ids: &[i64],
    server: &str,
    now: i64,
) -> QueryResult<Vec<i64>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
    // `server` is this process's own hex id, never typed by a user.
    let sql = format!(
        "UPDATE campaign_messages SET status = 'sending', attempts = attempts + 1, \
         updated_at = {now} WHERE id IN ({list}) AND status = 'queued' \
         AND claimed_by = '{server}' \
         AND run_id IN (SELECT id FROM campaign_runs WHERE status = 'sending') RETURNING id"
    );
    crate::db::write_transaction(conn, |conn| {
        let allowed: Vec<i64> = diesel::sql_query(sql)
            .load::<IdRow>(conn)?
            .into_iter()
            .map(|r| r.id)
            .collect();
        let refused: Vec<i64> = ids
            .iter()
            .copied()
            .filter(|i| !allowed.contains(i))
            .collect();
        if !refused.is_empty() {
            release(conn, server, &refused, now)?;
        }
        Ok(allowed)
    })
}

/// The provider took it: `provider` is who (a `channels::provider_code`), `provider_id`
/// its id for the message (the Message-ID for e-mail).
pub fn sent(
    conn: &mut DbConnection,
    id: i64,
    provider: &str,
    provider_id: &str,
    now: i64,
) -> QueryResult<()> {
    diesel::update(
        campaign_messages::table
            .filter(campaign_messages::id.eq(id))
            .filter(campaign_messages::status.eq(MessageStatus::Sending.code())),
    )
    .set((
        campaign_messages::status.eq(MessageStatus::Sent.code()),
        campaign_messages::provider_id.eq(provider_id),
        campaign_messages::provider.eq(provider),
        campaign_messages::error.eq(None::<String>),
        campaign_messages::claimed_by.eq(None::<String>),
        campaign_messages::updated_at.eq(now),
    ))
    .execute(conn)
    .map(drop)
}

/// What a provider reported about a message it took (a delivery receipt).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Report {
    Sent,
    Delivered,
    Read,
    /// Final: the provider gave up on it, with its code and why.
    Failed {
        code: String,
        error: String,
    },
}

impl Report {
    /// The statuses a message may be in for the report to change it: receipts only move
    /// forward (sent → delivered → read); a failure is final and never overrides a read.
    fn applies_to(&self) -> &'static [&'static str] {
        match self {
            Report::Sent => &[],
            Report::Delivered => &["sent"],
            Report::Read => &["sent", "delivered"],
            Report::Failed { .. } => &["sent", "delivered"],
        }
    }

    fn status(&self) -> MessageStatus {
        match self {
            Report::Sent => MessageStatus::Sent,
            Report::Delivered => MessageStatus::Delivered,
            Report::Read => MessageStatus::Read,
            Report::Failed { .. } => MessageStatus::Failed,
        }
    }
}

/// The message a receipt changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reported {
    pub id: i64,
    pub contact_id: Option<i64>,
    pub channel_value: String,
}

/// Applies a provider's receipt to the message it names (by the provider and its id:
/// another provider's receipt never touches it), if it moves the message forward. A receipt for an unknown id, replayed, or arriving after a
/// later one changes nothing and returns `None` — providers retry for days and do not
/// keep order.
pub fn report(
    conn: &mut DbConnection,
    provider: &str,
    provider_id: &str,
    report: &Report,
    now: i64,
) -> QueryResult<Option<Reported>> {
    let from = report.applies_to();
    if from.is_empty() || provider_id.is_empty() {
        return Ok(None);
    }
    crate::db::write_transaction(conn, |conn| {
        let found: Option<(i64, Option<i64>, String)> = campaign_messages::table
            .filter(campaign_messages::provider_id.eq(provider_id))
            .filter(campaign_messages::provider.eq(provider))
            .filter(campaign_messages::status.eq_any(from))
            .select((
                campaign_messages::id,
                campaign_messages::contact_id,
                campaign_messages::channel_value,
            ))
            .first(conn)
            .optional()?;
        let Some((id, contact_id, channel_value)) = found else {
            return Ok(None);
        };
        let target = campaign_messages::table
            .filter(campaign_messages::id.eq(id))
            .filter(campaign_messages::status.eq_any(from));
        let status = report.status().code();
        let changed = match report {
            Report::Failed { code, error } => diesel::update(target)
                .set((
                    campaign_messages::status.eq(status),
                    campaign_messages::error.eq(format!("{code} {error}").trim().to_string()),
                    campaign_messages::updated_at.eq(now),
                ))
                .execute(conn)?,
            _ => diesel::update(target)
                .set((
                    campaign_messages::status.eq(status),
                    campaign_messages::updated_at.eq(now),
                ))
                .execute(conn)?,
        };
        Ok((changed == 1).then_some(Reported {
            id,
            contact_id,
            channel_value,
        }))
    })
}

/// Whether any message this provider took carries this id.
pub fn knows_provider_id(
    conn: &mut DbConnection,
    provider: &str,
    provider_id: &str,
) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        campaign_messages::table
            .filter(campaign_messages::provider_id.eq(provider_id))
            .filter(campaign_messages::provider.eq(provider)),
    ))
    .get_result(conn)
}

/// The provider refused it. With `retry_at_ms` it goes back to pending for a later
/// attempt; otherwise it has failed for good.
pub fn failed(
    conn: &mut DbConnection,
    id: i64,
    error: &str,
    retry_at_ms: Option<i64>,
    now: i64,
) -> QueryResult<()> {
    let (status, next) = match retry_at_ms {
        Some(at) => (MessageStatus::Pending, at),
        None => (MessageStatus::Failed, 0),
    };
    diesel::update(
        campaign_messages::table
            .filter(campaign_messages::id.eq(id))
            .filter(campaign_messages::status.eq(MessageStatus::Sending.code())),
    )
    .set((
        campaign_messages::status.eq(status.code()),
        campaign_messages::error.eq(error),
        campaign_messages::next_attempt_ms.eq(next),
        campaign_messages::claimed_by.eq(None::<String>),
        campaign_messages::updated_at.eq(now),
    ))
    .execute(conn)
    .map(drop)
}

/// The statuses of a message no provider has yet.
const NOT_HANDED_OVER: [MessageStatus; 2] = [MessageStatus::Pending, MessageStatus::Queued];

/// The columns a message skipped because its person was eliminated gets.
type SkipAsEliminated = (
    diesel::dsl::Eq<campaign_messages::status, &'static str>,
    diesel::dsl::Eq<campaign_messages::skip_reason, Option<&'static str>>,
    diesel::dsl::Eq<campaign_messages::claimed_by, Option<String>>,
    diesel::dsl::Eq<campaign_messages::updated_at, i64>,
);

fn skip_as_eliminated(now: i64) -> SkipAsEliminated {
    (
        campaign_messages::status.eq(MessageStatus::Skipped.code()),
        campaign_messages::skip_reason.eq(Some(SkipReason::Eliminated.code())),
        campaign_messages::claimed_by.eq(None::<String>),
        campaign_messages::updated_at.eq(now),
    )
}

/// Eliminating a person (LGPD): their messages no provider has yet — by contact, or by
/// any of their addresses when no contact holds the row — are skipped (reason `eliminated`), in the eliminating
/// transaction, so a run in progress sends them nothing. Returns the rows skipped.
pub fn skip_for_erasure(
    conn: &mut DbConnection,
    contacts: &[i64],
    values: &[&String],
    now: i64,
) -> QueryResult<usize> {
    let waiting = NOT_HANDED_OVER.map(MessageStatus::code);
    let by_contact = diesel::update(
        campaign_messages::table
            .filter(campaign_messages::contact_id.eq_any(contacts.iter().map(|c| Some(*c))))
            .filter(campaign_messages::status.eq_any(waiting)),
    )
    .set(skip_as_eliminated(now))
    .execute(conn)?;
    // By address: only rows of no contact still here (another contact's row is theirs).
    let by_value = diesel::update(
        campaign_messages::table
            .filter(campaign_messages::channel_value.eq_any(values))
            .filter(diesel::dsl::not(diesel::dsl::exists(
                crate::schema::contacts::table.filter(
                    crate::schema::contacts::id
                        .nullable()
                        .eq(campaign_messages::contact_id),
                ),
            )))
            .filter(campaign_messages::status.eq_any(waiting)),
    )
    .set(skip_as_eliminated(now))
    .execute(conn)?;
    Ok(by_contact + by_value)
}

/// Of these messages, those not yet handed over whose address an elimination anonymised
/// are skipped (reason `eliminated`). Returns the rows skipped.
pub fn skip_erased(conn: &mut DbConnection, ids: &[i64], now: i64) -> QueryResult<usize> {
    diesel::update(
        campaign_messages::table
            .filter(campaign_messages::id.eq_any(ids))
            .filter(campaign_messages::status.eq_any(NOT_HANDED_OVER.map(MessageStatus::code)))
            .filter(campaign_messages::channel_value.like(format!("{}%", crate::domain::ERASED))),
    )
    .set(skip_as_eliminated(now))
    .execute(conn)
}

/// Gives claimed messages that were not handed over back to the pending pool.
pub fn release(conn: &mut DbConnection, server: &str, ids: &[i64], now: i64) -> QueryResult<usize> {
    diesel::update(
        campaign_messages::table
            .filter(campaign_messages::id.eq_any(ids))
            .filter(campaign_messages::status.eq(MessageStatus::Queued.code()))
            .filter(campaign_messages::claimed_by.eq(server)),
    )
    .set((
        campaign_messages::status.eq(MessageStatus::Pending.code()),
        campaign_messages::claimed_by.eq(None::<String>),
        campaign_messages::updated_at.eq(now),
    ))
    .execute(conn)
}

/// What a server that stopped answering left behind: claimed messages go back to
/// pending (they never reached the provider); messages it was handing over become
/// uncertain (the provider may or may not have them). Returns (released, uncertain).
pub fn recover(conn: &mut DbConnection, server: &str, now: i64) -> QueryResult<(usize, usize)> {
    crate::db::write_transaction(conn, |conn| {
        let released = diesel::update(
            campaign_messages::table
                .filter(campaign_messages::claimed_by.eq(server))
                .filter(campaign_messages::status.eq(MessageStatus::Queued.code())),
        )
        .set((
            campaign_messages::status.eq(MessageStatus::Pending.code()),
            campaign_messages::claimed_by.eq(None::<String>),
            campaign_messages::updated_at.eq(now),
        ))
        .execute(conn)?;
        let uncertain = diesel::update(
            campaign_messages::table
                .filter(campaign_messages::claimed_by.eq(server))
                .filter(campaign_messages::status.eq(MessageStatus::Sending.code())),
        )
        .set((
            campaign_messages::status.eq(MessageStatus::Uncertain.code()),
            campaign_messages::error.eq(crate::messages::UNCERTAIN_AFTER_CRASH),
            campaign_messages::updated_at.eq(now),
        ))
        .execute(conn)?;
        Ok((released, uncertain))
    })
}

/// Reenviar incertas: a person decided the uncertain messages of a run go out again.
pub fn resend_uncertain(conn: &mut DbConnection, run: i64, now: i64) -> QueryResult<usize> {
    diesel::update(
        campaign_messages::table
            .filter(campaign_messages::run_id.eq(run))
            .filter(campaign_messages::status.eq(MessageStatus::Uncertain.code())),
    )
    .set((
        campaign_messages::status.eq(MessageStatus::Pending.code()),
        campaign_messages::claimed_by.eq(None::<String>),
        campaign_messages::next_attempt_ms.eq(0),
        campaign_messages::updated_at.eq(now),
    ))
    .execute(conn)
}

/// A run's messages per status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Counts {
    pub pending: i64,
    pub sending: i64,
    /// Taken by the provider (delivered and read ones included).
    pub sent: i64,
    /// Delivered to the handset (read ones included), as the provider reported.
    pub delivered: i64,
    pub read: i64,
    pub failed: i64,
    pub skipped: i64,
    pub uncertain: i64,
}

impl Counts {
    pub fn total(&self) -> i64 {
        self.pending + self.sending + self.sent + self.failed + self.skipped + self.uncertain
    }

    /// Messages whose fate is settled, for the progress bar.
    pub fn settled(&self) -> i64 {
        self.sent + self.failed + self.skipped
    }
}

#[derive(QueryableByName)]
struct StatusCount {
    #[diesel(sql_type = Text)]
    status: String,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

pub fn counts(conn: &mut DbConnection, run: i64) -> QueryResult<Counts> {
    let rows: Vec<StatusCount> = diesel::sql_query(format!(
        "SELECT status, COUNT(*) AS n FROM campaign_messages WHERE run_id = {run} GROUP BY status"
    ))
    .load(conn)?;
    let mut c = Counts::default();
    for r in rows {
        match MessageStatus::from_code(&r.status) {
            Some(MessageStatus::Pending | MessageStatus::Queued) => c.pending += r.n,
            Some(MessageStatus::Sending) => c.sending += r.n,
            Some(MessageStatus::Sent) => c.sent += r.n,
            Some(MessageStatus::Delivered) => {
                c.sent += r.n;
                c.delivered += r.n;
            }
            Some(MessageStatus::Read) => {
                c.sent += r.n;
                c.delivered += r.n;
                c.read += r.n;
            }
            Some(MessageStatus::Failed) => c.failed += r.n,
            Some(MessageStatus::Skipped) => c.skipped += r.n,
            Some(MessageStatus::Uncertain) => c.uncertain += r.n,
            None => {}
        }
    }
    Ok(c)
}

/// Skipped messages of a run per reason.
pub fn skipped_by_reason(conn: &mut DbConnection, run: i64) -> QueryResult<Vec<(SkipReason, i64)>> {
    #[derive(QueryableByName)]
    struct ReasonCount {
        #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
        skip_reason: Option<String>,
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let rows: Vec<ReasonCount> = diesel::sql_query(format!(
        "SELECT skip_reason, COUNT(*) AS n FROM campaign_messages WHERE run_id = {run} \
         AND status = 'skipped' GROUP BY skip_reason"
    ))
    .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|r| Some((SkipReason::from_code(r.skip_reason.as_deref()?)?, r.n)))
        .collect())
}

/// Whether a run still has messages to send or being sent.
pub fn has_unsettled(conn: &mut DbConnection, run: i64) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        campaign_messages::table
            .filter(campaign_messages::run_id.eq(run))
            .filter(campaign_messages::status.eq_any([
                MessageStatus::Pending.code(),
                MessageStatus::Queued.code(),
                MessageStatus::Sending.code(),
            ])),
    ))
    .get_result(conn)
}

/// What a cancelled run's messages that never left are called.
pub const UNSENT_CANCELLED: &str = "Não enviadas (cancelada)";

/// One ledger row as the pages and the CSV show it.
#[derive(Debug, Clone, Queryable)]
pub struct MessageView {
    pub id: i64,
    pub run_id: i64,
    pub contact_id: Option<i64>,
    pub channel_value: String,
    pub subject: String,
    pub body: String,
    pub status: String,
    pub skip_reason: Option<String>,
    pub provider_id: Option<String>,
    pub error: Option<String>,
    pub attempts: i32,
    pub updated_at: i64,
}

impl MessageView {
    pub fn status_label(&self) -> &'static str {
        MessageStatus::from_code(&self.status)
            .map(|s| match s {
                MessageStatus::Queued => MessageStatus::Pending.label(),
                s => s.label(),
            })
            .unwrap_or("—")
    }

    /// The status as a run's page and its CSV name it: in a cancelled run, a message that
    /// never left is [`UNSENT_CANCELLED`], not pending.
    pub fn status_label_in(&self, run_cancelled: bool) -> &'static str {
        match self.status.as_str() {
            "pending" | "queued" if run_cancelled => UNSENT_CANCELLED,
            _ => self.status_label(),
        }
    }

    pub fn reason_label(&self) -> &'static str {
        self.skip_reason
            .as_deref()
            .and_then(SkipReason::from_code)
            .map(SkipReason::label)
            .unwrap_or("")
    }
}

macro_rules! view_columns {
    () => {
        (
            campaign_messages::id,
            campaign_messages::run_id,
            campaign_messages::contact_id,
            campaign_messages::channel_value,
            campaign_messages::subject,
            campaign_messages::body,
            campaign_messages::status,
            campaign_messages::skip_reason,
            campaign_messages::provider_id,
            campaign_messages::error,
            campaign_messages::attempts,
            campaign_messages::updated_at,
        )
    };
}

/// The status codes a page filter stands for ("pending" includes claimed ones).
fn status_codes(filter: MessageStatus) -> Vec<&'static str> {
    match filter {
        MessageStatus::Pending | MessageStatus::Queued => {
            vec![MessageStatus::Pending.code(), MessageStatus::Queued.code()]
        }
        // Delivered and read messages were sent too.
        MessageStatus::Sent => vec![
            MessageStatus::Sent.code(),
            MessageStatus::Delivered.code(),
            MessageStatus::Read.code(),
        ],
        MessageStatus::Delivered => {
            vec![MessageStatus::Delivered.code(), MessageStatus::Read.code()]
        }
        s => vec![s.code()],
    }
}

/// A page of a run's messages, in line order, optionally of one status.
pub fn page(
    conn: &mut DbConnection,
    run: i64,
    status: Option<MessageStatus>,
    offset: i64,
    limit: i64,
) -> QueryResult<(Vec<MessageView>, i64)> {
    let query = || {
        let mut q = campaign_messages::table
            .filter(campaign_messages::run_id.eq(run))
            .into_boxed();
        if let Some(s) = status {
            q = q.filter(campaign_messages::status.eq_any(status_codes(s)));
        }
        q
    };
    let total = query().count().get_result(conn)?;
    let rows = query()
        .order(campaign_messages::line.asc())
        .offset(offset)
        .limit(limit)
        .select(view_columns!())
        .load(conn)?;
    Ok((rows, total))
}

/// Every message of a run, a batch at a time in line order (the CSV export).
pub fn each_batch(
    conn: &mut DbConnection,
    run: i64,
    mut each: impl FnMut(Vec<MessageView>) -> QueryResult<()>,
) -> QueryResult<()> {
    let mut after = i64::MIN;
    loop {
        let rows: Vec<MessageView> = campaign_messages::table
            .filter(campaign_messages::run_id.eq(run))
            .filter(campaign_messages::id.gt(after))
            .order(campaign_messages::id.asc())
            .limit(5_000)
            .select(view_columns!())
            .load(conn)?;
        let Some(last) = rows.last() else {
            return Ok(());
        };
        after = last.id;
        each(rows)?;
    }
}

/// The campaign messages a contact was sent (or was to be sent), newest first.
pub fn for_contact(
    conn: &mut DbConnection,
    contact: i64,
    limit: i64,
) -> QueryResult<Vec<MessageView>> {
    campaign_messages::table
        .filter(campaign_messages::contact_id.eq(contact))
        .order(campaign_messages::id.desc())
        .limit(limit)
        .select(view_columns!())
        .load(conn)
}

/// The message an unsubscribe token names: its address and run.
pub fn find(conn: &mut DbConnection, id: i64) -> QueryResult<Option<MessageView>> {
    campaign_messages::table
        .find(id)
        .select(view_columns!())
        .first(conn)
        .optional()
}

/// Sent, failed and skipped messages of a run per minute (the chart), oldest first:
/// (minute start, sent, failed, skipped).
pub fn timeline(conn: &mut DbConnection, run: i64) -> QueryResult<Vec<(i64, i64, i64, i64)>> {
    #[derive(QueryableByName)]
    struct Bucket {
        #[diesel(sql_type = BigInt)]
        minute: i64,
        #[diesel(sql_type = Text)]
        status: String,
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let rows: Vec<Bucket> = diesel::sql_query(format!(
        "SELECT (updated_at / 60) * 60 AS minute, status, COUNT(*) AS n FROM campaign_messages \
         WHERE run_id = {run} AND status IN ('sent', 'delivered', 'read', 'failed', 'skipped') \
         GROUP BY (updated_at / 60) * 60, status ORDER BY 1"
    ))
    .load(conn)?;
    let mut out: Vec<(i64, i64, i64, i64)> = Vec::new();
    for b in rows {
        if out.last().is_none_or(|l| l.0 != b.minute) {
            out.push((b.minute, 0, 0, 0));
        }
        let last = out.last_mut().expect("pushed");
        match b.status.as_str() {
            "sent" | "delivered" | "read" => last.1 += b.n,
            "failed" => last.2 += b.n,
            _ => last.3 += b.n,
        }
    }
    Ok(out)
}
