//! Audiences (públicos): one per imported file, with its members and rejected rows.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool};
use serde::Serialize;

use crate::db::{Backend, DbConnection};
use crate::domain::{AudienceStatus, ImportOptions, NewImport};
use crate::layout::Report;
use crate::models::ImportAudit;
use crate::models::upload::UploadRef;
use crate::schema::{audience_members, audience_row_errors, audiences, segments, users};
use crate::time;

/// The counts a finished import leaves on its audience.
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

#[derive(Debug, Clone)]
pub struct Audience {
    pub id: i64,
    pub description: String,
    pub segment_id: i64,
    pub file_name: String,
    /// Where the upload waits for the worker (a spool file, or `db:<id>` on PostgreSQL).
    pub upload: Option<String>,
    pub legal_basis: String,
    pub options: ImportOptions,
    pub status: AudienceStatus,
    pub rows_total: i64,
    pub rows_done: i64,
    pub imported: i64,
    pub rejected: i64,
    pub dnd_skipped: i64,
    pub verify_discarded: i64,
    pub duplicate_rows: i64,
    pub contacts_created: i64,
    pub contacts_updated: i64,
    pub file_errors: i64,
    pub failure: Option<String>,
    pub created_by: Option<i64>,
    pub created_at: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
}

/// The stored row; `Audience` is what the rest of the code sees.
#[derive(Queryable, Selectable)]
#[diesel(table_name = audiences)]
struct AudienceRow {
    id: i64,
    description: String,
    segment_id: i64,
    file_name: String,
    spool_path: Option<String>,
    legal_basis: String,
    opt_verify: i32,
    opt_nao_perturbe: i32,
    opt_manter_segmento: i32,
    opt_limpar_tag: i32,
    #[diesel(deserialize_as = String)]
    status: AudienceStatus,
    rows_total: i64,
    rows_done: i64,
    imported: i64,
    rejected: i64,
    dnd_skipped: i64,
    verify_discarded: i64,
    duplicate_rows: i64,
    contacts_created: i64,
    contacts_updated: i64,
    file_errors: i64,
    failure: Option<String>,
    created_by: Option<i64>,
    created_at: i64,
    started_at: Option<i64>,
    finished_at: Option<i64>,
}

impl From<AudienceRow> for Audience {
    fn from(r: AudienceRow) -> Self {
        Audience {
            id: r.id,
            description: r.description,
            segment_id: r.segment_id,
            file_name: r.file_name,
            upload: r.spool_path,
            legal_basis: r.legal_basis,
            options: ImportOptions {
                verify: r.opt_verify != 0,
                dnd: r.opt_nao_perturbe != 0,
                only_segment: r.opt_manter_segmento != 0,
                clear_tags: r.opt_limpar_tag != 0,
            },
            status: r.status,
            rows_total: r.rows_total,
            rows_done: r.rows_done,
            imported: r.imported,
            rejected: r.rejected,
            dnd_skipped: r.dnd_skipped,
            verify_discarded: r.verify_discarded,
            duplicate_rows: r.duplicate_rows,
            contacts_created: r.contacts_created,
            contacts_updated: r.contacts_updated,
            file_errors: r.file_errors,
            failure: r.failure,
            created_by: r.created_by,
            created_at: r.created_at,
            started_at: r.started_at,
            finished_at: r.finished_at,
        }
    }
}

#[derive(Debug, Insertable)]
#[diesel(table_name = audiences)]
struct NewAudienceRow<'a> {
    description: &'a str,
    segment_id: i64,
    file_name: &'a str,
    spool_path: Option<&'a str>,
    legal_basis: &'a str,
    opt_verify: i32,
    opt_nao_perturbe: i32,
    opt_manter_segmento: i32,
    opt_limpar_tag: i32,
    status: &'static str,
    form_token: Option<&'a str>,
    description_search: String,
    created_by: Option<i64>,
    created_at: i64,
    started_at: Option<i64>,
}

/// Advisory-lock keys of running imports on PostgreSQL: this prefix plus the audience id.
const JOB_LOCK_PREFIX: i64 = 0x454e_0000_0000;

