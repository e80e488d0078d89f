//! Contacts and their profile: channels, tags and segments in one shape, the one the
//! export and the API speak.

use std::collections::HashMap;

use diesel::prelude::*;
use serde::Serialize;

use crate::db::{Backend, DbConnection};
use crate::models::search;
use crate::schema::{contact_channels, contact_segments, contact_tags, contacts, segments};

// What the import writes (in bulk: COPY on PostgreSQL, multi-row INSERTs on SQLite).

#[derive(Debug, Insertable)]
#[diesel(table_name = contacts)]
// NULL, not DEFAULT, for None: SQLite can then insert a whole batch in one statement.
#[diesel(treat_none_as_default_value = false)]
pub struct NewContact {
    pub id: i64,
    pub name: Option<String>,
    pub name_search: Option<String>,
    pub document: Option<String>,
    pub customer_code: Option<String>,
    pub priority: &'static str,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = contact_channels)]
// NULL, not DEFAULT, for None: SQLite can then insert a whole batch in one statement.
#[diesel(treat_none_as_default_value = false)]
pub struct NewChannel {
    pub contact_id: i64,
    pub kind: &'static str,
    pub value: String,
    pub created_at: i64,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = contact_tags)]
// NULL, not DEFAULT, for None: SQLite can then insert a whole batch in one statement.
#[diesel(treat_none_as_default_value = false)]
pub struct NewTag {
    pub contact_id: i64,
    pub tag: String,
    pub created_at: i64,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = contact_segments)]
// NULL, not DEFAULT, for None: SQLite can then insert a whole batch in one statement.
#[diesel(treat_none_as_default_value = false)]
pub struct NewMembership {
    pub contact_id: i64,
    pub segment_id: i64,
    pub created_at: i64,
}

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

/// What the Contatos search box and filters ask for.
#[derive(Debug, Clone, Default)]
pub struct ContactSearch {
    pub q: String,
    pub segment_id: Option<i64>,
    pub priority: Option<crate::domain::Priority>,
}

type ContactFilter = Box<
    dyn BoxableExpression<
            contacts::table,
            crate::db::MultiBackend,
            SqlType = diesel::sql_types::Bool,
        >,
>;

type IdQuery = contacts::BoxedQuery<'static, crate::db::MultiBackend, diesel::sql_types::BigInt>;

/// Contacts whose folded name contains every one of `words`.
fn with_name_words<'a>(mut query: IdQuery, words: impl Iterator<Item = &'a String>) -> IdQuery {
    for word in words {
        query = query.filter(
            contacts::name_search
                .assume_not_null()
                .like(search::like_pattern(word))
                .escape('\\'),
        );
    }
    query
}

impl ContactSearch {
    /// Words of a name a search tries, at most: past a few words a search is not a name.
    const MAX_NAME_WORDS: usize = 6;
    /// The newest contacts read for a common word before asking the index.
    const NEWEST_PROBED: i64 = 2_000;

    /// Contact ids passing the segment and priority filters.
    fn filtered_ids(&self) -> IdQuery {
        let mut query = contacts::table.select(contacts::id).into_boxed();
        if let Some(segment_id) = self.segment_id {
            query = query.filter(
                contacts::id.eq_any(
                    contact_segments::table
                        .filter(contact_segments::segment_id.eq(segment_id))
                        .select(contact_segments::contact_id),
                ),
            );
        }
        if let Some(priority) = self.priority {
            query = query.filter(contacts::priority.eq(priority.as_str()));
        }
        query
    }

    fn has_filters(&self) -> bool {
        self.segment_id.is_some() || self.priority.is_some()
    }

