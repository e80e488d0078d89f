//! Integrity of the bulk tables. On PostgreSQL the tables an import fills in bulk
//! (channels, tags, segment memberships, audience members) keep no foreign keys (README,
//! "Foreign keys and integrity"): a contact or an audience leaves the database only
//! through `delete_contact` / `delete_audience` here, which remove what depends on it in
//! the same transaction, and `orphans` (`engajar db check`) finds anything left behind.

use diesel::prelude::*;
use diesel::sql_types::BigInt;

use crate::db::{Backend, DbConnection};
use crate::models::search;
use crate::schema::{
    audience_members, audience_row_errors, audiences, contact_channels, contact_segments,
    contact_tags, contacts, document_conflicts, interactions,
};

/// Deletes a contact with its channels, tags, memberships, audience rows and search
/// entry; its interactions stay, no longer linked to anyone.
pub fn delete_contact(conn: &mut DbConnection, id: i64) -> QueryResult<bool> {
    crate::db::write_transaction(conn, |conn| {
        diesel::delete(contact_channels::table.filter(contact_channels::contact_id.eq(id)))
            .execute(conn)?;
        diesel::delete(contact_tags::table.filter(contact_tags::contact_id.eq(id)))
            .execute(conn)?;
        diesel::delete(contact_segments::table.filter(contact_segments::contact_id.eq(id)))
            .execute(conn)?;
        diesel::delete(audience_members::table.filter(audience_members::contact_id.eq(id)))
            .execute(conn)?;
        diesel::delete(document_conflicts::table.filter(document_conflicts::contact_id.eq(id)))
            .execute(conn)?;
        diesel::update(document_conflicts::table.filter(document_conflicts::kept_by.eq(id)))
            .set(document_conflicts::kept_by.eq(None::<i64>))
            .execute(conn)?;
        diesel::update(interactions::table.filter(interactions::contact_id.eq(id)))
            .set(interactions::contact_id.eq(None::<i64>))
            .execute(conn)?;
        search::forget_names(conn, &[id])?;
        crate::models::former_value::forget(conn, id)?;
        Ok(diesel::delete(contacts::table.find(id)).execute(conn)? > 0)
    })
}

/// Deletes an audience with its members and rejected rows (its contacts stay).
pub fn delete_audience(conn: &mut DbConnection, id: i64) -> QueryResult<bool> {
    crate::db::write_transaction(conn, |conn| {
        diesel::delete(audience_members::table.filter(audience_members::audience_id.eq(id)))
            .execute(conn)?;
        diesel::delete(audience_row_errors::table.filter(audience_row_errors::audience_id.eq(id)))
            .execute(conn)?;
        search::forget_description(conn, id)?;
        Ok(diesel::delete(audiences::table.find(id)).execute(conn)? > 0)
    })
}

/// What undoing an import removes (or would remove).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ImportUndo {
    /// The audience's rows (members).
    pub deleted_members: i64,
    /// Contacts this import created that nothing else has touched since.
    pub deleted_contacts: i64,
    /// The audience's other contacts: they stay as they are now.
    pub kept_contacts: i64,
    /// Of the kept ones, those this import updated (earlier values are not restored).
    pub updated_contacts: i64,
    /// Tags and segment memberships only this import gave to a kept contact.
    pub removed_tags: i64,
    pub removed_memberships: i64,
    /// Campaigns aimed at it that never sent anything (drafts, cancelled before their
    /// first message): they go with it.
    pub deleted_campaigns: Vec<String>,
}

/// Why an import cannot be undone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UndoRefusal {
    /// It is still queued or importing.
    Running,
    /// Campaigns (these names) that sent or will send to it target it.
    Campaigns(Vec<String>),
}

/// Contacts checked per query.
const CHUNK: usize = 500;

/// Undoes import `id`, or (`apply` false) only says what that would do. The audience goes
/// with its members, rejected rows and upload. Contacts it created that nothing else has
/// touched since (no other audience row, interaction, campaign message or edit) are deleted;
/// the others keep their current values, losing only the tags and the segment membership
/// no other import of theirs gave. `None` when there is no such audience.
pub fn undo_import(
    conn: &mut DbConnection,
    id: i64,
    apply: bool,
) -> QueryResult<Option<Result<ImportUndo, UndoRefusal>>> {
    // Looking only reads: it must not wait for the write lock an import holds (SQLite).
    if apply {
        crate::db::write_transaction(conn, |conn| undo_or_count(conn, id, true))
    } else {
        undo_or_count(conn, id, false)
    }
}

