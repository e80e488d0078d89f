//! The import service: validates a layout file, then merges its rows into the contact
//! base and stores the audience, all in one transaction. Used by the web form's worker
//! and by the command line alike.

mod batch;
pub mod identity;
pub mod jobs;
pub mod rejected_csv;

use std::path::Path;

use diesel::prelude::*;
use serde::Serialize;

use crate::db::{Backend, DbConnection};
use crate::domain::AudienceStatus;
use crate::layout::{self, LayoutRow, Limits, Report, RowOutcome};
use crate::models::{Audience, NewAudience, NewAudienceRowError};
use crate::schema::{audience_members, audience_row_errors, audiences};
use crate::time;
use batch::{BATCH_ROWS, Importer, Resolution};

/// SQLite page cache while importing, in KiB (the default is 2,000).
const SQLITE_IMPORT_CACHE_KB: i64 = 64 * 1024;

/// Serialises imports across app servers sharing one PostgreSQL.
const IMPORT_LOCK_KEY: i64 = 0x656e_6a6f_6273;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportOptions {
    /// Verify: phones that already talked to us stay only if they bring news.
    pub verify: bool,
    /// Skip phones and e-mails on the Não Perturbe list.
    pub dnd: bool,
    /// Manter apenas neste segmento: contacts leave every other segment.
    pub only_segment: bool,
    /// Limpar tag de localização: contacts lose their earlier tags first.
    pub clear_tags: bool,
}

impl ImportOptions {
    pub fn from_audience(audience: &Audience) -> Self {
        ImportOptions {
            verify: audience.opt_verify != 0,
            dnd: audience.opt_nao_perturbe != 0,
            only_segment: audience.opt_manter_segmento != 0,
            clear_tags: audience.opt_limpar_tag != 0,
        }
    }
}

/// `imported + rejected + dnd_skipped + verify_discarded + duplicate_rows == rows`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub rows: u64,
    pub imported: u64,
    pub rejected: u64,
    pub dnd_skipped: u64,
    pub verify_discarded: u64,
    pub duplicate_rows: u64,
    pub contacts_created: u64,
    pub contacts_updated: u64,
}

#[derive(Debug)]
pub enum Outcome {
    /// Rows went into the base (some may have been rejected).
    Imported { counts: Counts, report: Report },
    /// File-level errors: nothing was written but the errors.
    Rejected { report: Report },
}

/// What an import needs besides the file.
#[derive(Debug, Clone)]
pub struct ImportRequest<'a> {
    pub description: &'a str,
    pub segment_id: i64,
    pub legal_basis: &'a str,
    pub file_name: &'a str,
    pub options: ImportOptions,
    pub created_by: Option<i64>,
}

impl ImportRequest<'_> {
    /// Records the audience, queued for the worker when `spool_path` is given.
    pub fn create_audience(
        &self,
        conn: &mut DbConnection,
        spool_path: Option<&str>,
        status: AudienceStatus,
        form_token: Option<&str>,
    ) -> QueryResult<Audience> {
        let flag = |b: bool| i32::from(b);
        NewAudience {
            description: self.description,
            segment_id: self.segment_id,
            file_name: self.file_name,
            spool_path,
            legal_basis: self.legal_basis,
            opt_verify: flag(self.options.verify),
            opt_nao_perturbe: flag(self.options.dnd),
            opt_manter_segmento: flag(self.options.only_segment),
            opt_limpar_tag: flag(self.options.clear_tags),
            status: status.code(),
            form_token,
            description_search: crate::domain::text::search_key(self.description),
            created_by: self.created_by,
            created_at: time::now(),
        }
        .insert(conn)
    }
}

/// Imports the file of an existing audience. On file-level errors the audience is marked
/// failed with every error and nothing else is written; otherwise the whole file goes in
/// one transaction, so a crash leaves nothing half-written. `progress(done, total)` is
/// called between batches.
pub fn import_audience(
    conn: &mut DbConnection,
    audience: &Audience,
    path: &Path,
    limits: &Limits,
    progress: &mut dyn FnMut(u64, u64),
) -> QueryResult<Outcome> {
    let report = layout::validate(path, &audience.file_name, limits);
    if !report.is_importable() {
        record_rejection(conn, audience.id, &report)?;
        return Ok(Outcome::Rejected { report });
    }
    let options = ImportOptions::from_audience(audience);
    let counts = crate::db::write_transaction(conn, |conn| {
        import_rows(
            conn,
            audience,
            options,
            path,
            limits,
            report.data_rows,
            progress,
        )
    })?;
    Ok(Outcome::Imported { counts, report })
}

