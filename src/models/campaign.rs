//! Campaigns and their runs: the only code that writes `campaigns` and `campaign_runs`
//! (their statuses above all). Messages are `campaigns::ledger`'s.

use diesel::prelude::*;

use crate::campaigns::schedule::Schedule;
use crate::campaigns::status::{CampaignStatus, RunStatus};
use crate::campaigns::{CampaignChannel, Target};
use crate::db::{Backend, DbConnection};
use crate::schema::{campaign_runs, campaigns};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = campaigns)]
pub struct CampaignRow {
    pub id: i64,
    pub name: String,
    pub channel: String,
    pub audience_id: Option<i64>,
    pub segment_id: Option<i64>,
    pub subject: String,
    pub body: String,
    pub fallbacks: String,
    pub schedule_kind: String,
    pub schedule_at: Option<i64>,
    pub schedule_time: Option<String>,
    pub schedule_days: Option<String>,
    pub schedule_until: Option<i64>,
    pub next_run_at: Option<i64>,
    pub status: String,
    pub last_error: Option<String>,
    pub created_by: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    pub template_id: Option<i64>,
    pub template_params: String,
    pub options: String,
}

/// A campaign's switches, stored as a comma-separated list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CampaignOptions {
    /// SMS: Remover acentos — the text mapped to GSM-7 before sending.
    pub strip_accents: bool,
    /// WhatsApp: phones known to lack WhatsApp get no message.
    pub exclude_no_whatsapp: bool,
}

impl CampaignOptions {
    pub fn parse(text: &str) -> CampaignOptions {
        let has = |w: &str| text.split(',').any(|x| x.trim() == w);
        CampaignOptions {
            strip_accents: has("strip_accents"),
            exclude_no_whatsapp: has("exclude_no_whatsapp"),
        }
    }

    pub fn text(&self) -> String {
        let mut out = Vec::new();
        if self.strip_accents {
            out.push("strip_accents");
        }
        if self.exclude_no_whatsapp {
            out.push("exclude_no_whatsapp");
        }
        out.join(",")
    }
}

/// Stored template parameters: one `n=text` per line, `{{1}}` first.
pub fn read_params(text: &str) -> Vec<String> {
    let mut out: Vec<(usize, String)> = text
        .lines()
        .filter_map(|l| {
            let (n, v) = l.split_once('=')?;
            Some((n.trim().parse().ok()?, v.to_string()))
        })
        .collect();
    out.sort_by_key(|(n, _)| *n);
    out.into_iter().map(|(_, v)| v).collect()
}

pub fn write_params(params: &[String]) -> String {
    params
        .iter()
        .enumerate()
        .map(|(i, p)| format!("{}={}\n", i + 1, p.replace('\n', " ")))
        .collect()
}

/// A campaign with its columns read into types.
#[derive(Debug, Clone)]
pub struct Campaign {
    pub id: i64,
    pub name: String,
    pub channel: CampaignChannel,
    pub target: Target,
    pub subject: String,
    pub body: String,
    pub fallbacks: String,
    pub schedule: Schedule,
    pub next_run_at: Option<i64>,
    pub status: CampaignStatus,
    pub last_error: Option<String>,
    pub created_by: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    /// A WhatsApp campaign's template.
    pub template_id: Option<i64>,
    /// What each `{{n}}` of the template takes (variables or fixed text).
    pub template_params: Vec<String>,
    pub options: CampaignOptions,
}

