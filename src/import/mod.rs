//! The import service: validates a layout file, then merges its rows into the contact
//! base and stores the audience, all in one transaction. Used by the web form's worker
//! and by the command line alike.

mod batch;
pub mod identity;
pub mod jobs;
pub mod rejected_csv;

use std::path::Path;

use diesel::prelude::*;

use crate::db::{Backend, DbConnection};
use crate::domain::NewImport;
use crate::layout::{self, LayoutRow, Limits, Report, RowOutcome};
use crate::models::{Audience, AudienceRowError};
use crate::schema::audience_members;
use batch::{BATCH_ROWS, Importer, Resolution};

/// SQLite page cache while importing, in KiB (the default is 2,000).
const SQLITE_IMPORT_CACHE_KB: i64 = 64 * 1024;

/// Imports of at least this many rows refresh PostgreSQL's statistics.
const ANALYZE_AFTER_ROWS: u64 = 50_000;

/// Serialises imports across app servers sharing one PostgreSQL.
const IMPORT_LOCK_KEY: i64 = 0x656e_6a6f_6273;

pub use crate::domain::ImportOptions;
pub use crate::models::Counts;

#[derive(Debug)]
pub enum Outcome {
    /// Rows went into the base (some may have been rejected).
    Imported { counts: Counts, report: Report },
    /// File-level errors: nothing was written but the errors.
    Rejected { report: Report },
}

/// Imports the file of a claimed audience (the form's, run by the worker), in one
/// transaction: on file-level errors the audience is marked failed with every error and
/// nothing else is written; otherwise its rows go in, so a crash leaves nothing
/// half-written. `progress(done, total)` is called between batches: while the file is
/// validated (pass one) with the rows read so far and a total of 0, then while contacts
/// are written with the rows written of the file's total.
pub fn import_audience(
    conn: &mut DbConnection,
    audience: &Audience,
    path: &Path,
    limits: &Limits,
    progress: &mut dyn FnMut(u64, u64),
) -> QueryResult<Outcome> {
    crate::db::write_transaction(conn, |conn| {
        import_rows(conn, audience, path, limits, progress)
    })
}

/// Imports at once (the command line): the audience is created, its rows imported and
/// its outcome recorded in one transaction, so no other process ever sees it running
/// and a crash (or a kill) leaves nothing at all.
pub fn import_now(
    conn: &mut DbConnection,
    import: &NewImport,
    path: &Path,
    limits: &Limits,
) -> QueryResult<(i64, Outcome)> {
    crate::db::write_transaction(conn, |conn| {
        let audience = Audience::start(conn, import)?;
        let outcome = import_rows(conn, &audience, path, limits, &mut |_, _| {})?;
        Ok((audience.id, outcome))
    })
}

/// Runs the whole import and rolls it back: the counts it would produce, nothing written.
pub fn dry_run(
    conn: &mut DbConnection,
    import: &NewImport,
    path: &Path,
    limits: &Limits,
) -> QueryResult<Outcome> {
    let mut outcome = None;
    let result = crate::db::write_transaction::<(), diesel::result::Error, _>(conn, |conn| {
        let audience = Audience::start(conn, import)?;
        outcome = Some(import_rows(conn, &audience, path, limits, &mut |_, _| {})?);
        Err(diesel::result::Error::RollbackTransaction)
    });
    match (result, outcome) {
        (Err(diesel::result::Error::RollbackTransaction), Some(outcome)) => Ok(outcome),
        (Err(e), _) => Err(e),
        (Ok(()), _) => unreachable!("the dry run always rolls back"),
    }
}

