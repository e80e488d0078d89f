//! Editar contato: staff change a contact by hand — name, CPF/CNPJ, customer code,
//! priority, tags, segments, channels — with the import's normalisation, in one
//! transaction, audited with the values before and after.

use std::collections::BTreeSet;

use diesel::prelude::*;

use crate::db::DbConnection;
use crate::domain::{Priority, RecordType};
use crate::models::{ContactProfile, search};
use crate::schema::{contact_channels, contact_segments, contact_tags, contacts};

/// What the form asks for, already normalised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactChanges {
    pub name: Option<String>,
    pub document: Option<String>,
    pub customer_code: Option<String>,
    pub priority: Priority,
    pub tags: BTreeSet<String>,
    pub segments: BTreeSet<i64>,
    pub add_channel: Option<(RecordType, String)>,
    /// Channel values to remove.
    pub remove_channels: BTreeSet<String>,
}

/// Why an edit was refused (nothing changed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EditConflict {
    /// The CPF/CNPJ is this other contact's.
    Document(i64),
    /// The channel is this other contact's.
    Channel(i64),
    /// A contact keeps at least one phone or e-mail.
    NoChannelLeft,
    /// The channel was eliminated with `impedir reimportação`: it may not come back.
    SuppressedChannel,
    /// So was the CPF/CNPJ.
    SuppressedDocument,
}

/// Applies the changes; `None` when there is no such contact. Returns the profile before
/// and after, for the audit.
pub fn edit(
    conn: &mut DbConnection,
    id: i64,
    changes: &ContactChanges,
    now: i64,
) -> QueryResult<Option<Result<(ContactProfile, ContactProfile), EditConflict>>> {
    crate::db::write_transaction(conn, |conn| {
        let Some(before) = ContactProfile::find(conn, id)? else {
            return Ok(None);
        };
        if let Some(document) = &changes.document {
            let owner: Option<i64> = contacts::table
                .filter(contacts::document.eq(document))
                .filter(contacts::id.ne(id))
                .select(contacts::id)
                .first(conn)
                .optional()?;
            if let Some(other) = owner {
                return Ok(Some(Err(EditConflict::Document(other))));
            }
            if before.document.as_ref() != Some(document)
                && crate::models::titular::is_suppressed(conn, "DOCUMENTO", document)?
            {
                return Ok(Some(Err(EditConflict::SuppressedDocument)));
            }
        }
        if let Some((kind, value)) = &changes.add_channel {
            let owner: Option<i64> = contact_channels::table
                .filter(contact_channels::kind.eq(kind.as_str()))
                .filter(contact_channels::value.eq(value))
                .select(contact_channels::contact_id)
                .first(conn)
                .optional()?;
            if let Some(other) = owner.filter(|o| *o != id) {
                return Ok(Some(Err(EditConflict::Channel(other))));
            }
            if owner.is_none() && crate::models::titular::is_suppressed(conn, kind.as_str(), value)?
            {
                return Ok(Some(Err(EditConflict::SuppressedChannel)));
            }
        }
        let left = before
            .channels
            .iter()
            .filter(|c| !changes.remove_channels.contains(&c.value))
            .count();
        if left == 0 && changes.add_channel.is_none() {
            return Ok(Some(Err(EditConflict::NoChannelLeft)));
        }
        // What this edit replaces stays findable for an elimination.
        use crate::models::former_value;
        if let Some(old) = before
            .name
            .as_ref()
            .filter(|n| changes.name.as_ref() != Some(*n))
        {
            former_value::record(conn, id, former_value::NAME, old, now)?;
        }
        if let Some(old) = before
            .document
            .as_ref()
            .filter(|d| changes.document.as_ref() != Some(*d))
        {
            former_value::record(conn, id, former_value::DOCUMENT, old, now)?;
        }
        for channel in before
            .channels
            .iter()
            .filter(|c| changes.remove_channels.contains(&c.value))
        {
            let kind = RecordType::of_stored(&channel.value);
            former_value::record(conn, id, kind.as_str(), &channel.value, now)?;
        }
        let name_search = changes.name.as_deref().map(crate::domain::text::search_key);
        diesel::update(contacts::table.find(id))
            .set((
                contacts::name.eq(&changes.name),
                contacts::name_search.eq(&name_search),
                contacts::document.eq(&changes.document),
                contacts::customer_code.eq(&changes.customer_code),
                contacts::priority.eq(changes.priority.as_str()),
                contacts::updated_at.eq(now),
            ))
            .execute(conn)?;
        search::replace_names(conn, &[(id, name_search.as_deref())])?;
        diesel::delete(contact_tags::table.filter(contact_tags::contact_id.eq(id)))
            .execute(conn)?;
        for tag in &changes.tags {
            diesel::insert_into(contact_tags::table)
                .values((
                    contact_tags::contact_id.eq(id),
                    contact_tags::tag.eq(tag),
                    contact_tags::created_at.eq(now),
                ))
                .execute(conn)?;
        }
        let segments: Vec<i64> = changes.segments.iter().copied().collect();
        diesel::delete(
            contact_segments::table
                .filter(contact_segments::contact_id.eq(id))
                .filter(contact_segments::segment_id.ne_all(&segments)),
        )
        .execute(conn)?;
        for segment in &segments {
            crate::insert_ignoring_duplicates!(
                conn,
                contact_segments::table,
                (
                    contact_segments::contact_id.eq(id),
                    contact_segments::segment_id.eq(segment),
                    contact_segments::created_at.eq(now),
                ),
                (contact_segments::contact_id, contact_segments::segment_id)
            )?;
        }
        let removed: Vec<&String> = changes.remove_channels.iter().collect();
        diesel::delete(
            contact_channels::table
                .filter(contact_channels::contact_id.eq(id))
                .filter(contact_channels::value.eq_any(&removed)),
        )
        .execute(conn)?;
        if let Some((kind, value)) = &changes.add_channel {
            crate::insert_ignoring_duplicates!(
                conn,
                contact_channels::table,
                (
                    contact_channels::contact_id.eq(id),
                    contact_channels::kind.eq(kind.as_str()),
                    contact_channels::value.eq(value),
                    contact_channels::created_at.eq(now),
                ),
                (contact_channels::kind, contact_channels::value)
            )?;
        }
        let after = ContactProfile::find(conn, id)?.ok_or(diesel::result::Error::NotFound)?;
        Ok(Some(Ok((before, after))))
    })
}

