//! Login throttling: after 5 failures in 15 minutes for one account or from one address,
//! further attempts wait. Failures are counted in the audit log (so servers sharing a
//! database share the count) and in this server's memory (so a failure counts at once,
//! before its audit entry is written).

use std::collections::HashMap;
use std::sync::Mutex;

use diesel::prelude::*;

use crate::db::DbConnection;
use crate::schema::audit_log;

pub const MAX_FAILURES: usize = 5;
pub const WINDOW_SECS: i64 = 15 * 60;

/// What a failure is counted against: the account (by e-mail) and the client address.
pub fn keys(email: &str, ip: Option<&str>) -> Vec<String> {
    let mut keys = vec![format!("email:{email}")];
    if let Some(ip) = ip {
        keys.push(format!("ip:{ip}"));
    }
    keys
}

/// The audit detail a failed login is recorded with.
pub fn failure_detail(email: &str) -> String {
    format!("e-mail: {email}")
}

#[derive(Default)]
pub struct LoginThrottle {
    recent: Mutex<HashMap<String, Vec<i64>>>,
}

impl LoginThrottle {
    pub fn record_failure(&self, keys: &[String], now: i64) {
        let mut recent = self.recent.lock().unwrap_or_else(|e| e.into_inner());
        recent.retain(|_, times| {
            times.retain(|t| now - t < WINDOW_SECS);
            !times.is_empty()
        });
        for key in keys {
            recent.entry(key.clone()).or_default().push(now);
        }
    }

    /// Until when (Unix seconds) attempts for these keys must wait, if they must.
    pub fn blocked_until(
        &self,
        conn: &mut DbConnection,
        email: &str,
        ip: Option<&str>,
        now: i64,
    ) -> QueryResult<Option<i64>> {
        let since = now - WINDOW_SECS;
        let failures = || {
            audit_log::table
                .filter(audit_log::action.eq("login_failed"))
                .filter(audit_log::created_at.gt(since))
                .select(audit_log::created_at)
                .order(audit_log::created_at.desc())
                .limit(MAX_FAILURES as i64)
                .into_boxed::<crate::db::MultiBackend>()
        };
        let mut stored = vec![
            failures()
                .filter(audit_log::detail.eq(failure_detail(email)))
                .load::<i64>(conn)?,
        ];
        if let Some(ip) = ip {
            stored.push(failures().filter(audit_log::ip.eq(ip)).load::<i64>(conn)?);
        }
        let recent = self.recent.lock().unwrap_or_else(|e| e.into_inner());
        let mut until = None;
        for (key, from_db) in keys(email, ip).iter().zip(stored) {
            let mut in_memory: Vec<i64> = recent
                .get(key)
                .map(|times| times.iter().copied().filter(|t| *t > since).collect())
                .unwrap_or_default();
            in_memory.sort_unstable_by(|a, b| b.cmp(a));
            // The same failure may be in both lists: take whichever saw more.
            let times = if in_memory.len() > from_db.len() {
                in_memory
            } else {
                from_db
            };
            if times.len() >= MAX_FAILURES {
                let fifth_latest = times[MAX_FAILURES - 1];
                let key_until = fifth_latest + WINDOW_SECS;
                until = Some(until.map_or(key_until, |u: i64| u.max(key_until)));
            }
        }
        Ok(until)
    }
}