impl From<CampaignRow> for Campaign {
    fn from(r: CampaignRow) -> Self {
        Campaign {
            id: r.id,
            channel: CampaignChannel::from_code(&r.channel).unwrap_or(CampaignChannel::Email),
            target: match (r.audience_id, r.segment_id) {
                (Some(a), _) => Target::Audience(a),
                (None, Some(s)) => Target::Segment(s),
                (None, None) => Target::Audience(0),
            },
            schedule: Schedule::from_columns(
                &r.schedule_kind,
                r.schedule_at,
                r.schedule_time.as_deref(),
                r.schedule_days.as_deref(),
                r.schedule_until,
            )
            .unwrap_or(Schedule::Now),
            status: CampaignStatus::from_code(&r.status).unwrap_or(CampaignStatus::Failed),
            name: r.name,
            subject: r.subject,
            body: r.body,
            fallbacks: r.fallbacks,
            next_run_at: r.next_run_at,
            last_error: r.last_error,
            created_by: r.created_by,
            created_at: r.created_at,
            updated_at: r.updated_at,
            template_id: r.template_id,
            template_params: read_params(&r.template_params),
            options: CampaignOptions::parse(&r.options),
        }
    }
}

/// What the composer saved: everything but the status.
#[derive(Debug, Clone)]
pub struct CampaignSpec {
    pub name: String,
    pub channel: CampaignChannel,
    pub target: Target,
    pub subject: String,
    pub body: String,
    pub fallbacks: String,
    pub schedule: Schedule,
    pub template_id: Option<i64>,
    pub template_params: Vec<String>,
    pub options: CampaignOptions,
}

/// The columns the composer decides, written alike by a new campaign and a draft's edit.
#[derive(Insertable, AsChangeset)]
#[diesel(table_name = campaigns)]
#[diesel(treat_none_as_null = true)]
#[diesel(treat_none_as_default_value = false)]
struct SpecColumns<'a> {
    name: &'a str,
    channel: &'static str,
    audience_id: Option<i64>,
    segment_id: Option<i64>,
    subject: &'a str,
    body: &'a str,
    fallbacks: &'a str,
    schedule_kind: &'static str,
    schedule_at: Option<i64>,
    schedule_time: Option<String>,
    schedule_days: Option<String>,
    schedule_until: Option<i64>,
    template_id: Option<i64>,
    template_params: String,
    options: String,
    updated_at: i64,
}

impl<'a> SpecColumns<'a> {
    fn of(spec: &'a CampaignSpec, now: i64) -> Self {
        let (schedule_kind, schedule_at, schedule_time, schedule_days, schedule_until) =
            spec.schedule.columns();
        let (audience_id, segment_id) = spec.target.columns();
        SpecColumns {
            name: &spec.name,
            channel: spec.channel.code(),
            audience_id,
            segment_id,
            subject: &spec.subject,
            body: &spec.body,
            fallbacks: &spec.fallbacks,
            schedule_kind,
            schedule_at,
            schedule_time,
            schedule_days,
            schedule_until,
            template_id: spec.template_id,
            template_params: write_params(&spec.template_params),
            options: spec.options.text(),
            updated_at: now,
        }
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = campaign_runs)]
pub struct RunRow {
    pub id: i64,
    pub campaign_id: i64,
    pub scheduled_for: i64,
    pub status: String,
    pub reason: Option<String>,
    pub recipients: i64,
    pub skipped_no_channel: i64,
    pub skipped_duplicate: i64,
    pub consecutive_failures: i64,
    pub last_error: Option<String>,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
}

impl RunRow {
    pub fn status(&self) -> RunStatus {
        RunStatus::from_code(&self.status).unwrap_or(RunStatus::Failed)
    }
}

/// Why a campaign cannot be deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeleteRefusal {
    /// A message of it reached (or may have reached) a provider: its history stays.
    HasSent,
    /// It is sending or paused: cancel it first.
    Active,
}

/// Ledger statuses of a message handed to a provider (or that may have been).
fn handed_over() -> [&'static str; 6] {
    use crate::campaigns::status::MessageStatus as M;
    [
        M::Sending,
        M::Sent,
        M::Delivered,
        M::Read,
        M::Failed,
        M::Uncertain,
    ]
    .map(M::code)
}

/// A transition a person (or the dispatcher) asked for that the status does not allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotAllowed(pub CampaignStatus);

