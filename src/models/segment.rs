//! Segments: named groups of contacts that every import adds to.

use diesel::prelude::*;

use crate::db::DbConnection;
use crate::domain::SegmentName;
use crate::schema::{audiences, contact_segments, segments};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = segments)]
pub struct Segment {
    pub id: i64,
    pub name: String,
    pub name_key: String,
    pub created_by: Option<i64>,
    pub created_at: i64,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = segments)]
pub struct NewSegment<'a> {
    pub name: &'a str,
    pub name_key: &'a str,
    pub created_by: Option<i64>,
    pub created_at: i64,
}

#[derive(Debug, Clone)]
pub struct SegmentWithCounts {
    pub segment: Segment,
    pub contacts: i64,
    pub audiences: i64,
}

impl Segment {
    pub fn list(conn: &mut DbConnection) -> QueryResult<Vec<Segment>> {
        segments::table
            .select(Segment::as_select())
            .order((segments::name_key.asc(), segments::id.asc()))
            .load(conn)
    }

    pub fn list_with_counts(conn: &mut DbConnection) -> QueryResult<Vec<SegmentWithCounts>> {
        let contact_count = contact_segments::table
            .filter(contact_segments::segment_id.eq(segments::id))
            .count()
            .single_value();
        let audience_count = audiences::table
            .filter(audiences::segment_id.eq(segments::id))
            .count()
            .single_value();
        let rows: Vec<(Segment, Option<i64>, Option<i64>)> = segments::table
            .select((Segment::as_select(), contact_count, audience_count))
            .order((segments::name_key.asc(), segments::id.asc()))
            .load(conn)?;
        Ok(rows
            .into_iter()
            .map(|(segment, contacts, audiences)| SegmentWithCounts {
                segment,
                contacts: contacts.unwrap_or(0),
                audiences: audiences.unwrap_or(0),
            })
            .collect())
    }

    pub fn find(conn: &mut DbConnection, id: i64) -> QueryResult<Option<Segment>> {
        segments::table
            .find(id)
            .select(Segment::as_select())
            .first(conn)
            .optional()
    }

    pub fn find_by_name(
        conn: &mut DbConnection,
        name: &SegmentName,
    ) -> QueryResult<Option<Segment>> {
        segments::table
            .filter(segments::name_key.eq(name.key()))
            .select(Segment::as_select())
            .first(conn)
            .optional()
    }
}

impl NewSegment<'_> {
    /// Creates the segment unless one with the same name (ignoring case) exists.
    /// Returns the segment and whether it was created now.
    pub fn insert_if_absent(&self, conn: &mut DbConnection) -> QueryResult<(Segment, bool)> {
        conn.transaction(|conn| {
            let existing = segments::table
                .filter(segments::name_key.eq(self.name_key))
                .select(Segment::as_select())
                .first(conn)
                .optional()?;
            if let Some(segment) = existing {
                return Ok((segment, false));
            }
            let segment = crate::on_backend!(
                conn,
                diesel::insert_into(segments::table)
                    .values(self)
                    .returning(Segment::as_returning())
            )?;
            Ok((segment, true))
        })
    }
}