/// The import itself, inside the caller's write transaction. Pass one reads the file
/// once, validating it and deciding who every row is; a file with file-level errors
/// stops there, recorded as failed. Pass two writes, batch by batch.
fn import_rows(
    conn: &mut DbConnection,
    audience: &Audience,
    path: &Path,
    limits: &Limits,
    progress: &mut dyn FnMut(u64, u64),
) -> QueryResult<Outcome> {
    // Writing first takes SQLite's write lock before this transaction reads anything; a
    // rerun after a crash also starts from a clean slate.
    diesel::delete(audience_members::table.filter(audience_members::audience_id.eq(audience.id)))
        .execute(conn)?;
    AudienceRowError::delete_all(conn, audience.id)?;
    let options = audience.options;
    let backend = conn.backend();
    match backend {
        Backend::Postgres => {
            diesel::sql_query(format!("SELECT pg_advisory_xact_lock({IMPORT_LOCK_KEY})"))
                .execute(conn)?;
            // The planner's statistics predate this transaction's rows: planning each
            // lookup for the tables' old (small) sizes, it would scan whole tables, or
            // whole index ranges, for every batch. Generic plans keep to the indexes.
            diesel::sql_query("SET LOCAL enable_seqscan = off").execute(conn)?;
            diesel::sql_query("SET LOCAL plan_cache_mode = force_generic_plan").execute(conn)?;
            // New names wait in the trigram index's pending list until the end (see
            // below), merged with room to sort.
            diesel::sql_query("SET LOCAL gin_pending_list_limit = '1GB'").execute(conn)?;
            diesel::sql_query("SET LOCAL work_mem = '64MB'").execute(conn)?;
        }
        // The indexes of a large import outgrow SQLite's default 2 MB page cache.
        Backend::Sqlite => {
            diesel::sql_query(format!("PRAGMA cache_size = -{SQLITE_IMPORT_CACHE_KB}"))
                .execute(conn)?;
        }
    }
    let started = std::time::Instant::now();
    // Pass one: the file validated, and who every row is, decided over the whole file
    // against the base as it is (lookups only).
    let rows_guess = std::fs::metadata(path).map_or(0, |m| m.len() / 64);
    // Eliminated people kept as keyed hashes are skipped, counted as Não Perturbe.
    let suppression = if crate::models::titular::any_suppressed(conn)? {
        Some(crate::models::secret::suppression_secret(conn)?)
    } else {
        None
    };
    let mut resolution = Resolution::new(rows_guess, options.dnd, suppression);
    let mut valid: Vec<LayoutRow> = Vec::with_capacity(BATCH_ROWS);
    let mut read: u64 = 0;
    let report = layout::scan(path, &audience.file_name, limits, |row| {
        // While the file is validated the total is not known yet: rows read so far, of 0.
        read += 1;
        if read.is_multiple_of(BATCH_ROWS as u64) {
            progress(read, 0);
        }
        if let RowOutcome::Valid(row) = row {
            valid.push(row);
            if valid.len() >= BATCH_ROWS {
                resolution.add_batch(conn, &valid)?;
                valid.clear();
            }
        }
        Ok::<(), diesel::result::Error>(())
    })?;
    resolution.add_batch(conn, &valid)?;
    drop(valid);
    if !report.is_importable() {
        Audience::record_rejection(conn, audience.id, &report)?;
        restore_settings(conn)?;
        return Ok(Outcome::Rejected { report });
    }
    let total = report.data_rows;

    let pass_one = started.elapsed().as_secs_f64();
    // Pass two: write, batch by batch, as pass one decided.
    let mut importer = Importer::new(
        audience.id,
        audience.segment_id,
        options,
        backend,
        resolution,
    );
    let mut pending: Vec<RowOutcome> = Vec::with_capacity(BATCH_ROWS);
    layout::scan(path, &audience.file_name, limits, |row| {
        pending.push(row);
        if pending.len() >= BATCH_ROWS {
            importer.flush(conn, &mut pending)?;
            progress(importer.done, total);
        }
        Ok::<(), diesel::result::Error>(())
    })?;
    importer.flush(conn, &mut pending)?;
    progress(importer.done, total);
    // Rows refused on identity are decided here, not by the file's reading: the report
    // lists them with the others, in file order.
    let mut report = report;
    report
        .rejected
        .extend(std::mem::take(&mut importer.identity_rejected));
    report.rejected.sort_by_key(|r| r.line);
    report.rejected.truncate(limits.max_listed);
    let counts = importer.counts;
    let t = &importer.phases;
    tracing::info!(
        audience = audience.id,
        pass_one,
        pass_two = started.elapsed().as_secs_f64() - pass_one,
        decide = t.decide,
        verify = t.verify,
        contacts = t.contacts,
        channels = t.channels,
        tags = t.tags,
        memberships = t.memberships,
        members = t.members,
        "import phases (seconds)"
    );
    Audience::finish(conn, audience.id, &counts)?;
    if backend == Backend::Postgres {
        // The names gathered unsorted in the index's pending list go into the index in
        // one sorted merge, instead of one merge per 4 MB.
        diesel::sql_query("SELECT gin_clean_pending_list('contacts_name_trgm_idx'::regclass)")
            .execute(conn)?;
        // A large import changes the tables' sizes by orders of magnitude: the planner
        // gets fresh statistics with the commit rather than whenever autovacuum comes.
        if counts.imported >= ANALYZE_AFTER_ROWS {
            diesel::sql_query(
                "ANALYZE contacts, contact_channels, contact_tags, contact_segments, \
                 audience_members",
            )
            .execute(conn)?;
        }
    }
    restore_settings(conn)?;
    Ok(Outcome::Imported { counts, report })
}

/// The connection goes back to the pool: SQLite's page cache back to its default (the
/// PostgreSQL settings were transaction-local).
fn restore_settings(conn: &mut DbConnection) -> QueryResult<()> {
    if conn.backend() == Backend::Sqlite {
        diesel::sql_query("PRAGMA cache_size = -2000").execute(conn)?;
    }
    Ok(())
}