/// The first moment a schedule runs, seen from `now`: "now" runs at once.
fn first_run(schedule: &Schedule, now: i64) -> Option<i64> {
    match schedule {
        Schedule::Now => Some(now),
        other => other.next_after(now - 1),
    }
}

impl Campaign {
    pub fn find(conn: &mut DbConnection, id: i64) -> QueryResult<Option<Campaign>> {
        campaigns::table
            .find(id)
            .select(CampaignRow::as_select())
            .first(conn)
            .optional()
            .map(|r| r.map(Campaign::from))
    }

    /// Saves a new campaign: a draft, or scheduled for its first run.
    pub fn create(
        conn: &mut DbConnection,
        spec: &CampaignSpec,
        draft: bool,
        by: Option<i64>,
        now: i64,
    ) -> QueryResult<Campaign> {
        let (status, next) = if draft {
            (CampaignStatus::Draft, None)
        } else {
            Self::scheduled_state(&spec.schedule, now)
        };
        let values = (
            SpecColumns::of(spec, now),
            campaigns::next_run_at.eq(next),
            campaigns::status.eq(status.code()),
            campaigns::created_by.eq(by),
            campaigns::created_at.eq(now),
        );
        let id: i64 = crate::on_backend!(
            conn,
            diesel::insert_into(campaigns::table)
                .values(&values)
                .returning(campaigns::id)
        )?;
        Ok(Self::find(conn, id)?.expect("just inserted"))
    }

    fn scheduled_state(schedule: &Schedule, now: i64) -> (CampaignStatus, Option<i64>) {
        match first_run(schedule, now) {
            Some(next) => (CampaignStatus::Scheduled, Some(next)),
            None => (CampaignStatus::Done, None),
        }
    }

    /// Replaces a draft's content (only a draft may change).
    pub fn update_draft(
        conn: &mut DbConnection,
        id: i64,
        spec: &CampaignSpec,
        now: i64,
    ) -> QueryResult<Result<(), NotAllowed>> {
        let n = diesel::update(
            campaigns::table
                .find(id)
                .filter(campaigns::status.eq(CampaignStatus::Draft.code())),
        )
        .set(SpecColumns::of(spec, now))
        .execute(conn)?;
        Ok(if n == 1 {
            Ok(())
        } else {
            Err(NotAllowed(self_status(conn, id)?))
        })
    }

    /// A draft goes out: scheduled for its first run (now, for "send now").
    pub fn schedule(
        conn: &mut DbConnection,
        id: i64,
        now: i64,
    ) -> QueryResult<Result<Campaign, NotAllowed>> {
        crate::db::write_transaction(conn, |conn| {
            let Some(c) = Self::find(conn, id)? else {
                return Err(diesel::result::Error::NotFound);
            };
            if c.status != CampaignStatus::Draft {
                return Ok(Err(NotAllowed(c.status)));
            }
            let (status, next) = Self::scheduled_state(&c.schedule, now);
            set_state(conn, id, status, next, None, now)?;
            Ok(Ok(Self::find(conn, id)?.expect("exists")))
        })
    }

    /// Pausar: the campaign and its sending runs stop; nothing new starts.
    pub fn pause(
        conn: &mut DbConnection,
        id: i64,
        reason: Option<&str>,
        now: i64,
    ) -> QueryResult<Result<(), NotAllowed>> {
        crate::db::write_transaction(conn, |conn| Self::pause_within(conn, id, reason, now))
    }

