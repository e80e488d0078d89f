//! Password throttling, for logins and for the current-password check of Minha conta.
//!
//! An account takes 5 failures in 15 minutes, then waits. An address takes 50: an office
//! behind one NAT address has many people who mistype now and then, and they must not lock
//! each other out, while one address trying password after password on many accounts is
//! still stopped. Only failures count; a correct password never counts against anyone.
//!
//! Failures are counted in the audit log (so servers sharing a database share the count)
//! and in this server's memory (so a failure counts at once, before its audit entry is
//! written). Each attempt is reserved before its password is checked, so sixty attempts
//! at once get five checks, not sixty.
//!
//! Refusals are written to the audit log at most once a minute per client address, with
//! the count of the ones in between, whatever e-mail each named: an address sending a new
//! e-mail with every request would otherwise write a row per request. The bookkeeping
//! forgets old entries through queues in time order, so each request costs the same
//! however many addresses and accounts are remembered.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use diesel::prelude::*;

use crate::db::DbConnection;
use crate::schema::audit_log;

pub const MAX_ACCOUNT_FAILURES: usize = 5;
pub const MAX_ADDRESS_FAILURES: usize = 50;
pub const WINDOW_SECS: i64 = 15 * 60;
/// Longest e-mail an account can have (RFC 5321); a longer one is refused unread.
pub const MAX_EMAIL_CHARS: usize = 254;
/// A refused attempt is written to the audit log at most this often per client address;
/// the ones in between are counted into the next entry.
const THROTTLED_NOTE_EVERY_SECS: i64 = 60;

/// The audit actions that count as failures.
pub const FAILURE_ACTIONS: [&str; 2] = ["login_failed", "password_change_failed"];

/// The audit detail a failure is recorded with (and counted by); never longer than an
/// e-mail can be.
pub fn failure_detail(email: &str) -> String {
    let email: String = email.chars().take(MAX_EMAIL_CHARS).collect();
    format!("e-mail: {email}")
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Account(String),
    Address(String),
}

impl Key {
    fn limit(&self) -> usize {
        match self {
            Key::Account(_) => MAX_ACCOUNT_FAILURES,
            Key::Address(_) => MAX_ADDRESS_FAILURES,
        }
    }
}

fn keys(email: &str, ip: Option<&str>) -> Vec<Key> {
    let mut keys = vec![Key::Account(email.to_string())];
    if let Some(ip) = ip {
        keys.push(Key::Address(network(ip)));
    }
    keys
}

/// The client a throttle counts: an IPv4 address, or an IPv6 address's /64 — one
/// subscriber's network, whose 2^64 addresses are all theirs to rotate through.
pub fn network(ip: &str) -> String {
    match ip.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
        _ => ip.to_string(),
    }
}

#[derive(Default)]
struct State {
    /// Each key's failure times, oldest first.
    failures: HashMap<Key, VecDeque<i64>>,
    /// Every failure as (time, key), oldest first: what to forget next.
    failure_order: VecDeque<(i64, Key)>,
    in_flight: HashMap<Key, usize>,
    /// Per client address (empty when unknown): when a refusal was last written, and how
    /// many were refused since.
    noted: HashMap<String, (i64, u64)>,
    /// Every write as (time, address), oldest first: what to forget next.
    noted_order: VecDeque<(i64, String)>,
}

impl State {
    /// Forgets failures older than `since`; each failure is forgotten once, so the cost
    /// is paid once per failure, not once per request.
    fn forget_failures(&mut self, since: i64) {
        while let Some((at, _)) = self.failure_order.front() {
            if *at > since {
                break;
            }
            let Some((_, key)) = self.failure_order.pop_front() else {
                break;
            };
            if let Some(times) = self.failures.get_mut(&key) {
                while times.front().is_some_and(|t| *t <= since) {
                    times.pop_front();
                }
                if times.is_empty() {
                    self.failures.remove(&key);
                }
            }
        }
    }

    fn forget_notes(&mut self, now: i64) {
        while let Some((at, _)) = self.noted_order.front() {
            if now - *at < WINDOW_SECS {
                break;
            }
            let Some((at, address)) = self.noted_order.pop_front() else {
                break;
            };
            if self
                .noted
                .get(&address)
                .is_some_and(|(last, _)| *last == at)
            {
                self.noted.remove(&address);
            }
        }
    }
}

#[derive(Default)]
pub struct LoginThrottle {
    state: Mutex<State>,
}

/// A password check that may go ahead; say how it ended with [`Attempt::failed`] or
/// [`Attempt::succeeded`] (dropping it counts as neither).
pub struct Attempt {
    throttle: Arc<LoginThrottle>,
    keys: Vec<Key>,
}

