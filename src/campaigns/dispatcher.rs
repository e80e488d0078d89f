//! The dispatcher every app server runs: it starts due runs (the schedule), hands each
//! pending message to its provider at most once, and records what happened. Servers
//! share the work through the database alone — claims skip rows another server holds,
//! the rate limit is one slot counter per channel — and each keeps a heartbeat so that
//! what a dead server left behind is recovered: claimed messages go back to pending,
//! messages it was handing over become uncertain.

use std::sync::Arc;
use std::time::Duration;

use diesel::prelude::*;
use futures_util::StreamExt;

use super::ledger::{self, Claimed};
use super::{CampaignChannel, Started};
use crate::channels::{Outgoing, Provider};
use crate::config::Config;
use crate::db::{Backend, DbConnection, Pool};
use crate::models::campaign::Campaign;
use crate::models::channel_settings::{CampaignSettings, EmailSettings};
use crate::models::provider_settings::{SmsSettings, WhatsAppSettings};
use crate::schema::dispatchers;
use crate::time;

/// Messages handed to the provider together (one commit before, one after).
const GROUP: usize = 4;

/// How often the loop looks for work when idle.
const TICK: Duration = Duration::from_millis(250);
/// How often a server says it is alive.
const HEARTBEAT_MS: i64 = 1_000;
/// A server silent this long is taken for dead (its heartbeat runs apart from sending,
/// so only a stopped process or a database it cannot reach goes this quiet).
pub const STALE_MS: i64 = 15_000;

/// The running dispatcher; dropping the last handle stops it.
pub struct Handle {
    pub server: String,
    stop: Arc<std::sync::atomic::AtomicBool>,
}

impl Drop for Handle {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

/// Starts the dispatcher on its own thread and runtime.
pub fn start(pool: Pool, config: Config) -> Handle {
    let id = server_id();
    let me = id.clone();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stopped = stop.clone();
    std::thread::Builder::new()
        .name("dispatcher".into())
        .spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .thread_name("dispatcher-io")
                .enable_all()
                .build()
                .expect("the dispatcher's runtime starts");
            runtime.block_on(Dispatcher::new(pool, config, me).run(stopped));
        })
        .expect("the dispatcher thread starts");
    Handle { server: id, stop }
}

fn server_id() -> String {
    let mut bytes = [0u8; 8];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A provider built for the settings it was built from (rebuilt when they change).
#[derive(Clone, PartialEq, Eq)]
enum ProviderKey {
    Email(EmailSettings, u32),
    WhatsApp(WhatsAppSettings),
    Sms(SmsSettings),
}

/// How one channel sends now: its provider (or why there is none), its rate across every
/// server and how many messages this server hands over at once.
struct ChannelPlan {
    provider: Result<Arc<Provider>, String>,
    per_second: i64,
    concurrency: usize,
}

/// HTTP providers take many requests at once; the rate limit is what holds them back.
const HTTP_CONCURRENCY: usize = 16;

struct Dispatcher {
    pool: Pool,
    config: Config,
    id: Arc<str>,
    providers: std::collections::HashMap<&'static str, (ProviderKey, Arc<Provider>)>,
}

/// Runs blocking database work off the async threads.
async fn db<T: Send + 'static>(
    pool: &Pool,
    work: impl FnOnce(&mut DbConnection) -> QueryResult<T> + Send + 'static,
) -> Result<T, String> {
    let pool = pool.clone();
    tokio::task::spawn_blocking(move || {
        let mut conn = pool.get().map_err(|e| e.to_string())?;
        work(&mut conn).map_err(|e| e.to_string())
    })
    .await
    .map_err(|e| e.to_string())?
}

impl Dispatcher {
    fn new(pool: Pool, config: Config, id: String) -> Dispatcher {
        Dispatcher {
            pool,
            config,
            id: id.into(),
            providers: Default::default(),
        }
    }

    async fn run(mut self, stop: Arc<std::sync::atomic::AtomicBool>) {
        // The heartbeat has its own task: a long batch must not make this server look dead.
        let beat = tokio::spawn(heartbeat(self.pool.clone(), self.id.clone(), stop.clone()));
        while !stop.load(std::sync::atomic::Ordering::SeqCst) {
            let busy = match self.step().await {
                Ok(busy) => busy,
                Err(e) => {
                    tracing::warn!(error = %e, "campaign dispatcher");
                    false
                }
            };
            if !busy {
                tokio::time::sleep(TICK).await;
            }
        }
        let _ = beat.await;
    }