    fn pause_within(
        conn: &mut DbConnection,
        id: i64,
        reason: Option<&str>,
        now: i64,
    ) -> QueryResult<Result<(), NotAllowed>> {
        let status = self_status(conn, id)?;
        if !matches!(status, CampaignStatus::Scheduled | CampaignStatus::Sending) {
            return Ok(Err(NotAllowed(status)));
        }
        diesel::update(
            campaign_runs::table
                .filter(campaign_runs::campaign_id.eq(id))
                .filter(campaign_runs::status.eq(RunStatus::Sending.code())),
        )
        .set((
            campaign_runs::status.eq(RunStatus::Paused.code()),
            campaign_runs::last_error.eq(reason),
        ))
        .execute(conn)?;
        diesel::update(campaigns::table.find(id))
            .set((
                campaigns::status.eq(CampaignStatus::Paused.code()),
                campaigns::last_error.eq(reason),
                campaigns::updated_at.eq(now),
            ))
            .execute(conn)?;
        Ok(Ok(()))
    }

    /// Retomar: paused runs continue with their pending messages; the schedule goes on.
    pub fn resume(
        conn: &mut DbConnection,
        id: i64,
        now: i64,
    ) -> QueryResult<Result<(), NotAllowed>> {
        crate::db::write_transaction(conn, |conn| {
            let status = self_status(conn, id)?;
            if status != CampaignStatus::Paused {
                return Ok(Err(NotAllowed(status)));
            }
            diesel::update(
                campaign_runs::table
                    .filter(campaign_runs::campaign_id.eq(id))
                    .filter(campaign_runs::status.eq(RunStatus::Paused.code())),
            )
            .set((
                campaign_runs::status.eq(RunStatus::Sending.code()),
                campaign_runs::consecutive_failures.eq(0),
            ))
            .execute(conn)?;
            diesel::update(campaigns::table.find(id))
                .set((
                    campaigns::status.eq(CampaignStatus::Scheduled.code()),
                    campaigns::last_error.eq(None::<String>),
                ))
                .execute(conn)?;
            Self::settle(conn, id, now)?;
            Ok(Ok(()))
        })
    }

    /// Cancelar: nothing more is sent and no run starts again.
    pub fn cancel(
        conn: &mut DbConnection,
        id: i64,
        now: i64,
    ) -> QueryResult<Result<(), NotAllowed>> {
        crate::db::write_transaction(conn, |conn| {
            let status = self_status(conn, id)?;
            if matches!(
                status,
                CampaignStatus::Done | CampaignStatus::Cancelled | CampaignStatus::Failed
            ) {
                return Ok(Err(NotAllowed(status)));
            }
            diesel::update(
                campaign_runs::table
                    .filter(campaign_runs::campaign_id.eq(id))
                    .filter(
                        campaign_runs::status
                            .eq_any([RunStatus::Sending.code(), RunStatus::Paused.code()]),
                    ),
            )
            .set((
                campaign_runs::status.eq(RunStatus::Cancelled.code()),
                campaign_runs::finished_at.eq(now),
            ))
            .execute(conn)?;
            set_state(conn, id, CampaignStatus::Cancelled, None, None, now)?;
            Ok(Ok(()))
        })
    }

    /// After Reenviar incertas: finished runs that have pending messages again send
    /// again (unless the campaign was cancelled, or is paused: then on resume).
    pub fn reopen_runs_with_pending(conn: &mut DbConnection, id: i64, now: i64) -> QueryResult<()> {
        let status = self_status(conn, id)?;
        if matches!(status, CampaignStatus::Cancelled | CampaignStatus::Draft) {
            return Ok(());
        }
        let to = if status == CampaignStatus::Paused {
            RunStatus::Paused
        } else {
            RunStatus::Sending
        };
        for run in Self::runs(conn, id)? {
            if matches!(run.status(), RunStatus::Done | RunStatus::Failed)
                && crate::campaigns::ledger::has_unsettled(conn, run.id)?
            {
                diesel::update(campaign_runs::table.find(run.id))
                    .set((
                        campaign_runs::status.eq(to.code()),
                        campaign_runs::finished_at.eq(None::<i64>),
                    ))
                    .execute(conn)?;
            }
        }
        if status != CampaignStatus::Paused {
            diesel::update(campaigns::table.find(id))
                .set(campaigns::status.eq(CampaignStatus::Sending.code()))
                .execute(conn)?;
            Self::settle(conn, id, now)?;
        }
        Ok(())
    }

