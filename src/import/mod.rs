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

/// Imports the file of a claimed audience (the form's, run by the worker). On file-level
/// errors the audience is marked failed with every error and nothing else is written;
/// otherwise the whole file goes in one transaction, so a crash leaves nothing
/// half-written. `progress(done, total)` is called between batches.
pub fn import_audience(
    conn: &mut DbConnection,
    audience: &Audience,
    path: &Path,
    limits: &Limits,
    progress: &mut dyn FnMut(u64, u64),
) -> QueryResult<Outcome> {
    let report = layout::validate(path, &audience.file_name, limits);
    if !report.is_importable() {
        crate::db::write_transaction(conn, |conn| {
            Audience::record_rejection(conn, audience.id, &report)
        })?;
        return Ok(Outcome::Rejected { report });
    }
    let counts = crate::db::write_transaction(conn, |conn| {
        let counts = import_rows(conn, audience, path, limits, report.data_rows, progress)?;
        Audience::finish(conn, audience.id, &counts)?;
        Ok::<_, diesel::result::Error>(counts)
    })?;
    Ok(Outcome::Imported { counts, report })
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
    let report = layout::validate(path, &import.file_name, limits);
    crate::db::write_transaction(conn, |conn| {
        let audience = Audience::start(conn, import)?;
        if !report.is_importable() {
            Audience::record_rejection(conn, audience.id, &report)?;
            return Ok((audience.id, Outcome::Rejected { report }));
        }
        let counts = import_rows(
            conn,
            &audience,
            path,
            limits,
            report.data_rows,
            &mut |_, _| {},
        )?;
        Audience::finish(conn, audience.id, &counts)?;
        Ok((audience.id, Outcome::Imported { counts, report }))
    })
}

/// Runs the whole import and rolls it back: the counts it would produce, nothing written.
pub fn dry_run(
    conn: &mut DbConnection,
    import: &NewImport,
    path: &Path,
    limits: &Limits,
) -> QueryResult<Outcome> {
    let report = layout::validate(path, &import.file_name, limits);
    if !report.is_importable() {
        return Ok(Outcome::Rejected { report });
    }
    let mut counts = None;
    let result = crate::db::write_transaction::<(), diesel::result::Error, _>(conn, |conn| {
        let audience = Audience::start(conn, import)?;
        counts = Some(import_rows(
            conn,
            &audience,
            path,
            limits,
            report.data_rows,
            &mut |_, _| {},
        )?);
        Err(diesel::result::Error::RollbackTransaction)
    });
    match (result, counts) {
        (Err(diesel::result::Error::RollbackTransaction), Some(counts)) => {
            Ok(Outcome::Imported { counts, report })
        }
        (Err(e), _) => Err(e),
        (Ok(()), _) => unreachable!("the dry run always rolls back"),
    }
}

fn import_rows(
    conn: &mut DbConnection,
    audience: &Audience,
    path: &Path,
    limits: &Limits,
    total: u64,
    progress: &mut dyn FnMut(u64, u64),
) -> QueryResult<Counts> {
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
        }
        // The indexes of a large import outgrow SQLite's default 2 MB page cache.
        Backend::Sqlite => {
            diesel::sql_query(format!("PRAGMA cache_size = -{SQLITE_IMPORT_CACHE_KB}"))
                .execute(conn)?;
        }
    }
    // Pass one: who every row is, decided over the whole file against the base as it is.
    let mut resolution = Resolution::new(total, options.dnd);
    let mut valid: Vec<LayoutRow> = Vec::with_capacity(BATCH_ROWS);
    layout::scan(path, &audience.file_name, limits, |row| {
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
    let counts = importer.counts;
    if backend == Backend::Sqlite {
        // The connection goes back to the pool: back to the default cache.
        diesel::sql_query("PRAGMA cache_size = -2000").execute(conn)?;
    }
    Ok(counts)
}