    /// One round: due runs, finished runs, one batch per channel. Returns whether there
    /// was something to send (then the next round starts at once).
    async fn step(&mut self) -> Result<bool, String> {
        let settings = db(&self.pool, CampaignSettings::load).await?;
        let now = self.config.clock.now();
        let grace = settings.grace_minutes * 60;
        for campaign in db(&self.pool, move |conn| Campaign::due(conn, now)).await? {
            let started = db(&self.pool, move |conn| {
                super::start_due(conn, campaign, now, grace)
            })
            .await;
            match started {
                Ok(Started::Run(run)) => tracing::info!(campaign, run, "campaign run started"),
                Ok(Started::Missed) => tracing::warn!(campaign, "campaign run missed"),
                Ok(Started::NotDue) => {}
                Err(e) => tracing::error!(campaign, error = %e, "campaign run could not start"),
            }
        }
        db(&self.pool, |conn| {
            let now = time::now();
            for run in Campaign::sending_runs(conn)? {
                if !ledger::has_unsettled(conn, run)? {
                    Campaign::finish_run(conn, run, now)?;
                }
            }
            Ok(())
        })
        .await?;
        let mut busy = false;
        for channel in [
            CampaignChannel::Email,
            CampaignChannel::Whatsapp,
            CampaignChannel::Sms,
        ] {
            busy |= self.send_batch(channel, settings).await?;
        }
        Ok(busy)
    }

    /// The channel's provider for the current settings, rebuilt when they change.
    async fn plan(
        &mut self,
        channel: CampaignChannel,
        settings: CampaignSettings,
    ) -> Result<ChannelPlan, String> {
        let config = self.config.clone();
        let connections = settings.email_connections.clamp(1, 64) as u32;
        let (key, per_second, concurrency) = db(&self.pool, move |conn| {
            Ok(match channel {
                CampaignChannel::Email => {
                    let s = EmailSettings::load(conn, &config)?;
                    let configured = s.is_configured();
                    (
                        configured.then_some(ProviderKey::Email(s, connections)),
                        settings.email_per_second,
                        connections as usize,
                    )
                }
                CampaignChannel::Whatsapp => {
                    let s = WhatsAppSettings::load(conn, &config.whatsapp)?;
                    let per_second = s.per_second;
                    (
                        s.is_configured().then_some(ProviderKey::WhatsApp(s)),
                        per_second,
                        HTTP_CONCURRENCY,
                    )
                }
                CampaignChannel::Sms => {
                    let s = SmsSettings::load(conn, &config.sms)?;
                    let per_second = s.per_second;
                    (
                        s.is_configured().then_some(ProviderKey::Sms(s)),
                        per_second,
                        HTTP_CONCURRENCY,
                    )
                }
            })
        })
        .await?;
        let per_second = per_second.max(1);
        let Some(key) = key else {
            let reason = match channel {
                CampaignChannel::Email => crate::messages::campaign::SMTP_NOT_CONFIGURED,
                CampaignChannel::Whatsapp => crate::messages::whatsapp::NOT_CONFIGURED,
                CampaignChannel::Sms => crate::messages::sms::NOT_CONFIGURED,
            };
            return Ok(ChannelPlan {
                provider: Err(reason.to_string()),
                per_second,
                concurrency,
            });
        };
        if let Some((current, provider)) = self.providers.get(channel.code())
            && *current == key
        {
            return Ok(ChannelPlan {
                provider: Ok(provider.clone()),
                per_second,
                concurrency,
            });
        }
        let built = match &key {
            // The SMTP client resolves the host itself: checked here, before it connects.
            ProviderKey::Email(s, n) => {
                match crate::channels::net::check_smtp_host_to_send(&s.host, s.port).await {
                    Some(refused) => Err(refused),
                    None => crate::channels::email::EmailChannel::new(s, *n).map(Provider::Email),
                }
            }
            ProviderKey::WhatsApp(s) => {
                crate::channels::whatsapp::WhatsAppChannel::new(s, self.config.net_policy())
                    .map(Provider::WhatsApp)
            }
            ProviderKey::Sms(s) => crate::channels::sms::SmsChannel::new(
                s,
                &self.config.public_url,
                self.config.net_policy(),
            )
            .map(Provider::Sms),
        };
        let provider = built.map(Arc::new);
        if let Ok(p) = &provider {
            self.providers.insert(channel.code(), (key, p.clone()));
        }
        Ok(ChannelPlan {
            provider,
            per_second,
            concurrency,
        })
    }