    /// Campaigns whose next run is due at `now` (scheduled, or sending a previous run).
    pub fn due(conn: &mut DbConnection, now: i64) -> QueryResult<Vec<i64>> {
        campaigns::table
            .filter(campaigns::next_run_at.le(now))
            .filter(campaigns::status.eq_any([
                CampaignStatus::Scheduled.code(),
                CampaignStatus::Sending.code(),
            ]))
            .order(campaigns::next_run_at.asc())
            .select(campaigns::id)
            .load(conn)
    }

    /// Locks a due campaign for the server that will start its run: on PostgreSQL a
    /// row lock other servers skip; SQLite's write transaction is already exclusive.
    /// `None` when another server has it or it is no longer due.
    pub fn lock_due(conn: &mut DbConnection, id: i64, now: i64) -> QueryResult<Option<Campaign>> {
        if conn.backend() == Backend::Postgres {
            #[derive(QueryableByName)]
            struct Locked {
                #[diesel(sql_type = diesel::sql_types::BigInt)]
                #[allow(dead_code)]
                id: i64,
            }
            let locked = diesel::sql_query(format!(
                "SELECT id FROM campaigns WHERE id = {id} FOR UPDATE SKIP LOCKED"
            ))
            .get_result::<Locked>(conn)
            .optional()?;
            if locked.is_none() {
                return Ok(None);
            }
        }
        Ok(Self::find(conn, id)?.filter(|c| {
            c.next_run_at.is_some_and(|t| t <= now)
                && matches!(
                    c.status,
                    CampaignStatus::Scheduled | CampaignStatus::Sending
                )
        }))
    }

    /// Records a run that starts now (its ledger is written next, in the same
    /// transaction) and moves the schedule on.
    pub fn begin_run(
        conn: &mut DbConnection,
        campaign: &Campaign,
        scheduled_for: i64,
        now: i64,
    ) -> QueryResult<i64> {
        let id: i64 = crate::on_backend!(
            conn,
            diesel::insert_into(campaign_runs::table)
                .values((
                    campaign_runs::campaign_id.eq(campaign.id),
                    campaign_runs::scheduled_for.eq(scheduled_for),
                    campaign_runs::status.eq(RunStatus::Sending.code()),
                    campaign_runs::started_at.eq(now),
                ))
                .returning(campaign_runs::id)
        )?;
        let next = campaign.schedule.next_after(now.max(scheduled_for));
        set_state(conn, campaign.id, CampaignStatus::Sending, next, None, now)?;
        Ok(id)
    }

    /// The run's recipient counts, once its ledger is written.
    pub fn record_run_counts(
        conn: &mut DbConnection,
        run: i64,
        recipients: i64,
        no_channel: i64,
        duplicate: i64,
    ) -> QueryResult<()> {
        diesel::update(campaign_runs::table.find(run))
            .set((
                campaign_runs::recipients.eq(recipients),
                campaign_runs::skipped_no_channel.eq(no_channel),
                campaign_runs::skipped_duplicate.eq(duplicate),
            ))
            .execute(conn)
            .map(drop)
    }

    /// An occurrence whose time passed while no server was up, beyond the grace period:
    /// recorded as Perdida with the reason, never sent late.
    pub fn record_missed(
        conn: &mut DbConnection,
        campaign: &Campaign,
        scheduled_for: i64,
        reason: &str,
        now: i64,
    ) -> QueryResult<()> {
        crate::execute_on_backend!(
            conn,
            diesel::insert_into(campaign_runs::table).values((
                campaign_runs::campaign_id.eq(campaign.id),
                campaign_runs::scheduled_for.eq(scheduled_for),
                campaign_runs::status.eq(RunStatus::Missed.code()),
                campaign_runs::reason.eq(reason),
                campaign_runs::finished_at.eq(now),
            ))
        )?;
        let next = campaign.schedule.next_after(now);
        let sending = has_active_runs(conn, campaign.id)?;
        let (status, error) = match (next, sending) {
            (_, true) => (CampaignStatus::Sending, None),
            (Some(_), false) => (CampaignStatus::Scheduled, None),
            // A one-off campaign that never went out failed; a recurring one that simply
            // reached its end is done.
            (None, false) if campaign.schedule.is_recurring() => (CampaignStatus::Done, None),
            (None, false) => (CampaignStatus::Failed, Some(reason)),
        };
        set_state(conn, campaign.id, status, next, error, now)
    }

