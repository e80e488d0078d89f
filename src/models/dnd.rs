//! The Não Perturbe list: phones and e-mails that must not receive campaigns.

use diesel::prelude::*;

use crate::db::DbConnection;
use crate::domain::RecordType;
use crate::schema::dnd_entries;

#[derive(Debug, Insertable)]
#[diesel(table_name = dnd_entries)]
// NULL, not DEFAULT, for None: SQLite can then insert a whole batch in one statement.
#[diesel(treat_none_as_default_value = false)]
pub struct NewDndEntry {
    pub kind: &'static str,
    pub value: String,
    pub created_by: Option<i64>,
    pub created_at: i64,
}

impl NewDndEntry {
    pub fn new(kind: RecordType, value: String, created_by: Option<i64>, created_at: i64) -> Self {
        NewDndEntry {
            kind: kind.as_str(),
            value,
            created_by,
            created_at,
        }
    }

    /// Adds the entries not listed yet, all or none; returns how many were added.
    pub fn insert_all(conn: &mut DbConnection, entries: &[NewDndEntry]) -> QueryResult<usize> {
        crate::db::write_transaction(conn, |conn| {
            let mut added = 0;
            for chunk in entries.chunks(1_000) {
                added += crate::insert_ignoring_duplicates!(
                    conn,
                    dnd_entries::table,
                    chunk,
                    (dnd_entries::kind, dnd_entries::value)
                )?;
            }
            Ok(added)
        })
    }
}

/// Lists one value that opted out on its own (an unsubscribe link, a stop-word reply),
/// saying how; returns whether it was new.
pub fn opt_out(
    conn: &mut DbConnection,
    kind: RecordType,
    value: &str,
    source: &str,
    now: i64,
) -> QueryResult<bool> {
    let added = crate::insert_ignoring_duplicates!(
        conn,
        dnd_entries::table,
        (
            dnd_entries::kind.eq(kind.as_str()),
            dnd_entries::value.eq(value),
            dnd_entries::created_by.eq(None::<i64>),
            dnd_entries::created_at.eq(now),
            dnd_entries::source.eq(source),
        ),
        (dnd_entries::kind, dnd_entries::value)
    )?;
    Ok(added == 1)
}

/// One listed value as the admin page shows it.
#[derive(Debug, Clone, Queryable)]
pub struct DndEntryView {
    pub id: i64,
    pub kind: String,
    pub value: String,
    pub created_at: i64,
    pub created_by: Option<String>,
    /// How a value that opted out on its own got here (a link, a reply).
    pub source: Option<String>,
}

impl DndEntryView {
    /// "Por" on the page: the person, or how the customer opted out.
    pub fn origin(&self) -> String {
        if let Some(n) = &self.created_by {
            return n.clone();
        }
        match self.source.as_deref() {
            Some(s) if s.starts_with("whatsapp_reply") => format!(
                "Resposta no WhatsApp: {}",
                s.split_once(": ").map(|x| x.1).unwrap_or_default()
            ),
            Some(crate::models::titular::REVOCATION_SOURCE) => {
                "Revogação de consentimento".to_string()
            }
            Some(s) if s.starts_with("sms_reply") => format!(
                "Resposta por SMS: {}",
                s.split_once(": ").map(|x| x.1).unwrap_or_default()
            ),
            Some(_) => "Link de descadastro".to_string(),
            None => "Linha de comando".to_string(),
        }
    }
}

type DndFilter = Box<
    dyn BoxableExpression<
            dnd_entries::table,
            crate::db::MultiBackend,
            SqlType = diesel::sql_types::Bool,
        >,
>;

/// Entries whose value contains the search (normalised like the import when it is a
/// whole phone or e-mail, so any typed format finds it).
fn matching(search: Option<&str>) -> Option<DndFilter> {
    let search = search?.trim();
    if search.is_empty() {
        return None;
    }
    let needle = match crate::domain::parse_channel(search) {
        Some((_, value)) => value,
        None => search.to_lowercase(),
    };
    let escaped = needle
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    Some(Box::new(
        dnd_entries::value.like(format!("%{escaped}%")).escape('\\'),
    ))
}

impl DndEntryView {
    pub fn count(conn: &mut DbConnection, search: Option<&str>) -> QueryResult<i64> {
        let mut query = dnd_entries::table.count().into_boxed();
        if let Some(filter) = matching(search) {
            query = query.filter(filter);
        }
        query.get_result(conn)
    }

    pub fn page(
        conn: &mut DbConnection,
        search: Option<&str>,
        offset: i64,
        limit: i64,
    ) -> QueryResult<Vec<DndEntryView>> {
        let ids: Vec<i64> = {
            let mut query = dnd_entries::table.select(dnd_entries::id).into_boxed();
            if let Some(filter) = matching(search) {
                query = query.filter(filter);
            }
            query
                .order(dnd_entries::id.desc())
                .offset(offset)
                .limit(limit)
                .load(conn)?
        };
        dnd_entries::table
            .left_join(crate::schema::users::table)
            .filter(dnd_entries::id.eq_any(&ids))
            .order(dnd_entries::id.desc())
            .select((
                dnd_entries::id,
                dnd_entries::kind,
                dnd_entries::value,
                dnd_entries::created_at,
                crate::schema::users::name.nullable(),
                dnd_entries::source,
            ))
            .load(conn)
    }

    /// Removes one entry; returns what it was, if it existed.
    pub fn remove(conn: &mut DbConnection, id: i64) -> QueryResult<Option<(String, String)>> {
        let found = dnd_entries::table
            .find(id)
            .select((dnd_entries::kind, dnd_entries::value))
            .first::<(String, String)>(conn)
            .optional()?;
        if found.is_some() {
            diesel::delete(dnd_entries::table.find(id)).execute(conn)?;
        }
        Ok(found)
    }
}