    async fn send_batch(
        &mut self,
        channel: CampaignChannel,
        settings: CampaignSettings,
    ) -> Result<bool, String> {
        let has_work = db(&self.pool, move |conn| {
            Campaign::has_sending_runs(conn, channel.code())
        })
        .await?;
        if !has_work {
            return Ok(false);
        }
        let plan = self.plan(channel, settings).await?;
        let rate = plan.per_second;
        let concurrency = plan.concurrency.max(1);
        // Short rounds (at most a second's worth at the rate, a few dozen per connection),
        // so new runs and pauses are seen soon.
        let batch = rate.min(concurrency as i64 * 25).clamp(1, 500);
        let id = self.id.clone();
        let claimed = db(&self.pool, move |conn| {
            ledger::claim(
                conn,
                &id,
                channel.code(),
                channel.record_type().as_str(),
                batch,
                time::now_ms(),
            )
        })
        .await?;
        if claimed.is_empty() {
            return Ok(false);
        }
        let provider = match plan.provider {
            Ok(p) => p,
            Err(reason) => {
                // Not configured (or configured wrongly): give the messages back and
                // let the runs wait, saying why.
                let id = self.id.clone();
                let ids: Vec<i64> = claimed.iter().map(|c| c.id).collect();
                let runs: Vec<i64> = claimed.iter().map(|c| c.run_id).collect();
                let limit = settings.pause_after_failures;
                db(&self.pool, move |conn| {
                    ledger::release(conn, &id, &ids, time::now())?;
                    let mut seen = std::collections::HashSet::new();
                    for run in runs.into_iter().filter(|r| seen.insert(*r)) {
                        Campaign::record_failure(conn, run, &reason, limit.min(1), time::now())?;
                    }
                    Ok(())
                })
                .await?;
                return Ok(false);
            }
        };
        let templates = if channel == CampaignChannel::Whatsapp {
            let mut runs: Vec<i64> = claimed.iter().map(|c| c.run_id).collect();
            runs.sort_unstable();
            runs.dedup();
            db(&self.pool, move |conn| {
                Campaign::templates_of_runs(conn, &runs)
            })
            .await?
            .into_iter()
            .map(|(run, name, language)| (run, (name, language)))
            .collect()
        } else {
            std::collections::HashMap::new()
        };
        let n = claimed.len() as i64;
        let start = db(&self.pool, move |conn| {
            reserve_slots(conn, channel.code(), n, rate)
        })
        .await?;
        let interval = 1000.0 / rate as f64;
        // Only e-mail carries a signed opt-out link.
        let secret: Arc<[u8]> = if channel == CampaignChannel::Email {
            db(&self.pool, |conn| {
                Ok(super::unsubscribe::link_keys(conn)?.sign)
            })
            .await?
            .into()
        } else {
            Arc::from(Vec::new())
        };
        let ctx = SendCtx {
            pool: self.pool.clone(),
            server: self.id.clone(),
            channel,
            provider,
            settings,
            retry_base_ms: self.config.retry_base_ms as i64,
            public_url: self.config.public_url.clone(),
            secret,
            templates,
        };
        // Groups of a few messages, each marked sending together right before the
        // provider gets them, sent in parallel, their results recorded together; several
        // groups in flight at once so one group's commits overlap another's provider
        // exchanges. Never more than `concurrency` messages of this server are sending.
        let group_size = GROUP.min(concurrency);
        let lanes = (concurrency / group_size).max(1);
        let groups: Vec<(i64, Vec<Claimed>)> = claimed
            .chunks(group_size)
            .enumerate()
            .map(|(i, g)| {
                (
                    start + (i as f64 * group_size as f64 * interval) as i64,
                    g.to_vec(),
                )
            })
            .collect();
        let ctx = &ctx;
        let failures = std::sync::Mutex::new(Vec::new());
        futures_util::stream::iter(groups)
            .for_each_concurrent(lanes, |(slot, group)| {
                let failures = &failures;
                async move {
                    let wait = slot - time::now_ms();
                    if wait > 0 {
                        tokio::time::sleep(Duration::from_millis(wait as u64)).await;
                    }
                    if let Err(e) = ctx.send_group(group).await {
                        failures.lock().unwrap_or_else(|p| p.into_inner()).push(e);
                    }
                }
            })
            .await;
        if let Some(e) = failures.into_inner().unwrap_or_default().pop() {
            return Err(e);
        }
        Ok(true)
    }
}

struct SendCtx {
    pool: Pool,
    server: Arc<str>,
    channel: CampaignChannel,
    provider: Arc<Provider>,
    settings: CampaignSettings,
    retry_base_ms: i64,
    public_url: String,
    secret: Arc<[u8]>,
    /// WhatsApp: each run's template (name, language).
    templates: std::collections::HashMap<i64, (String, String)>,
}

