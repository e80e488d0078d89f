//! The audit log: who did what, when, from where.

use diesel::prelude::*;

use crate::db::DbConnection;
use crate::schema::audit_log;

#[derive(Debug, Insertable)]
#[diesel(table_name = audit_log)]
pub struct NewAuditEntry<'a> {
    pub user_id: Option<i64>,
    pub action: &'a str,
    pub detail: &'a str,
    pub ip: Option<&'a str>,
    pub created_at: i64,
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
}

impl AuditEntry {
    pub fn latest(conn: &mut DbConnection, limit: i64) -> QueryResult<Vec<AuditEntry>> {
        audit_log::table
            .order(audit_log::id.desc())
            .limit(limit)
            .load(conn)
    }
}