/// The audit entry of an edit: each field that changed, before → after.
pub fn describe(before: &ContactProfile, after: &ContactProfile) -> String {
    let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "(vazio)".to_string());
    let list = |v: &[String]| {
        if v.is_empty() {
            "(nenhum)".to_string()
        } else {
            v.join(", ")
        }
    };
    let channels = |p: &ContactProfile| {
        p.channels
            .iter()
            .map(|c| c.value.clone())
            .collect::<Vec<_>>()
    };
    let mut changed = Vec::new();
    for (field, old, new) in [
        ("nome", show(&before.name), show(&after.name)),
        ("CPF/CNPJ", show(&before.document), show(&after.document)),
        (
            "código do cliente",
            show(&before.customer_code),
            show(&after.customer_code),
        ),
        (
            "prioridade",
            crate::web::display::priority(&before.priority),
            crate::web::display::priority(&after.priority),
        ),
        ("tags", list(&before.tags), list(&after.tags)),
        ("segmentos", list(&before.segments), list(&after.segments)),
        ("canais", list(&channels(before)), list(&channels(after))),
    ] {
        if old != new {
            changed.push(format!("{field}: {old} → {new}"));
        }
    }
    if changed.is_empty() {
        format!("Salvou o contato #{} sem mudanças.", after.id)
    } else {
        format!("Alterou o contato #{}: {}.", after.id, changed.join("; "))
    }
}

/// What a merge moved.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Merged {
    pub channels: i64,
    pub audience_rows: i64,
    pub interactions: i64,
    pub messages: i64,
}

/// Two contacts with different CPF/CNPJs are different legal persons: never one contact.
pub fn may_merge(keep: &ContactProfile, other: &ContactProfile) -> bool {
    match (&keep.document, &other.document) {
        (Some(a), Some(b)) => a == b,
        _ => true,
    }
}