impl SendCtx {
    async fn send_group(&self, group: Vec<Claimed>) -> Result<(), String> {
        let server = self.server.clone();
        // What an elimination anonymised goes to no one, whatever the ledger said.
        let (erased, group): (Vec<Claimed>, Vec<Claimed>) = group
            .into_iter()
            .partition(|m| crate::domain::is_erased(&m.channel_value));
        let erased: Vec<i64> = erased.iter().map(|m| m.id).collect();
        let ids: Vec<i64> = group.iter().map(|m| m.id).collect();
        let allowed = db(&self.pool, move |conn| {
            if !erased.is_empty() {
                ledger::skip_erased(conn, &erased, time::now())?;
            }
            ledger::begin_send_many(conn, &ids, &server, time::now())
        })
        .await?;
        let going: Vec<Claimed> = group
            .into_iter()
            .filter(|m| allowed.contains(&m.id))
            .collect();
        if going.is_empty() {
            return Ok(());
        }
        let sends = going.iter().map(|m| self.send_one(m));
        let results = futures_util::future::join_all(sends).await;
        let settings = self.settings;
        let channel = self.channel;
        let provider = self.provider.code();
        let base = self.retry_base_ms.max(1);
        // Meta refusing a marketing template because the user stopped them (131050)
        // teaches that about the phone, as the same code in a status callback does.
        let marketing_stopped: Vec<String> = going
            .iter()
            .zip(&results)
            .filter(|(_, r)| {
                channel == CampaignChannel::Whatsapp
                    && matches!(r, Err(e) if e.code == crate::channels::whatsapp::MARKETING_STOPPED_CODE)
            })
            .map(|(m, _)| m.channel_value.clone())
            .collect();
        let outcomes: Vec<(i64, i64, i64, Result<String, crate::channels::SendError>)> = going
            .iter()
            .zip(results)
            .map(|(m, r)| (m.id, m.run_id, i64::from(m.attempts) + 1, r))
            .collect();
        db(&self.pool, move |conn| {
            crate::db::write_transaction(conn, |conn| {
                let now = time::now();
                for phone in &marketing_stopped {
                    super::replies::marketing_preference(conn, phone, false, now)?;
                }
                // Every outcome is in the ledger before the streak is counted, so a run
                // whose last messages just settled is seen with nothing left to send.
                let mut streak = Vec::with_capacity(outcomes.len());
                for (id, run, attempts, result) in outcomes {
                    match result {
                        Ok(provider_id) => {
                            ledger::sent(conn, id, provider, &provider_id, now)?;
                            if channel != CampaignChannel::Email {
                                super::replies::apply_unmatched(conn, provider, &provider_id, now)?;
                            }
                            streak.push((run, None));
                        }
                        Err(e) => {
                            let retry =
                                (e.temporary && attempts < settings.max_attempts).then(|| {
                                    let backoff =
                                        base.saturating_mul(1 << (attempts - 1).clamp(0, 16));
                                    time::now_ms() + backoff.min(3_600_000)
                                });
                            ledger::failed(conn, id, &e.describe(), retry, now)?;
                            // "Slow down" is the provider pacing us, and a refusal of one
                            // recipient (stopped marketing, no WhatsApp, invalid number)
                            // is about that person: neither is a failing provider.
                            let pacing = e.is_throttle() && retry.is_some();
                            if !pacing && !e.is_recipient_refusal() {
                                // The run's page says it in pt-BR; the provider's
                                // own words stay on the message row and in the log.
                                streak.push((
                                    run,
                                    Some(crate::messages::campaign::send_failure(&e.code)),
                                ));
                            }
                        }
                    }
                }
                for (run, failure) in streak {
                    match failure {
                        None => Campaign::record_success(conn, run)?,
                        Some(reason) => {
                            Campaign::record_failure(
                                conn,
                                run,
                                &reason,
                                settings.pause_after_failures,
                                now,
                            )?;
                        }
                    }
                }
                Ok(())
            })
        })
        .await
    }

