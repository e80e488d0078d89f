//! One-time tokens of the forms that start work (the composer, Enviar, Reenviar incertas,
//! Enviar teste, Sincronizar modelos): the first post takes the token in the transaction
//! that does the work; a second post of the same form — a double click, a browser's
//! resubmit, another app server racing it — finds the token taken and leads where the
//! first one led. The state is in the database, so every app server sees it, and the
//! token is the table's key, so two posts at the same instant cannot both take it.
//! Each token is issued for one form (its purpose, the form's action) and carries a
//! digest of it: a token copied into another form is refused, never taken there.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use diesel::prelude::*;
use sha2::{Digest, Sha256};

use crate::db::DbConnection;
use crate::schema::form_submissions;

/// What posting a form with a one-time token came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Once<T> {
    /// This post did the work.
    Done(T),
    /// An earlier post of the same form did: where it led.
    Before(String),
    /// The token was issued for another form (or not by us): nothing was done.
    OtherForm,
}

fn digest(random: &str, purpose: &str) -> String {
    let hash = Sha256::new()
        .chain_update(random.as_bytes())
        .chain_update(b"\n")
        .chain_update(purpose.as_bytes())
        .finalize();
    URL_SAFE_NO_PAD.encode(&hash[..12])
}

/// A fresh token for the form whose purpose (its action, say `/engajar/campanhas/7/agendar`)
/// is `purpose`.
pub fn issue(random: &str, purpose: &str) -> String {
    format!("{random}.{}", digest(random, purpose))
}

/// Whether `token` was issued for `purpose`.
pub fn fits(token: &str, purpose: &str) -> bool {
    token
        .rsplit_once('.')
        .is_some_and(|(random, tag)| !random.is_empty() && digest(random, purpose) == tag)
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
/// free for the corrected form. Without a token (a client that sends none) it just runs; a
/// token issued for another purpose does nothing.
pub fn once<T, E>(
    conn: &mut DbConnection,
    token: Option<&str>,
    purpose: &str,
    now: i64,
    work: impl FnOnce(&mut DbConnection) -> Result<(T, Option<String>), E>,
) -> Result<Once<T>, E>
where
    E: From<diesel::result::Error>,
{
    let Some(token) = token.map(str::trim).filter(|t| !t.is_empty()) else {
        return work(conn).map(|(value, _)| Once::Done(value));
    };
    if !fits(token, purpose) {
        return Ok(Once::OtherForm);
    }
    crate::db::write_transaction(conn, |conn| {
        if !take(conn, token, now)? {
            return Ok(Once::Before(led_to(conn, token)?));
        }
        let (value, location) = work(conn)?;
        match location {
            Some(location) => lead_to(conn, token, &location)?,
            None => diesel::delete(form_submissions::table.find(token)).execute(conn)?,
        };
        Ok(Once::Done(value))
    })
}

/// Where a taken token's later posts lead from now on (a test message's outcome, known
/// only once the provider answered).
pub fn lead_to(conn: &mut DbConnection, token: &str, location: &str) -> QueryResult<usize> {
    diesel::update(form_submissions::table.find(token.trim()))
        .set(form_submissions::location.eq(location))
        .execute(conn)
}

/// For work done outside the database (a test message, a call to Meta): takes `token`
/// now, leading to `location`; `Once::Before(earlier location)` when a post already took
/// it.
pub fn take_for(
    conn: &mut DbConnection,
    token: Option<&str>,
    purpose: &str,
    location: &str,
    now: i64,
) -> QueryResult<Once<()>> {
    once(conn, token, purpose, now, |_| {
        Ok::<_, diesel::result::Error>(((), Some(location.to_string())))
    })
}

/// Forgets tokens older than [`KEEP_SECS`].
pub fn prune(conn: &mut DbConnection, now: i64) -> QueryResult<usize> {
    diesel::delete(form_submissions::table.filter(form_submissions::created_at.lt(now - KEEP_SECS)))
        .execute(conn)
}
