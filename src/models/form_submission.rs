//! One-time tokens of the forms that start work (the composer, Enviar, Reenviar incertas,
//! Enviar teste, Sincronizar modelos): the first post takes the token in the transaction
//! that does the work; a second post of the same form — a double click, a browser's
//! resubmit, another app server racing it — finds the token taken and leads where the
//! first one led. The state is in the database, so every app server sees it, and the
//! token is the table's key, so two posts at the same instant cannot both take it.

use diesel::prelude::*;

use crate::db::DbConnection;
use crate::schema::form_submissions;

/// What posting a form with a one-time token came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Once<T> {
    /// This post did the work.
    Done(T),
    /// An earlier post of the same form did: where it led.
    Before(String),
}

/// How long a taken token is remembered, in seconds: long after any browser resubmits.
pub const KEEP_SECS: i64 = 7 * 24 * 3_600;

/// Takes `token` for this post; false when another post took it first (on PostgreSQL the
/// insert waits for a racing transaction to end and then sees its row).
fn take(conn: &mut DbConnection, token: &str, now: i64) -> QueryResult<bool> {
    let inserted = crate::insert_ignoring_duplicates!(
        conn,
        form_submissions::table,
        (
            form_submissions::token.eq(token),
            form_submissions::location.eq(""),
            form_submissions::created_at.eq(now),
        ),
        form_submissions::token
    )?;
    Ok(inserted == 1)
}

fn led_to(conn: &mut DbConnection, token: &str) -> QueryResult<String> {
    form_submissions::table
        .find(token)
        .select(form_submissions::location)
        .first::<String>(conn)
        .optional()
        .map(Option::unwrap_or_default)
}

/// Runs `work` once per `token`, in one transaction with taking it. `work` answers its
/// value and where the post leads; with `None` (the form was refused, say) the token stays
/// free for the corrected form. Without a token (a client that sends none) it just runs.
pub fn once<T, E>(
    conn: &mut DbConnection,
    token: Option<&str>,
    now: i64,
    work: impl FnOnce(&mut DbConnection) -> Result<(T, Option<String>), E>,
) -> Result<Once<T>, E>
where
    E: From<diesel::result::Error>,
{
    let Some(token) = token.map(str::trim).filter(|t| !t.is_empty()) else {
        return work(conn).map(|(value, _)| Once::Done(value));
    };
    crate::db::write_transaction(conn, |conn| {
        if !take(conn, token, now)? {
            return Ok(Once::Before(led_to(conn, token)?));
        }
        let (value, location) = work(conn)?;
        match location {
            Some(location) => diesel::update(form_submissions::table.find(token))
                .set(form_submissions::location.eq(location))
                .execute(conn)?,
            None => diesel::delete(form_submissions::table.find(token)).execute(conn)?,
        };
        Ok(Once::Done(value))
    })
}

/// For work done outside the database (a test message, a call to Meta): takes `token`
/// now, leading to `location`; `Some(earlier location)` when a post already took it.
pub fn take_for(
    conn: &mut DbConnection,
    token: Option<&str>,
    location: &str,
    now: i64,
) -> QueryResult<Option<String>> {
    Ok(
        match once(conn, token, now, |_| {
            Ok::<_, diesel::result::Error>(((), Some(location.to_string())))
        })? {
            Once::Done(()) => None,
            Once::Before(l) => Some(l),
        },
    )
}

/// Forgets tokens older than [`KEEP_SECS`].
pub fn prune(conn: &mut DbConnection, now: i64) -> QueryResult<usize> {
    diesel::delete(form_submissions::table.filter(form_submissions::created_at.lt(now - KEEP_SECS)))
        .execute(conn)
}