impl Attempt {
    pub fn failed(self, now: i64) {
        let mut state = self.throttle.lock();
        for key in &self.keys {
            let times = state.failures.entry(key.clone()).or_default();
            // Kept in time order even if the clock stepped back.
            let at = times.partition_point(|t| *t <= now);
            times.insert(at, now);
            state.failure_order.push_back((now, key.clone()));
        }
    }

    pub fn succeeded(self) {}
}

impl Drop for Attempt {
    fn drop(&mut self) {
        let mut state = self.throttle.lock();
        for key in &self.keys {
            if let Some(n) = state.in_flight.get_mut(key) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    state.in_flight.remove(key);
                }
            }
        }
    }
}

impl LoginThrottle {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Reserves a password check for this account and address, or says until when
    /// (Unix seconds) they must wait.
    pub fn reserve(
        self: &Arc<Self>,
        conn: &mut DbConnection,
        email: &str,
        ip: Option<&str>,
        now: i64,
    ) -> QueryResult<Result<Attempt, i64>> {
        let since = now - WINDOW_SECS;
        let keys = keys(email, ip);
        let mut stored = Vec::with_capacity(keys.len());
        for key in &keys {
            let query = audit_log::table
                .filter(audit_log::action.eq_any(FAILURE_ACTIONS))
                .filter(audit_log::created_at.gt(since))
                .select(audit_log::created_at)
                .order(audit_log::created_at.desc())
                .limit(key.limit() as i64)
                .into_boxed::<crate::db::MultiBackend>();
            stored.push(match key {
                Key::Account(email) => query
                    .filter(audit_log::detail.eq(failure_detail(email)))
                    .load::<i64>(conn)?,
                Key::Address(ip) => query.filter(audit_log::ip.eq(ip)).load::<i64>(conn)?,
            });
        }
        let mut state = self.lock();
        state.forget_failures(since);
        let mut until: Option<i64> = None;
        for (key, from_db) in keys.iter().zip(stored) {
            // Newest first, as the database gives them; at most `limit` are needed.
            let in_memory: Vec<i64> = state
                .failures
                .get(key)
                .map(|times| times.iter().rev().take(key.limit()).copied().collect())
                .unwrap_or_default();
            // The same failure may be in both lists: take whichever saw more.
            let times = if in_memory.len() > from_db.len() {
                in_memory
            } else {
                from_db
            };
            let pending = state.in_flight.get(key).copied().unwrap_or(0);
            let limit = key.limit();
            let key_until = if times.len() >= limit {
                Some(times[limit - 1] + WINDOW_SECS)
            } else if times.len() + pending >= limit {
                // Checks under way would use the last tries: wait for their outcome.
                Some(now + 1)
            } else {
                None
            };
            if let Some(key_until) = key_until {
                until = Some(until.map_or(key_until, |u| u.max(key_until)));
            }
        }
        if let Some(until) = until {
            return Ok(Err(until));
        }
        for key in &keys {
            *state.in_flight.entry(key.clone()).or_default() += 1;
        }
        Ok(Ok(Attempt {
            throttle: Arc::clone(self),
            keys,
        }))
    }

    /// A refused attempt from this client address: `Some(n)` when it should be written to
    /// the audit log now, `n` counting it and the refusals not written since the last
    /// entry for the address (whatever e-mails they named).
    pub fn note_refusal(&self, ip: Option<&str>, now: i64) -> Option<u64> {
        let mut guard = self.lock();
        let state = &mut *guard;
        state.forget_notes(now);
        let address = network(ip.unwrap_or_default());
        let address = address.as_str();
        let entry = match state.noted.get_mut(address) {
            Some(entry) => entry,
            None => state
                .noted
                .entry(address.to_string())
                .or_insert((i64::MIN, 0)),
        };
        entry.1 += 1;
        if now.saturating_sub(entry.0) >= THROTTLED_NOTE_EVERY_SECS {
            let count = entry.1;
            *entry = (now, 0);
            state.noted_order.push_back((now, address.to_string()));
            Some(count)
        } else {
            None
        }
    }
}

/// Failed authentications per client address, for endpoints with no account to lock:
/// the providers' webhooks. After `limit` failures within the window the address waits
/// out the window, so a secret cannot be guessed at network speed.
pub struct AddressThrottle {
    limit: u32,
    window: i64,
    state: Mutex<AddressState>,
}

#[derive(Default)]
struct AddressState {
    /// Per address: when its window opened, and its failures since.
    failures: HashMap<String, (i64, u32)>,
    /// Every window opened as (time, address), oldest first: what to forget next.
    order: VecDeque<(i64, String)>,
}

/// Failed webhook authentications an address may make per window.
pub const MAX_WEBHOOK_FAILURES: u32 = 20;