/// Mesclar contatos: everything of `other` moves to `keep` — channels, tags, segments,
/// audience rows, interactions, campaign messages, its records — and `other` goes. The
/// kept contact's name, document and code stay; where it has none, the other's fill in.
/// `None` when either is missing, they are the same, or [`may_merge`] says no.
pub fn merge(
    conn: &mut DbConnection,
    keep: i64,
    other: i64,
    now: i64,
) -> QueryResult<Option<Merged>> {
    use crate::schema::{
        audience_members, audit_log, campaign_messages, document_conflicts, interactions,
    };
    if keep == other {
        return Ok(None);
    }
    crate::db::write_transaction(conn, |conn| {
        let (Some(kept), Some(gone)) = (
            ContactProfile::find(conn, keep)?,
            ContactProfile::find(conn, other)?,
        ) else {
            return Ok(None);
        };
        if !may_merge(&kept, &gone) {
            return Ok(None);
        }
        let mut merged = Merged {
            channels: diesel::update(
                contact_channels::table.filter(contact_channels::contact_id.eq(other)),
            )
            .set(contact_channels::contact_id.eq(keep))
            .execute(conn)? as i64,
            ..Merged::default()
        };
        for tag in &gone.tags {
            crate::insert_ignoring_duplicates!(
                conn,
                contact_tags::table,
                (
                    contact_tags::contact_id.eq(keep),
                    contact_tags::tag.eq(tag),
                    contact_tags::created_at.eq(now),
                ),
                (contact_tags::contact_id, contact_tags::tag)
            )?;
        }
        let segments: Vec<i64> = contact_segments::table
            .filter(contact_segments::contact_id.eq(other))
            .select(contact_segments::segment_id)
            .load(conn)?;
        for segment in segments {
            crate::insert_ignoring_duplicates!(
                conn,
                contact_segments::table,
                (
                    contact_segments::contact_id.eq(keep),
                    contact_segments::segment_id.eq(segment),
                    contact_segments::created_at.eq(now),
                ),
                (contact_segments::contact_id, contact_segments::segment_id)
            )?;
        }
        merged.audience_rows =
            diesel::update(audience_members::table.filter(audience_members::contact_id.eq(other)))
                .set(audience_members::contact_id.eq(keep))
                .execute(conn)? as i64;
        merged.interactions =
            diesel::update(interactions::table.filter(interactions::contact_id.eq(Some(other))))
                .set(interactions::contact_id.eq(Some(keep)))
                .execute(conn)? as i64;
        merged.messages = diesel::update(
            campaign_messages::table.filter(campaign_messages::contact_id.eq(Some(other))),
        )
        .set(campaign_messages::contact_id.eq(Some(keep)))
        .execute(conn)? as i64;
        diesel::update(audit_log::table.filter(audit_log::contact_id.eq(Some(other))))
            .set(audit_log::contact_id.eq(Some(keep)))
            .execute(conn)?;
        diesel::update(document_conflicts::table.filter(document_conflicts::kept_by.eq(other)))
            .set(document_conflicts::kept_by.eq(Some(keep)))
            .execute(conn)?;
        // The other's document is unique: it leaves before the kept one may take it.
        let name = kept.name.clone().or(gone.name.clone());
        let code = kept.customer_code.clone().or(gone.customer_code.clone());
        let document = kept.document.clone().or(gone.document.clone());
        // The other's history, and what of it the kept contact does not take, stay
        // findable for an elimination.
        use crate::models::former_value;
        former_value::move_to(conn, other, keep)?;
        if let Some(old) = gone.name.as_ref().filter(|n| name.as_ref() != Some(*n)) {
            former_value::record(conn, keep, former_value::NAME, old, now)?;
        }
        if let Some(old) = gone
            .document
            .as_ref()
            .filter(|d| document.as_ref() != Some(*d))
        {
            former_value::record(conn, keep, former_value::DOCUMENT, old, now)?;
        }
        crate::models::erase::delete_contact(conn, other)?;
        let name_search = name.as_deref().map(crate::domain::text::search_key);
        diesel::update(contacts::table.find(keep))
            .set((
                contacts::name.eq(&name),
                contacts::name_search.eq(&name_search),
                contacts::document.eq(&document),
                contacts::customer_code.eq(&code),
                contacts::updated_at.eq(now),
            ))
            .execute(conn)?;
        search::replace_names(conn, &[(keep, name_search.as_deref())])?;
        Ok(Some(merged))
    })
}
