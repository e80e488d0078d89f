//! A contact's former values: each name, CPF/CNPJ, phone or e-mail an edit or a merge
//! replaced or removed. Kept so that eliminating the person (LGPD art. 18) finds and
//! suppresses every value they ever had here, not only the current ones; they leave with
//! the contact. The only writer of `contact_former_values`.

use diesel::prelude::*;

use crate::db::DbConnection;
use crate::schema::contact_former_values;

/// What a former value was.
pub const NAME: &str = "NOME";
pub const DOCUMENT: &str = "DOCUMENTO";

/// Records that `contact` once had `value` (of `kind`: `NOME`, `DOCUMENTO`, or a channel's
/// `TELEFONE` / `EMAIL`); a value already recorded for it is not repeated.
pub fn record(
    conn: &mut DbConnection,
    contact: i64,
    kind: &str,
    value: &str,
    now: i64,
) -> QueryResult<()> {
    let known: i64 = contact_former_values::table
        .filter(contact_former_values::contact_id.eq(contact))
        .filter(contact_former_values::kind.eq(kind))
        .filter(contact_former_values::value.eq(value))
        .count()
        .get_result(conn)?;
    if known == 0 {
        diesel::insert_into(contact_former_values::table)
            .values((
                contact_former_values::contact_id.eq(contact),
                contact_former_values::kind.eq(kind),
                contact_former_values::value.eq(value),
                contact_former_values::created_at.eq(now),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// A former value to record in bulk.
#[derive(Debug, Insertable)]
#[diesel(table_name = contact_former_values)]
#[diesel(treat_none_as_default_value = false)]
pub struct NewFormerValue {
    pub contact_id: i64,
    pub kind: String,
    pub value: String,
    pub created_at: i64,
}

/// Records many at once (an import renaming contacts): COPY on PostgreSQL. A value
/// recorded twice costs a row, not a wrong answer.
pub fn record_many(conn: &mut DbConnection, rows: &[NewFormerValue]) -> QueryResult<usize> {
    if rows.is_empty() {
        return Ok(0);
    }
    Ok(crate::insert_all!(conn, contact_former_values::table, rows))
}

/// The former values of these contacts, as (kind, value).
pub fn of_contacts(conn: &mut DbConnection, ids: &[i64]) -> QueryResult<Vec<(String, String)>> {
    contact_former_values::table
        .filter(contact_former_values::contact_id.eq_any(ids))
        .select((contact_former_values::kind, contact_former_values::value))
        .load(conn)
}

/// The contacts that once had one of these values.
pub fn contacts_with(conn: &mut DbConnection, values: &[&String]) -> QueryResult<Vec<i64>> {
    contact_former_values::table
        .filter(contact_former_values::value.eq_any(values))
        .select(contact_former_values::contact_id)
        .distinct()
        .load(conn)
}

/// A merge: what `from` once had, `to` now once had.
pub fn move_to(conn: &mut DbConnection, from: i64, to: i64) -> QueryResult<usize> {
    diesel::update(contact_former_values::table.filter(contact_former_values::contact_id.eq(from)))
        .set(contact_former_values::contact_id.eq(to))
        .execute(conn)
}

/// The contact is gone: so is its history.
pub fn forget(conn: &mut DbConnection, contact: i64) -> QueryResult<usize> {
    diesel::delete(
        contact_former_values::table.filter(contact_former_values::contact_id.eq(contact)),
    )
    .execute(conn)
}