    /// A run that could not start (its audience gone, say).
    pub fn fail_run(conn: &mut DbConnection, run: i64, reason: &str, now: i64) -> QueryResult<()> {
        diesel::update(campaign_runs::table.find(run))
            .set((
                campaign_runs::status.eq(RunStatus::Failed.code()),
                campaign_runs::reason.eq(reason),
                campaign_runs::finished_at.eq(now),
            ))
            .execute(conn)?;
        let campaign = run_campaign(conn, run)?;
        diesel::update(campaigns::table.find(campaign))
            .set(campaigns::last_error.eq(reason))
            .execute(conn)?;
        Self::settle(conn, campaign, now)
    }

    /// Counts a failed attempt on a run; at `limit` consecutive ones the campaign pauses
    /// with the last error, unless the run has nothing left to send. Returns whether it
    /// paused.
    pub fn record_failure(
        conn: &mut DbConnection,
        run: i64,
        error: &str,
        limit: i64,
        now: i64,
    ) -> QueryResult<bool> {
        crate::db::write_transaction(conn, |conn| {
            diesel::update(campaign_runs::table.find(run))
                .set((
                    campaign_runs::consecutive_failures.eq(campaign_runs::consecutive_failures + 1),
                    campaign_runs::last_error.eq(error),
                ))
                .execute(conn)?;
            let (failures, status): (i64, String) = campaign_runs::table
                .find(run)
                .select((campaign_runs::consecutive_failures, campaign_runs::status))
                .first(conn)?;
            // A run with nothing left to send has nothing to pause: it finishes.
            if failures >= limit
                && status == RunStatus::Sending.code()
                && crate::campaigns::ledger::has_unsettled(conn, run)?
            {
                let campaign = run_campaign(conn, run)?;
                let reason = crate::messages::auto_paused(failures, error);
                Ok(Self::pause_within(conn, campaign, Some(&reason), now)?.is_ok())
            } else {
                Ok(false)
            }
        })
    }

    /// A message went out: the run's failure streak ends.
    pub fn record_success(conn: &mut DbConnection, run: i64) -> QueryResult<()> {
        diesel::update(
            campaign_runs::table
                .find(run)
                .filter(campaign_runs::consecutive_failures.ne(0)),
        )
        .set(campaign_runs::consecutive_failures.eq(0))
        .execute(conn)
        .map(drop)
    }

    /// A sending run with nothing left to send is done; then the campaign's status follows.
    pub fn finish_run(conn: &mut DbConnection, run: i64, now: i64) -> QueryResult<()> {
        let n = diesel::update(
            campaign_runs::table
                .find(run)
                .filter(campaign_runs::status.eq(RunStatus::Sending.code())),
        )
        .set((
            campaign_runs::status.eq(RunStatus::Done.code()),
            campaign_runs::finished_at.eq(now),
        ))
        .execute(conn)?;
        if n == 1 {
            let campaign = run_campaign(conn, run)?;
            Self::settle(conn, campaign, now)?;
        }
        Ok(())
    }

    /// Runs that are sending.
    pub fn sending_runs(conn: &mut DbConnection) -> QueryResult<Vec<i64>> {
        campaign_runs::table
            .filter(campaign_runs::status.eq(RunStatus::Sending.code()))
            .select(campaign_runs::id)
            .load(conn)
    }

