//! The import's batched writes: a batch of rows becomes a handful of set lookups and
//! multi-row statements, never a round trip per row.

use std::collections::{HashMap, HashSet};

use diesel::prelude::*;
use diesel::sql_types::BigInt;

use super::identity::{self, Conflict, Decision, Matches, Plan, Resolver, RowKeys};
use super::{Counts, ImportOptions};
use crate::db::{Backend, DbConnection};
use crate::domain::text::fold;
use crate::domain::{Priority, RecordType};
use crate::layout::{LayoutRow, RowErrorCode, RowOutcome};
use crate::messages;
use crate::models::contact::{NewChannel, NewContact, NewMembership, NewTag};
use crate::models::{NewAudienceMember, NewAudienceRowError, interaction, search};
use crate::schema::{
    audience_members, audience_row_errors, contact_channels, contact_segments, contact_tags,
    contacts, dnd_entries, interactions,
};
use crate::time;

/// Rows per batch: large enough to amortise round trips (5,000 took a million-row
/// import on PostgreSQL from 55 to 46 s against 1,000; 20,000 gained nothing more),
/// small enough for SQLite's limit on bound parameters in one lookup (32,766).
pub const BATCH_ROWS: usize = 5_000;
/// Identity-refused rows kept for the report's listing, as many as the file's own.
const IDENTITY_LISTED: usize = 1_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum ContactRef {
    Existing(i64),
    /// A contact this batch creates: its slot among the batch's new ids.
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

// A stored contact's new values, staged for one set-based UPDATE per batch. The table
// is the connection's own (TEMP), made on first use and emptied before each batch.
const STAGING_TABLE: &str = "CREATE TEMP TABLE IF NOT EXISTS import_contact_updates (\
    id BIGINT PRIMARY KEY, name TEXT, name_search TEXT, document TEXT, customer_code TEXT, \
    priority TEXT NOT NULL)";

diesel::table! {
    import_contact_updates (id) {
        id -> BigInt,
        name -> Nullable<Text>,
        name_search -> Nullable<Text>,
        document -> Nullable<Text>,
        customer_code -> Nullable<Text>,
        priority -> Text,
    }
}

#[derive(Debug, Insertable)]
#[diesel(table_name = import_contact_updates)]
#[diesel(treat_none_as_default_value = false)]
struct ContactUpdate {
    id: i64,
    name: Option<String>,
    name_search: Option<String>,
    document: Option<String>,
    customer_code: Option<String>,
    priority: String,
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
    /// A channel's repeat: its CPF/CNPJ and code, where no row of this batch gave one.
    fn absorb_keys(&mut self, row: &LayoutRow) {
        if self.document.is_none() {
            self.document = row.document.as_ref().map(|d| d.as_str().to_string());
        }
        if self.customer_code.is_none() {
            self.customer_code = row.customer_code.clone();
        }
    }

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
fn raw_row(cells: &[String]) -> String {
    serde_json::to_string(cells).unwrap_or_default()
}

/// Pass one: every valid row's keys and the stored contacts they lead to, read before
/// anything is written, so the whole file is decided against the base as it was.
pub(crate) struct Resolution {
    resolver: Resolver,
    dnd: bool,
    /// The server's secret when some eliminated person's values are suppressed: rows
    /// whose channel or document hashes to a suppressed key are skipped like Não Perturbe.
    suppression: Option<Vec<u8>>,
    /// Whether each row's channel is already stored (by row number).
    channel_known: Vec<bool>,
}

impl Resolution {
    pub fn new(rows: u64, dnd: bool, suppression: Option<Vec<u8>>) -> Self {
        let rows = rows.min(u64::from(identity::MAX_ROWS)) as usize;
        Resolution {
            resolver: Resolver::with_capacity(rows),
            dnd,
            suppression,
            channel_known: Vec::with_capacity(rows),
        }
    }

    /// Looks a batch of valid rows up (channels, documents, codes, Não Perturbe) and adds
    /// them to the resolver.
    pub fn add_batch(&mut self, conn: &mut DbConnection, rows: &[LayoutRow]) -> QueryResult<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let mut by_channel: HashMap<(RecordType, String), i64> = HashMap::new();
        let mut listed: HashSet<(RecordType, String)> = HashSet::new();
        for kind in [RecordType::Telefone, RecordType::Email] {
            // Kind and value together: the unique index answers it.
            let values = channel_values(rows, kind);
            if values.is_empty() {
                continue;
            }
            for (value, id) in contact_channels::table
                .filter(contact_channels::kind.eq(kind.as_str()))
                .filter(contact_channels::value.eq_any(&values))
                .select((contact_channels::value, contact_channels::contact_id))
                .load::<(String, i64)>(conn)?
            {
                by_channel.insert((kind, value), id);
            }
            if self.dnd {
                for value in dnd_entries::table
                    .filter(dnd_entries::kind.eq(kind.as_str()))
                    .filter(dnd_entries::value.eq_any(&values))
                    .select(dnd_entries::value)
                    .load::<String>(conn)?
                {
                    listed.insert((kind, value));
                }
            }
        }
        let documents: Vec<&str> = rows
            .iter()
            .filter_map(|r| r.document.as_ref().map(|d| d.as_str()))
            .collect();
        let mut suppressed_documents: HashSet<&str> = HashSet::new();
        if let Some(secret) = &self.suppression {
            use crate::models::secret::suppression_key;
            use crate::models::titular::suppressed_among;
            // Each key: the channel or the document it was made from.
            type Source<'a> = (Option<(RecordType, String)>, Option<&'a str>);
            let mut by_key: HashMap<String, Source> = HashMap::new();
            for row in rows {
                let kind = row.channel.kind();
                let value = row.channel.value();
                by_key.insert(
                    suppression_key(secret, kind.as_str(), value),
                    (Some((kind, value.to_string())), None),
                );
                if let Some(d) = &row.document {
                    by_key.insert(
                        suppression_key(secret, "DOCUMENTO", d.as_str()),
                        (None, Some(d.as_str())),
                    );
                }
            }
            let keys: Vec<String> = by_key.keys().cloned().collect();
            for key in suppressed_among(conn, &keys)? {
                match by_key.remove(&key) {
                    Some((Some(channel), _)) => {
                        listed.insert(channel);
                    }
                    Some((None, Some(document))) => {
                        suppressed_documents.insert(document);
                    }
                    _ => {}
                }
            }
        }
        let mut by_document: HashMap<String, i64> = HashMap::new();
        if !documents.is_empty() {
            for (document, id) in contacts::table
                .filter(contacts::document.eq_any(&documents))
                .select((contacts::document.assume_not_null(), contacts::id))
                .load::<(String, i64)>(conn)?
            {
                by_document.insert(document, id);
            }
        }
        let codes: Vec<&str> = rows
            .iter()
            .filter_map(|r| r.customer_code.as_deref())
            .collect();
        let mut by_code: HashMap<String, Vec<i64>> = HashMap::new();
        if !codes.is_empty() {
            for (code, id) in contacts::table
                .filter(contacts::customer_code.eq_any(&codes))
                .select((contacts::customer_code.assume_not_null(), contacts::id))
                .load::<(String, i64)>(conn)?
            {
                by_code.entry(code).or_default().push(id);
            }
        }
        for row in rows {
            let kind = row.channel.kind();
            let channel_key = (kind, row.channel.value().to_string());
            let document = row.document.as_ref().map(|d| d.as_str());
            let code = row.customer_code.as_deref();
            let found = by_channel.get(&channel_key).copied();
            let matches = Matches {
                by_channel: found,
                by_document: document.and_then(|d| by_document.get(d).copied()),
                by_code: code
                    .and_then(|c| by_code.get(c).cloned())
                    .unwrap_or_default(),
            };
            self.resolver.add(
                RowKeys {
                    channel: (kind.as_str(), row.channel.value()),
                    document,
                    code,
                },
                matches,
                listed.contains(&channel_key)
                    || document.is_some_and(|d| suppressed_documents.contains(d)),
            );
            self.channel_known.push(found.is_some());
        }
        Ok(())
    }
}