#[derive(QueryableByName)]
struct IdRow {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

#[derive(QueryableByName)]
struct Locked {
    #[diesel(sql_type = Bool)]
    locked: bool,
}

/// An audience's whole life is written here and nowhere else: created (queued by the
/// form, or started at once by the command line), claimed by a worker, its progress,
/// requeued when its server died, finished with its counts, failed on file errors or for
/// another reason, its upload forgotten.
impl Audience {
    fn insert(
        conn: &mut DbConnection,
        import: &NewImport,
        upload: Option<&str>,
        status: AudienceStatus,
        form_token: Option<&str>,
    ) -> QueryResult<Audience> {
        let flag = |b: bool| i32::from(b);
        let now = time::now();
        let row = NewAudienceRow {
            description: &import.description,
            segment_id: import.segment_id,
            file_name: &import.file_name,
            spool_path: upload,
            legal_basis: import.legal_basis.code(),
            opt_verify: flag(import.options.verify),
            opt_nao_perturbe: flag(import.options.dnd),
            opt_manter_segmento: flag(import.options.only_segment),
            opt_limpar_tag: flag(import.options.clear_tags),
            status: status.code(),
            form_token,
            description_search: crate::domain::text::search_key(&import.description),
            created_by: import.created_by,
            created_at: now,
            started_at: (status == AudienceStatus::Processing).then_some(now),
        };
        let stored: AudienceRow = crate::on_backend!(
            conn,
            diesel::insert_into(audiences::table)
                .values(&row)
                .returning(AudienceRow::as_returning())
        )?;
        crate::models::search::add_description(conn, stored.id, &row.description_search)?;
        Ok(stored.into())
    }

    /// The form's import: queued for the worker with its upload, and audited. The same
    /// form sent twice (a double click, a reload) leads to the first audience: the
    /// answer's `bool` says whether this call created it. Runs in its own transaction.
    pub fn queue(
        conn: &mut DbConnection,
        import: &NewImport,
        upload: &str,
        form_token: Option<&str>,
        ip: Option<&str>,
    ) -> QueryResult<(Audience, bool)> {
        crate::db::write_transaction(conn, |conn| {
            if let Some(token) = form_token
                && let Some(first) = Self::find_by_form_token(conn, token)?
            {
                return Ok((first, false));
            }
            let audience = Self::insert(
                conn,
                import,
                Some(upload),
                AudienceStatus::Queued,
                form_token,
            )?;
            ImportAudit::record(conn, &audience, &import.segment_name, ip)?;
            Ok((audience, true))
        })
    }

    /// An import that runs at once (the command line, a dry run): created processing.
    /// Call it inside the transaction that imports the rows, so no other process ever
    /// sees it half-done (nor takes it for an abandoned job), and a crash leaves nothing.
    pub fn start(conn: &mut DbConnection, import: &NewImport) -> QueryResult<Audience> {
        let audience = Self::insert(conn, import, None, AudienceStatus::Processing, None)?;
        ImportAudit::record(conn, &audience, &import.segment_name, None)?;
        Ok(audience)
    }

    /// Takes the oldest queued audience, if any, and marks it processing. On PostgreSQL
    /// the claim is held by a session advisory lock on this connection until `release`,
    /// so several servers never take the same job and a dead server's job is seen.
    pub fn claim_next(conn: &mut DbConnection) -> QueryResult<Option<i64>> {
        let now = time::now();
        match conn.backend() {
            Backend::Postgres => conn.transaction(|conn| {
                let next = diesel::sql_query(
                    "SELECT id FROM audiences WHERE status = 'queued' ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED",
                )
                .get_result::<IdRow>(conn)
                .optional()?;
                let Some(IdRow { id }) = next else {
                    return Ok(None);
                };
                diesel::sql_query(format!("SELECT pg_advisory_lock({})", job_key(id)))
                    .execute(conn)?;
                Self::mark_processing(conn, id, now)?;
                Ok(Some(id))
            }),
            Backend::Sqlite => crate::db::write_transaction(conn, |conn| {
                let next = audiences::table
                    .filter(audiences::status.eq(AudienceStatus::Queued.code()))
                    .order(audiences::id.asc())
                    .select(audiences::id)
                    .first::<i64>(conn)
                    .optional()?;
                if let Some(id) = next {
                    Self::mark_processing(conn, id, now)?;
                }
                Ok(next)
            }),
        }
    }

    fn mark_processing(conn: &mut DbConnection, id: i64, now: i64) -> QueryResult<()> {
        diesel::update(audiences::table.find(id))
            .set((
                audiences::status.eq(AudienceStatus::Processing.code()),
                audiences::started_at.eq(Some(now)),
                audiences::rows_done.eq(0),
            ))
            .execute(conn)
            .map(|_| ())
    }

    /// Lets go of a claimed job (PostgreSQL's advisory lock).
    pub fn release(conn: &mut DbConnection, id: i64) {
        if conn.backend() == Backend::Postgres {
            let _ = diesel::sql_query(format!("SELECT pg_advisory_unlock({})", job_key(id)))
                .execute(conn);
        }
    }

