//! The audit log: who did what, when, from where.

use diesel::prelude::*;

use crate::db::DbConnection;
use crate::schema::{audit_log, users};

#[derive(Debug, Insertable)]
#[diesel(table_name = audit_log)]
pub struct NewAuditEntry<'a> {
    pub user_id: Option<i64>,
    pub action: &'a str,
    pub detail: &'a str,
    pub ip: Option<&'a str>,
    pub created_at: i64,
    /// The contact looked at or changed, for the titular's records (LGPD art. 37).
    pub contact_id: Option<i64>,
}

impl NewAuditEntry<'_> {
    pub fn insert(&self, conn: &mut DbConnection) -> QueryResult<()> {
        diesel::insert_into(audit_log::table)
            .values(self)
            .execute(conn)
            .map(|_| ())
    }
}

#[derive(Debug, Queryable)]
pub struct AuditEntry {
    pub id: i64,
    pub user_id: Option<i64>,
    pub action: String,
    pub detail: String,
    pub ip: Option<String>,
    pub created_at: i64,
    pub contact_id: Option<i64>,
}

impl AuditEntry {
    pub fn latest(conn: &mut DbConnection, limit: i64) -> QueryResult<Vec<AuditEntry>> {
        audit_log::table
            .order(audit_log::id.desc())
            .limit(limit)
            .load(conn)
    }
}

/// How entries written by the command line (no user, no address) say so.
pub const CLI_ACTOR_NOTE: &str = " (linha de comando)";

/// The audit entry of an import submitted from the form or the command line.
pub struct ImportAudit;

impl ImportAudit {
    /// An import was submitted: what, into which segment, under which legal basis; by
    /// its user, or (none) from the command line.
    pub fn record(
        conn: &mut DbConnection,
        audience: &crate::models::Audience,
        segment_name: &str,
        ip: Option<&str>,
    ) -> QueryResult<()> {
        let user_id = audience.created_by;
        let options: Vec<&str> = audience.options.enabled().iter().map(|o| o.label).collect();
        let by = if user_id.is_none() {
            CLI_ACTOR_NOTE
        } else {
            ""
        };
        NewAuditEntry {
            user_id,
            action: "import",
            detail: &format!(
                "Importou o público #{} \"{}\" (arquivo {}) no segmento {}, com a base legal \
                 \"{}\" e {}{by}.",
                audience.id,
                audience.description,
                audience.file_name,
                segment_name,
                crate::domain::LegalBasis::label_for(&audience.legal_basis),
                if options.is_empty() {
                    "nenhuma opção".to_string()
                } else {
                    format!("as opções {}", options.join(", "))
                }
            ),
            ip,
            created_at: audience.created_at,
            contact_id: None,
        }
        .insert(conn)
    }
}

/// One audit entry with the name of who did it.
#[derive(Debug, Clone, Queryable)]
pub struct AuditView {
    pub id: i64,
    pub action: String,
    pub detail: String,
    pub ip: Option<String>,
    pub created_at: i64,
    pub user_name: Option<String>,
}

/// The filters of the audit page.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub user_id: Option<i64>,
    pub action: Option<String>,
    /// Entries about one contact (views, changes).
    pub contact_id: Option<i64>,
}

impl AuditFilter {
    fn apply<'a>(
        &self,
        mut query: audit_log::BoxedQuery<'a, crate::db::MultiBackend>,
    ) -> audit_log::BoxedQuery<'a, crate::db::MultiBackend> {
        if let Some(user_id) = self.user_id {
            query = query.filter(audit_log::user_id.eq(user_id));
        }
        if let Some(action) = &self.action {
            query = query.filter(audit_log::action.eq(action.clone()));
        }
        if let Some(contact) = self.contact_id {
            query = query.filter(audit_log::contact_id.eq(contact));
        }
        query
    }
}

impl AuditView {
    pub fn count(conn: &mut DbConnection, filter: &AuditFilter) -> QueryResult<i64> {
        filter
            .apply(audit_log::table.into_boxed())
            .count()
            .get_result(conn)
    }

    pub fn page(
        conn: &mut DbConnection,
        filter: &AuditFilter,
        offset: i64,
        limit: i64,
    ) -> QueryResult<Vec<AuditView>> {
        let ids: Vec<i64> = filter
            .apply(audit_log::table.into_boxed())
            .select(audit_log::id)
            .order(audit_log::id.desc())
            .offset(offset)
            .limit(limit)
            .load(conn)?;
        audit_log::table
            .left_join(users::table)
            .filter(audit_log::id.eq_any(&ids))
            .order(audit_log::id.desc())
            .select((
                audit_log::id,
                audit_log::action,
                audit_log::detail,
                audit_log::ip,
                audit_log::created_at,
                users::name.nullable(),
            ))
            .load(conn)
    }
}

/// Writes one audit entry; the shorthand every admin action uses.
pub fn audit(
    conn: &mut DbConnection,
    user_id: Option<i64>,
    action: &str,
    detail: &str,
    ip: Option<&str>,
) -> QueryResult<()> {
    NewAuditEntry {
        user_id,
        action,
        detail,
        ip,
        created_at: crate::time::now(),
        contact_id: None,
    }
    .insert(conn)
}

/// How many `action` entries came from `ip` since `since` (a public form's rate limit:
/// counted in the database, so every server sees the same count).
pub fn count_recent_from(
    conn: &mut DbConnection,
    action: &str,
    ip: Option<&str>,
    since: i64,
) -> QueryResult<i64> {
    use crate::schema::audit_log;
    let recent = audit_log::table
        .filter(audit_log::action.eq(action))
        .filter(audit_log::created_at.ge(since))
        .into_boxed();
    match ip {
        Some(ip) => recent.filter(audit_log::ip.eq(ip)),
        None => recent.filter(audit_log::ip.is_null()),
    }
    .count()
    .get_result(conn)
}