    /// Whether any run of a campaign on this channel is sending.
    pub fn has_sending_runs(conn: &mut DbConnection, channel: &str) -> QueryResult<bool> {
        diesel::select(diesel::dsl::exists(
            campaign_runs::table
                .inner_join(campaigns::table)
                .filter(campaign_runs::status.eq(RunStatus::Sending.code()))
                .filter(campaigns::channel.eq(channel)),
        ))
        .get_result(conn)
    }

    /// The WhatsApp template (name, language) each of these runs sends.
    pub fn templates_of_runs(
        conn: &mut DbConnection,
        runs: &[i64],
    ) -> QueryResult<Vec<(i64, String, String)>> {
        use crate::schema::whatsapp_templates;
        campaign_runs::table
            .inner_join(campaigns::table)
            .inner_join(
                whatsapp_templates::table
                    .on(campaigns::template_id.eq(whatsapp_templates::id.nullable())),
            )
            .filter(campaign_runs::id.eq_any(runs))
            .select((
                campaign_runs::id,
                whatsapp_templates::name,
                whatsapp_templates::language,
            ))
            .load(conn)
    }

    /// After a run ends or resumes: Enviando while a run sends, Agendada while another
    /// occurrence is ahead, otherwise Concluída. Paused, cancelled, failed and draft
    /// campaigns keep their status.
    fn settle(conn: &mut DbConnection, id: i64, now: i64) -> QueryResult<()> {
        let Some(c) = Self::find(conn, id)? else {
            return Ok(());
        };
        if !matches!(
            c.status,
            CampaignStatus::Scheduled | CampaignStatus::Sending
        ) {
            return Ok(());
        }
        let status = if has_active_runs(conn, id)? {
            CampaignStatus::Sending
        } else if c.next_run_at.is_some() {
            CampaignStatus::Scheduled
        } else {
            CampaignStatus::Done
        };
        diesel::update(campaigns::table.find(id))
            .set((
                campaigns::status.eq(status.code()),
                campaigns::updated_at.eq(now),
            ))
            .execute(conn)
            .map(drop)
    }

    pub fn runs(conn: &mut DbConnection, id: i64) -> QueryResult<Vec<RunRow>> {
        campaign_runs::table
            .filter(campaign_runs::campaign_id.eq(id))
            .order(campaign_runs::id.desc())
            .select(RunRow::as_select())
            .load(conn)
    }

    pub fn run(conn: &mut DbConnection, run: i64) -> QueryResult<Option<RunRow>> {
        campaign_runs::table
            .find(run)
            .select(RunRow::as_select())
            .first(conn)
            .optional()
    }

    /// A page of campaigns, newest first, whose name contains `search`.
    pub fn page(
        conn: &mut DbConnection,
        search: Option<&str>,
        offset: i64,
        limit: i64,
    ) -> QueryResult<(Vec<Campaign>, i64)> {
        let filter = |q: Option<&str>| {
            let mut query = campaigns::table.into_boxed();
            if let Some(q) = q {
                let pattern = crate::models::search::like_pattern(&q.to_lowercase());
                query = query.filter(lower(campaigns::name).like(pattern).escape('\\'));
            }
            query
        };
        let total = filter(search).count().get_result(conn)?;
        let rows = filter(search)
            .order(campaigns::id.desc())
            .offset(offset)
            .limit(limit)
            .select(CampaignRow::as_select())
            .load(conn)?;
        Ok((rows.into_iter().map(Campaign::from).collect(), total))
    }

    /// Whether any of its messages was handed to a provider.
    pub fn has_sent(conn: &mut DbConnection, id: i64) -> QueryResult<bool> {
        use crate::schema::campaign_messages;
        diesel::select(diesel::dsl::exists(
            campaign_messages::table
                .inner_join(campaign_runs::table)
                .filter(campaign_runs::campaign_id.eq(id))
                .filter(campaign_messages::status.eq_any(handed_over())),
        ))
        .get_result(conn)
    }