/// Rows keyed by contact (tags, memberships): those of contacts this batch created cannot
/// be stored yet and go in plainly (COPY on PostgreSQL); the others skip what is already
/// there (by `$conflict`).
macro_rules! insert_per_contact {
    ($conn:expr, $ids:expr, $table:expr, $rows:expr, $conflict:expr) => {{
        let (fresh, others): (Vec<_>, Vec<_>) = $rows
            .into_iter()
            .partition(|row| $ids.created_here(row.contact_id));
        if !fresh.is_empty() {
            crate::insert_all!($conn, $table, &fresh[..]);
        }
        if !others.is_empty() {
            crate::insert_all_ignoring_duplicates!($conn, $table, &others[..], $conflict);
        }
    }};
}

/// The rows of a batch that go on after phase 1, with the contact each one is and
/// whether its channel is already stored.
struct Accepted {
    rows: Vec<LayoutRow>,
    refs: Vec<ContactRef>,
    known: Vec<bool>,
    /// Groups (new contacts) met for the first time in this batch, by slot.
    new_groups: Vec<u32>,
    /// Repeats of a channel that bring a CPF/CNPJ or code to their group's contact: the
    /// keys count whichever row of the channel came first; nothing else of them is kept.
    keys_only: Vec<(LayoutRow, ContactRef)>,
}

