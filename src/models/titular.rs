//! The data subject (titular, LGPD art. 18): everything stored about a person, found by
//! CPF/CNPJ, phone or e-mail; and its elimination — the contact deleted, every row that
//! holds the person's values anonymised in place, the audit log keeping the event but not
//! the data, and optionally keyed hashes so a later import skips them. The only writer of
//! `suppressed_keys`.

use std::collections::BTreeSet;

use diesel::prelude::*;
use serde::Serialize;

use crate::db::DbConnection;
use crate::domain::{Document, PersonValues, RecordType, parse_channel};
use crate::models::secret::{suppression_key, suppression_secret};
use crate::models::{ContactProfile, former_value};
use crate::schema::{
    audience_members, audience_row_errors, audiences, audit_log, campaign_messages, campaign_runs,
    campaigns, contact_channels, contacts, dnd_entries, document_conflicts, import_validations,
    interactions, suppressed_keys, users,
};
use crate::time::rfc3339;

/// What a person is looked up by: a CPF/CNPJ, a phone or an e-mail, in any format the
/// import accepts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Keys {
    pub document: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
}

impl Keys {
    /// One search box: a phone or e-mail the import would accept, or a CPF/CNPJ.
    pub fn parse_any(text: &str) -> Option<Keys> {
        if let Some((kind, value)) = parse_channel(text) {
            return Some(match kind {
                RecordType::Telefone => Keys {
                    phone: Some(value),
                    ..Keys::default()
                },
                RecordType::Email => Keys {
                    email: Some(value),
                    ..Keys::default()
                },
            });
        }
        Document::parse(text).ok().map(|d| Keys {
            document: Some(d.into_inner()),
            ..Keys::default()
        })
    }