fn undo_or_count(
    conn: &mut DbConnection,
    id: i64,
    apply: bool,
) -> QueryResult<Option<Result<ImportUndo, UndoRefusal>>> {
    use crate::domain::AudienceStatus;
    use crate::models::Audience;
    use crate::models::campaign::Campaign;
    use crate::schema::campaign_messages;
    use std::collections::{BTreeMap, BTreeSet, HashSet};
    let Some(audience) = Audience::find(conn, id)? else {
        return Ok(None);
    };
    if matches!(
        audience.status,
        AudienceStatus::Queued | AudienceStatus::Processing
    ) {
        return Ok(Some(Err(UndoRefusal::Running)));
    }
    // A campaign that sent or will send keeps its audience; one that never sent anything
    // goes with it.
    let mut sending = Vec::new();
    let mut unsent = Vec::new();
    for c in Campaign::for_audience(conn, id)? {
        if c.sends_or_sent(conn)? {
            sending.push(c.name);
        } else {
            unsent.push(c);
        }
    }
    if !sending.is_empty() {
        return Ok(Some(Err(UndoRefusal::Campaigns(sending))));
    }
    // Each contact of the audience: whether a row created it, and the tags it gave.
    let rows: Vec<(i64, String, Option<String>)> = audience_members::table
        .filter(audience_members::audience_id.eq(id))
        .select((
            audience_members::contact_id,
            audience_members::outcome,
            audience_members::tag,
        ))
        .load(conn)?;
    let deleted_members = rows.len() as i64;
    let mut contacts: BTreeMap<i64, (bool, bool, BTreeSet<String>)> = BTreeMap::new();
    for (contact, outcome, tag) in rows {
        let entry = contacts.entry(contact).or_default();
        entry.0 |= outcome == "created";
        entry.1 |= outcome == "updated";
        if let Some(tag) = tag {
            entry.2.insert(tag);
        }
    }
    let ids: Vec<i64> = contacts.keys().copied().collect();
    // What else holds each contact: other audience rows (their segment and tag),
    // interactions, campaign messages.
    let mut elsewhere: HashSet<i64> = HashSet::new();
    let mut segments_elsewhere: HashSet<(i64, i64)> = HashSet::new();
    let mut tags_elsewhere: HashSet<(i64, String)> = HashSet::new();
    for chunk in ids.chunks(CHUNK) {
        let others: Vec<(i64, i64, Option<String>)> = audience_members::table
            .inner_join(audiences::table)
            .filter(audience_members::contact_id.eq_any(chunk))
            .filter(audience_members::audience_id.ne(id))
            .select((
                audience_members::contact_id,
                audiences::segment_id,
                audience_members::tag,
            ))
            .load(conn)?;
        for (contact, segment, tag) in others {
            elsewhere.insert(contact);
            segments_elsewhere.insert((contact, segment));
            if let Some(tag) = tag {
                tags_elsewhere.insert((contact, tag));
            }
        }
        let talked: Vec<Option<i64>> = interactions::table
            .filter(interactions::contact_id.eq_any(chunk.iter().map(|c| Some(*c))))
            .select(interactions::contact_id)
            .load(conn)?;
        elsewhere.extend(talked.into_iter().flatten());
        let messaged: Vec<Option<i64>> = campaign_messages::table
            .filter(campaign_messages::contact_id.eq_any(chunk.iter().map(|c| Some(*c))))
            .select(campaign_messages::contact_id)
            .load(conn)?;
        elsewhere.extend(messaged.into_iter().flatten());
        // Edited by hand since: the import no longer owns what they hold.
        let edited: Vec<Option<i64>> = crate::schema::audit_log::table
            .filter(crate::schema::audit_log::action.eq("contact_edit"))
            .filter(crate::schema::audit_log::contact_id.eq_any(chunk.iter().map(|c| Some(*c))))
            .select(crate::schema::audit_log::contact_id)
            .load(conn)?;
        elsewhere.extend(edited.into_iter().flatten());
    }
    let mut undo = ImportUndo {
        deleted_members,
        ..ImportUndo::default()
    };
    let mut doomed = Vec::new();
    let mut tags_to_remove: Vec<(i64, String)> = Vec::new();
    let mut memberships_to_remove: Vec<i64> = Vec::new();
    for (contact, (created, updated, tags)) in contacts {
        if created && !elsewhere.contains(&contact) {
            doomed.push(contact);
            continue;
        }
        undo.kept_contacts += 1;
        if updated {
            undo.updated_contacts += 1;
        }
        if !segments_elsewhere.contains(&(contact, audience.segment_id)) {
            memberships_to_remove.push(contact);
        }
        for tag in tags {
            if !tags_elsewhere.contains(&(contact, tag.clone())) {
                tags_to_remove.push((contact, tag));
            }
        }
    }
    undo.deleted_contacts = doomed.len() as i64;
    if !apply {
        // Counted as they stand: the ones still there.
        for chunk in memberships_to_remove.chunks(CHUNK) {
            undo.removed_memberships += contact_segments::table
                .filter(contact_segments::segment_id.eq(audience.segment_id))
                .filter(contact_segments::contact_id.eq_any(chunk))
                .count()
                .get_result::<i64>(conn)?;
        }
        for (contact, tag) in &tags_to_remove {
            undo.removed_tags += contact_tags::table
                .filter(contact_tags::contact_id.eq(contact))
                .filter(contact_tags::tag.eq(tag))
                .count()
                .get_result::<i64>(conn)?;
        }
        undo.deleted_campaigns = unsent.into_iter().map(|c| c.name).collect();
        return Ok(Some(Ok(undo)));
    }
    for c in &unsent {
        if let Some(Err(_)) = Campaign::delete_unsent(conn, c.id)? {
            // Checked above in this same transaction; never here.
            return Ok(Some(Err(UndoRefusal::Campaigns(vec![c.name.clone()]))));
        }
    }
    undo.deleted_campaigns = unsent.into_iter().map(|c| c.name).collect();
    for contact in doomed {
        delete_contact(conn, contact)?;
    }
    for chunk in memberships_to_remove.chunks(CHUNK) {
        undo.removed_memberships += diesel::delete(
            contact_segments::table
                .filter(contact_segments::segment_id.eq(audience.segment_id))
                .filter(contact_segments::contact_id.eq_any(chunk)),
        )
        .execute(conn)? as i64;
    }
    for (contact, tag) in &tags_to_remove {
        undo.removed_tags += diesel::delete(
            contact_tags::table
                .filter(contact_tags::contact_id.eq(contact))
                .filter(contact_tags::tag.eq(tag)),
        )
        .execute(conn)? as i64;
    }
    Audience::forget_upload(conn, id)?;
    delete_audience(conn, id)?;
    Ok(Some(Ok(undo)))
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Rows pointing at something that is not there, by table (only tables with some).
pub fn orphans(conn: &mut DbConnection) -> QueryResult<Vec<(&'static str, i64)>> {
    let missing_contact = "NOT EXISTS (SELECT 1 FROM contacts c WHERE c.id = t.contact_id)";
    let mut checks: Vec<(&'static str, String)> = vec![
        (
            "contact_channels",
            format!("SELECT COUNT(*) AS n FROM contact_channels t WHERE {missing_contact}"),
        ),
        (
            "contact_tags",
            format!("SELECT COUNT(*) AS n FROM contact_tags t WHERE {missing_contact}"),
        ),
        (
            "contact_segments",
            format!(
                "SELECT COUNT(*) AS n FROM contact_segments t WHERE {missing_contact} \
                 OR NOT EXISTS (SELECT 1 FROM segments s WHERE s.id = t.segment_id)"
            ),
        ),
        (
            "audience_members",
            format!(
                "SELECT COUNT(*) AS n FROM audience_members t WHERE {missing_contact} \
                 OR NOT EXISTS (SELECT 1 FROM audiences a WHERE a.id = t.audience_id)"
            ),
        ),
        (
            "contact_former_values",
            format!("SELECT COUNT(*) AS n FROM contact_former_values t WHERE {missing_contact}"),
        ),
        (
            "audience_row_errors",
            "SELECT COUNT(*) AS n FROM audience_row_errors t \
             WHERE NOT EXISTS (SELECT 1 FROM audiences a WHERE a.id = t.audience_id)"
                .to_string(),
        ),
    ];
    match conn.backend() {
        Backend::Sqlite => checks.push((
            // The name index: an entry for every named contact, and for no one else.
            "contact_names",
            "SELECT (SELECT COUNT(*) FROM contact_names n WHERE NOT EXISTS \
             (SELECT 1 FROM contacts c WHERE c.id = n.rowid AND c.name_search = n.name)) \
             + (SELECT COUNT(*) FROM contacts c WHERE c.name_search IS NOT NULL \
             AND NOT EXISTS (SELECT 1 FROM contact_names n WHERE n.rowid = c.id)) AS n"
                .to_string(),
        )),
        Backend::Postgres => checks.push((
            // An upload no audience waits for: finished, or still arriving after the time
            // any upload takes (the worker purges those).
            "uploads",
            format!(
                "SELECT COUNT(*) AS n FROM uploads u WHERE (u.complete = 1 OR u.created_at < {}) \
                 AND NOT EXISTS (SELECT 1 FROM audiences a WHERE a.spool_path = 'db:' || u.id) \
                 AND NOT EXISTS (SELECT 1 FROM import_validations v WHERE v.upload = 'db:' || u.id)",
                crate::time::now() - crate::models::upload::STALE_AFTER_SECS
            ),
        )),
    }
    let mut found = Vec::new();
    for (table, sql) in checks {
        let n = diesel::sql_query(sql).get_result::<Count>(conn)?.n;
        if n > 0 {
            found.push((table, n));
        }
    }
    Ok(found)
}
