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

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use diesel::prelude::*;

use crate::db::DbConnection;
use crate::schema::audit_log;

pub const MAX_ACCOUNT_FAILURES: usize = 5;
pub const MAX_ADDRESS_FAILURES: usize = 50;
pub const WINDOW_SECS: i64 = 15 * 60;
/// Longest e-mail an account can have (RFC 5321); a longer one is refused unread.
pub const MAX_EMAIL_CHARS: usize = 254;
/// A refused attempt is written to the audit log at most this often per account and
/// address; the ones in between are counted into the next entry.
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
        keys.push(Key::Address(ip.to_string()));
    }
    keys
}

#[derive(Default)]
struct State {
    failures: HashMap<Key, Vec<i64>>,
    in_flight: HashMap<Key, usize>,
    /// When a refusal was last written for these keys, and how many since.
    noted: HashMap<Vec<Key>, (i64, u64)>,
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
            state.failures.entry(key.clone()).or_default().push(now);
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
        state.failures.retain(|_, times| {
            times.retain(|t| *t > since);
            !times.is_empty()
        });
        let mut until: Option<i64> = None;
        for (key, from_db) in keys.iter().zip(stored) {
            let mut in_memory: Vec<i64> = state.failures.get(key).cloned().unwrap_or_default();
            in_memory.sort_unstable_by(|a, b| b.cmp(a));
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

    /// A refused attempt: `Some(n)` when it should be written to the audit log now, `n`
    /// counting it and the refusals not written since the last entry.
    pub fn note_refusal(&self, email: &str, ip: Option<&str>, now: i64) -> Option<u64> {
        let mut state = self.lock();
        state.noted.retain(|_, (last, _)| now - *last < WINDOW_SECS);
        let entry = state.noted.entry(keys(email, ip)).or_insert((i64::MIN, 0));
        entry.1 += 1;
        if now.saturating_sub(entry.0) >= THROTTLED_NOTE_EVERY_SECS {
            let count = entry.1;
            *entry = (now, 0);
            Some(count)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_are_noted_once_a_minute_with_their_count() {
        let throttle = LoginThrottle::default();
        assert_eq!(
            throttle.note_refusal("a@b.c", Some("1.2.3.4"), 1000),
            Some(1)
        );
        for t in 1001..1060 {
            assert_eq!(throttle.note_refusal("a@b.c", Some("1.2.3.4"), t), None);
        }
        assert_eq!(
            throttle.note_refusal("a@b.c", Some("1.2.3.4"), 1060),
            Some(60)
        );
        assert_eq!(
            throttle.note_refusal("x@b.c", Some("1.2.3.4"), 1060),
            Some(1)
        );
    }

    #[test]
    fn failure_details_are_never_longer_than_an_email() {
        let long = "a".repeat(60_000);
        assert_eq!(failure_detail(&long).chars().count(), 8 + MAX_EMAIL_CHARS);
    }
}
