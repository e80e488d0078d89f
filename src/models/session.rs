//! Logged-in sessions, kept on the server so that ending one ends it on every app server.
//! The browser holds a random id; only its SHA-256 is stored.

use diesel::prelude::*;
use sha2::{Digest, Sha256};

use crate::db::DbConnection;
use crate::schema::{user_sessions, users};

use super::User;

/// How long sessions may live: unused, and in all.
#[derive(Debug, Clone, Copy)]
pub struct SessionLimits {
    pub idle_secs: i64,
    pub max_secs: i64,
}

/// Why a session id no longer opens anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionEnd {
    /// Logged out, ended by a password change or an admin, or never existed.
    Revoked,
    /// Unused for longer than the idle limit, or older than the absolute limit.
    Expired,
}

/// Rewrite `last_seen_at` at most this often: one write a minute, not one per request.
const TOUCH_EVERY_SECS: i64 = 60;

fn hash(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// A live session: whose it is, its row, and whether its last use should be recorded.
pub struct Resumed {
    pub user: User,
    pub session: i64,
    pub stale: bool,
}

/// The `user_sessions` row behind a cookie.
pub struct UserSession;

impl UserSession {
    /// Opens a session for the user; returns the id the browser keeps.
    pub fn open(
        conn: &mut DbConnection,
        user_id: i64,
        ip: Option<&str>,
        now: i64,
    ) -> QueryResult<String> {
        let token = crate::web::session::new_token();
        diesel::insert_into(user_sessions::table)
            .values((
                user_sessions::token_hash.eq(hash(&token)),
                user_sessions::user_id.eq(user_id),
                user_sessions::created_at.eq(now),
                user_sessions::last_seen_at.eq(now),
                user_sessions::ip.eq(ip),
            ))
            .execute(conn)?;
        Ok(token)
    }

    /// The user a live session belongs to. Only reads, so a page view never waits for a
    /// write lock: the visit is to be recorded ([`Resumed::stale`]) by the caller, off the
    /// request path; sessions past their limits are deleted at the next login's purge.
    pub fn resume(
        conn: &mut DbConnection,
        token: &str,
        limits: SessionLimits,
        now: i64,
    ) -> QueryResult<Result<Resumed, SessionEnd>> {
        let found = user_sessions::table
            .inner_join(users::table)
            .filter(user_sessions::token_hash.eq(hash(token)))
            .select((
                user_sessions::id,
                user_sessions::created_at,
                user_sessions::last_seen_at,
                User::as_select(),
            ))
            .first::<(i64, i64, i64, User)>(conn)
            .optional()?;
        let Some((id, created_at, last_seen_at, user)) = found else {
            return Ok(Err(SessionEnd::Revoked));
        };
        if now - last_seen_at > limits.idle_secs || now - created_at > limits.max_secs {
            return Ok(Err(SessionEnd::Expired));
        }
        if user.is_disabled() {
            return Ok(Err(SessionEnd::Revoked));
        }
        Ok(Ok(Resumed {
            user,
            session: id,
            stale: now - last_seen_at >= TOUCH_EVERY_SECS.min(limits.idle_secs / 2).max(1),
        }))
    }

    /// Records when sessions were last used (never moving a time back).
    pub fn record_visits(conn: &mut DbConnection, visits: &[(i64, i64)]) -> QueryResult<()> {
        crate::db::write_transaction(conn, |conn| {
            for (id, at) in visits {
                diesel::update(
                    user_sessions::table
                        .find(*id)
                        .filter(user_sessions::last_seen_at.lt(*at)),
                )
                .set(user_sessions::last_seen_at.eq(*at))
                .execute(conn)?;
            }
            Ok(())
        })
    }

    /// Ends one session (logging out).
    pub fn end(conn: &mut DbConnection, token: &str) -> QueryResult<usize> {
        diesel::delete(user_sessions::table.filter(user_sessions::token_hash.eq(hash(token))))
            .execute(conn)
    }

    /// Ends every session of a user: a reset, a disable, a role change, "Sair de todos".
    pub fn end_all(conn: &mut DbConnection, user_id: i64) -> QueryResult<usize> {
        diesel::delete(user_sessions::table.filter(user_sessions::user_id.eq(user_id)))
            .execute(conn)
    }

    /// Ends every session of a user but the given one (the user's own password change).
    pub fn end_others(conn: &mut DbConnection, user_id: i64, keep: &str) -> QueryResult<usize> {
        diesel::delete(
            user_sessions::table
                .filter(user_sessions::user_id.eq(user_id))
                .filter(user_sessions::token_hash.ne(hash(keep))),
        )
        .execute(conn)
    }

    /// How many live sessions a user has.
    pub fn count_for(conn: &mut DbConnection, user_id: i64) -> QueryResult<i64> {
        user_sessions::table
            .filter(user_sessions::user_id.eq(user_id))
            .count()
            .get_result(conn)
    }

    /// Deletes sessions past either limit.
    pub fn purge_expired(
        conn: &mut DbConnection,
        limits: SessionLimits,
        now: i64,
    ) -> QueryResult<usize> {
        diesel::delete(
            user_sessions::table.filter(
                user_sessions::last_seen_at
                    .lt(now - limits.idle_secs)
                    .or(user_sessions::created_at.lt(now - limits.max_secs)),
            ),
        )
        .execute(conn)
    }
}
