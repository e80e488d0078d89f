//! The import's batched writes: a batch of rows becomes a handful of set lookups and
//! multi-row statements, never a round trip per row.

use std::collections::{HashMap, HashSet};

use diesel::prelude::*;
use diesel::sql_types::BigInt;

use super::{Counts, ImportOptions};
use crate::db::{Backend, DbConnection};
use crate::domain::text::fold;
use crate::domain::{Priority, RecordType};
use crate::layout::{LayoutRow, RejectedRow, RowOutcome};
use crate::models::{NewAudienceMember, NewAudienceRowError};
use crate::schema::{
    audience_members, audience_row_errors, contact_channels, contact_segments, contact_tags,
    contacts, dnd_entries, interactions,
};
use crate::time;

/// Rows per batch: large enough to amortise round trips, small enough for SQLite's and
/// PostgreSQL's limits on bound parameters in one statement.
pub const BATCH_ROWS: usize = 1_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum ContactRef {
    Existing(i64),
    New(usize),
}

/// What a contact looks like now, to tell whether a row brings anything new.
#[derive(Debug, Clone, Queryable)]
struct StoredContact {
    id: i64,
    name: Option<String>,
    document: Option<String>,
    customer_code: Option<String>,
    priority: String,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = contacts)]
// NULL, not DEFAULT, for None: SQLite can then insert a whole batch in one statement.
#[diesel(treat_none_as_default_value = false)]
struct NewContact {
    id: i64,
    name: Option<String>,
    name_search: Option<String>,
    document: Option<String>,
    customer_code: Option<String>,
    priority: &'static str,
    created_at: i64,
    updated_at: i64,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = contact_channels)]
// NULL, not DEFAULT, for None: SQLite can then insert a whole batch in one statement.
#[diesel(treat_none_as_default_value = false)]
struct NewChannel {
    contact_id: i64,
    kind: &'static str,
    value: String,
    created_at: i64,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = contact_tags)]
// NULL, not DEFAULT, for None: SQLite can then insert a whole batch in one statement.
#[diesel(treat_none_as_default_value = false)]
struct NewTag {
    contact_id: i64,
    tag: String,
    created_at: i64,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = contact_segments)]
// NULL, not DEFAULT, for None: SQLite can then insert a whole batch in one statement.
#[diesel(treat_none_as_default_value = false)]
struct NewMembership {
    contact_id: i64,
    segment_id: i64,
    created_at: i64,
}

#[derive(QueryableByName)]
struct IdRow {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

/// The values a set of rows gives one contact: later non-empty cells win.
#[derive(Debug, Default, Clone)]
struct Merged {
    name: Option<String>,
    document: Option<String>,
    customer_code: Option<String>,
    priority: Option<Priority>,
}

impl Merged {
    fn absorb(&mut self, row: &LayoutRow) {
        if let Some(v) = &row.name {
            self.name = Some(v.clone());
        }
        if let Some(v) = &row.document {
            self.document = Some(v.as_str().to_string());
        }
        if let Some(v) = &row.customer_code {
            self.customer_code = Some(v.clone());
        }
        if let Some(p) = row.priority {
            self.priority = Some(p);
        }
    }