    /// Audiences left `processing` by a server that died go back to the queue. On SQLite
    /// only this process runs queued jobs (the command line imports in one transaction,
    /// never seen processing), so at start-up any is abandoned; on PostgreSQL one is
    /// abandoned when no live connection holds its lock.
    pub fn requeue_abandoned(conn: &mut DbConnection) -> QueryResult<usize> {
        let processing: Vec<i64> = audiences::table
            .filter(audiences::status.eq(AudienceStatus::Processing.code()))
            .select(audiences::id)
            .load(conn)?;
        let mut requeued = 0;
        for id in processing {
            let abandoned = match conn.backend() {
                Backend::Sqlite => true,
                Backend::Postgres => {
                    diesel::sql_query(format!(
                        "SELECT pg_try_advisory_lock({}) AS locked",
                        job_key(id)
                    ))
                    .get_result::<Locked>(conn)?
                    .locked
                }
            };
            if abandoned {
                requeued += diesel::update(
                    audiences::table
                        .find(id)
                        .filter(audiences::status.eq(AudienceStatus::Processing.code())),
                )
                .set(audiences::status.eq(AudienceStatus::Queued.code()))
                .execute(conn)?;
                tracing::warn!(audience = id, "import found interrupted; it will run again");
                Self::release(conn, id);
            }
        }
        Ok(requeued)
    }

    /// Rows done so far, for pages served by other servers.
    pub fn record_progress(
        conn: &mut DbConnection,
        id: i64,
        done: u64,
        total: u64,
    ) -> QueryResult<()> {
        diesel::update(audiences::table.find(id))
            .set((
                audiences::rows_done.eq(done as i64),
                audiences::rows_total.eq(total as i64),
            ))
            .execute(conn)
            .map(|_| ())
    }

    /// The import went in: its counts, done (with rejections or not). Call it in the
    /// transaction that wrote the rows.
    pub fn finish(conn: &mut DbConnection, id: i64, counts: &Counts) -> QueryResult<()> {
        let status = if counts.rejected > 0 {
            AudienceStatus::DoneWithRejections
        } else {
            AudienceStatus::Done
        };
        diesel::update(audiences::table.find(id))
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
            .execute(conn)
            .map(|_| ())
    }

    /// The file was refused: its errors (the listed ones) and nothing else. Call it in a
    /// write transaction.
    pub fn record_rejection(conn: &mut DbConnection, id: i64, report: &Report) -> QueryResult<()> {
        AudienceRowError::delete_all(conn, id)?;
        let errors: Vec<NewAudienceRowError> = report
            .file_errors
            .iter()
            .map(|e| NewAudienceRowError {
                audience_id: id,
                level: "file",
                line: e.line.map(|l| l as i64),
                column_name: e.column,
                code: e.code.as_str(),
                message: e.message.clone(),
                value: e.value.clone(),
                raw_row: None,
            })
            .collect();
        NewAudienceRowError::insert_all(conn, &errors)?;
        diesel::update(audiences::table.find(id))
            .set((
                audiences::status.eq(AudienceStatus::Failed.code()),
                audiences::rows_total.eq(report.data_rows as i64),
                audiences::file_errors.eq(report.file_error_total as i64),
                audiences::finished_at.eq(Some(time::now())),
            ))
            .execute(conn)
            .map(|_| ())
    }

    /// Failed for a reason outside the file (its upload lost, the database).
    pub fn record_failure(conn: &mut DbConnection, id: i64, reason: &str) -> QueryResult<()> {
        diesel::update(audiences::table.find(id))
            .set((
                audiences::status.eq(AudienceStatus::Failed.code()),
                audiences::failure.eq(Some(reason)),
                audiences::finished_at.eq(Some(time::now())),
            ))
            .execute(conn)
            .map(|_| ())
    }

    /// The upload is no longer needed once the outcome is recorded: one kept in the
    /// database goes (a spool file is the caller's to remove).
    pub fn forget_upload(conn: &mut DbConnection, id: i64) -> QueryResult<()> {
        let stored: Option<String> = audiences::table
            .find(id)
            .select(audiences::spool_path)
            .first::<Option<String>>(conn)
            .optional()?
            .flatten();
        crate::db::write_transaction(conn, |conn| {
            diesel::update(audiences::table.find(id))
                .set(audiences::spool_path.eq(None::<String>))
                .execute(conn)?;
            if let Some(UploadRef::Database(upload_id)) = stored.as_deref().map(UploadRef::parse) {
                crate::models::upload::delete(conn, upload_id)?;
            }
            Ok(())
        })
    }

