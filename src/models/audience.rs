//! Audiences (públicos): one per imported file.

use diesel::prelude::*;

use crate::db::DbConnection;
use crate::schema::{audiences, segments, users};

/// One line of the audience list, with the names its ids point to.
#[derive(Debug, Clone, Queryable)]
pub struct AudienceListItem {
    pub id: i64,
    pub description: String,
    pub file_name: String,
    pub legal_basis: String,
    pub status: String,
    pub imported: i64,
    pub updated: i64,
    pub discarded: i64,
    pub rejected: i64,
    pub created_at: i64,
    pub segment_name: String,
    pub created_by_name: String,
}

impl AudienceListItem {
    /// Newest first.
    pub fn page(conn: &mut DbConnection, offset: i64, limit: i64) -> QueryResult<Vec<Self>> {
        audiences::table
            .inner_join(segments::table)
            .inner_join(users::table)
            .select((
                audiences::id,
                audiences::description,
                audiences::file_name,
                audiences::legal_basis,
                audiences::status,
                audiences::imported,
                audiences::updated,
                audiences::discarded,
                audiences::rejected,
                audiences::created_at,
                segments::name,
                users::name,
            ))
            .order((audiences::created_at.desc(), audiences::id.desc()))
            .offset(offset)
            .limit(limit)
            .load(conn)
    }

    pub fn count(conn: &mut DbConnection) -> QueryResult<i64> {
        audiences::table.count().get_result(conn)
    }
}