    /// Whether applying these values would change the stored contact.
    fn changes(&self, stored: &StoredContact) -> bool {
        let differs = |new: &Option<String>, old: &Option<String>| {
            new.as_ref().is_some_and(|n| old.as_ref() != Some(n))
        };
        differs(&self.name, &stored.name)
            || differs(&self.document, &stored.document)
            || differs(&self.customer_code, &stored.customer_code)
            || self.priority.is_some_and(|p| p.as_str() != stored.priority)
    }
}

/// 128 bits of two keyed hashes: a false "duplicate" would drop a row, so 64 bits (one
/// chance in ~10^7 over a million rows) is not enough; 128 makes it ~10^-26.
fn fingerprint(kind: RecordType, value: &str) -> u128 {
    use std::hash::{Hash, Hasher};
    let half = |salt: u8| {
        let mut h = std::hash::DefaultHasher::new();
        salt.hash(&mut h);
        kind.as_str().hash(&mut h);
        value.hash(&mut h);
        h.finish()
    };
    (u128::from(half(1)) << 64) | u128::from(half(2))
}

/// The channel values of one kind among the rows, for a set lookup.
fn channel_values(rows: &[LayoutRow], kind: RecordType) -> Vec<&str> {
    rows.iter()
        .filter(|r| r.channel.kind() == kind)
        .map(|r| r.channel.value())
        .collect()
}

fn name_search(name: &Option<String>) -> Option<String> {
    name.as_ref().map(|n| fold(n).to_lowercase())
}

/// Cells as they were, for the rejected-rows file.
fn raw_row(row: &RejectedRow) -> String {
    serde_json::to_string(&row.cells).unwrap_or_default()
}

pub(crate) struct Importer {
    audience_id: i64,
    segment_id: i64,
    options: ImportOptions,
    backend: Backend,
    pub counts: Counts,
    pub done: u64,
    /// Fingerprints of the channels met so far in this file, to spot repeats without
    /// keeping a million strings around.
    seen_channels: HashSet<u128>,
    created: HashSet<i64>,
    updated: HashSet<i64>,
    tags_cleared: HashSet<i64>,
    segment_kept: HashSet<i64>,
}

impl Importer {
    pub fn new(
        audience_id: i64,
        segment_id: i64,
        options: ImportOptions,
        backend: Backend,
    ) -> Self {
        Importer {
            audience_id,
            segment_id,
            options,
            backend,
            counts: Counts::default(),
            done: 0,
            seen_channels: HashSet::new(),
            created: HashSet::new(),
            updated: HashSet::new(),
            tags_cleared: HashSet::new(),
            segment_kept: HashSet::new(),
        }
    }