    /// Whether it sent or will send: scheduled, sending, paused, or any message handed
    /// over. Such a campaign keeps its audience.
    pub fn sends_or_sent(&self, conn: &mut DbConnection) -> QueryResult<bool> {
        Ok(matches!(
            self.status,
            CampaignStatus::Scheduled | CampaignStatus::Sending | CampaignStatus::Paused
        ) || Self::has_sent(conn, self.id)?)
    }

    /// Why it cannot be deleted, if it cannot.
    pub fn delete_refusal(&self, conn: &mut DbConnection) -> QueryResult<Option<DeleteRefusal>> {
        if Self::has_sent(conn, self.id)? {
            return Ok(Some(DeleteRefusal::HasSent));
        }
        Ok(matches!(
            self.status,
            CampaignStatus::Sending | CampaignStatus::Paused
        )
        .then_some(DeleteRefusal::Active))
    }

    /// Deletes a campaign that never sent anything, with its runs and their messages
    /// (all skipped or never handed over: there is no history to keep).
    pub fn delete_unsent(
        conn: &mut DbConnection,
        id: i64,
    ) -> QueryResult<Option<Result<Campaign, DeleteRefusal>>> {
        use crate::schema::campaign_messages;
        crate::db::write_transaction(conn, |conn| {
            let Some(campaign) = Self::find(conn, id)? else {
                return Ok(None);
            };
            if let Some(refusal) = campaign.delete_refusal(conn)? {
                return Ok(Some(Err(refusal)));
            }
            let runs = campaign_runs::table
                .filter(campaign_runs::campaign_id.eq(id))
                .select(campaign_runs::id);
            diesel::delete(campaign_messages::table.filter(campaign_messages::run_id.eq_any(runs)))
                .execute(conn)?;
            diesel::delete(campaign_runs::table.filter(campaign_runs::campaign_id.eq(id)))
                .execute(conn)?;
            diesel::delete(campaigns::table.find(id)).execute(conn)?;
            Ok(Some(Ok(campaign)))
        })
    }

    /// Campaigns aimed at an audience (its page links to them).
    pub fn for_audience(conn: &mut DbConnection, audience: i64) -> QueryResult<Vec<Campaign>> {
        campaigns::table
            .filter(campaigns::audience_id.eq(audience))
            .order(campaigns::id.desc())
            .select(CampaignRow::as_select())
            .load(conn)
            .map(|rows| rows.into_iter().map(Campaign::from).collect())
    }
}

diesel::define_sql_function! {
    /// SQL `lower`, so a name search ignores case on both databases.
    fn lower(text: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

fn self_status(conn: &mut DbConnection, id: i64) -> QueryResult<CampaignStatus> {
    let code: String = campaigns::table
        .find(id)
        .select(campaigns::status)
        .first(conn)?;
    Ok(CampaignStatus::from_code(&code).unwrap_or(CampaignStatus::Failed))
}

fn set_state(
    conn: &mut DbConnection,
    id: i64,
    status: CampaignStatus,
    next: Option<i64>,
    error: Option<&str>,
    now: i64,
) -> QueryResult<()> {
    diesel::update(campaigns::table.find(id))
        .set((
            campaigns::status.eq(status.code()),
            campaigns::next_run_at.eq(next),
            campaigns::last_error.eq(error),
            campaigns::updated_at.eq(now),
        ))
        .execute(conn)
        .map(drop)
}

fn has_active_runs(conn: &mut DbConnection, campaign: i64) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        campaign_runs::table
            .filter(campaign_runs::campaign_id.eq(campaign))
            .filter(campaign_runs::status.eq(RunStatus::Sending.code())),
    ))
    .get_result(conn)
}

fn run_campaign(conn: &mut DbConnection, run: i64) -> QueryResult<i64> {
    campaign_runs::table
        .find(run)
        .select(campaign_runs::campaign_id)
        .first(conn)
}