    /// Hands one message to the provider: an e-mail with its opt-out link, a WhatsApp
    /// template with its parameters, an SMS as rendered.
    async fn send_one(&self, message: &Claimed) -> Result<String, crate::channels::SendError> {
        match self.channel {
            CampaignChannel::Email => {
                let url = format!(
                    "{}/descadastrar/{}",
                    self.public_url.trim_end_matches('/'),
                    super::unsubscribe::token(&self.secret, message.id)
                );
                let body = format!(
                    "{}{}",
                    message.body,
                    crate::messages::campaign::unsubscribe_footer(&url)
                );
                self.provider
                    .send(&Outgoing {
                        to: &message.channel_value,
                        subject: &message.subject,
                        body: &body,
                        unsubscribe_url: Some(&url),
                        template: None,
                        parameters: &[],
                    })
                    .await
            }
            CampaignChannel::Whatsapp => {
                let Some((name, language)) = self.templates.get(&message.run_id) else {
                    return Err(crate::channels::SendError {
                        temporary: false,
                        code: "template".into(),
                        message: crate::messages::whatsapp::TEMPLATE_NOT_FOUND.into(),
                    });
                };
                let parameters = message.parameters();
                self.provider
                    .send(&Outgoing {
                        to: &message.channel_value,
                        subject: "",
                        body: &message.body,
                        unsubscribe_url: None,
                        template: Some((name, language)),
                        parameters: &parameters,
                    })
                    .await
            }
            CampaignChannel::Sms => {
                self.provider
                    .send(&Outgoing {
                        to: &message.channel_value,
                        subject: "",
                        body: &message.body,
                        unsubscribe_url: None,
                        template: None,
                        parameters: &[],
                    })
                    .await
            }
        }
    }
}

/// Says this server is alive every [`HEARTBEAT_MS`], and recovers dead servers' rows.
async fn heartbeat(pool: Pool, id: Arc<str>, stop: Arc<std::sync::atomic::AtomicBool>) {
    while !stop.load(std::sync::atomic::Ordering::SeqCst) {
        let me = id.clone();
        let now_ms = time::now_ms();
        if let Err(e) = db(&pool, move |conn| heartbeat_and_recover(conn, &me, now_ms)).await {
            tracing::warn!(error = %e, "dispatcher heartbeat");
        }
        tokio::time::sleep(Duration::from_millis(HEARTBEAT_MS as u64)).await;
    }
}

/// Keeps this server's heartbeat fresh and recovers what servers silent for
/// [`STALE_MS`] left behind.
fn heartbeat_and_recover(conn: &mut DbConnection, me: &str, now_ms: i64) -> QueryResult<()> {
    let updated = diesel::update(dispatchers::table.find(me))
        .set(dispatchers::seen_ms.eq(now_ms))
        .execute(conn)?;
    if updated == 0 {
        crate::insert_ignoring_duplicates!(
            conn,
            dispatchers::table,
            (dispatchers::id.eq(me), dispatchers::seen_ms.eq(now_ms)),
            dispatchers::id
        )?;
    }
    let dead: Vec<String> = dispatchers::table
        .filter(dispatchers::seen_ms.lt(now_ms - STALE_MS))
        .select(dispatchers::id)
        .load(conn)?;
    super::replies::prune_unmatched(conn, now_ms / 1000)?;
    crate::models::form_submission::prune(conn, now_ms / 1000)?;
    for server in dead {
        let (released, uncertain) = ledger::recover(conn, &server, now_ms / 1000)?;
        if released + uncertain > 0 {
            tracing::warn!(
                server,
                released,
                uncertain,
                "recovered a stopped server's messages"
            );
        }
        diesel::delete(dispatchers::table.find(&server)).execute(conn)?;
    }
    Ok(())
}

/// Reserves `n` consecutive sending slots on a channel at `per_second`, shared by every
/// server; returns when the first one starts (ms).
fn reserve_slots(
    conn: &mut DbConnection,
    channel: &str,
    n: i64,
    per_second: i64,
) -> QueryResult<i64> {
    #[derive(QueryableByName)]
    struct Next {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        next_ms: i64,
    }
    let now = time::now_ms();
    let span = n * 1000 / per_second.max(1);
    let greatest = match conn.backend() {
        Backend::Postgres => "GREATEST",
        Backend::Sqlite => "MAX",
    };
    crate::db::write_transaction(conn, |conn| {
        crate::insert_ignoring_duplicates!(
            conn,
            crate::schema::channel_slots::table,
            (
                crate::schema::channel_slots::channel.eq(channel),
                crate::schema::channel_slots::next_ms.eq(0i64),
            ),
            crate::schema::channel_slots::channel
        )?;
        // `channel` is one of the code's own names.
        let next: Next = diesel::sql_query(format!(
            "UPDATE channel_slots SET next_ms = {greatest}(next_ms, {now}) + {span} \
             WHERE channel = '{channel}' RETURNING next_ms"
        ))
        .get_result(conn)?;
        Ok(next.next_ms - span)
    })
}
