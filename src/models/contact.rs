//! Contacts and their profile: channels, tags and segments in one shape, the one the
//! export and the API speak.

use std::collections::HashMap;

use diesel::prelude::*;
use serde::Serialize;

use crate::db::DbConnection;
use crate::schema::{contact_channels, contact_segments, contact_tags, contacts, segments};

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ChannelView {
    pub kind: String,
    pub value: String,
}

/// One contact as the export prints it; absent values are `null`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ContactProfile {
    pub id: i64,
    pub name: Option<String>,
    pub document: Option<String>,
    pub customer_code: Option<String>,
    pub priority: String,
    pub channels: Vec<ChannelView>,
    pub tags: Vec<String>,
    pub segments: Vec<String>,
}

type ContactRow = (i64, Option<String>, Option<String>, Option<String>, String);
type ContactColumns = (
    diesel::sql_types::BigInt,
    diesel::sql_types::Nullable<diesel::sql_types::Text>,
    diesel::sql_types::Nullable<diesel::sql_types::Text>,
    diesel::sql_types::Nullable<diesel::sql_types::Text>,
    diesel::sql_types::Text,
);

impl ContactProfile {
    fn rows() -> contacts::BoxedQuery<'static, crate::db::MultiBackend, ContactColumns> {
        contacts::table
            .select((
                contacts::id,
                contacts::name,
                contacts::document,
                contacts::customer_code,
                contacts::priority,
            ))
            .into_boxed()
    }

    /// Up to `limit` contacts with ids above `after`, in id order.
    pub fn page_after(
        conn: &mut DbConnection,
        after: i64,
        limit: i64,
    ) -> QueryResult<Vec<ContactProfile>> {
        let rows: Vec<ContactRow> = Self::rows()
            .filter(contacts::id.gt(after))
            .order(contacts::id.asc())
            .limit(limit)
            .load(conn)?;
        Self::complete(conn, rows)
    }

    pub fn find(conn: &mut DbConnection, id: i64) -> QueryResult<Option<ContactProfile>> {
        let rows: Vec<ContactRow> = Self::rows().filter(contacts::id.eq(id)).load(conn)?;
        Ok(Self::complete(conn, rows)?.pop())
    }

    fn complete(
        conn: &mut DbConnection,
        rows: Vec<ContactRow>,
    ) -> QueryResult<Vec<ContactProfile>> {
        let ids: Vec<i64> = rows.iter().map(|r| r.0).collect();
        let mut channels: HashMap<i64, Vec<ChannelView>> = HashMap::new();
        for (id, kind, value) in contact_channels::table
            .filter(contact_channels::contact_id.eq_any(&ids))
            .order((contact_channels::contact_id, contact_channels::id))
            .select((
                contact_channels::contact_id,
                contact_channels::kind,
                contact_channels::value,
            ))
            .load::<(i64, String, String)>(conn)?
        {
            channels
                .entry(id)
                .or_default()
                .push(ChannelView { kind, value });
        }
        let mut tags: HashMap<i64, Vec<String>> = HashMap::new();
        for (id, tag) in contact_tags::table
            .filter(contact_tags::contact_id.eq_any(&ids))
            .order((contact_tags::contact_id, contact_tags::tag))
            .select((contact_tags::contact_id, contact_tags::tag))
            .load::<(i64, String)>(conn)?
        {
            tags.entry(id).or_default().push(tag);
        }
        let mut segment_names: HashMap<i64, Vec<String>> = HashMap::new();
        for (id, name) in contact_segments::table
            .inner_join(segments::table)
            .filter(contact_segments::contact_id.eq_any(&ids))
            .order((contact_segments::contact_id, segments::name_key))
            .select((contact_segments::contact_id, segments::name))
            .load::<(i64, String)>(conn)?
        {
            segment_names.entry(id).or_default().push(name);
        }
        Ok(rows
            .into_iter()
            .map(
                |(id, name, document, customer_code, priority)| ContactProfile {
                    id,
                    name,
                    document,
                    customer_code,
                    priority,
                    channels: channels.remove(&id).unwrap_or_default(),
                    tags: tags.remove(&id).unwrap_or_default(),
                    segments: segment_names.remove(&id).unwrap_or_default(),
                },
            )
            .collect())
    }
}
