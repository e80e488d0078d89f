//! Form extraction that refuses, with 403 and before anything else runs, any POST whose
//! `csrf_token` does not match the session's.

use actix_session::SessionExt;
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;

use crate::web::error::AppError;
use crate::web::session::TypedSession;

/// Forms accepted from browsers are capped: none of ours comes near this.
pub const FORM_LIMIT_BYTES: usize = 64 * 1024;

pub struct CsrfForm<T>(pub T);

/// Form fields where line breaks and tabs are text, not garbage.
const MULTI_LINE_FIELDS: [&str; 1] = ["body"];

/// The fields of a form that carries nothing but its CSRF token (a button).
#[derive(serde::Deserialize)]
pub struct NoFields {}

/// A button that starts work: its form carries a one-time token
/// (`models::form_submission`) besides the CSRF token.
#[derive(serde::Deserialize)]
pub struct OnceFields {
    #[serde(default)]
    pub form_token: String,
}

impl<T: DeserializeOwned + 'static> FromRequest for CsrfForm<T> {
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let session = TypedSession::new(req.get_session());
        let is_form = req
            .headers()
            .get(actix_web::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        let body = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            let body = body.await.map_err(|e| {
                let overflow = matches!(
                    e.as_error::<actix_web::error::PayloadError>(),
                    Some(actix_web::error::PayloadError::Overflow)
                ) || e.as_response_error().status_code()
                    == actix_web::http::StatusCode::PAYLOAD_TOO_LARGE;
                if overflow {
                    AppError::TooLarge
                } else {
                    AppError::BadRequest(format!("form body: {e}"))
                }
            })?;
            let pairs: Vec<(String, String)> = if is_form {
                serde_urlencoded::from_bytes(&body).unwrap_or_default()
            } else {
                Vec::new()
            };
            let token = pairs
                .iter()
                .find(|(k, _)| k == "csrf_token")
                .map(|(_, v)| v.as_str())
                .unwrap_or("");
            if !session.csrf_matches(token) {
                return Err(AppError::Csrf.into());
            }
            // Only a campaign's message (`body`) has several lines.
            if let Some((field, _)) = pairs.iter().find(|(field, value)| {
                crate::domain::text::has_control_chars(
                    value,
                    MULTI_LINE_FIELDS.contains(&field.as_str()),
                )
            }) {
                return Err(AppError::InvalidText(field.clone()).into());
            }
            let form = serde_urlencoded::from_bytes::<T>(&body)
                .map_err(|e| AppError::BadRequest(format!("form fields: {e}")))?;
            Ok(CsrfForm(form))
        })
    }
}