    /// The exact keys — the channel (any format the import accepts), the CPF/CNPJ with
    /// or without punctuation, the customer code, a tag — gathered by one UNION of index
    /// lookups.
    fn key_filter(backend: Backend, q: &str) -> ContactFilter {
        let channel = crate::domain::parse_channel(q);
        let document = match crate::domain::Document::parse(q).ok() {
            Some(d) => d.into_inner(),
            None => {
                let bare: String = q
                    .chars()
                    .filter(char::is_ascii_alphanumeric)
                    .map(|c| c.to_ascii_uppercase())
                    .collect();
                if bare.len() >= 11 && bare.chars().any(|c| c.is_ascii_digit()) {
                    bare
                } else {
                    String::new()
                }
            }
        };
        let (kind, value) = channel
            .map(|(kind, value)| (kind.as_str(), value))
            .unwrap_or(("", String::new()));
        use diesel::sql_types::Text;
        Box::new(
            // PostgreSQL evaluates ARRAY(…) once, as an init plan: the few ids it finds
            // are then fetched by key, whatever the planner thinks of the tables' sizes
            // (right after a large import it would otherwise walk every contact).
            diesel::dsl::sql::<diesel::sql_types::Bool>(match backend {
                Backend::Postgres => {
                    "contacts.id = ANY(ARRAY(SELECT contact_id FROM contact_tags WHERE lower(tag) = lower("
                }
                Backend::Sqlite => {
                    "contacts.id IN (SELECT contact_id FROM contact_tags WHERE lower(tag) = lower("
                }
            })
            .bind::<Text, _>(q.to_string())
            .sql(") UNION SELECT id FROM contacts WHERE lower(customer_code) = lower(")
            .bind::<Text, _>(q.to_string())
            .sql(")")
            .sql(" UNION SELECT contact_id FROM contact_channels WHERE kind = ")
            .bind::<Text, _>(kind)
            .sql(" AND value = ")
            .bind::<Text, _>(value)
            .sql(" UNION SELECT id FROM contacts WHERE document = ")
            .bind::<Text, _>(document)
            .sql(match backend {
                Backend::Postgres => "))",
                Backend::Sqlite => ")",
            }),
        )
    }

    /// The newest `want` contacts (after the filters) with every word in their name, on
    /// the name index (`models::search`).
    fn name_matches(
        &self,
        conn: &mut DbConnection,
        words: &[String],
        want: i64,
    ) -> QueryResult<Vec<i64>> {
        // A word many share (a common first name, "cliente"): the newest contacts hold
        // enough matches, found by reading a few of them. If they hold `want`, those are
        // the newest `want` of all.
        let newest = self
            .filtered_ids()
            .filter(diesel::dsl::sql::<diesel::sql_types::Bool>(&format!(
                "contacts.id >= COALESCE((SELECT id FROM contacts ORDER BY id DESC \
                 LIMIT 1 OFFSET {}), 0)",
                Self::NEWEST_PROBED - 1
            )));
        let found: Vec<i64> = with_name_words(newest, words.iter())
            .order(contacts::id.desc())
            .limit(want)
            .load(conn)?;
        if found.len() as i64 >= want {
            return Ok(found);
        }
        // Rarer words: the index.
        if conn.backend() == Backend::Postgres {
            // Gathered through the trigram index first (an init plan the planner cannot
            // turn into a walk over every contact, newest first), then ordered.
            // The patterns are written as escape-string literals (every backslash and
            // quote doubled; control characters never get this far), since the number
            // of words varies.
            let conditions: String = words
                .iter()
                .map(|word| {
                    let literal = search::like_pattern(word)
                        .replace('\\', "\\\\")
                        .replace('\'', "''");
                    format!(" AND m.name_search LIKE E'{literal}'")
                })
                .collect();
            return self
                .filtered_ids()
                .filter(diesel::dsl::sql::<diesel::sql_types::Bool>(&format!(
                    "contacts.id = ANY(ARRAY(SELECT m.id FROM contacts m WHERE TRUE{conditions}))"
                )))
                .order(contacts::id.desc())
                .limit(want)
                .load(conn);
        }
        // SQLite: the FTS query answers the long words; LIKE checks the short ones.
        let short = words.iter().filter(|w| !search::is_indexed(w));
        let Some(fts) = search::fts_query(words) else {
            return with_name_words(self.filtered_ids(), short)
                .order(contacts::id.desc())
                .limit(want)
                .load(conn);
        };
        if search::all_indexed(words) && !self.has_filters() {
            // The index alone, newest first: it stops once it has enough.
            #[derive(QueryableByName)]
            struct Hit {
                #[diesel(sql_type = diesel::sql_types::BigInt)]
                rowid: i64,
            }
            return Ok(diesel::sql_query(
                "SELECT rowid FROM contact_names WHERE contact_names MATCH ? \
                 ORDER BY rowid DESC LIMIT ?",
            )
            .bind::<diesel::sql_types::Text, _>(fts)
            .bind::<diesel::sql_types::BigInt, _>(want)
            .load::<Hit>(conn)?
            .into_iter()
            .map(|h| h.rowid)
            .collect());
        }
        let indexed = self.filtered_ids().filter(
            diesel::dsl::sql::<diesel::sql_types::Bool>(
                "contacts.id IN (SELECT rowid FROM contact_names WHERE contact_names MATCH ",
            )
            .bind::<diesel::sql_types::Text, _>(fts)
            .sql(")"),
        );
        with_name_words(indexed, short)
            .order(contacts::id.desc())
            .limit(want)
            .load(conn)
    }