    /// Folds what SQL cannot fold alike on both databases (accents), for rows written
    /// before the folded column existed. Audiences are few; new ones are written folded.
    pub fn fill_description_search(conn: &mut DbConnection) -> QueryResult<()> {
        let missing: Vec<(i64, String)> = audiences::table
            .filter(audiences::description_search.is_null())
            .select((audiences::id, audiences::description))
            .load(conn)?;
        for (id, description) in missing {
            diesel::update(audiences::table.find(id))
                .set(
                    audiences::description_search.eq(crate::domain::text::search_key(&description)),
                )
                .execute(conn)?;
        }
        Ok(())
    }

    pub fn find(conn: &mut DbConnection, id: i64) -> QueryResult<Option<Audience>> {
        audiences::table
            .find(id)
            .select(AudienceRow::as_select())
            .first(conn)
            .optional()
            .map(|row| row.map(Audience::from))
    }

    /// The audience a form (by its one-time token) already created.
    pub fn find_by_form_token(
        conn: &mut DbConnection,
        token: &str,
    ) -> QueryResult<Option<Audience>> {
        audiences::table
            .filter(audiences::form_token.eq(token))
            .select(AudienceRow::as_select())
            .first(conn)
            .optional()
            .map(|row| row.map(Audience::from))
    }

    /// Rows that left the audience without an error: Não Perturbe, Verify, duplicates.
    pub fn discarded(&self) -> i64 {
        self.dnd_skipped + self.verify_discarded + self.duplicate_rows
    }
}

/// The advisory lock (PostgreSQL) a server holds while it runs audience `id`'s import.
pub fn job_key(id: i64) -> i64 {
    JOB_LOCK_PREFIX + id
}

/// One line of the audience list, with the names its ids point to.
#[derive(Debug, Clone, Queryable)]
pub struct AudienceListItem {
    pub id: i64,
    pub description: String,
    pub file_name: String,
    pub legal_basis: String,
    #[diesel(deserialize_as = String)]
    pub status: AudienceStatus,
    pub imported: i64,
    pub contacts_updated: i64,
    pub dnd_skipped: i64,
    pub verify_discarded: i64,
    pub duplicate_rows: i64,
    pub rejected: i64,
    pub created_at: i64,
    pub segment_name: String,
    pub created_by_name: Option<String>,
}

impl AudienceListItem {
    /// Audiences whose description has every word of `search` (any part of a word,
    /// ignoring accents and case), on the description index (`models::search`).
    fn filtered(
        backend: Backend,
        search: Option<&str>,
    ) -> audiences::BoxedQuery<'static, crate::db::MultiBackend> {
        let mut query = audiences::table.into_boxed();
        let words = search
            .map(|text| crate::models::search::words(text, 6))
            .unwrap_or_default();
        let fts = crate::models::search::fts_query(&words).filter(|_| backend == Backend::Sqlite);
        for word in &words {
            if fts.is_some() && crate::models::search::is_indexed(word) {
                continue;
            }
            query = query.filter(
                audiences::description_search
                    .assume_not_null()
                    .like(crate::models::search::like_pattern(word))
                    .escape('\\'),
            );
        }
        if let Some(fts) = fts {
            query = query.filter(
                diesel::dsl::sql::<diesel::sql_types::Bool>(
                    "audiences.id IN (SELECT rowid FROM audience_descriptions \
                     WHERE audience_descriptions MATCH ",
                )
                .bind::<diesel::sql_types::Text, _>(fts)
                .sql(")"),
            );
        }
        query
    }

    /// Newest first, optionally only descriptions containing `search`.
    pub fn page(
        conn: &mut DbConnection,
        search: Option<&str>,
        offset: i64,
        limit: i64,
    ) -> QueryResult<Vec<Self>> {
        let ids: Vec<i64> = Self::filtered(conn.backend(), search)
            .select(audiences::id)
            .order((audiences::created_at.desc(), audiences::id.desc()))
            .offset(offset)
            .limit(limit)
            .load(conn)?;
        audiences::table
            .inner_join(segments::table)
            .left_join(users::table)
            .filter(audiences::id.eq_any(&ids))
            .select((
                audiences::id,
                audiences::description,
                audiences::file_name,
                audiences::legal_basis,
                audiences::status,
                audiences::imported,
                audiences::contacts_updated,
                audiences::dnd_skipped,
                audiences::verify_discarded,
                audiences::duplicate_rows,
                audiences::rejected,
                audiences::created_at,
                segments::name,
                users::name.nullable(),
            ))
            .order((audiences::created_at.desc(), audiences::id.desc()))
            .load(conn)
    }