/// Runs the whole import and rolls it back: the counts it would produce, nothing written.
pub fn dry_run(
    conn: &mut DbConnection,
    request: &ImportRequest<'_>,
    path: &Path,
    limits: &Limits,
) -> QueryResult<Outcome> {
    let report = layout::validate(path, request.file_name, limits);
    if !report.is_importable() {
        return Ok(Outcome::Rejected { report });
    }
    let mut counts = None;
    let result = crate::db::write_transaction::<(), diesel::result::Error, _>(conn, |conn| {
        let audience = request.create_audience(conn, None, AudienceStatus::Processing, None)?;
        counts = Some(import_rows(
            conn,
            &audience,
            request.options,
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
    options: ImportOptions,
    path: &Path,
    limits: &Limits,
    total: u64,
    progress: &mut dyn FnMut(u64, u64),
) -> QueryResult<Counts> {
    // Writing first takes SQLite's write lock before this transaction reads anything; a
    // rerun after a crash also starts from a clean slate.
    diesel::delete(audience_members::table.filter(audience_members::audience_id.eq(audience.id)))
        .execute(conn)?;
    diesel::delete(
        audience_row_errors::table.filter(audience_row_errors::audience_id.eq(audience.id)),
    )
    .execute(conn)?;
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
    let status = if counts.rejected > 0 {
        AudienceStatus::DoneWithRejections
    } else {
        AudienceStatus::Done
    };
    diesel::update(audiences::table.find(audience.id))
        .set((
            audiences::status.eq(status.code()),
            audiences::rows_total.eq(counts.rows as i64),
            audiences::rows_done.eq(counts.rows as i64),
            audiences::imported.eq(counts.imported as i64),
            audiences::rejected.eq(counts.rejected as i64),
            audiences::dnd_skipped.eq(counts.dnd_skipped as i64),
            audiences::verify_discarded.eq(counts.verify_discarded as i64),
            audiences::duplicate_rows.eq(counts.duplicate_rows as i64),
            audiences::contacts_created.eq(counts.contacts_created as i64),
            audiences::contacts_updated.eq(counts.contacts_updated as i64),
            audiences::file_errors.eq(0),
            audiences::finished_at.eq(Some(time::now())),
        ))
        .execute(conn)?;
    if backend == Backend::Sqlite {
        // The connection goes back to the pool: back to the default cache.
        diesel::sql_query("PRAGMA cache_size = -2000").execute(conn)?;
    }
    Ok(counts)
}

/// The audience failed on file-level errors: store them (the listed ones) and nothing else.
fn record_rejection(conn: &mut DbConnection, audience_id: i64, report: &Report) -> QueryResult<()> {
    crate::db::write_transaction(conn, |conn| {
        diesel::delete(
            audience_row_errors::table.filter(audience_row_errors::audience_id.eq(audience_id)),
        )
        .execute(conn)?;
        let errors: Vec<NewAudienceRowError> = report
            .file_errors
            .iter()
            .map(|e| NewAudienceRowError {
                audience_id,
                level: "file",
                line: e.line.map(|l| l as i64),
                column_name: e.column,
                code: e.code.as_str(),
                message: e.message.clone(),
                value: e.value.clone(),
                raw_row: None,
            })
            .collect();
        for chunk in errors.chunks(500) {
            crate::execute_on_backend!(
                conn,
                diesel::insert_into(audience_row_errors::table).values(chunk)
            )?;
        }
        diesel::update(audiences::table.find(audience_id))
            .set((
                audiences::status.eq(AudienceStatus::Failed.code()),
                audiences::rows_total.eq(report.data_rows as i64),
                audiences::file_errors.eq(report.file_error_total as i64),
                audiences::finished_at.eq(Some(time::now())),
            ))
            .execute(conn)?;
        Ok(())
    })
}

/// Marks an audience failed for a reason outside the file (its upload lost, say).
pub fn record_failure(conn: &mut DbConnection, audience_id: i64, reason: &str) -> QueryResult<()> {
    diesel::update(audiences::table.find(audience_id))
        .set((
            audiences::status.eq(AudienceStatus::Failed.code()),
            audiences::failure.eq(Some(reason)),
            audiences::finished_at.eq(Some(time::now())),
        ))
        .execute(conn)
        .map(|_| ())
}
