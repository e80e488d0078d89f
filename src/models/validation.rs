//! "Validar sem importar": what a dry run found, kept for `KEEP_SECS` with the upload
//! itself when the file can be imported, so **Importar este arquivo** imports that very
//! upload with the same choices and **Corrigir** brings the form back filled in. The
//! only writer of `import_validations`.

use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use crate::db::DbConnection;
use crate::domain::{ImportOptions, LegalBasis, NewImport};
use crate::import::Outcome;
use crate::models::upload::UploadRef;
use crate::schema::{audiences, import_validations};

/// How long a validation (and its upload) is kept: said on its page.
pub const KEEP_SECS: i64 = 30 * 60;

/// A sweep leaves an expired validation this much longer, so an import pressed just
/// before the deadline never loses its upload under it.
const SWEEP_GRACE_SECS: i64 = 5 * 60;

/// Problems listed on the page (the counts cover all of them).
pub const LISTED: usize = 100;

/// The form's choices, as they were validated.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Choices {
    pub description: String,
    pub segment_id: i64,
    pub legal_basis: String,
    pub file_name: String,
    pub verify: bool,
    pub dnd: bool,
    pub only_segment: bool,
    pub clear_tags: bool,
}

impl Choices {
    pub fn of(import: &NewImport) -> Choices {
        Choices {
            description: import.description.clone(),
            segment_id: import.segment_id,
            legal_basis: import.legal_basis.code().to_string(),
            file_name: import.file_name.clone(),
            verify: import.options.verify,
            dnd: import.options.dnd,
            only_segment: import.options.only_segment,
            clear_tags: import.options.clear_tags,
        }
    }

    pub fn options(&self) -> ImportOptions {
        ImportOptions {
            verify: self.verify,
            dnd: self.dnd,
            only_segment: self.only_segment,
            clear_tags: self.clear_tags,
        }
    }

    /// The import these choices make, by `user` into the segment named `segment_name`.
    pub fn import(&self, segment_name: &str, user: i64) -> Option<NewImport> {
        Some(NewImport {
            description: self.description.clone(),
            segment_id: self.segment_id,
            segment_name: segment_name.to_string(),
            legal_basis: LegalBasis::parse(&self.legal_basis)?,
            file_name: self.file_name.clone(),
            options: self.options(),
            created_by: Some(user),
        })
    }
}

/// One problem found: a file-level error or a rejected row.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Problem {
    pub line: Option<u64>,
    pub column: Option<String>,
    pub code: String,
    pub message: String,
    pub value: Option<String>,
}

/// What the dry run found.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Findings {
    pub importable: bool,
    pub rows: u64,
    pub imported: u64,
    pub contacts_created: u64,
    pub contacts_updated: u64,
    pub rejected: u64,
    pub dnd_skipped: u64,
    pub verify_discarded: u64,
    pub duplicate_rows: u64,
    pub file_error_total: u64,
    pub file_errors: Vec<Problem>,
    pub rejected_rows: Vec<Problem>,
}

impl Findings {
    pub fn of(outcome: &Outcome) -> Findings {
        let (report, mut findings) = match outcome {
            Outcome::Imported { counts, report } => (
                report,
                Findings {
                    importable: true,
                    rows: counts.rows,
                    imported: counts.imported,
                    contacts_created: counts.contacts_created,
                    contacts_updated: counts.contacts_updated,
                    rejected: counts.rejected,
                    dnd_skipped: counts.dnd_skipped,
                    verify_discarded: counts.verify_discarded,
                    duplicate_rows: counts.duplicate_rows,
                    ..Findings::default()
                },
            ),
            Outcome::Rejected { report } => (
                report,
                Findings {
                    rows: report.data_rows,
                    rejected: report.rejected_rows,
                    ..Findings::default()
                },
            ),
        };
        findings.file_error_total = report.file_error_total;
        findings.file_errors = report
            .file_errors
            .iter()
            .take(LISTED)
            .map(|e| Problem {
                line: e.line,
                column: e.column.map(str::to_string),
                code: e.code.as_str().to_string(),
                message: e.message.clone(),
                value: e.value.clone(),
            })
            .collect();
        findings.rejected_rows = report
            .rejected
            .iter()
            .take(LISTED)
            .map(|r| Problem {
                line: Some(r.line),
                column: Some(r.errors[0].column.to_string()),
                code: r.code().as_str().to_string(),
                message: r.message(),
                value: Some(r.errors[0].value.clone()),
            })
            .collect();
        findings
    }
}