impl Accepted {
    fn with_capacity(n: usize) -> Self {
        Accepted {
            rows: Vec::with_capacity(n),
            refs: Vec::with_capacity(n),
            known: Vec::with_capacity(n),
            new_groups: Vec::new(),
            keys_only: Vec::new(),
        }
    }

    fn existing_ids(&self) -> Vec<i64> {
        self.refs
            .iter()
            .chain(self.keys_only.iter().map(|(_, r)| r))
            .filter_map(|r| match r {
                ContactRef::Existing(id) => Some(*id),
                ContactRef::New(_) => None,
            })
            .collect::<HashSet<_>>()
            .into_iter()
            .collect()
    }
}

/// Stored contacts a batch touches, and their tags, as they are before it.
struct Stored {
    contacts: HashMap<i64, StoredContact>,
    tags: HashSet<(i64, String)>,
}

impl Stored {
    fn load(conn: &mut DbConnection, ids: &[i64]) -> QueryResult<Stored> {
        if ids.is_empty() {
            return Ok(Stored {
                contacts: HashMap::new(),
                tags: HashSet::new(),
            });
        }
        let contacts = contacts::table
            .filter(contacts::id.eq_any(ids))
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
            .collect();
        let tags = contact_tags::table
            .filter(contact_tags::contact_id.eq_any(ids))
            .select((contact_tags::contact_id, contact_tags::tag))
            .load(conn)?
            .into_iter()
            .collect();
        Ok(Stored { contacts, tags })
    }
}

/// The ids given to the batch's new contacts, by slot (ascending, as allocated).
struct NewIds(Vec<i64>);

impl NewIds {
    /// Whether this batch created the contact (so nothing of it is stored yet).
    fn created_here(&self, id: i64) -> bool {
        self.0.binary_search(&id).is_ok()
    }

    fn of(&self, contact: ContactRef) -> i64 {
        match contact {
            ContactRef::Existing(id) => id,
            ContactRef::New(slot) => self.0[slot],
        }
    }
}

pub(crate) struct Importer {
    audience_id: i64,
    segment_id: i64,
    options: ImportOptions,
    backend: Backend,
    pub counts: Counts,
    pub done: u64,
    plan: Plan,
    channel_known: Vec<bool>,
    /// The next valid row's number, as pass one numbered them.
    next_row: u32,
    /// The id given to each new group's contact, once created (by group number; 0: not yet).
    group_ids: Vec<i64>,
    created: HashSet<i64>,
    updated: HashSet<i64>,
    tags_cleared: HashSet<i64>,
    segment_kept: HashSet<i64>,
    /// Time spent in each phase of pass two, for the import's log line.
    pub phases: PhaseTimes,
    /// The first rows refused because their keys lead to different people (decided in
    /// pass two, after the file's own report was made), for the report's listing.
    pub identity_rejected: Vec<crate::layout::RejectedRow>,
}

