//! API tokens: shown once when created, stored only as a SHA-256 hash.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use diesel::prelude::*;
use sha2::{Digest, Sha256};

use crate::db::DbConnection;
use crate::schema::{api_tokens, users};

pub const TOKEN_PREFIX: &str = "eng_";

#[derive(Debug, Clone, Queryable)]
pub struct ApiTokenView {
    pub id: i64,
    pub name: String,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
    pub created_by: Option<String>,
    pub expires_at: Option<i64>,
}

/// A new random token: the prefix and 32 random bytes, URL-safe.
pub fn generate() -> String {
    let mut bytes = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut bytes);
    format!("{TOKEN_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes))
}

fn hash(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Creates a token named `name`; returns its id and the token, which is never stored.
pub fn create(
    conn: &mut DbConnection,
    name: &str,
    created_by: Option<i64>,
    expires_at: Option<i64>,
    now: i64,
) -> QueryResult<(i64, String)> {
    let token = generate();
    let id = crate::on_backend!(
        conn,
        diesel::insert_into(api_tokens::table)
            .values((
                api_tokens::name.eq(name),
                api_tokens::token_hash.eq(hash(&token)),
                api_tokens::created_by.eq(created_by),
                api_tokens::created_at.eq(now),
                api_tokens::expires_at.eq(expires_at),
            ))
            .returning(api_tokens::id)
    )?;
    Ok((id, token))
}

/// The live token's id, if `token` is one: not revoked, not expired, and not created by
/// someone since disabled.
pub fn authenticate(conn: &mut DbConnection, token: &str, now: i64) -> QueryResult<Option<i64>> {
    if !token.starts_with(TOKEN_PREFIX) || token.len() > 200 {
        return Ok(None);
    }
    api_tokens::table
        .left_join(users::table)
        .filter(api_tokens::token_hash.eq(hash(token)))
        .filter(api_tokens::revoked_at.is_null())
        .filter(
            api_tokens::expires_at
                .is_null()
                .or(api_tokens::expires_at.gt(now)),
        )
        .filter(users::disabled.is_null().or(users::disabled.eq(0)))
        .select(api_tokens::id)
        .first(conn)
        .optional()
}

/// Revokes every live token a user created (the user was disabled); returns how many.
pub fn revoke_created_by(conn: &mut DbConnection, user_id: i64, now: i64) -> QueryResult<usize> {
    diesel::update(
        api_tokens::table
            .filter(api_tokens::created_by.eq(user_id))
            .filter(api_tokens::revoked_at.is_null()),
    )
    .set(api_tokens::revoked_at.eq(Some(now)))
    .execute(conn)
}

/// Revokes a live token; returns its name, or `None` if there was no such live token.
pub fn revoke(conn: &mut DbConnection, id: i64, now: i64) -> QueryResult<Option<String>> {
    let name = api_tokens::table
        .filter(api_tokens::id.eq(id))
        .filter(api_tokens::revoked_at.is_null())
        .select(api_tokens::name)
        .first::<String>(conn)
        .optional()?;
    if name.is_some() {
        diesel::update(api_tokens::table.find(id))
            .set(api_tokens::revoked_at.eq(Some(now)))
            .execute(conn)?;
    }
    Ok(name)
}

pub fn list(conn: &mut DbConnection) -> QueryResult<Vec<ApiTokenView>> {
    api_tokens::table
        .left_join(users::table)
        .order(api_tokens::id.desc())
        .select((
            api_tokens::id,
            api_tokens::name,
            api_tokens::created_at,
            api_tokens::revoked_at,
            users::name.nullable(),
            api_tokens::expires_at,
        ))
        .load(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_prefixed_and_hashed() {
        let (a, b) = (generate(), generate());
        assert_ne!(a, b);
        assert!(a.starts_with(TOKEN_PREFIX));
        assert_eq!(a.len(), TOKEN_PREFIX.len() + 43);
        assert_eq!(hash(&a).len(), 64);
        assert_ne!(hash(&a), hash(&b));
    }
}
