//! Messages customers sent in (through the API), and the attendance queue they form.

use diesel::prelude::*;
use diesel::sql_types::Integer;

use crate::db::{DbConnection, MultiBackend};
use crate::domain::RecordType;
use crate::schema::{contact_channels, contacts, interactions};

pub struct NewInteraction<'a> {
    pub kind: RecordType,
    pub value: &'a str,
    pub body: &'a str,
    pub occurred_at: i64,
    /// The provider's id of an incoming message: the same id is recorded once.
    pub external_id: Option<&'a str>,
}

#[derive(Debug, Clone, Queryable)]
pub struct InteractionView {
    pub id: i64,
    pub contact_id: Option<i64>,
    pub channel_kind: String,
    pub channel_value: String,
    pub body: String,
    pub occurred_at: i64,
    pub attended_at: Option<i64>,
}

/// One waiting interaction with the contact's priority and name, for the queue.
#[derive(Debug, Clone, Queryable)]
pub struct QueueItem {
    pub interaction: InteractionView,
    pub name: Option<String>,
    pub priority: Option<String>,
}

type InteractionColumns = (
    interactions::id,
    interactions::contact_id,
    interactions::channel_kind,
    interactions::channel_value,
    interactions::body,
    interactions::occurred_at,
    interactions::attended_at,
);

const COLUMNS: InteractionColumns = (
    interactions::id,
    interactions::contact_id,
    interactions::channel_kind,
    interactions::channel_value,
    interactions::body,
    interactions::occurred_at,
    interactions::attended_at,
);

/// ALTA first, then MEDIA, then BAIXA, then interactions from nobody known yet.
fn priority_rank() -> diesel::expression::SqlLiteral<Integer> {
    diesel::dsl::sql::<Integer>(
        "CASE contacts.priority WHEN 'ALTA' THEN 0 WHEN 'MEDIA' THEN 1 WHEN 'BAIXA' THEN 2 \
         ELSE 3 END",
    )
}

impl NewInteraction<'_> {
    /// Records an incoming message once however often its provider delivers it:
    /// `None` when its external id is already recorded.
    pub fn insert_once(
        &self,
        conn: &mut DbConnection,
        now: i64,
    ) -> QueryResult<Option<(i64, Option<i64>)>> {
        if let Some(id) = self.external_id {
            let known = diesel::select(diesel::dsl::exists(
                interactions::table.filter(interactions::external_id.eq(id)),
            ))
            .get_result::<bool>(conn)?;
            if known {
                return Ok(None);
            }
        }
        match self.insert(conn, now) {
            Ok(r) => Ok(Some(r)),
            // The same callback delivered twice at once: the other one recorded it.
            Err(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _,
            )) if self.external_id.is_some() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Records the interaction against whoever has that channel now; returns its id
    /// and the contact's id, if any.
    pub fn insert(&self, conn: &mut DbConnection, now: i64) -> QueryResult<(i64, Option<i64>)> {
        crate::db::write_transaction(conn, |conn| {
            let contact_id = contact_channels::table
                .filter(contact_channels::kind.eq(self.kind.as_str()))
                .filter(contact_channels::value.eq(self.value))
                .select(contact_channels::contact_id)
                .first::<i64>(conn)
                .optional()?;
            let id = crate::on_backend!(
                conn,
                diesel::insert_into(interactions::table)
                    .values((
                        interactions::contact_id.eq(contact_id),
                        interactions::channel_kind.eq(self.kind.as_str()),
                        interactions::channel_value.eq(self.value),
                        interactions::body.eq(self.body),
                        interactions::occurred_at.eq(self.occurred_at),
                        interactions::created_at.eq(now),
                        interactions::external_id.eq(self.external_id),
                    ))
                    .returning(interactions::id)
            )?;
            Ok((id, contact_id))
        })
    }
}

/// Gives interactions that arrived before anyone had their channel to the contact that
/// has it now. Called in the transaction that creates the channels.
pub fn link_waiting(
    conn: &mut DbConnection,
    kind: RecordType,
    values: &[&str],
) -> QueryResult<usize> {
    if values.is_empty() {
        return Ok(0);
    }
    let owner = contact_channels::table
        .filter(contact_channels::kind.eq(interactions::channel_kind))
        .filter(contact_channels::value.eq(interactions::channel_value))
        .select(contact_channels::contact_id.nullable())
        .single_value();
    diesel::update(
        interactions::table
            .filter(interactions::contact_id.is_null())
            .filter(interactions::channel_kind.eq(kind.as_str()))
            .filter(interactions::channel_value.eq_any(values)),
    )
    .set(interactions::contact_id.eq(owner))
    .execute(conn)
}

impl InteractionView {
    pub fn of_contact(conn: &mut DbConnection, contact_id: i64) -> QueryResult<Vec<Self>> {
        interactions::table
            .filter(interactions::contact_id.eq(contact_id))
            .order(interactions::occurred_at.desc())
            .limit(200)
            .select(COLUMNS)
            .load(conn)
    }

    pub fn pending_count(conn: &mut DbConnection) -> QueryResult<i64> {
        interactions::table
            .filter(interactions::attended_at.is_null())
            .count()
            .get_result(conn)
    }

    /// Waiting interactions: the contact's priority first, then who wrote first.
    pub fn queue(conn: &mut DbConnection, offset: i64, limit: i64) -> QueryResult<Vec<QueueItem>> {
        interactions::table
            .left_join(contacts::table)
            .filter(interactions::attended_at.is_null())
            .order((
                priority_rank().asc(),
                interactions::occurred_at.asc(),
                interactions::id.asc(),
            ))
            .offset(offset)
            .limit(limit)
            .select((
                COLUMNS,
                contacts::name.nullable(),
                contacts::priority.nullable(),
            ))
            .into_boxed::<MultiBackend>()
            .load(conn)
    }

    /// "Desfazer": returns an interaction `user_id` attended at `since` or later to the
    /// queue, in its place (the queue orders by priority and arrival); false otherwise.
    pub fn unattend(
        conn: &mut DbConnection,
        id: i64,
        user_id: i64,
        since: i64,
    ) -> QueryResult<bool> {
        diesel::update(
            interactions::table
                .filter(interactions::id.eq(id))
                .filter(interactions::attended_by.eq(Some(user_id)))
                .filter(interactions::attended_at.ge(since)),
        )
        .set((
            interactions::attended_at.eq(None::<i64>),
            interactions::attended_by.eq(None::<i64>),
        ))
        .execute(conn)
        .map(|n| n == 1)
    }

    /// Marks a waiting interaction attended; false when it was not waiting.
    pub fn attend(conn: &mut DbConnection, id: i64, user_id: i64, now: i64) -> QueryResult<bool> {
        diesel::update(
            interactions::table
                .filter(interactions::id.eq(id))
                .filter(interactions::attended_at.is_null()),
        )
        .set((
            interactions::attended_at.eq(Some(now)),
            interactions::attended_by.eq(Some(user_id)),
        ))
        .execute(conn)
        .map(|n| n == 1)
    }
}