    pub fn flush(
        &mut self,
        conn: &mut DbConnection,
        batch: &mut Vec<RowOutcome>,
    ) -> QueryResult<()> {
        if batch.is_empty() {
            return Ok(());
        }
        let now = time::now();
        self.done += batch.len() as u64;
        self.counts.rows += batch.len() as u64;
        let mut rows: Vec<LayoutRow> = Vec::with_capacity(batch.len());
        let mut rejected: Vec<NewAudienceRowError> = Vec::new();
        for outcome in batch.drain(..) {
            match outcome {
                RowOutcome::Valid(row) => {
                    if self
                        .seen_channels
                        .insert(fingerprint(row.channel.kind(), row.channel.value()))
                    {
                        rows.push(row);
                    } else {
                        self.counts.duplicate_rows += 1;
                    }
                }
                RowOutcome::Rejected(row) => {
                    let first = &row.errors[0];
                    rejected.push(NewAudienceRowError {
                        audience_id: self.audience_id,
                        level: "row",
                        line: Some(row.line as i64),
                        column_name: Some(first.column),
                        code: first.code.as_str(),
                        message: row.message(),
                        value: Some(first.value.clone()),
                        raw_row: Some(raw_row(&row)),
                    });
                }
            }
        }
        self.counts.rejected += rejected.len() as u64;
        if !rejected.is_empty() {
            crate::execute_on_backend!(
                conn,
                diesel::insert_into(audience_row_errors::table).values(&rejected)
            )?;
        }
        if self.options.dnd && !rows.is_empty() {
            let mut listed: HashSet<(RecordType, String)> = HashSet::new();
            for kind in [RecordType::Telefone, RecordType::Email] {
                let values = channel_values(&rows, kind);
                if values.is_empty() {
                    continue;
                }
                for value in dnd_entries::table
                    .filter(dnd_entries::kind.eq(kind.as_str()))
                    .filter(dnd_entries::value.eq_any(&values))
                    .select(dnd_entries::value)
                    .load::<String>(conn)?
                {
                    listed.insert((kind, value));
                }
            }
            let before = rows.len();
            rows.retain(|r| !listed.contains(&(r.channel.kind(), r.channel.value().to_string())));
            self.counts.dnd_skipped += (before - rows.len()) as u64;
        }
        if rows.is_empty() {
            return Ok(());
        }

        // Who each row is: its channel, else its CPF/CNPJ, else (without one) its code.
        // Contacts that earlier batches created are found too: same transaction.
        let mut known_channels: HashMap<(String, String), i64> = HashMap::new();
        for kind in [RecordType::Telefone, RecordType::Email] {
            // Kind and value together: the unique index answers it.
            let values = channel_values(&rows, kind);
            if values.is_empty() {
                continue;
            }
            for (value, id) in contact_channels::table
                .filter(contact_channels::kind.eq(kind.as_str()))
                .filter(contact_channels::value.eq_any(&values))
                .select((contact_channels::value, contact_channels::contact_id))
                .load::<(String, i64)>(conn)?
            {
                known_channels.insert((kind.as_str().to_string(), value), id);
            }
        }
        let documents: Vec<&str> = rows
            .iter()
            .filter_map(|r| r.document.as_ref().map(|d| d.as_str()))
            .collect();
        let mut db_documents: HashMap<String, i64> = HashMap::new();
        if !documents.is_empty() {
            for (doc, id) in contacts::table
                .filter(contacts::document.eq_any(&documents))
                .select((contacts::document.assume_not_null(), contacts::id))
                .order(contacts::id.asc())
                .load::<(String, i64)>(conn)?
            {
                db_documents.entry(doc).or_insert(id);
            }
        }
        let codes: Vec<&str> = rows
            .iter()
            .filter(|r| r.document.is_none())
            .filter_map(|r| r.customer_code.as_deref())
            .collect();
        let mut db_codes: HashMap<String, i64> = HashMap::new();
        if !codes.is_empty() {
            for (code, id) in contacts::table
                .filter(contacts::customer_code.eq_any(&codes))
                .select((contacts::customer_code.assume_not_null(), contacts::id))
                .order(contacts::id.asc())
                .load::<(String, i64)>(conn)?
            {
                db_codes.entry(code).or_insert(id);
            }
        }

        let mut local_document: HashMap<String, ContactRef> = HashMap::new();
        let mut local_code: HashMap<String, ContactRef> = HashMap::new();
        let mut refs: Vec<ContactRef> = Vec::with_capacity(rows.len());
        let mut new_count = 0usize;
        for row in &rows {
            let channel_key = (
                row.channel.kind().as_str().to_string(),
                row.channel.value().to_string(),
            );
            let document = row.document.as_ref().map(|d| d.as_str());
            let code = row.customer_code.as_deref();
            let found = known_channels
                .get(&channel_key)
                .map(|id| ContactRef::Existing(*id))
                .or_else(|| {
                    let d = document?;
                    local_document
                        .get(d)
                        .copied()
                        .or_else(|| db_documents.get(d).map(|id| ContactRef::Existing(*id)))
                })
                .or_else(|| {
                    if document.is_some() {
                        return None;
                    }
                    let c = code?;
                    local_code
                        .get(c)
                        .copied()
                        .or_else(|| db_codes.get(c).map(|id| ContactRef::Existing(*id)))
                });
            let contact = found.unwrap_or_else(|| {
                new_count += 1;
                ContactRef::New(new_count - 1)
            });
            if let Some(d) = document {
                local_document.entry(d.to_string()).or_insert(contact);
            }
            if let Some(c) = code {
                local_code.entry(c.to_string()).or_insert(contact);
            }
            refs.push(contact);
        }

        // Stored contacts this batch touches, as they are now.
        let existing_ids: Vec<i64> = refs
            .iter()
            .filter_map(|r| match r {
                ContactRef::Existing(id) => Some(*id),
                ContactRef::New(_) => None,
            })
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        let stored: HashMap<i64, StoredContact> = if existing_ids.is_empty() {
            HashMap::new()
        } else {
            contacts::table
                .filter(contacts::id.eq_any(&existing_ids))
                .select((
                    contacts::id,
                    contacts::name,
                    contacts::document,
                    contacts::customer_code,
                    contacts::priority,
                ))
                .load::<StoredContact>(conn)?
                .into_iter()
                .map(|c| (c.id, c))
                .collect()
        };

        // Verify: a phone that has talked to us before only stays if it brings news.
        if self.options.verify {
            let phones: Vec<&str> = rows
                .iter()
                .filter(|r| r.channel.kind() == RecordType::Telefone)
                .map(|r| r.channel.value())
                .collect();
            let talked: HashSet<String> = if phones.is_empty() {
                HashSet::new()
            } else {
                interactions::table
                    .filter(interactions::channel_kind.eq(RecordType::Telefone.as_str()))
                    .filter(interactions::channel_value.eq_any(&phones))
                    .select(interactions::channel_value)
                    .distinct()
                    .load::<String>(conn)?
                    .into_iter()
                    .collect()
            };
            if !talked.is_empty() {
                let tags: HashSet<(i64, String)> = contact_tags::table
                    .filter(contact_tags::contact_id.eq_any(&existing_ids))
                    .select((contact_tags::contact_id, contact_tags::tag))
                    .load(conn)?
                    .into_iter()
                    .collect();
                let mut kept_rows = Vec::with_capacity(rows.len());
                let mut kept_refs = Vec::with_capacity(refs.len());
                for (row, contact) in rows.into_iter().zip(refs) {
                    let brings_news = match contact {
                        _ if !talked.contains(row.channel.value()) => true,
                        ContactRef::New(_) => true,
                        ContactRef::Existing(id) => {
                            let mut merged = Merged::default();
                            merged.absorb(&row);
                            let new_tag = row
                                .tag
                                .as_ref()
                                .is_some_and(|t| !tags.contains(&(id, t.clone())));
                            let new_channel = !known_channels.contains_key(&(
                                row.channel.kind().as_str().to_string(),
                                row.channel.value().to_string(),
                            ));
                            stored.get(&id).is_none_or(|s| merged.changes(s))
                                || new_tag
                                || new_channel
                        }
                    };
                    if brings_news {
                        kept_rows.push(row);
                        kept_refs.push(contact);
                    } else {
                        self.counts.verify_discarded += 1;
                    }
                }
                rows = kept_rows;
                refs = kept_refs;
            }
        }
        if rows.is_empty() {
            return Ok(());
        }

        // New contacts get their ids first, so every later statement can use them.
        let new_ids = self.allocate_contact_ids(conn, new_count)?;
        let id_of = |r: ContactRef| match r {
            ContactRef::Existing(id) => id,
            ContactRef::New(i) => new_ids[i],
        };
        let mut merged_new: Vec<Merged> = vec![Merged::default(); new_count];
        let mut merged_existing: HashMap<i64, Merged> = HashMap::new();
        for (row, contact) in rows.iter().zip(&refs) {
            match contact {
                ContactRef::New(i) => merged_new[*i].absorb(row),
                ContactRef::Existing(id) => merged_existing.entry(*id).or_default().absorb(row),
            }
        }
        if new_count > 0 {
            let new_contacts: Vec<NewContact> = merged_new
                .into_iter()
                .zip(&new_ids)
                .map(|(m, id)| NewContact {
                    id: *id,
                    name_search: name_search(&m.name),
                    name: m.name,
                    document: m.document,
                    customer_code: m.customer_code,
                    priority: m.priority.unwrap_or(Priority::Baixa).as_str(),
                    created_at: now,
                    updated_at: now,
                })
                .collect();
            crate::insert_all!(conn, contacts::table, &new_contacts[..]);
            self.counts.contacts_created += new_count as u64;
            self.created.extend(new_ids.iter().copied());
        }
        for (id, merged) in &merged_existing {
            let Some(current) = stored.get(id) else {
                continue;
            };
            if !merged.changes(current) {
                continue;
            }
            let name = merged.name.clone().or_else(|| current.name.clone());
            diesel::update(contacts::table.find(*id))
                .set((
                    contacts::name_search.eq(name_search(&name)),
                    contacts::name.eq(name),
                    contacts::document
                        .eq(merged.document.clone().or_else(|| current.document.clone())),
                    contacts::customer_code.eq(merged
                        .customer_code
                        .clone()
                        .or_else(|| current.customer_code.clone())),
                    contacts::priority.eq(merged
                        .priority
                        .map_or_else(|| current.priority.clone(), |p| p.as_str().to_string())),
                    contacts::updated_at.eq(now),
                ))
                .execute(conn)?;
            self.mark_updated(*id);
        }

        // Channels the base does not have yet.
        let new_channels: Vec<NewChannel> = rows
            .iter()
            .zip(&refs)
            .filter(|(row, _)| {
                !known_channels.contains_key(&(
                    row.channel.kind().as_str().to_string(),
                    row.channel.value().to_string(),
                ))
            })
            .map(|(row, contact)| NewChannel {
                contact_id: id_of(*contact),
                kind: row.channel.kind().as_str(),
                value: row.channel.value().to_string(),
                created_at: now,
            })
            .collect();
        for channel in &new_channels {
            if !self.created.contains(&channel.contact_id) {
                self.mark_updated(channel.contact_id);
            }
        }
        if !new_channels.is_empty() {
            crate::insert_all!(conn, contact_channels::table, &new_channels[..]);
        }

        let touched: Vec<i64> = {
            let mut seen = HashSet::new();
            refs.iter()
                .map(|r| id_of(*r))
                .filter(|id| seen.insert(*id))
                .collect()
        };

        // Tags: optionally forget the old ones (once per contact per import), then add.
        if self.options.clear_tags {
            let to_clear: Vec<i64> = touched
                .iter()
                .copied()
                .filter(|id| !self.created.contains(id) && self.tags_cleared.insert(*id))
                .collect();
            if !to_clear.is_empty() {
                diesel::delete(
                    contact_tags::table.filter(contact_tags::contact_id.eq_any(&to_clear)),
                )
                .execute(conn)?;
            }
        }
        let mut tag_pairs: HashSet<(i64, String)> = HashSet::new();
        let new_tags: Vec<NewTag> = rows
            .iter()
            .zip(&refs)
            .filter_map(|(row, contact)| {
                let tag = row.tag.clone()?;
                let contact_id = id_of(*contact);
                tag_pairs
                    .insert((contact_id, tag.clone()))
                    .then_some(NewTag {
                        contact_id,
                        tag,
                        created_at: now,
                    })
            })
            .collect();
        if !new_tags.is_empty() {
            crate::insert_all_ignoring_duplicates!(
                conn,
                contact_tags::table,
                &new_tags[..],
                (contact_tags::contact_id, contact_tags::tag)
            );
        }

        // Segments: optionally leave every other one, then join this one.
        if self.options.only_segment {
            let to_move: Vec<i64> = touched
                .iter()
                .copied()
                .filter(|id| !self.created.contains(id) && self.segment_kept.insert(*id))
                .collect();
            if !to_move.is_empty() {
                diesel::delete(
                    contact_segments::table
                        .filter(contact_segments::contact_id.eq_any(&to_move))
                        .filter(contact_segments::segment_id.ne(self.segment_id)),
                )
                .execute(conn)?;
            }
        }
        let memberships: Vec<NewMembership> = touched
            .iter()
            .map(|id| NewMembership {
                contact_id: *id,
                segment_id: self.segment_id,
                created_at: now,
            })
            .collect();
        crate::insert_all_ignoring_duplicates!(
            conn,
            contact_segments::table,
            &memberships[..],
            (contact_segments::contact_id, contact_segments::segment_id)
        );

        // One member per accepted row.
        let members: Vec<NewAudienceMember> = rows
            .into_iter()
            .zip(&refs)
            .map(|(row, contact)| {
                let contact_id = id_of(*contact);
                let outcome = if self.created.contains(&contact_id) {
                    "created"
                } else if self.updated.contains(&contact_id) {
                    "updated"
                } else {
                    "unchanged"
                };
                let [c1, c2, c3, c4, c5] = row.coringas;
                NewAudienceMember {
                    audience_id: self.audience_id,
                    contact_id,
                    line: row.line as i64,
                    outcome,
                    channel_kind: row.channel.kind().as_str(),
                    channel_value: row.channel.value().to_string(),
                    message: row.message,
                    coringa1: c1,
                    coringa2: c2,
                    coringa3: c3,
                    coringa4: c4,
                    coringa5: c5,
                    tag: row.tag,
                    priority: row.priority.map(Priority::as_str),
                }
            })
            .collect();
        self.counts.imported += members.len() as u64;
        crate::insert_all!(conn, audience_members::table, &members[..]);
        Ok(())
    }

