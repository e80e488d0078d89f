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

/// Audit entries with a fixed shape, written from more than one place.
pub struct NewAudienceEntry;

impl NewAudienceEntry {
    /// An import was submitted: what, into which segment, under which legal basis.
    pub fn import(
        conn: &mut DbConnection,
        audience: &crate::models::Audience,
        segment_name: &str,
        user_id: i64,
        ip: Option<&str>,
    ) -> QueryResult<()> {
        let options: Vec<&str> = [
            (audience.opt_verify, "verify"),
            (audience.opt_nao_perturbe, "nao_perturbe"),
            (audience.opt_manter_segmento, "manter_segmento"),
            (audience.opt_limpar_tag, "limpar_tag"),
        ]
        .iter()
        .filter(|(on, _)| *on != 0)
        .map(|(_, name)| *name)
        .collect();
        NewAuditEntry {
            user_id: Some(user_id),
            action: "import",
            detail: &format!(
                "público #{} \"{}\" (arquivo {}) no segmento {}; base legal: {}; opções: {}",
                audience.id,
                audience.description,
                audience.file_name,
                segment_name,
                audience.legal_basis,
                if options.is_empty() {
                    "nenhuma".to_string()
                } else {
                    options.join(", ")
                }
            ),
            ip,
            created_at: audience.created_at,
        }
        .insert(conn)
    }
}