/// Seconds spent in each phase of pass two, summed over the batches.
#[derive(Debug, Default)]
pub(crate) struct PhaseTimes {
    pub decide: f64,
    pub verify: f64,
    pub contacts: f64,
    pub channels: f64,
    pub tags: f64,
    pub memberships: f64,
    pub members: f64,
}

/// Runs `work`, adding its duration to `slot`.
fn timed<T>(slot: &mut f64, work: impl FnOnce() -> T) -> T {
    let started = std::time::Instant::now();
    let result = work();
    *slot += started.elapsed().as_secs_f64();
    result
}

impl Importer {
    pub fn new(
        audience_id: i64,
        segment_id: i64,
        options: ImportOptions,
        backend: Backend,
        resolution: Resolution,
    ) -> Self {
        let plan = resolution.resolver.finish();
        let rows = plan.rows() as usize;
        Importer {
            audience_id,
            segment_id,
            options,
            backend,
            counts: Counts::default(),
            done: 0,
            plan,
            channel_known: resolution.channel_known,
            next_row: 0,
            group_ids: vec![0; rows],
            identity_rejected: Vec::new(),
            created: HashSet::new(),
            updated: HashSet::new(),
            tags_cleared: HashSet::new(),
            segment_kept: HashSet::new(),
            phases: PhaseTimes::default(),
        }
    }