    /// Contacts this import created are counted as created, never also as updated.
    fn mark_updated(&mut self, id: i64) {
        if !self.created.contains(&id) && self.updated.insert(id) {
            self.counts.contacts_updated += 1;
        }
    }

    /// Ids for new contacts, taken before inserting them. Imports run one at a time
    /// (SQLite's write lock; an advisory lock on PostgreSQL), so the SQLite range is safe.
    fn allocate_contact_ids(&self, conn: &mut DbConnection, n: usize) -> QueryResult<Vec<i64>> {
        if n == 0 {
            return Ok(Vec::new());
        }
        match self.backend {
            Backend::Postgres => Ok(diesel::sql_query(
                "SELECT nextval(pg_get_serial_sequence('contacts', 'id')) AS id FROM generate_series(1, $1)",
            )
            .bind::<BigInt, _>(n as i64)
            .load::<IdRow>(conn)?
            .into_iter()
            .map(|r| r.id)
            .collect()),
            Backend::Sqlite => {
                let top = diesel::sql_query(
                    "SELECT MAX(COALESCE((SELECT MAX(id) FROM contacts), 0), \
                     COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'contacts'), 0)) AS id",
                )
                .get_result::<IdRow>(conn)?
                .id;
                Ok((1..=n as i64).map(|i| top + i).collect())
            }
        }
    }
}
