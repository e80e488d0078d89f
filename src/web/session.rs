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
    const USER_ID: &'static str = "user_id";
    const CSRF: &'static str = "csrf";
    const ROLE: &'static str = "role";
    const SEEN: &'static str = "seen";

    pub fn new(session: Session) -> Self {
        TypedSession(session)
    }

    pub fn user_id(&self) -> Option<i64> {
        self.0.get(Self::USER_ID).ok().flatten()
    }

    /// A fresh session for the new identity: nothing from the anonymous one survives.
    pub fn log_in(&self, user_id: i64, role: &str) -> Result<(), AppError> {
        self.0.clear();
        self.0.renew();
        self.0.insert(Self::USER_ID, user_id)?;
        self.0.insert(Self::ROLE, role)?;
        self.0.insert(Self::SEEN, crate::time::now())?;
        self.0.insert(Self::CSRF, new_token())?;
        Ok(())
    }

    /// The user's privileges changed: a new session id and CSRF token for the new role.
    pub fn renew_for_role(&self, role: &str) {
        self.0.renew();
        let _ = self.0.insert(Self::ROLE, role);
        let _ = self.0.insert(Self::CSRF, new_token());
    }

    /// The role the session was opened (or last renewed) with.
    pub fn role(&self) -> Option<String> {
        self.0.get(Self::ROLE).ok().flatten()
    }

    /// When the session last served a request (Unix seconds).
    pub fn last_seen(&self) -> Option<i64> {
        self.0.get(Self::SEEN).ok().flatten()
    }

    /// Records activity; rewritten at most once a minute (or twice per idle limit, if
    /// shorter) so the cookie is not re-sent with every response.
    pub fn touch(&self, now: i64, idle_limit: i64) {
        let every = (idle_limit / 2).clamp(1, 60);
        if self.last_seen().is_none_or(|seen| now - seen >= every) {
            let _ = self.0.insert(Self::SEEN, now);
        }
    }

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

fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
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
