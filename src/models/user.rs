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

impl<'a> NewUser<'a> {
    /// An enabled account, created now.
    pub fn active(
        email: &'a str,
        name: &'a str,
        role: Role,
        password_hash: &'a str,
        now: i64,
    ) -> Self {
        NewUser {
            email,
            name,
            role: role.as_str(),
            password_hash,
            disabled: 0,
            created_at: now,
            updated_at: now,
        }
    }

    pub fn insert(&self, conn: &mut DbConnection) -> QueryResult<User> {
        crate::on_backend!(
            conn,
            diesel::insert_into(users::table)
                .values(self)
                .returning(User::as_returning())
        )
    }
}

/// Why a change to a user was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserChangeError {
    NotFound,
    /// The change would leave no active admin.
    LastAdmin,
}

impl User {
    pub fn list(conn: &mut DbConnection) -> QueryResult<Vec<User>> {
        users::table
            .select(User::as_select())
            .order((users::name.asc(), users::id.asc()))
            .load(conn)
    }

    /// Changes role and/or the disabled flag, refusing to leave the platform without an
    /// active admin. PostgreSQL serialises such changes with an advisory lock, so two admins
    /// demoting each other at once cannot both succeed.
    pub fn change(
        conn: &mut DbConnection,
        id: i64,
        role: Option<Role>,
        disabled: Option<bool>,
        now: i64,
    ) -> QueryResult<Result<User, UserChangeError>> {
        crate::db::write_transaction(conn, |conn| {
            if conn.backend() == crate::db::Backend::Postgres {
                diesel::sql_query(format!("SELECT pg_advisory_xact_lock({USER_LOCK_KEY})"))
                    .execute(conn)?;
            }
            let Some(user) = User::find(conn, id)? else {
                return Ok(Err(UserChangeError::NotFound));
            };
            let new_role = role.unwrap_or(user.role());
            let new_disabled = disabled.unwrap_or(user.is_disabled());
            let stays_admin = new_role == Role::Admin && !new_disabled;
            if user.is_admin() && !user.is_disabled() && !stays_admin {
                let active_admins: i64 = users::table
                    .filter(users::role.eq(Role::Admin.as_str()))
                    .filter(users::disabled.eq(0))
                    .count()
                    .get_result(conn)?;
                if active_admins <= 1 {
                    return Ok(Err(UserChangeError::LastAdmin));
                }
            }
            diesel::update(users::table.find(id))
                .set((
                    users::role.eq(new_role.as_str()),
                    users::disabled.eq(i32::from(new_disabled)),
                    users::updated_at.eq(now),
                ))
                .execute(conn)?;
            Ok(User::find(conn, id)?.ok_or(UserChangeError::NotFound))
        })
    }

    pub fn set_password_hash(
        conn: &mut DbConnection,
        id: i64,
        hash: &str,
        now: i64,
    ) -> QueryResult<usize> {
        diesel::update(users::table.find(id))
            .set((users::password_hash.eq(hash), users::updated_at.eq(now)))
            .execute(conn)
    }
}

/// Advisory lock key for changes that must keep an active admin.
const USER_LOCK_KEY: i64 = 0x454e_0001_0000;

impl NewUser<'_> {
    /// Inserts the user unless the e-mail is taken (`None` then).
    pub fn insert_if_email_free(&self, conn: &mut DbConnection) -> QueryResult<Option<User>> {
        crate::db::write_transaction(conn, |conn| {
            if User::find_by_email(conn, self.email)?.is_some() {
                return Ok(None);
            }
            match self.insert(conn) {
                Err(diesel::result::Error::DatabaseError(
                    diesel::result::DatabaseErrorKind::UniqueViolation,
                    _,
                )) => Ok(None),
                other => other.map(Some),
            }
        })
    }
}