impl Default for AddressThrottle {
    fn default() -> Self {
        AddressThrottle::new(MAX_WEBHOOK_FAILURES, WINDOW_SECS)
    }
}

impl AddressThrottle {
    pub fn new(limit: u32, window: i64) -> Self {
        AddressThrottle {
            limit,
            window,
            state: Mutex::new(AddressState::default()),
        }
    }

    fn lock(&self, now: i64) -> std::sync::MutexGuard<'_, AddressState> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        while let Some((at, _)) = state.order.front() {
            if now - *at < self.window {
                break;
            }
            let Some((at, address)) = state.order.pop_front() else {
                break;
            };
            if state
                .failures
                .get(&address)
                .is_some_and(|(opened, _)| *opened == at)
            {
                state.failures.remove(&address);
            }
        }
        state
    }

    /// Until when (Unix seconds) this address must wait, if it must.
    pub fn blocked_until(&self, ip: Option<&str>, now: i64) -> Option<i64> {
        let state = self.lock(now);
        let (opened, count) = state.failures.get(&network(ip.unwrap_or_default()))?;
        (*count >= self.limit).then_some(opened + self.window)
    }

    pub fn failed(&self, ip: Option<&str>, now: i64) {
        let mut guard = self.lock(now);
        let state = &mut *guard;
        let address = network(ip.unwrap_or_default());
        let address = address.as_str();
        if let Some((_, count)) = state.failures.get_mut(address) {
            *count = count.saturating_add(1);
            return;
        }
        state.failures.insert(address.to_string(), (now, 1));
        state.order.push_back((now, address.to_string()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ipv6_client_is_counted_by_its_64() {
        assert_eq!(network("2001:db8:1:2::1"), network("2001:db8:1:2:ffff::9"));
        assert_ne!(network("2001:db8:1:2::1"), network("2001:db8:1:3::1"));
        assert_eq!(network("203.0.113.9"), "203.0.113.9");
        assert_eq!(network("::ffff:203.0.113.9"), "203.0.113.9");
        let throttle = AddressThrottle::new(2, 60);
        throttle.failed(Some("2001:db8:1:2::1"), 0);
        throttle.failed(Some("2001:db8:1:2::2"), 1);
        assert!(throttle.blocked_until(Some("2001:db8:1:2::3"), 2).is_some());
        assert!(throttle.blocked_until(Some("2001:db8:9:2::3"), 2).is_none());
    }

    #[test]
    fn refusals_are_noted_once_a_minute_with_their_count() {
        let throttle = LoginThrottle::default();
        assert_eq!(throttle.note_refusal(Some("1.2.3.4"), 1000), Some(1));
        for t in 1001..1060 {
            assert_eq!(throttle.note_refusal(Some("1.2.3.4"), t), None);
        }
        assert_eq!(throttle.note_refusal(Some("1.2.3.4"), 1060), Some(60));
        assert_eq!(throttle.note_refusal(Some("5.6.7.8"), 1060), Some(1));
        // Long forgotten, the address starts again.
        assert_eq!(
            throttle.note_refusal(Some("1.2.3.4"), 1060 + WINDOW_SECS),
            Some(1)
        );
        assert_eq!(throttle.lock().noted.len(), 1);
    }

    #[test]
    fn an_address_waits_after_its_failures_and_is_then_forgotten() {
        let throttle = AddressThrottle::new(3, 100);
        for t in 0..3 {
            assert_eq!(throttle.blocked_until(Some("1.2.3.4"), t), None);
            throttle.failed(Some("1.2.3.4"), t);
        }
        assert_eq!(throttle.blocked_until(Some("1.2.3.4"), 50), Some(100));
        assert_eq!(throttle.blocked_until(Some("5.6.7.8"), 50), None);
        assert_eq!(throttle.blocked_until(Some("1.2.3.4"), 100), None);
        assert!(throttle.lock(100).failures.is_empty());
    }

    #[test]
    fn old_failures_are_forgotten() {
        let throttle = LoginThrottle::default();
        let mut state = throttle.lock();
        for (i, email) in ["a", "b", "c"].iter().enumerate() {
            let key = Key::Account(email.to_string());
            state
                .failures
                .entry(key.clone())
                .or_default()
                .push_back(i as i64);
            state.failure_order.push_back((i as i64, key));
        }
        state.forget_failures(1);
        assert_eq!(state.failures.len(), 1);
        assert_eq!(state.failure_order.len(), 1);
    }

    #[test]
    fn failure_details_are_never_longer_than_an_email() {
        let long = "a".repeat(60_000);
        assert_eq!(failure_detail(&long).chars().count(), 8 + MAX_EMAIL_CHARS);
    }
}
