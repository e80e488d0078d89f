//! A typed view of the session cookie: who is logged in, and the CSRF token.

use std::future::{Ready, ready};

use actix_session::{Session, SessionExt};
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::web::error::AppError;

pub struct TypedSession(Session);

impl TypedSession {
    /// The random id of the server-side session (`user_sessions`), once logged in.
    const SESSION_ID: &'static str = "sid";
    const CSRF: &'static str = "csrf";

    pub fn new(session: Session) -> Self {
        TypedSession(session)
    }

    /// The server-side session this cookie claims, if any; [`crate::models::UserSession`]
    /// says whether it is still alive.
    pub fn session_id(&self) -> Option<String> {
        self.0.get(Self::SESSION_ID).ok().flatten()
    }

    /// A fresh cookie for the new server-side session: nothing from the anonymous one
    /// survives, not even its CSRF token.
    pub fn log_in(&self, session_id: &str) -> Result<(), AppError> {
        self.0.clear();
        self.0.renew();
        self.0.insert(Self::SESSION_ID, session_id)?;
        self.0.insert(Self::CSRF, new_token())?;
        Ok(())
    }

    /// Forgets the cookie's content; the server-side session is ended by the caller.
    pub fn log_out(&self) {
        self.0.purge();
    }

    /// The session's CSRF token, created on first use.
    pub fn csrf_token(&self) -> String {
        if let Ok(Some(token)) = self.0.get::<String>(Self::CSRF) {
            return token;
        }
        let token = new_token();
        // A failure here only means the next POST is refused, which is the safe side.
        let _ = self.0.insert(Self::CSRF, &token);
        token
    }

    pub fn csrf_matches(&self, candidate: &str) -> bool {
        match self.0.get::<String>(Self::CSRF) {
            Ok(Some(expected)) => constant_time_eq(expected.as_bytes(), candidate.as_bytes()),
            _ => false,
        }
    }
}

impl FromRequest for TypedSession {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        ready(Ok(TypedSession(req.get_session())))
    }
}

/// 256 random bits, URL-safe: CSRF tokens and session ids.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Equal, in time that does not depend on where they differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_compare_exactly() {
        let a = new_token();
        assert_ne!(a, new_token());
        assert!(constant_time_eq(a.as_bytes(), a.clone().as_bytes()));
        assert!(!constant_time_eq(a.as_bytes(), &a.as_bytes()[1..]));
        assert!(!constant_time_eq(b"abc", b"abd"));
    }
}
