//! CPF/CNPJs that two contacts shared before documents became unique: the migration left
//! the document on the oldest contact and listed the others here for a person to resolve.

use diesel::prelude::*;

use crate::db::DbConnection;
use crate::schema::{contacts, document_conflicts};

/// One contact that lost a document another contact kept.
#[derive(Debug, Clone, Queryable)]
pub struct DocumentConflict {
    pub id: i64,
    pub contact_id: i64,
    pub document: String,
    pub kept_by: Option<i64>,
    pub found_at: i64,
    pub contact_name: Option<String>,
}

const COLUMNS: (
    document_conflicts::id,
    document_conflicts::contact_id,
    document_conflicts::document,
    document_conflicts::kept_by,
    document_conflicts::found_at,
    contacts::name,
) = (
    document_conflicts::id,
    document_conflicts::contact_id,
    document_conflicts::document,
    document_conflicts::kept_by,
    document_conflicts::found_at,
    contacts::name,
);

impl DocumentConflict {
    /// The ones nobody has resolved yet, oldest first.
    pub fn open(conn: &mut DbConnection) -> QueryResult<Vec<Self>> {
        document_conflicts::table
            .inner_join(contacts::table.on(contacts::id.eq(document_conflicts::contact_id)))
            .filter(document_conflicts::resolved_at.is_null())
            .order(document_conflicts::id.asc())
            .select(COLUMNS)
            .load(conn)
    }

    pub fn open_count(conn: &mut DbConnection) -> QueryResult<i64> {
        document_conflicts::table
            .filter(document_conflicts::resolved_at.is_null())
            .count()
            .get_result(conn)
    }

    /// The unresolved ones a contact is part of, on either side.
    pub fn of_contact(conn: &mut DbConnection, contact_id: i64) -> QueryResult<Vec<Self>> {
        document_conflicts::table
            .inner_join(contacts::table.on(contacts::id.eq(document_conflicts::contact_id)))
            .filter(document_conflicts::resolved_at.is_null())
            .filter(
                document_conflicts::contact_id
                    .eq(contact_id)
                    .or(document_conflicts::kept_by.eq(contact_id)),
            )
            .order(document_conflicts::id.asc())
            .select(COLUMNS)
            .load(conn)
    }

    /// Marks one resolved; false when it was not open.
    pub fn resolve(conn: &mut DbConnection, id: i64, by: i64, now: i64) -> QueryResult<bool> {
        diesel::update(
            document_conflicts::table
                .filter(document_conflicts::id.eq(id))
                .filter(document_conflicts::resolved_at.is_null()),
        )
        .set((
            document_conflicts::resolved_at.eq(Some(now)),
            document_conflicts::resolved_by.eq(Some(by)),
        ))
        .execute(conn)
        .map(|n| n == 1)
    }
}