    pub fn count(conn: &mut DbConnection, search: Option<&str>) -> QueryResult<i64> {
        Self::filtered(conn.backend(), search)
            .count()
            .get_result(conn)
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = audience_members)]
pub struct AudienceMember {
    pub id: i64,
    pub audience_id: i64,
    pub contact_id: i64,
    pub line: i64,
    pub outcome: String,
    pub channel_kind: String,
    pub channel_value: String,
    pub message: Option<String>,
    pub coringa1: Option<String>,
    pub coringa2: Option<String>,
    pub coringa3: Option<String>,
    pub coringa4: Option<String>,
    pub coringa5: Option<String>,
    pub tag: Option<String>,
    pub priority: Option<String>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = audience_members)]
// NULL, not DEFAULT, for None: SQLite can then insert a whole batch in one statement.
#[diesel(treat_none_as_default_value = false)]
pub struct NewAudienceMember {
    pub audience_id: i64,
    pub contact_id: i64,
    pub line: i64,
    pub outcome: &'static str,
    pub channel_kind: &'static str,
    pub channel_value: String,
    pub message: Option<String>,
    pub coringa1: Option<String>,
    pub coringa2: Option<String>,
    pub coringa3: Option<String>,
    pub coringa4: Option<String>,
    pub coringa5: Option<String>,
    pub tag: Option<String>,
    pub priority: Option<&'static str>,
}

impl AudienceMember {
    /// The filled coringas with their numbers (1–5).
    pub fn coringas(&self) -> Vec<(usize, &str)> {
        [
            &self.coringa1,
            &self.coringa2,
            &self.coringa3,
            &self.coringa4,
            &self.coringa5,
        ]
        .into_iter()
        .enumerate()
        .filter_map(|(i, c)| c.as_deref().map(|c| (i + 1, c)))
        .collect()
    }

    pub fn page(
        conn: &mut DbConnection,
        audience_id: i64,
        offset: i64,
        limit: i64,
    ) -> QueryResult<Vec<AudienceMember>> {
        audience_members::table
            .filter(audience_members::audience_id.eq(audience_id))
            .order(audience_members::line.asc())
            .offset(offset)
            .limit(limit)
            .select(AudienceMember::as_select())
            .load(conn)
    }

    pub fn count(conn: &mut DbConnection, audience_id: i64) -> QueryResult<i64> {
        audience_members::table
            .filter(audience_members::audience_id.eq(audience_id))
            .count()
            .get_result(conn)
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = audience_row_errors)]
pub struct AudienceRowError {
    pub id: i64,
    pub audience_id: i64,
    pub level: String,
    pub line: Option<i64>,
    pub column_name: Option<String>,
    pub code: String,
    pub message: String,
    pub value: Option<String>,
    pub raw_row: Option<String>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = audience_row_errors)]
// NULL, not DEFAULT, for None: SQLite can then insert a whole batch in one statement.
#[diesel(treat_none_as_default_value = false)]
pub struct NewAudienceRowError {
    pub audience_id: i64,
    pub level: &'static str,
    pub line: Option<i64>,
    pub column_name: Option<&'static str>,
    pub code: &'static str,
    pub message: String,
    pub value: Option<String>,
    pub raw_row: Option<String>,
}

impl NewAudienceRowError {
    pub fn insert_all(conn: &mut DbConnection, rows: &[NewAudienceRowError]) -> QueryResult<()> {
        for chunk in rows.chunks(500) {
            crate::execute_on_backend!(
                conn,
                diesel::insert_into(audience_row_errors::table).values(chunk)
            )?;
        }
        Ok(())
    }
}

impl AudienceRowError {
    pub fn delete_all(conn: &mut DbConnection, audience_id: i64) -> QueryResult<usize> {
        diesel::delete(
            audience_row_errors::table.filter(audience_row_errors::audience_id.eq(audience_id)),
        )
        .execute(conn)
    }

    /// `level` is `file` or `row`; in file order.
    pub fn list(
        conn: &mut DbConnection,
        audience_id: i64,
        level: &str,
        limit: Option<i64>,
    ) -> QueryResult<Vec<AudienceRowError>> {
        let mut query = audience_row_errors::table
            .filter(audience_row_errors::audience_id.eq(audience_id))
            .filter(audience_row_errors::level.eq(level.to_string()))
            .order((
                audience_row_errors::line.asc(),
                audience_row_errors::id.asc(),
            ))
            .select(AudienceRowError::as_select())
            .into_boxed();
        if let Some(limit) = limit {
            query = query.limit(limit);
        }
        query.load(conn)
    }
}
