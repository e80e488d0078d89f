//! The Não Perturbe list: phones and e-mails that must not receive campaigns.

use diesel::prelude::*;

use crate::db::DbConnection;
use crate::domain::RecordType;
use crate::schema::dnd_entries;

#[derive(Debug, Insertable)]
#[diesel(table_name = dnd_entries)]
// NULL, not DEFAULT, for None: SQLite can then insert a whole batch in one statement.
#[diesel(treat_none_as_default_value = false)]
pub struct NewDndEntry {
    pub kind: &'static str,
    pub value: String,
    pub created_by: Option<i64>,
    pub created_at: i64,
}

impl NewDndEntry {
    pub fn new(kind: RecordType, value: String, created_by: Option<i64>, created_at: i64) -> Self {
        NewDndEntry {
            kind: kind.as_str(),
            value,
            created_by,
            created_at,
        }
    }

    /// Adds the entries not listed yet; returns how many were added.
    pub fn insert_all(conn: &mut DbConnection, entries: &[NewDndEntry]) -> QueryResult<usize> {
        let mut added = 0;
        for chunk in entries.chunks(1_000) {
            added += crate::insert_ignoring_duplicates!(
                conn,
                dnd_entries::table,
                chunk,
                (dnd_entries::kind, dnd_entries::value)
            )?;
        }
        Ok(added)
    }
}