    /// From the command line's flags, each normalised as the import does; `Err` names
    /// the one that is not valid.
    pub fn from_flags(
        document: Option<&str>,
        phone: Option<&str>,
        email: Option<&str>,
    ) -> Result<Keys, &'static str> {
        let mut keys = Keys::default();
        if let Some(d) = document {
            keys.document = Some(
                Document::parse(d)
                    .map_err(|_| "--document is not a valid CPF/CNPJ")?
                    .into_inner(),
            );
        }
        if let Some(p) = phone {
            keys.phone = Some(
                crate::domain::Phone::parse(p)
                    .map_err(|_| "--phone is not a valid phone")?
                    .into_inner(),
            );
        }
        if let Some(e) = email {
            keys.email = Some(
                crate::domain::Email::parse(e)
                    .map_err(|_| "--email is not a valid e-mail")?
                    .into_inner(),
            );
        }
        if keys == Keys::default() {
            return Err("give --document, --phone or --email");
        }
        Ok(keys)
    }
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct AudienceRow {
    pub audience_id: i64,
    pub audience: String,
    pub line: i64,
    pub imported_at: String,
    pub imported_by: Option<String>,
    pub legal_basis: String,
    pub channel: String,
    pub outcome: String,
    pub message: Option<String>,
    pub coringas: [Option<String>; 5],
    pub tag: Option<String>,
    pub priority: Option<String>,
    /// When the person revoked the consent this row was imported under.
    pub consent_revoked_at: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct InteractionRow {
    pub id: i64,
    pub channel: String,
    pub text: String,
    pub at: String,
    pub attended_at: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct MessageRow {
    pub campaign: String,
    pub run_id: i64,
    pub to: String,
    pub subject: String,
    pub status: String,
    pub at: String,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct DndRow {
    pub kind: String,
    pub value: String,
    pub added_at: String,
    pub source: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct AccessRow {
    pub user: Option<String>,
    pub action: String,
    pub at: String,
}

/// A value an edit or a merge replaced, kept against the contact.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct FormerValueRow {
    /// `NOME`, `DOCUMENTO`, `TELEFONE` or `EMAIL`.
    pub kind: String,
    pub value: String,
}

/// Everything stored about a person (the Relatório do titular; its JSON is the
/// portability answer and `engajar titular export`'s output).
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Report {
    pub contacts: Vec<ContactProfile>,
    /// What edits and merges replaced: names, documents, channels they had before.
    pub former_values: Vec<FormerValueRow>,
    pub audience_rows: Vec<AudienceRow>,
    pub interactions: Vec<InteractionRow>,
    pub messages: Vec<MessageRow>,
    pub dnd: Vec<DndRow>,
    pub access: Vec<AccessRow>,
}

impl Report {
    /// Whether anything at all is stored about the person.
    pub fn is_empty(&self) -> bool {
        self.contacts.is_empty()
            && self.interactions.is_empty()
            && self.messages.is_empty()
            && self.dnd.is_empty()
    }
}

/// The contacts the keys lead to, and every value the person ever had here: current
/// and former (what edits and merges replaced) channels, documents and names.
struct Person {
    contacts: Vec<i64>,
    channels: BTreeSet<String>,
    documents: BTreeSet<String>,
    values: PersonValues,
}

fn person(conn: &mut DbConnection, keys: &Keys) -> QueryResult<Person> {
    let mut ids: BTreeSet<i64> = BTreeSet::new();
    // Values no contact holds now: only these lead through former values.
    let mut unheld: Vec<&String> = Vec::new();
    for value in keys.phone.iter().chain(keys.email.iter()) {
        let holders = contact_channels::table
            .filter(contact_channels::value.eq(value))
            .select(contact_channels::contact_id)
            .load::<i64>(conn)?;
        if holders.is_empty() {
            unheld.push(value);
        }
        ids.extend(holders);
    }
    if let Some(document) = &keys.document {
        let holders = contacts::table
            .filter(contacts::document.eq(document))
            .select(contacts::id)
            .load::<i64>(conn)?;
        if holders.is_empty() {
            unheld.push(document);
        }
        ids.extend(holders);
    }
    // A value an edit replaced still leads to its person — unless someone holds it now:
    // then the value is theirs, and asking by it is asking about them, never about both.
    ids.extend(former_value::contacts_with(conn, &unheld)?);
    let contacts: Vec<i64> = ids.into_iter().collect();
    let mut values = PersonValues::default();
    for value in keys.phone.iter().chain(keys.email.iter()) {
        values.add_channel(value);
    }
    if let Some(document) = &keys.document {
        values.add_document(document);
    }
    for value in contact_channels::table
        .filter(contact_channels::contact_id.eq_any(&contacts))
        .select(contact_channels::value)
        .load::<String>(conn)?
    {
        values.add_channel(&value);
    }
    for (document, name) in contacts::table
        .filter(contacts::id.eq_any(&contacts))
        .select((contacts::document, contacts::name))
        .load::<(Option<String>, Option<String>)>(conn)?
    {
        if let Some(document) = document {
            values.add_document(&document);
        }
        if let Some(name) = name {
            values.add_name(&name);
        }
    }
    for (kind, value) in former_value::of_contacts(conn, &contacts)? {
        match kind.as_str() {
            former_value::NAME => values.add_name(&value),
            former_value::DOCUMENT => values.add_document(&value),
            _ => {
                values.add_channel(&value);
            }
        }
    }
    // A former value another contact holds now is that contact's: an elimination of
    // this person must not reach their messages, their Não Perturbe entry or their
    // imports.
    let candidates: Vec<String> = values.channels().cloned().collect();
    let taken: Vec<String> = contact_channels::table
        .filter(contact_channels::value.eq_any(&candidates))
        .filter(contact_channels::contact_id.ne_all(&contacts))
        .select(contact_channels::value)
        .load(conn)?;
    let documents: Vec<String> = values.documents.iter().cloned().collect();
    let held: Vec<Option<String>> = contacts::table
        .filter(contacts::document.eq_any(&documents))
        .filter(contacts::id.ne_all(&contacts))
        .select(contacts::document)
        .load(conn)?;
    for value in taken.iter().chain(held.iter().flatten()) {
        values.forget(value);
    }
    Ok(Person {
        contacts,
        channels: values.channels().cloned().collect(),
        documents: values.documents.clone(),
        values,
    })
}

/// Everything stored about the person the keys lead to.
pub fn report(conn: &mut DbConnection, keys: &Keys) -> QueryResult<Report> {
    let person = person(conn, keys)?;
    let mut report = Report::default();
    for id in &person.contacts {
        report.contacts.extend(ContactProfile::find(conn, *id)?);
    }
    report.former_values = former_value::of_contacts(conn, &person.contacts)?
        .into_iter()
        .map(|(kind, value)| FormerValueRow { kind, value })
        .collect();
    type MemberRow = (
        (
            i64,
            i64,
            String,
            String,
            Option<String>,
            Option<String>,
            Option<String>,
            Option<String>,
        ),
        (
            Option<String>,
            Option<String>,
            Option<String>,
            Option<String>,
            Option<i64>,
        ),
        (String, i64, String, Option<i64>),
    );
    let rows: Vec<MemberRow> = audience_members::table
        .inner_join(audiences::table)
        .filter(audience_members::contact_id.eq_any(&person.contacts))
        .order((audiences::created_at, audience_members::line))
        .select((
            (
                audience_members::audience_id,
                audience_members::line,
                audience_members::channel_value,
                audience_members::outcome,
                audience_members::message,
                audience_members::tag,
                audience_members::priority,
                audience_members::coringa1,
            ),
            (
                audience_members::coringa2,
                audience_members::coringa3,
                audience_members::coringa4,
                audience_members::coringa5,
                audience_members::consent_revoked_at,
            ),
            (
                audiences::description,
                audiences::created_at,
                audiences::legal_basis,
                audiences::created_by,
            ),
        ))
        .load(conn)?;
    for (
        (audience_id, line, channel, outcome, message, tag, priority, c1),
        (c2, c3, c4, c5, revoked),
        (audience, created_at, legal_basis, created_by),
    ) in rows
    {
        let imported_by = match created_by {
            Some(user) => users::table
                .find(user)
                .select(users::name)
                .first::<String>(conn)
                .optional()?,
            None => Some(crate::messages::CLI_AUTHOR.to_string()),
        };
        report.audience_rows.push(AudienceRow {
            audience_id,
            audience,
            line,
            imported_at: rfc3339(created_at),
            imported_by,
            legal_basis,
            channel,
            outcome,
            message,
            coringas: [c1, c2, c3, c4, c5],
            tag,
            priority,
            consent_revoked_at: revoked.map(rfc3339),
        });
    }
    let channels: Vec<&String> = person.channels.iter().collect();
    let contact_ids: Vec<Option<i64>> = person.contacts.iter().map(|c| Some(*c)).collect();
    for (id, channel, text, at, attended) in interactions::table
        .filter(
            interactions::contact_id
                .eq_any(&contact_ids)
                .or(interactions::channel_value.eq_any(&channels)),
        )
        .order(interactions::occurred_at)
        .select((
            interactions::id,
            interactions::channel_value,
            interactions::body,
            interactions::occurred_at,
            interactions::attended_at,
        ))
        .load::<(i64, String, String, i64, Option<i64>)>(conn)?
    {
        report.interactions.push(InteractionRow {
            id,
            channel,
            text,
            at: rfc3339(at),
            attended_at: attended.map(rfc3339),
        });
    }
    for (campaign, run_id, to, subject, status, at) in campaign_messages::table
        .inner_join(campaign_runs::table.inner_join(campaigns::table))
        .filter(
            campaign_messages::contact_id
                .eq_any(&contact_ids)
                .or(campaign_messages::channel_value.eq_any(&channels)),
        )
        .order(campaign_messages::id)
        .select((
            campaigns::name,
            campaign_messages::run_id,
            campaign_messages::channel_value,
            campaign_messages::subject,
            campaign_messages::status,
            campaign_messages::updated_at,
        ))
        .load::<(String, i64, String, String, String, i64)>(conn)?
    {
        report.messages.push(MessageRow {
            campaign,
            run_id,
            to,
            subject,
            status,
            at: rfc3339(at),
        });
    }
    for (kind, value, at, source) in dnd_entries::table
        .filter(dnd_entries::value.eq_any(&channels))
        .order(dnd_entries::id)
        .select((
            dnd_entries::kind,
            dnd_entries::value,
            dnd_entries::created_at,
            dnd_entries::source,
        ))
        .load::<(String, String, i64, Option<String>)>(conn)?
    {
        report.dnd.push(DndRow {
            kind,
            value,
            added_at: rfc3339(at),
            source,
        });
    }
    for (user, action, at) in audit_log::table
        .left_join(users::table)
        .filter(audit_log::contact_id.eq_any(&contact_ids))
        .order(audit_log::id)
        .select((
            users::name.nullable(),
            audit_log::action,
            audit_log::created_at,
        ))
        .load::<(Option<String>, String, i64)>(conn)?
    {
        report.access.push(AccessRow {
            user,
            action,
            at: rfc3339(at),
        });
    }
    Ok(report)
}

/// What an elimination did (or would do).
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Erasure {
    pub erased_contacts: i64,
    /// Rows kept for their counts with the person's values replaced: rejected rows,
    /// interactions, campaign messages, audit entries; and audience rows removed.
    pub anonymised_rows: i64,
    pub removed_audience_rows: i64,
    pub removed_dnd_entries: i64,
    /// Messages of a run in progress that will not go (skipped, reason `eliminated`).
    pub cancelled_messages: i64,
    /// Keyed hashes kept so a later import skips the person (`impedir reimportação`).
    pub suppressed_keys: i64,
    /// The reason as stored: any of the person's own values replaced.
    #[serde(skip)]
    pub reason: String,
    /// Whether the reason quoted the person's values (the page says so).
    pub reason_redacted: bool,
}

/// What replaces an eliminated value.
pub const ERASED: &str = crate::domain::ERASED;

/// What replaces the person's values in the reason given for eliminating them.
pub const REASON_PLACEHOLDER: &str = "[dado do titular]";

/// Whether any value is suppressed at all (so imports skip the hashing when none is).
pub fn any_suppressed(conn: &mut DbConnection) -> QueryResult<bool> {
    Ok(suppressed_keys::table
        .select(suppressed_keys::key)
        .first::<String>(conn)
        .optional()?
        .is_some())
}

/// Of these keys, the suppressed ones.
pub fn suppressed_among(conn: &mut DbConnection, keys: &[String]) -> QueryResult<Vec<String>> {
    suppressed_keys::table
        .filter(suppressed_keys::key.eq_any(keys))
        .select(suppressed_keys::key)
        .load(conn)
}

/// Whether a normalised value of `kind` (`TELEFONE`, `EMAIL`, `DOCUMENTO`) belongs to a
/// person eliminated with `impedir reimportação`.
pub fn is_suppressed(conn: &mut DbConnection, kind: &str, value: &str) -> QueryResult<bool> {
    if !any_suppressed(conn)? {
        return Ok(false);
    }
    let secret = suppression_secret(conn)?;
    let key = suppression_key(&secret, kind, value);
    Ok(!suppressed_among(conn, &[key])?.is_empty())
}

diesel::define_sql_function! {
    /// Lower case, to look for values however they were typed (PostgreSQL's LIKE is
    /// case-sensitive).
    #[sql_name = "lower"]
    fn lower_text(x: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

diesel::define_sql_function! {
    #[sql_name = "lower"]
    fn lower_nullable(
        x: diesel::sql_types::Nullable<diesel::sql_types::Text>,
    ) -> diesel::sql_types::Nullable<diesel::sql_types::Text>;
}

/// LIKE patterns (lower case) every spelling of the person's values contains: a wide net
/// that `PersonValues` then decides on exactly. An e-mail whole; a phone's last four
/// digits; a document's middle group of digits (as formatted, each group stays whole);
/// with `names`, the longest word of each name.
fn nets(values: &PersonValues, names: bool) -> BTreeSet<String> {
    let mut nets = BTreeSet::new();
    for email in &values.emails {
        nets.insert(crate::models::search::like_pattern(email));
    }
    for phone in &values.phones {
        let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
        let tail = &digits[digits.len().saturating_sub(4)..];
        nets.insert(crate::models::search::like_pattern(tail));
    }
    for document in &values.documents {
        let lower = document.to_lowercase();
        let middle = match lower.len() {
            11 => &lower[6..9],
            14 => &lower[5..8],
            _ => lower.as_str(),
        };
        nets.insert(crate::models::search::like_pattern(middle));
    }
    if names {
        // Blind to accents and cedillas, which neither database's `lower` folds: every
        // letter that has an accented form matches any one character ("secreta" →
        // "%s_cr_t_%" also nets "SÉCRETA").
        for stem in values.name_stems() {
            let blind: String = stem
                .chars()
                .map(|c| if "aeioucn".contains(c) { '_' } else { c })
                .collect();
            nets.insert(format!("%{blind}%"));
        }
    }
    nets
}

/// Eliminates the person the keys lead to — every value they ever had here, found by
/// contact first and by normalised value second: their messages not yet sent are
/// cancelled; interactions, campaign messages, rejected rows, audit details, requests in
/// the register and providers' errors holding their values are anonymised in place;
/// contacts deleted (channels, tags, memberships, audience rows, former values); their
/// Não Perturbe entries removed (with `suppress`, every channel and document they ever
/// had is kept as a keyed hash instead, so a later import skips them). `reason` is
/// returned with their values replaced. In one transaction; on SQLite, call
/// `crate::db::forget_erased` once it is committed.
pub fn erase(
    conn: &mut DbConnection,
    keys: &Keys,
    suppress: bool,
    reason: &str,
    now: i64,
) -> QueryResult<Erasure> {
    crate::db::write_transaction(conn, |conn| {
        let person = person(conn, keys)?;
        let values = &person.values;
        let redacted = values.redact(reason, REASON_PLACEHOLDER, true);
        let mut done = Erasure {
            removed_audience_rows: audience_members::table
                .filter(audience_members::contact_id.eq_any(&person.contacts))
                .count()
                .get_result(conn)?,
            reason_redacted: redacted.is_some(),
            reason: redacted.unwrap_or_else(|| reason.to_string()),
            ..Erasure::default()
        };
        let channels: Vec<&String> = person.channels.iter().collect();
        let contact_ids: Vec<Option<i64>> = person.contacts.iter().map(|c| Some(*c)).collect();
        done.cancelled_messages =
            crate::campaigns::ledger::skip_for_erasure(conn, &person.contacts, &channels, now)?
                as i64;
        if suppress {
            let secret = suppression_secret(conn)?;
            let mut keyed: Vec<(String, &str)> = Vec::new();
            for value in &person.channels {
                let kind = RecordType::of_stored(value);
                keyed.push((
                    suppression_key(&secret, kind.as_str(), value),
                    kind.as_str(),
                ));
            }
            for document in &person.documents {
                keyed.push((suppression_key(&secret, "DOCUMENTO", document), "DOCUMENTO"));
            }
            for (key, kind) in keyed {
                done.suppressed_keys += crate::insert_ignoring_duplicates!(
                    conn,
                    suppressed_keys::table,
                    (
                        suppressed_keys::key.eq(&key),
                        suppressed_keys::kind.eq(kind),
                        suppressed_keys::created_at.eq(now),
                    ),
                    suppressed_keys::key
                )? as i64;
            }
        }
        // Interactions and campaign messages: kept for the counts, the values gone. By
        // contact (whatever address they went to) and by address.
        let mut talked: BTreeSet<i64> = interactions::table
            .filter(interactions::contact_id.eq_any(&contact_ids))
            .select(interactions::id)
            .load::<i64>(conn)?
            .into_iter()
            .collect();
        talked.extend(
            interactions::table
                .filter(interactions::channel_value.eq_any(&channels))
                // Another contact's row is theirs: by address, only rows of no one.
                .filter(diesel::dsl::not(diesel::dsl::exists(
                    contacts::table.filter(contacts::id.nullable().eq(interactions::contact_id)),
                )))
                .select(interactions::id)
                .load::<i64>(conn)?,
        );
        for id in talked {
            done.anonymised_rows += diesel::update(interactions::table.find(id))
                .set((
                    interactions::contact_id.eq(None::<i64>),
                    interactions::channel_value.eq(format!("{ERASED} #{id}")),
                    interactions::body.eq(ERASED),
                ))
                .execute(conn)? as i64;
        }
        let mut sent: BTreeSet<i64> = campaign_messages::table
            .filter(campaign_messages::contact_id.eq_any(&contact_ids))
            .select(campaign_messages::id)
            .load::<i64>(conn)?
            .into_iter()
            .collect();
        sent.extend(
            campaign_messages::table
                .filter(campaign_messages::channel_value.eq_any(&channels))
                .filter(diesel::dsl::not(diesel::dsl::exists(
                    contacts::table
                        .filter(contacts::id.nullable().eq(campaign_messages::contact_id)),
                )))
                .select(campaign_messages::id)
                .load::<i64>(conn)?,
        );
        for id in sent {
            done.anonymised_rows += diesel::update(campaign_messages::table.find(id))
                .set((
                    campaign_messages::contact_id.eq(None::<i64>),
                    campaign_messages::channel_value.eq(format!("{ERASED} #{id}")),
                    campaign_messages::subject.eq(ERASED),
                    campaign_messages::body.eq(ERASED),
                    campaign_messages::parameters.eq(None::<String>),
                    campaign_messages::error.eq(None::<String>),
                ))
                .execute(conn)? as i64;
        }
        // The audit entries about their contacts: every value and name they hold.
        let about: Vec<(i64, String)> = audit_log::table
            .filter(audit_log::contact_id.eq_any(&contact_ids))
            .select((audit_log::id, audit_log::detail))
            .load(conn)?;
        for (id, detail) in about {
            if let Some(clean) = values.redact(&detail, ERASED, true) {
                done.anonymised_rows += diesel::update(audit_log::table.find(id))
                    .set(audit_log::detail.eq(clean))
                    .execute(conn)? as i64;
            }
        }
        for id in &person.contacts {
            if crate::models::erase::delete_contact(conn, *id)? {
                done.erased_contacts += 1;
            }
        }
        // Another contact's record of once sharing the document names it too.
        let documents: Vec<&String> = person.documents.iter().collect();
        done.anonymised_rows += diesel::delete(
            document_conflicts::table.filter(document_conflicts::document.eq_any(&documents)),
        )
        .execute(conn)? as i64;
        done.removed_dnd_entries =
            diesel::delete(dnd_entries::table.filter(dnd_entries::value.eq_any(&channels)))
                .execute(conn)? as i64;
        done.anonymised_rows += scrub_typed_text(conn, values)?;
        done.anonymised_rows +=
            crate::models::titular_request::TitularRequest::scrub(conn, values, ERASED)?;
        Ok(done)
    })
}

/// Wherever text was kept as people typed it — rejected rows, kept validations, audit
/// details, providers' errors — the person's values, in any spelling. A rejected row is
/// theirs when one of its cells is one of their values as a whole (a name compared
/// without case, never as part of another name). Returns the rows changed.
fn scrub_typed_text(conn: &mut DbConnection, values: &PersonValues) -> QueryResult<i64> {
    let mut changed = 0;
    let mut rejected: BTreeSet<i64> = BTreeSet::new();
    let mut quoting: BTreeSet<i64> = BTreeSet::new();
    let mut entries: BTreeSet<i64> = BTreeSet::new();
    let mut runs: BTreeSet<i64> = BTreeSet::new();
    let mut failed: BTreeSet<i64> = BTreeSet::new();
    for net in nets(values, true) {
        rejected.extend(
            audience_row_errors::table
                .filter(
                    lower_nullable(audience_row_errors::raw_row)
                        .like(&net)
                        .escape('\\')
                        .or(lower_nullable(audience_row_errors::value)
                            .like(&net)
                            .escape('\\')),
                )
                .select(audience_row_errors::id)
                .load::<i64>(conn)?,
        );
    }
    for net in nets(values, false) {
        // Someone else's message may quote the person ("o telefone da Maria é …").
        quoting.extend(
            interactions::table
                .filter(lower_text(interactions::body).like(&net).escape('\\'))
                .select(interactions::id)
                .load::<i64>(conn)?,
        );
        entries.extend(
            audit_log::table
                .filter(lower_text(audit_log::detail).like(&net).escape('\\'))
                .select(audit_log::id)
                .load::<i64>(conn)?,
        );
        runs.extend(
            campaign_runs::table
                .filter(
                    lower_nullable(campaign_runs::last_error)
                        .like(&net)
                        .escape('\\'),
                )
                .select(campaign_runs::id)
                .load::<i64>(conn)?,
        );
        failed.extend(
            campaigns::table
                .filter(
                    lower_nullable(campaigns::last_error)
                        .like(&net)
                        .escape('\\'),
                )
                .select(campaigns::id)
                .load::<i64>(conn)?,
        );
    }
    for id in rejected {
        let (value, raw): (Option<String>, Option<String>) = audience_row_errors::table
            .find(id)
            .select((audience_row_errors::value, audience_row_errors::raw_row))
            .first(conn)?;
        let cells: Vec<String> = raw
            .as_deref()
            .and_then(|r| serde_json::from_str(r).ok())
            .unwrap_or_default();
        let theirs = value.as_deref().is_some_and(|v| values.is_value(v))
            || cells.iter().any(|c| values.is_value(c))
            || raw
                .as_deref()
                .is_some_and(|r| values.redact(r, ERASED, false).is_some());
        if theirs {
            changed += diesel::update(audience_row_errors::table.find(id))
                .set((
                    audience_row_errors::raw_row.eq(None::<String>),
                    audience_row_errors::value.eq(Some(ERASED)),
                    audience_row_errors::message.eq(ERASED),
                ))
                .execute(conn)? as i64;
        }
    }
    for id in quoting {
        let body: String = interactions::table
            .find(id)
            .select(interactions::body)
            .first(conn)?;
        // As in the audit: the names go only from a text that quotes one of their keys.
        if values.redact(&body, ERASED, false).is_none() {
            continue;
        }
        if let Some(clean) = values.redact(&body, ERASED, true) {
            changed += diesel::update(interactions::table.find(id))
                .set(interactions::body.eq(clean))
                .execute(conn)? as i64;
        }
    }
    // Every kept validation goes, with its upload: its report lists only the rows it
    // refused, but the upload holds every row, and "Importar este arquivo" would bring
    // the person back. A validation is kept for minutes; an elimination is rare.
    let kept: Vec<(i64, Option<String>)> = import_validations::table
        .select((import_validations::id, import_validations::upload))
        .load(conn)?;
    for (id, upload) in kept {
        match upload
            .as_deref()
            .map(crate::models::upload::UploadRef::parse)
        {
            Some(crate::models::upload::UploadRef::Database(upload)) => {
                crate::models::upload::delete(conn, upload)?
            }
            Some(crate::models::upload::UploadRef::File(path)) => {
                let _ = std::fs::remove_file(path);
            }
            None => {}
        }
        changed += diesel::delete(import_validations::table.find(id)).execute(conn)? as i64;
    }
    for id in entries {
        let (detail, action): (String, String) = audit_log::table
            .find(id)
            .select((audit_log::detail, audit_log::action))
            .first(conn)?;
        // Another person's entry may share a phone's last digits: the names go only from
        // an entry that quotes one of this person's keys.
        if values.redact(&detail, ERASED, false).is_none() {
            continue;
        }
        if let Some(clean) = values.redact(&detail, ERASED, true) {
            changed += diesel::update(audit_log::table.find(id))
                .set(audit_log::detail.eq(clean))
                .execute(conn)? as i64;
        }
        // An opt-out the person made themselves was recorded with their own address.
        if action.starts_with("unsubscribe") {
            diesel::update(audit_log::table.find(id))
                .set(audit_log::ip.eq(None::<String>))
                .execute(conn)?;
        }
    }
    // A provider's refusal may quote an address.
    for id in runs {
        let error: Option<String> = campaign_runs::table
            .find(id)
            .select(campaign_runs::last_error)
            .first(conn)?;
        if let Some(clean) = error.and_then(|e| values.redact(&e, ERASED, false)) {
            changed += diesel::update(campaign_runs::table.find(id))
                .set(campaign_runs::last_error.eq(Some(clean)))
                .execute(conn)? as i64;
        }
    }
    for id in failed {
        let error: Option<String> = campaigns::table
            .find(id)
            .select(campaigns::last_error)
            .first(conn)?;
        if let Some(clean) = error.and_then(|e| values.redact(&e, ERASED, false)) {
            changed += diesel::update(campaigns::table.find(id))
                .set(campaigns::last_error.eq(Some(clean)))
                .execute(conn)? as i64;
        }
    }
    Ok(changed)
}

/// How a channel put on Não Perturbe by a revocation says so (`dnd_entries.source`).
pub const REVOCATION_SOURCE: &str = "revogacao_consentimento";

/// What revoking consent did.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Revocation {
    /// The person's channels put on Não Perturbe (those not there already).
    pub dnd_added: i64,
    /// Audience rows imported under consent, now marked revoked.
    pub rows_revoked: i64,
}

/// Revogar consentimento: the person's channels go on Não Perturbe and the rows that
/// consent brought in are marked revoked (kept, as the record of what was done).
pub fn revoke_consent(conn: &mut DbConnection, keys: &Keys, now: i64) -> QueryResult<Revocation> {
    crate::db::write_transaction(conn, |conn| {
        let person = person(conn, keys)?;
        let mut done = Revocation::default();
        for value in &person.channels {
            let kind = RecordType::of_stored(value);
            if crate::models::dnd::opt_out(conn, kind, value, REVOCATION_SOURCE, now)? {
                done.dnd_added += 1;
            }
        }
        let consented: Vec<i64> = audiences::table
            .filter(audiences::legal_basis.eq(crate::domain::LegalBasis::Consentimento.code()))
            .select(audiences::id)
            .load(conn)?;
        done.rows_revoked = diesel::update(
            audience_members::table
                .filter(audience_members::contact_id.eq_any(&person.contacts))
                .filter(audience_members::audience_id.eq_any(&consented))
                .filter(audience_members::consent_revoked_at.is_null()),
        )
        .set(audience_members::consent_revoked_at.eq(Some(now)))
        .execute(conn)? as i64;
        Ok(done)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_box_finds_any_key() {
        assert_eq!(
            Keys::parse_any("(11) 98765-4321").unwrap().phone.as_deref(),
            Some("+5511987654321")
        );
        assert_eq!(
            Keys::parse_any("Ana@Exemplo.com.br")
                .unwrap()
                .email
                .as_deref(),
            Some("ana@exemplo.com.br")
        );
        assert_eq!(
            Keys::parse_any("111.444.777-35")
                .unwrap()
                .document
                .as_deref(),
            Some("11144477735")
        );
        assert!(Keys::parse_any("Ana").is_none());
    }

    #[test]
    fn suppression_keys_depend_on_the_secret_and_hide_the_value() {
        let a = suppression_key(b"k", "TELEFONE", "+5511987654321");
        assert_eq!(a, suppression_key(b"k", "TELEFONE", "+5511987654321"));
        assert_ne!(a, suppression_key(b"j", "TELEFONE", "+5511987654321"));
        assert!(!a.contains("98765"));
    }

    #[test]
    fn the_nets_catch_every_spelling() {
        let mut v = PersonValues::default();
        v.add_channel("+5511987654321");
        v.add_document("11144477735");
        v.add_name("Maria Secreta");
        let nets = nets(&v, true);
        // SQL's LIKE for these nets: `%…%` around plain characters and `_` (any one).
        let like = |text: &str, net: &str| {
            let text: Vec<char> = text.chars().collect();
            let net: Vec<char> = net.trim_matches('%').chars().collect();
            text.windows(net.len())
                .any(|w| w.iter().zip(&net).all(|(t, n)| *n == '_' || t == n))
        };
        for typed in [
            "11 98765-4321",
            "111.444.777-35",
            "MARIA SECRETA",
            "MARÍA SÉCRETA",
        ] {
            let lower = typed.to_lowercase();
            assert!(nets.iter().any(|n| like(&lower, n)), "{typed} in {nets:?}");
        }
        assert!(!nets.iter().any(|n| like("juliana souza", n)));
    }
}
