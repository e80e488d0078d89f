//! Staff and admin accounts.

use diesel::prelude::*;

use crate::db::DbConnection;
use crate::domain::Role;
use crate::schema::users;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct User {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub role: String,
    pub password_hash: String,
    pub disabled: i32,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = users)]
pub struct NewUser<'a> {
    pub email: &'a str,
    pub name: &'a str,
    pub role: &'a str,
    pub password_hash: &'a str,
    pub disabled: i32,
    pub created_at: i64,
    pub updated_at: i64,
}

impl User {
    pub fn find(conn: &mut DbConnection, id: i64) -> QueryResult<Option<User>> {
        users::table
            .find(id)
            .select(User::as_select())
            .first(conn)
            .optional()
    }

    /// `email` must already be normalised (trimmed, lower-cased).
    pub fn find_by_email(conn: &mut DbConnection, email: &str) -> QueryResult<Option<User>> {
        users::table
            .filter(users::email.eq(email))
            .select(User::as_select())
            .first(conn)
            .optional()
    }

    pub fn count(conn: &mut DbConnection) -> QueryResult<i64> {
        users::table.count().get_result(conn)
    }

    pub fn role(&self) -> Role {
        // The column's CHECK constraint allows only these two values.
        Role::parse(&self.role).unwrap_or(Role::Staff)
    }

    pub fn is_admin(&self) -> bool {
        self.role() == Role::Admin
    }

    pub fn is_disabled(&self) -> bool {
        self.disabled != 0
    }
}

impl NewUser<'_> {
    pub fn insert(&self, conn: &mut DbConnection) -> QueryResult<User> {
        crate::on_backend!(
            conn,
            diesel::insert_into(users::table)
                .values(self)
                .returning(User::as_returning())
        )
    }
}
