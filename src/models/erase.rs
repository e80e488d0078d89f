//! Integrity of the bulk tables. On PostgreSQL the tables an import fills in bulk
//! (channels, tags, segment memberships, audience members) keep no foreign keys (README,
//! "Foreign keys and integrity"): a contact or an audience leaves the database only
//! through `delete_contact` / `delete_audience` here, which remove what depends on it in
//! the same transaction, and `orphans` (`engajar db check`) finds anything left behind.

use diesel::prelude::*;
use diesel::sql_types::BigInt;

use crate::db::{Backend, DbConnection};
use crate::models::search;
use crate::schema::{
    audience_members, audience_row_errors, audiences, contact_channels, contact_segments,
    contact_tags, contacts, document_conflicts, interactions,
};

/// Deletes a contact with its channels, tags, memberships, audience rows and search
/// entry; its interactions stay, no longer linked to anyone.
pub fn delete_contact(conn: &mut DbConnection, id: i64) -> QueryResult<bool> {
    crate::db::write_transaction(conn, |conn| {
        diesel::delete(contact_channels::table.filter(contact_channels::contact_id.eq(id)))
            .execute(conn)?;
        diesel::delete(contact_tags::table.filter(contact_tags::contact_id.eq(id)))
            .execute(conn)?;
        diesel::delete(contact_segments::table.filter(contact_segments::contact_id.eq(id)))
            .execute(conn)?;
        diesel::delete(audience_members::table.filter(audience_members::contact_id.eq(id)))
            .execute(conn)?;
        diesel::delete(document_conflicts::table.filter(document_conflicts::contact_id.eq(id)))
            .execute(conn)?;
        diesel::update(document_conflicts::table.filter(document_conflicts::kept_by.eq(id)))
            .set(document_conflicts::kept_by.eq(None::<i64>))
            .execute(conn)?;
        diesel::update(interactions::table.filter(interactions::contact_id.eq(id)))
            .set(interactions::contact_id.eq(None::<i64>))
            .execute(conn)?;
        search::forget_names(conn, &[id])?;
        Ok(diesel::delete(contacts::table.find(id)).execute(conn)? > 0)
    })
}

/// Deletes an audience with its members and rejected rows (its contacts stay).
pub fn delete_audience(conn: &mut DbConnection, id: i64) -> QueryResult<bool> {
    crate::db::write_transaction(conn, |conn| {
        diesel::delete(audience_members::table.filter(audience_members::audience_id.eq(id)))
            .execute(conn)?;
        diesel::delete(audience_row_errors::table.filter(audience_row_errors::audience_id.eq(id)))
            .execute(conn)?;
        search::forget_description(conn, id)?;
        Ok(diesel::delete(audiences::table.find(id)).execute(conn)? > 0)
    })
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Rows pointing at something that is not there, by table (only tables with some).
pub fn orphans(conn: &mut DbConnection) -> QueryResult<Vec<(&'static str, i64)>> {
    let missing_contact = "NOT EXISTS (SELECT 1 FROM contacts c WHERE c.id = t.contact_id)";
    let mut checks: Vec<(&'static str, String)> = vec![
        (
            "contact_channels",
            format!("SELECT COUNT(*) AS n FROM contact_channels t WHERE {missing_contact}"),
        ),
        (
            "contact_tags",
            format!("SELECT COUNT(*) AS n FROM contact_tags t WHERE {missing_contact}"),
        ),
        (
            "contact_segments",
            format!(
                "SELECT COUNT(*) AS n FROM contact_segments t WHERE {missing_contact} \
                 OR NOT EXISTS (SELECT 1 FROM segments s WHERE s.id = t.segment_id)"
            ),
        ),
        (
            "audience_members",
            format!(
                "SELECT COUNT(*) AS n FROM audience_members t WHERE {missing_contact} \
                 OR NOT EXISTS (SELECT 1 FROM audiences a WHERE a.id = t.audience_id)"
            ),
        ),
        (
            "audience_row_errors",
            "SELECT COUNT(*) AS n FROM audience_row_errors t \
             WHERE NOT EXISTS (SELECT 1 FROM audiences a WHERE a.id = t.audience_id)"
                .to_string(),
        ),
    ];
    match conn.backend() {
        Backend::Sqlite => checks.push((
            // The name index: an entry for every named contact, and for no one else.
            "contact_names",
            "SELECT (SELECT COUNT(*) FROM contact_names n WHERE NOT EXISTS \
             (SELECT 1 FROM contacts c WHERE c.id = n.rowid AND c.name_search = n.name)) \
             + (SELECT COUNT(*) FROM contacts c WHERE c.name_search IS NOT NULL \
             AND NOT EXISTS (SELECT 1 FROM contact_names n WHERE n.rowid = c.id)) AS n"
                .to_string(),
        )),
        Backend::Postgres => checks.push((
            // An upload no audience waits for: finished, or still arriving after the time
            // any upload takes (the worker purges those).
            "uploads",
            format!(
                "SELECT COUNT(*) AS n FROM uploads u WHERE (u.complete = 1 OR u.created_at < {}) \
                 AND NOT EXISTS (SELECT 1 FROM audiences a WHERE a.spool_path = 'db:' || u.id) \
                 AND NOT EXISTS (SELECT 1 FROM import_validations v WHERE v.upload = 'db:' || u.id)",
                crate::time::now() - crate::models::upload::STALE_AFTER_SECS
            ),
        )),
    }
    let mut found = Vec::new();
    for (table, sql) in checks {
        let n = diesel::sql_query(sql).get_result::<Count>(conn)?.n;
        if n > 0 {
            found.push((table, n));
        }
    }
    Ok(found)
}