    /// Writes one batch of pass two, phase by phase: the decisions of pass one
    /// (identity, Não Perturbe, duplicates, conflicts), Verify, the contacts, their
    /// channels, tags and segment memberships, and the audience's members.
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
        let mut phases = std::mem::take(&mut self.phases);
        let result = self.phases(conn, batch, now, &mut phases);
        self.phases = phases;
        result
    }

    fn phases(
        &mut self,
        conn: &mut DbConnection,
        batch: &mut Vec<RowOutcome>,
        now: i64,
        t: &mut PhaseTimes,
    ) -> QueryResult<()> {
        let mut accepted = timed(&mut t.decide, || self.decide(conn, batch))?;
        if accepted.rows.is_empty() && accepted.keys_only.is_empty() {
            return Ok(());
        }
        let stored = timed(&mut t.decide, || {
            Stored::load(conn, &accepted.existing_ids())
        })?;
        if self.options.verify && !accepted.rows.is_empty() {
            timed(&mut t.verify, || self.verify(conn, &mut accepted, &stored))?;
            if accepted.rows.is_empty() && accepted.keys_only.is_empty() {
                return Ok(());
            }
        }
        let ids = timed(&mut t.contacts, || {
            self.write_contacts(conn, &accepted, &stored, now)
        })?;
        if accepted.rows.is_empty() {
            return Ok(());
        }
        timed(&mut t.channels, || {
            self.write_channels(conn, &accepted, &ids, now)
        })?;
        let touched: Vec<i64> = {
            let mut seen = HashSet::new();
            accepted
                .refs
                .iter()
                .map(|r| ids.of(*r))
                .filter(|id| seen.insert(*id))
                .collect()
        };
        let touched_existing: Vec<i64> = touched
            .iter()
            .copied()
            .filter(|id| !self.created.contains(id))
            .collect();
        timed(&mut t.tags, || {
            self.write_tags(conn, &accepted, &ids, &stored, &touched_existing, now)
        })?;
        timed(&mut t.memberships, || {
            self.write_memberships(conn, &ids, &touched, &touched_existing, now)
        })?;
        timed(&mut t.members, || self.write_members(conn, accepted, &ids))
    }

    /// Phase 1, identity: what pass one decided for each row. Rejected rows and rows
    /// whose keys lead to different people are recorded; Não Perturbe and duplicate
    /// rows are counted; the rest go on with the contact they are.
    fn decide(
        &mut self,
        conn: &mut DbConnection,
        batch: &mut Vec<RowOutcome>,
    ) -> QueryResult<Accepted> {
        let mut rejected: Vec<NewAudienceRowError> = Vec::new();
        let mut conflicts: Vec<(LayoutRow, Conflict)> = Vec::new();
        let mut accepted = Accepted::with_capacity(batch.len());
        let mut slot_of: HashMap<u32, usize> = HashMap::new();
        for outcome in batch.drain(..) {
            let row = match outcome {
                RowOutcome::Valid(row) => row,
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
                        raw_row: Some(raw_row(&row.cells)),
                    });
                    continue;
                }
            };
            let number = self.next_row;
            self.next_row += 1;
            let contact = match self.plan.decision(number) {
                Decision::Duplicate => {
                    self.counts.duplicate_rows += 1;
                    if row.document.is_some() || row.customer_code.is_some() {
                        let target = match self.plan.repeat_target(number) {
                            Some(Decision::Existing(id)) => Some(ContactRef::Existing(id)),
                            Some(Decision::New(group)) => match self.group_ids[group as usize] {
                                0 => slot_of.get(&group).map(|slot| ContactRef::New(*slot)),
                                id => Some(ContactRef::Existing(id)),
                            },
                            _ => None,
                        };
                        if let Some(target) = target {
                            accepted.keys_only.push((row, target));
                        }
                    }
                    continue;
                }
                Decision::Skipped => {
                    self.counts.dnd_skipped += 1;
                    continue;
                }
                Decision::Conflict(conflict) => {
                    conflicts.push((row, conflict));
                    continue;
                }
                Decision::Existing(id) => ContactRef::Existing(id),
                Decision::New(group) => match self.group_ids[group as usize] {
                    0 => ContactRef::New(*slot_of.entry(group).or_insert_with(|| {
                        accepted.new_groups.push(group);
                        accepted.new_groups.len() - 1
                    })),
                    id => ContactRef::Existing(id),
                },
            };
            accepted.known.push(self.channel_known[number as usize]);
            accepted.rows.push(row);
            accepted.refs.push(contact);
        }
        if !conflicts.is_empty() {
            let errors = self.conflict_errors(conn, conflicts)?;
            for e in &errors {
                if self.identity_rejected.len() >= IDENTITY_LISTED {
                    break;
                }
                self.identity_rejected.push(crate::layout::RejectedRow {
                    line: e.line.unwrap_or_default() as u64,
                    errors: vec![crate::layout::RowError {
                        code: RowErrorCode::IdentityConflict,
                        column: crate::layout::COLUMNS[1],
                        message: e.message.clone(),
                        value: e.value.clone().unwrap_or_default(),
                    }],
                    cells: Vec::new(),
                });
            }
            rejected.extend(errors);
        }
        self.counts.rejected += rejected.len() as u64;
        if !rejected.is_empty() {
            crate::insert_all!(conn, audience_row_errors::table, &rejected[..]);
        }
        Ok(accepted)
    }

    /// Phase 2, Verify: a phone that has talked to us before only stays if it brings
    /// news (a new name, document, code, priority, tag or channel).
    fn verify(
        &mut self,
        conn: &mut DbConnection,
        accepted: &mut Accepted,
        stored: &Stored,
    ) -> QueryResult<()> {
        let phones: Vec<&str> = accepted
            .rows
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
        if talked.is_empty() {
            return Ok(());
        }
        let all = std::mem::replace(accepted, Accepted::with_capacity(0));
        accepted.new_groups = all.new_groups;
        for ((row, contact), channel_known) in all.rows.into_iter().zip(all.refs).zip(all.known) {
            let brings_news = match contact {
                _ if !talked.contains(row.channel.value()) => true,
                ContactRef::New(_) => true,
                ContactRef::Existing(id) => {
                    let mut merged = Merged::default();
                    merged.absorb(&row);
                    let new_tag = row
                        .tag
                        .as_ref()
                        .is_some_and(|t| !stored.tags.contains(&(id, t.clone())));
                    stored.contacts.get(&id).is_none_or(|s| merged.changes(s))
                        || new_tag
                        || !channel_known
                }
            };
            if brings_news {
                accepted.rows.push(row);
                accepted.refs.push(contact);
                accepted.known.push(channel_known);
            } else {
                self.counts.verify_discarded += 1;
            }
        }
        Ok(())
    }

    /// Phase 3, contacts: new ones created (with their ids taken first, so every later
    /// statement can use them; a group left with no row after Verify gets none), stored
    /// ones updated where the rows bring something new; the name index follows.
    fn write_contacts(
        &mut self,
        conn: &mut DbConnection,
        accepted: &Accepted,
        stored: &Stored,
        now: i64,
    ) -> QueryResult<NewIds> {
        let used: HashSet<usize> = accepted
            .refs
            .iter()
            .filter_map(|r| match r {
                ContactRef::New(slot) => Some(*slot),
                ContactRef::Existing(_) => None,
            })
            .collect();
        let new_count = accepted.new_groups.len();
        let ids = NewIds(self.allocate_contact_ids(conn, new_count)?);
        let mut merged_new: Vec<Merged> = vec![Merged::default(); new_count];
        let mut merged_existing: HashMap<i64, Merged> = HashMap::new();
        for (row, contact) in accepted.rows.iter().zip(&accepted.refs) {
            match contact {
                ContactRef::New(i) => merged_new[*i].absorb(row),
                ContactRef::Existing(id) => merged_existing.entry(*id).or_default().absorb(row),
            }
        }
        for (row, contact) in &accepted.keys_only {
            match contact {
                ContactRef::New(i) => merged_new[*i].absorb_keys(row),
                ContactRef::Existing(id) => {
                    merged_existing.entry(*id).or_default().absorb_keys(row)
                }
            }
        }
        let new_contacts: Vec<NewContact> = merged_new
            .into_iter()
            .enumerate()
            .filter(|(slot, _)| used.contains(slot))
            .map(|(slot, m)| NewContact {
                id: ids.0[slot],
                name_search: name_search(&m.name),
                name: m.name,
                document: m.document,
                customer_code: m.customer_code,
                priority: m.priority.unwrap_or(Priority::Baixa).as_str(),
                created_at: now,
                updated_at: now,
            })
            .collect();
        if !new_contacts.is_empty() {
            crate::insert_all!(conn, contacts::table, &new_contacts[..]);
            let names: Vec<(i64, &str)> = new_contacts
                .iter()
                .filter_map(|c| c.name_search.as_deref().map(|n| (c.id, n)))
                .collect();
            search::add_names(conn, &names)?;
            self.counts.contacts_created += new_contacts.len() as u64;
            for (slot, group) in accepted.new_groups.iter().enumerate() {
                if used.contains(&slot) {
                    self.group_ids[*group as usize] = ids.0[slot];
                    self.created.insert(ids.0[slot]);
                }
            }
        }
        let mut renamed: Vec<(i64, Option<String>)> = Vec::new();
        let mut former: Vec<crate::models::former_value::NewFormerValue> = Vec::new();
        let mut changed: Vec<ContactUpdate> = Vec::new();
        for (id, merged) in &merged_existing {
            let Some(current) = stored.contacts.get(id) else {
                continue;
            };
            if !merged.changes(current) {
                continue;
            }
            let name = merged.name.clone().or_else(|| current.name.clone());
            if name != current.name {
                renamed.push((*id, name_search(&name)));
                // The name it had stays findable for an elimination.
                if let Some(old) = &current.name {
                    former.push(crate::models::former_value::NewFormerValue {
                        contact_id: *id,
                        kind: crate::models::former_value::NAME.to_string(),
                        value: old.clone(),
                        created_at: now,
                    });
                }
            }
            changed.push(ContactUpdate {
                id: *id,
                name_search: name_search(&name),
                name,
                document: merged.document.clone().or_else(|| current.document.clone()),
                customer_code: merged
                    .customer_code
                    .clone()
                    .or_else(|| current.customer_code.clone()),
                priority: merged
                    .priority
                    .map_or_else(|| current.priority.clone(), |p| p.as_str().to_string()),
            });
            self.mark_updated(*id);
        }
        if !changed.is_empty() {
            // Set-based: the new values into a staging table (COPY on PostgreSQL), then
            // one UPDATE … FROM for the whole batch.
            diesel::sql_query(STAGING_TABLE).execute(conn)?;
            diesel::sql_query("DELETE FROM import_contact_updates").execute(conn)?;
            crate::insert_all!(conn, import_contact_updates::table, &changed[..]);
            diesel::sql_query(format!(
                "UPDATE contacts SET name = u.name, name_search = u.name_search, \
                 document = u.document, customer_code = u.customer_code, \
                 priority = u.priority, updated_at = {now} \
                 FROM import_contact_updates u WHERE contacts.id = u.id"
            ))
            .execute(conn)?;
        }
        let renamed: Vec<(i64, Option<&str>)> =
            renamed.iter().map(|(id, n)| (*id, n.as_deref())).collect();
        search::replace_names(conn, &renamed)?;
        crate::models::former_value::record_many(conn, &former)?;
        Ok(ids)
    }

    /// Phase 4, channels the base does not have yet, and the interactions that were
    /// waiting for them (messages that arrived before the contact existed).
    fn write_channels(
        &mut self,
        conn: &mut DbConnection,
        accepted: &Accepted,
        ids: &NewIds,
        now: i64,
    ) -> QueryResult<()> {
        let new_channels: Vec<NewChannel> = accepted
            .rows
            .iter()
            .zip(&accepted.refs)
            .zip(&accepted.known)
            .filter(|(_, channel_known)| !**channel_known)
            .map(|((row, contact), _)| NewChannel {
                contact_id: ids.of(*contact),
                kind: row.channel.kind().as_str(),
                value: row.channel.value().to_string(),
                created_at: now,
            })
            .collect();
        for channel in &new_channels {
            self.mark_updated(channel.contact_id);
        }
        if !new_channels.is_empty() {
            crate::insert_all!(conn, contact_channels::table, &new_channels[..]);
            for kind in [RecordType::Telefone, RecordType::Email] {
                let values: Vec<&str> = new_channels
                    .iter()
                    .filter(|c| c.kind == kind.as_str())
                    .map(|c| c.value.as_str())
                    .collect();
                interaction::link_waiting(conn, kind, &values)?;
            }
        }
        Ok(())
    }

    /// Phase 5, tags: optionally forget the old ones (once per contact per import), then
    /// add. A contact changed if it lost a tag this import does not give back, or gained
    /// one.
    fn write_tags(
        &mut self,
        conn: &mut DbConnection,
        accepted: &Accepted,
        ids: &NewIds,
        stored: &Stored,
        touched_existing: &[i64],
        now: i64,
    ) -> QueryResult<()> {
        let mut tag_pairs: HashSet<(i64, String)> = HashSet::new();
        let new_tags: Vec<NewTag> = accepted
            .rows
            .iter()
            .zip(&accepted.refs)
            .filter_map(|(row, contact)| {
                let tag = row.tag.clone()?;
                let contact_id = ids.of(*contact);
                tag_pairs
                    .insert((contact_id, tag.clone()))
                    .then_some(NewTag {
                        contact_id,
                        tag,
                        created_at: now,
                    })
            })
            .collect();
        let mut cleared: HashSet<i64> = HashSet::new();
        if self.options.clear_tags {
            let to_clear: Vec<i64> = touched_existing
                .iter()
                .copied()
                .filter(|id| self.tags_cleared.insert(*id))
                .collect();
            if !to_clear.is_empty() {
                diesel::delete(
                    contact_tags::table.filter(contact_tags::contact_id.eq_any(&to_clear)),
                )
                .execute(conn)?;
                cleared.extend(to_clear);
            }
        }
        for (id, tag) in &stored.tags {
            if cleared.contains(id) && !tag_pairs.contains(&(*id, tag.clone())) {
                self.mark_updated(*id);
            }
        }
        for tag in &new_tags {
            // Cleared and given back is no change.
            if !stored.tags.contains(&(tag.contact_id, tag.tag.clone())) {
                self.mark_updated(tag.contact_id);
            }
        }
        insert_per_contact!(
            conn,
            ids,
            contact_tags::table,
            new_tags,
            (contact_tags::contact_id, contact_tags::tag)
        );
        Ok(())
    }

    /// Phase 6, segments: optionally leave every other one, then join this one.
    fn write_memberships(
        &mut self,
        conn: &mut DbConnection,
        ids: &NewIds,
        touched: &[i64],
        touched_existing: &[i64],
        now: i64,
    ) -> QueryResult<()> {
        if !touched_existing.is_empty() {
            let memberships: Vec<(i64, i64)> = contact_segments::table
                .filter(contact_segments::contact_id.eq_any(touched_existing))
                .select((contact_segments::contact_id, contact_segments::segment_id))
                .load(conn)?;
            let in_segment: HashSet<i64> = memberships
                .iter()
                .filter(|(_, segment)| *segment == self.segment_id)
                .map(|(id, _)| *id)
                .collect();
            for id in touched_existing {
                if !in_segment.contains(id) {
                    self.mark_updated(*id);
                }
            }
            if self.options.only_segment {
                let to_move: Vec<i64> = memberships
                    .iter()
                    .filter(|(_, segment)| *segment != self.segment_id)
                    .map(|(id, _)| *id)
                    .filter(|id| self.segment_kept.insert(*id))
                    .collect();
                if !to_move.is_empty() {
                    diesel::delete(
                        contact_segments::table
                            .filter(contact_segments::contact_id.eq_any(&to_move))
                            .filter(contact_segments::segment_id.ne(self.segment_id)),
                    )
                    .execute(conn)?;
                    for id in to_move {
                        self.mark_updated(id);
                    }
                }
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
        insert_per_contact!(
            conn,
            ids,
            contact_segments::table,
            memberships,
            (contact_segments::contact_id, contact_segments::segment_id)
        );
        Ok(())
    }

    /// Phase 7, members: one per accepted row, with what the row carried and what became
    /// of its contact.
    fn write_members(
        &mut self,
        conn: &mut DbConnection,
        accepted: Accepted,
        ids: &NewIds,
    ) -> QueryResult<()> {
        let members: Vec<NewAudienceMember> = accepted
            .rows
            .into_iter()
            .zip(&accepted.refs)
            .map(|(row, contact)| {
                let contact_id = ids.of(*contact);
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

    /// The rejected-row entries of rows whose keys lead to different people, naming them.
    fn conflict_errors(
        &self,
        conn: &mut DbConnection,
        conflicts: Vec<(LayoutRow, Conflict)>,
    ) -> QueryResult<Vec<NewAudienceRowError>> {
        let ids: Vec<i64> = conflicts
            .iter()
            .flat_map(|(_, c)| match c {
                Conflict::OwnKeys { first, second, .. } | Conflict::Group { first, second } => {
                    vec![*first, *second]
                }
                Conflict::Documents => vec![],
            })
            .collect();
        let names: HashMap<i64, Option<String>> = if ids.is_empty() {
            HashMap::new()
        } else {
            contacts::table
                .filter(contacts::id.eq_any(&ids))
                .select((contacts::id, contacts::name))
                .load::<(i64, Option<String>)>(conn)?
                .into_iter()
                .collect()
        };
        let who =
            |id: i64| messages::contact_label(id, names.get(&id).cloned().flatten().as_deref());
        Ok(conflicts
            .into_iter()
            .map(|(row, conflict)| {
                let message = match &conflict {
                    Conflict::OwnKeys {
                        first,
                        second,
                        matches,
                    } => {
                        let led_by = |id: i64| {
                            let mut keys = Vec::new();
                            if matches.by_channel == Some(id) {
                                keys.push(messages::channel_key_name(row.channel.kind()));
                            }
                            if matches.by_document == Some(id) {
                                keys.push("CPF/CNPJ");
                            }
                            if matches.by_code.contains(&id) {
                                keys.push("CODCLIENTE");
                            }
                            keys.join(", ")
                        };
                        messages::identity_conflict_own(
                            &who(*first),
                            &led_by(*first),
                            &who(*second),
                            &led_by(*second),
                        )
                    }
                    Conflict::Group { first, second } => {
                        messages::identity_conflict_group(&who(*first), &who(*second))
                    }
                    Conflict::Documents => messages::IDENTITY_CONFLICT_DOCUMENTS.to_string(),
                };
                let cells = row.to_cells();
                NewAudienceRowError {
                    audience_id: self.audience_id,
                    level: "row",
                    line: Some(row.line as i64),
                    column_name: Some(crate::layout::COLUMNS[1]),
                    code: RowErrorCode::IdentityConflict.as_str(),
                    message,
                    value: Some(row.channel.value().to_string()),
                    raw_row: Some(raw_row(&cells)),
                }
            })
            .collect())
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
