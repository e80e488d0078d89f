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
        crate::db::write_transaction(conn, |conn| {
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

/// Why a segment could not be renamed or deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SegmentChangeError {
    NotFound,
    /// Another segment already has the name (ignoring case).
    NameTaken,
    /// Audiences were imported into it: deleting it would orphan their history.
    InUse {
        audiences: i64,
    },
}

impl SegmentWithCounts {
    pub fn find(conn: &mut DbConnection, id: i64) -> QueryResult<Option<SegmentWithCounts>> {
        let Some(segment) = Segment::find(conn, id)? else {
            return Ok(None);
        };
        let contacts = contact_segments::table
            .filter(contact_segments::segment_id.eq(id))
            .count()
            .get_result(conn)?;
        let audiences = audiences::table
            .filter(audiences::segment_id.eq(id))
            .count()
            .get_result(conn)?;
        Ok(Some(SegmentWithCounts {
            segment,
            contacts,
            audiences,
        }))
    }
}

impl Segment {
    /// Renames a segment; returns its old name.
    pub fn rename(
        conn: &mut DbConnection,
        id: i64,
        name: &SegmentName,
    ) -> QueryResult<Result<String, SegmentChangeError>> {
        crate::db::write_transaction(conn, |conn| {
            let Some(segment) = Segment::find(conn, id)? else {
                return Ok(Err(SegmentChangeError::NotFound));
            };
            let taken = segments::table
                .filter(segments::name_key.eq(name.key()))
                .filter(segments::id.ne(id))
                .count()
                .get_result::<i64>(conn)?
                > 0;
            if taken {
                return Ok(Err(SegmentChangeError::NameTaken));
            }
            match diesel::update(segments::table.find(id))
                .set((
                    segments::name.eq(name.as_str()),
                    segments::name_key.eq(name.key()),
                ))
                .execute(conn)
            {
                // A concurrent rename to the same name lost the race on the unique key.
                Err(diesel::result::Error::DatabaseError(
                    diesel::result::DatabaseErrorKind::UniqueViolation,
                    _,
                )) => Ok(Err(SegmentChangeError::NameTaken)),
                Err(e) => Err(e),
                Ok(_) => Ok(Ok(segment.name)),
            }
        })
    }

    /// Deletes a segment no audience uses, with its contact memberships; returns its name
    /// and how many memberships went with it.
    pub fn delete(
        conn: &mut DbConnection,
        id: i64,
    ) -> QueryResult<Result<(String, usize), SegmentChangeError>> {
        crate::db::write_transaction(conn, |conn| {
            let Some(segment) = Segment::find(conn, id)? else {
                return Ok(Err(SegmentChangeError::NotFound));
            };
            let audiences: i64 = audiences::table
                .filter(audiences::segment_id.eq(id))
                .count()
                .get_result(conn)?;
            if audiences > 0 {
                return Ok(Err(SegmentChangeError::InUse { audiences }));
            }
            let removed =
                diesel::delete(contact_segments::table.filter(contact_segments::segment_id.eq(id)))
                    .execute(conn)?;
            diesel::delete(segments::table.find(id)).execute(conn)?;
            Ok(Ok((segment.name, removed)))
        })
    }
}