#[derive(Debug, Clone)]
pub struct Validation {
    pub id: i64,
    pub user_id: i64,
    /// The kept upload, when the file can be imported.
    pub upload: Option<String>,
    pub choices: Choices,
    pub findings: Findings,
    pub created_at: i64,
    pub expires_at: i64,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = import_validations)]
struct Row {
    id: i64,
    user_id: i64,
    upload: Option<String>,
    spec: String,
    report: String,
    created_at: i64,
    expires_at: i64,
}

impl From<Row> for Validation {
    fn from(row: Row) -> Self {
        Validation {
            id: row.id,
            user_id: row.user_id,
            upload: row.upload,
            // Written by `insert` from these very types: a row that does not read back
            // (edited by hand) shows as a validation with nothing in it.
            choices: serde_json::from_str(&row.spec).unwrap_or_default(),
            findings: serde_json::from_str(&row.report).unwrap_or_default(),
            created_at: row.created_at,
            expires_at: row.expires_at,
        }
    }
}

impl Validation {
    /// The form token of the audience its import makes: pressing **Importar este
    /// arquivo** twice leads to one audience.
    pub fn form_token(&self) -> String {
        format!("validacao:{}", self.id)
    }

    pub fn is_expired(&self, now: i64) -> bool {
        now >= self.expires_at
    }

    /// Whole minutes left, at least 1 while it lasts.
    pub fn minutes_left(&self, now: i64) -> i64 {
        ((self.expires_at - now + 59) / 60).max(0)
    }

    pub fn insert(
        conn: &mut DbConnection,
        user_id: i64,
        upload: Option<&str>,
        choices: &Choices,
        findings: &Findings,
        now: i64,
    ) -> QueryResult<Validation> {
        let spec = serde_json::to_string(choices).expect("choices serialise");
        let report = serde_json::to_string(findings).expect("findings serialise");
        let row: Row = crate::on_backend!(
            conn,
            diesel::insert_into(import_validations::table)
                .values((
                    import_validations::user_id.eq(user_id),
                    import_validations::upload.eq(upload),
                    import_validations::spec.eq(&spec),
                    import_validations::report.eq(&report),
                    import_validations::created_at.eq(now),
                    import_validations::expires_at.eq(now + KEEP_SECS),
                ))
                .returning(Row::as_returning())
        )?;
        Ok(row.into())
    }

    pub fn find(conn: &mut DbConnection, id: i64) -> QueryResult<Option<Validation>> {
        import_validations::table
            .find(id)
            .select(Row::as_select())
            .first(conn)
            .optional()
            .map(|row| row.map(Validation::from))
    }

    /// Forgets validations past their time (and a little more) whose upload no import
    /// took; returns the uploads they kept, for the caller to delete (a spool file) —
    /// those kept in the database are deleted here.
    pub fn sweep(conn: &mut DbConnection, now: i64) -> QueryResult<Vec<UploadRef>> {
        let expired: Vec<(i64, Option<String>)> = import_validations::table
            .filter(import_validations::expires_at.lt(now - SWEEP_GRACE_SECS))
            .select((import_validations::id, import_validations::upload))
            .load(conn)?;
        let mut left = Vec::new();
        for (id, upload) in expired {
            let taken = audiences::table
                .filter(audiences::form_token.eq(format!("validacao:{id}")))
                .count()
                .get_result::<i64>(conn)?
                > 0;
            diesel::delete(import_validations::table.find(id)).execute(conn)?;
            match upload.map(|u| UploadRef::parse(&u)) {
                Some(_) if taken => {}
                Some(UploadRef::Database(upload)) => crate::models::upload::delete(conn, upload)?,
                Some(file) => left.push(file),
                None => {}
            }
        }
        Ok(left)
    }
}