    /// One page of matching contacts, newest first, and whether more follow. Any key may
    /// match, or every word of the name (ignoring accents and case, anywhere in it).
    pub fn page(
        &self,
        conn: &mut DbConnection,
        offset: i64,
        limit: i64,
    ) -> QueryResult<(Vec<ContactProfile>, bool)> {
        let q = crate::domain::text::collapse_spaces(self.q.trim());
        let want = offset + limit + 1;
        let ids: Vec<i64> = if q.is_empty() {
            self.filtered_ids()
                .order(contacts::id.desc())
                .offset(offset)
                .limit(limit + 1)
                .load(conn)?
        } else {
            let mut ids: Vec<i64> = self
                .filtered_ids()
                .filter(Self::key_filter(conn.backend(), &q))
                .order(contacts::id.desc())
                .limit(want)
                .load(conn)?;
            // A whole phone, e-mail or CPF/CNPJ is never part of a name.
            let exact_key = crate::domain::parse_channel(&q).is_some()
                || crate::domain::Document::parse(&q).is_ok();
            if !exact_key {
                let words = search::words(&q, Self::MAX_NAME_WORDS);
                ids.extend(self.name_matches(conn, &words, want)?);
            }
            ids.sort_unstable_by(|a, b| b.cmp(a));
            ids.dedup();
            ids.into_iter()
                .skip(offset as usize)
                .take(limit as usize + 1)
                .collect()
        };
        let more = ids.len() as i64 > limit;
        let rows: Vec<ContactRow> = ContactProfile::rows()
            .filter(contacts::id.eq_any(&ids[..ids.len().min(limit as usize)]))
            .order(contacts::id.desc())
            .load(conn)?;
        Ok((ContactProfile::complete(conn, rows)?, more))
    }
}

/// One audience a contact came from, with what that row carried.
#[derive(Debug, Clone, Queryable)]
pub struct ContactAudience {
    pub audience_id: i64,
    pub description: String,
    pub created_at: i64,
    pub created_by: Option<String>,
    pub outcome: String,
    pub line: i64,
    pub channel_value: String,
    pub message: Option<String>,
    pub coringa1: Option<String>,
    pub coringa2: Option<String>,
    pub coringa3: Option<String>,
    pub coringa4: Option<String>,
    pub coringa5: Option<String>,
    pub tag: Option<String>,
    pub priority: Option<String>,
}

impl ContactAudience {
    /// The row's filled coringas, in order.
    pub fn coringas(&self) -> Vec<&str> {
        [
            &self.coringa1,
            &self.coringa2,
            &self.coringa3,
            &self.coringa4,
            &self.coringa5,
        ]
        .into_iter()
        .filter_map(|c| c.as_deref())
        .collect()
    }

    pub fn of_contact(conn: &mut DbConnection, contact_id: i64) -> QueryResult<Vec<Self>> {
        use crate::schema::{audience_members as m, audiences, users};
        m::table
            .inner_join(audiences::table.left_join(users::table))
            .filter(m::contact_id.eq(contact_id))
            .order((audiences::created_at.desc(), m::id.desc()))
            .limit(200)
            .select((
                audiences::id,
                audiences::description,
                audiences::created_at,
                users::name.nullable(),
                m::outcome,
                m::line,
                m::channel_value,
                m::message,
                m::coringa1,
                m::coringa2,
                m::coringa3,
                m::coringa4,
                m::coringa5,
                m::tag,
                m::priority,
            ))
            .load(conn)
    }
}

impl ContactProfile {
    /// The contact that has this channel, if anyone does.
    pub fn find_by_channel(
        conn: &mut DbConnection,
        kind: crate::domain::RecordType,
        value: &str,
    ) -> QueryResult<Option<ContactProfile>> {
        let id = contact_channels::table
            .filter(contact_channels::kind.eq(kind.as_str()))
            .filter(contact_channels::value.eq(value))
            .select(contact_channels::contact_id)
            .first::<i64>(conn)
            .optional()?;
        match id {
            Some(id) => Self::find(conn, id),
            None => Ok(None),
        }
    }
}

/// What WhatsApp's delivery receipts taught about a phone — the only writer of
/// `contact_channels.whatsapp`. A receipt older than what is known changes nothing, so
/// receipts replayed or out of order leave the newest verdict. Returns the phones changed.
pub fn set_whatsapp(
    conn: &mut DbConnection,
    phone: &str,
    has_whatsapp: bool,
    at: i64,
) -> QueryResult<usize> {
    diesel::update(
        contact_channels::table
            .filter(contact_channels::kind.eq(crate::domain::RecordType::Telefone.as_str()))
            .filter(contact_channels::value.eq(phone))
            .filter(
                contact_channels::whatsapp_at
                    .is_null()
                    .or(contact_channels::whatsapp_at.le(at)),
            ),
    )
    .set((
        contact_channels::whatsapp.eq(if has_whatsapp { "yes" } else { "no" }),
        contact_channels::whatsapp_at.eq(at),
    ))
    .execute(conn)
}

