//! Password hashing (argon2id) and the login check. Both are slow on purpose: call them
//! from the blocking pool, never on an async worker.

use std::sync::OnceLock;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use diesel::QueryResult;

use crate::db::DbConnection;
use crate::domain::NewPassword;
use crate::models::User;

fn hasher() -> Argon2<'static> {
    // OWASP's baseline for argon2id: 19 MiB, 2 passes, 1 lane.
    Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::default())
}

pub fn hash_password(password: &NewPassword) -> String {
    let salt = SaltString::generate(&mut OsRng);
    hasher()
        .hash_password(password.expose().as_bytes(), &salt)
        .expect("argon2 hashing with default parameters cannot fail")
        .to_string()
}

pub fn verify_password(stored_hash: &str, candidate: &str) -> bool {
    match PasswordHash::new(stored_hash) {
        Ok(parsed) => hasher()
            .verify_password(candidate.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// A hash to verify against when the e-mail is unknown, so that a wrong e-mail and a
/// wrong password take the same time and cannot be told apart.
fn decoy_hash() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| {
        let decoy = NewPassword::parse("decoy-password-never-used", "").expect("valid decoy");
        hash_password(&decoy)
    })
}

#[derive(Debug)]
pub enum LoginOutcome {
    Success(User),
    /// Wrong e-mail, wrong password or disabled account: the user is told nothing more.
    Refused {
        user_id: Option<i64>,
    },
}

/// `email` must be normalised (trimmed, lower-cased).
pub fn check_login(
    conn: &mut DbConnection,
    email: &str,
    password: &str,
) -> QueryResult<LoginOutcome> {
    let Some(user) = User::find_by_email(conn, email)? else {
        verify_password(decoy_hash(), password);
        return Ok(LoginOutcome::Refused { user_id: None });
    };
    if verify_password(&user.password_hash, password) && !user.is_disabled() {
        Ok(LoginOutcome::Success(user))
    } else {
        Ok(LoginOutcome::Refused {
            user_id: Some(user.id),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_and_verify() {
        let password = NewPassword::parse("correct horse battery", "a@b.co").unwrap();
        let hash = hash_password(&password);
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password(&hash, "correct horse battery"));
        assert!(!verify_password(&hash, "correct horse batterY"));
        assert!(!verify_password("not a hash", "correct horse battery"));
    }
}