/// What the phone's owner said about WhatsApp marketing messages (Meta's
/// `user_preferences` webhook, or error 131050) — the only writer of
/// `contact_channels.whatsapp_marketing`. An older word than what is known changes nothing.
pub fn set_whatsapp_marketing(
    conn: &mut DbConnection,
    phone: &str,
    takes_marketing: bool,
    at: i64,
) -> QueryResult<usize> {
    diesel::update(
        contact_channels::table
            .filter(contact_channels::kind.eq(crate::domain::RecordType::Telefone.as_str()))
            .filter(contact_channels::value.eq(phone))
            .filter(
                contact_channels::whatsapp_marketing_at
                    .is_null()
                    .or(contact_channels::whatsapp_marketing_at.le(at)),
            ),
    )
    .set((
        contact_channels::whatsapp_marketing.eq(if takes_marketing { "resume" } else { "stop" }),
        contact_channels::whatsapp_marketing_at.eq(at),
    ))
    .execute(conn)
}

/// A phone's WhatsApp verdict (com or sem WhatsApp, since when) and whether its owner
/// stopped marketing messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WhatsAppKnown {
    pub phone: String,
    /// `None` while no callback has told.
    pub has_whatsapp: Option<bool>,
    pub at: i64,
    /// Since when the owner takes no marketing templates, if they stopped them.
    pub marketing_stopped_at: Option<i64>,
}

impl WhatsAppKnown {
    pub fn label(&self) -> Option<&'static str> {
        self.has_whatsapp
            .map(|has| if has { "com WhatsApp" } else { "sem WhatsApp" })
    }

    /// A contact's phones with a verdict or a marketing preference.
    pub fn of_contact(conn: &mut DbConnection, contact: i64) -> QueryResult<Vec<WhatsAppKnown>> {
        type Row = (
            String,
            Option<String>,
            Option<i64>,
            Option<String>,
            Option<i64>,
        );
        let rows: Vec<Row> = contact_channels::table
            .filter(contact_channels::contact_id.eq(contact))
            .filter(
                contact_channels::whatsapp
                    .is_not_null()
                    .or(contact_channels::whatsapp_marketing.is_not_null()),
            )
            .order(contact_channels::id)
            .select((
                contact_channels::value,
                contact_channels::whatsapp,
                contact_channels::whatsapp_at,
                contact_channels::whatsapp_marketing,
                contact_channels::whatsapp_marketing_at,
            ))
            .load(conn)?;
        Ok(rows
            .into_iter()
            .map(|(phone, w, at, marketing, marketing_at)| WhatsAppKnown {
                phone,
                has_whatsapp: w.map(|w| w == "yes"),
                at: at.unwrap_or_default(),
                marketing_stopped_at: (marketing.as_deref() == Some("stop"))
                    .then(|| marketing_at.unwrap_or_default()),
            })
            .collect())
    }

    /// An audience's phones by verdict: (com WhatsApp, sem WhatsApp, not known).
    pub fn split_of_audience(
        conn: &mut DbConnection,
        audience: i64,
    ) -> QueryResult<(i64, i64, i64)> {
        #[derive(QueryableByName)]
        struct Split {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            yes: i64,
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            no: i64,
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            unknown: i64,
        }
        let kind = crate::domain::RecordType::Telefone.as_str();
        let s: Split = diesel::sql_query(format!(
            "SELECT COALESCE(SUM(CASE WHEN ch.whatsapp = 'yes' THEN 1 ELSE 0 END), 0) AS yes, \
             COALESCE(SUM(CASE WHEN ch.whatsapp = 'no' THEN 1 ELSE 0 END), 0) AS no, \
             COALESCE(SUM(CASE WHEN ch.whatsapp IS NULL THEN 1 ELSE 0 END), 0) AS unknown \
             FROM (SELECT DISTINCT channel_value FROM audience_members \
                   WHERE audience_id = {audience} AND channel_kind = '{kind}') m \
             JOIN contact_channels ch ON ch.kind = '{kind}' AND ch.value = m.channel_value"
        ))
        .get_result(conn)?;
        Ok((s.yes, s.no, s.unknown))
    }
}
