//! The inbound API, for integrations: record an interaction, look a contact up.
//! Bearer-token auth; every answer, errors included, is JSON.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::domain::{RecordType, parse_channel};
use crate::messages;
use crate::models::{ContactProfile, NewInteraction, token};
use crate::time;
use crate::web::{AppError, AppState};

/// 2000-01-01T00:00:00Z: no interaction is older.
const EARLIEST_AT: i64 = 946_684_800;

/// Largest JSON body accepted.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    retry_after: Option<u64>,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    pub fn response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status);
        if self.status == StatusCode::UNAUTHORIZED {
            response.insert_header(("WWW-Authenticate", "Bearer"));
        }
        if let Some(seconds) = self.retry_after {
            response.insert_header(("Retry-After", seconds.to_string()));
        }
        response.json(json!({"error": {"code": self.code, "message": self.message}}))
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::Unavailable(_) => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                messages::API_UNAVAILABLE,
            ),
            other => {
                tracing::error!(error = %other, "API request failed");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "Erro interno.",
                )
            }
        }
    }
}

type ApiResult = Result<HttpResponse, ApiError>;

/// Longest interaction text kept: a WhatsApp message holds at most 4,096 characters, more
/// than any chat or SMS; the JSON body limit stays at 64 KiB for the rest.
pub const MAX_TEXT_CHARS: usize = 4_096;

/// 422 `invalid_text`: a field holds control characters (NUL, ESC…).
pub fn invalid_text(field: &str) -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_text",
        messages::api_invalid_text(field),
    )
}

/// Refuses control characters in any field; only `text` may hold tabs and line breaks.
fn clean_fields(fields: &[(&str, &str, bool)]) -> Result<(), ApiError> {
    for (name, value, multi_line) in fields {
        if crate::domain::text::has_control_chars(value, *multi_line) {
            return Err(invalid_text(name));
        }
    }
    Ok(())
}

fn answer(result: ApiResult) -> HttpResponse {
    result.unwrap_or_else(|e| e.response())
}

/// The token's id, or 401.
async fn authenticate(req: &HttpRequest, state: &AppState) -> Result<i64, ApiError> {
    let unauthorized = |message: &str| {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            message.to_string(),
        )
    };
    let header = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .ok_or_else(|| unauthorized(messages::API_TOKEN_MISSING))?;
    let presented = header
        .strip_prefix("Bearer ")
        .or_else(|| header.strip_prefix("bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| unauthorized(messages::API_TOKEN_MISSING))?
        .to_string();
    let now = time::now();
    let id = state
        .db(move |conn| Ok(token::authenticate(conn, &presented, now)?))
        .await?
        .ok_or_else(|| unauthorized(messages::API_TOKEN_INVALID))?;
    if let Err(wait) = state.api_rate.take(id, std::time::Instant::now()) {
        let mut error = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            messages::api_rate_limited(state.api_rate.per_second),
        );
        error.retry_after = Some(wait.as_secs().max(1));
        return Err(error);
    }
    Ok(id)
}

async fn read_body(mut payload: web::Payload) -> Result<web::BytesMut, ApiError> {
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "malformed",
                messages::api_unreadable_body(&e),
            )
        })?;
        if body.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too_large",
                "O corpo passa do limite de 64 KiB.",
            ));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InteractionInput {
    channel: String,
    value: String,
    text: String,
    #[serde(default)]
    at: Option<String>,
}

#[derive(Serialize)]
struct InteractionCreated {
    interaction_id: i64,
    contact: Option<ContactProfile>,
}

/// `POST /api/v1/interactions`.
pub async fn create_interaction(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> HttpResponse {
    answer(create_interaction_inner(req, state, payload).await)
}

async fn create_interaction_inner(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> ApiResult {
    authenticate(&req, &state).await?;
    let body = read_body(payload).await?;
    let input: InteractionInput = serde_json::from_slice(&body).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "malformed",
            messages::api_invalid_json(&e),
        )
    })?;
    clean_fields(&[
        ("channel", &input.channel, false),
        ("value", &input.value, false),
        ("text", &input.text, true),
        ("at", input.at.as_deref().unwrap_or(""), false),
    ])?;
    let kind = RecordType::parse(&input.channel).ok_or_else(|| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_channel",
            "channel deve ser TELEFONE ou EMAIL.",
        )
    })?;
    let value = match parse_channel(&input.value) {
        Some((parsed_kind, value)) if parsed_kind == kind => value,
        _ => {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_value",
                match kind {
                    RecordType::Telefone => messages::API_PHONE_INVALID,
                    RecordType::Email => messages::API_EMAIL_INVALID,
                },
            ));
        }
    };
    if input.text.trim().is_empty() {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_text",
            messages::API_TEXT_EMPTY,
        ));
    }
    if input.text.chars().count() > MAX_TEXT_CHARS {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_text",
            messages::API_TEXT_TOO_LONG,
        ));
    }
    let now = time::now();
    let occurred_at = match input.at.as_deref() {
        None => now,
        Some(at) => chrono::DateTime::parse_from_rfc3339(at)
            .map_err(|_| {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "malformed",
                    "at deve ser uma data RFC 3339, como 2026-11-27T10:00:00-03:00.",
                )
            })?
            .timestamp(),
    };
    if !(EARLIEST_AT..=now + 86_400).contains(&occurred_at) {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_value",
            messages::API_AT_OUT_OF_RANGE,
        ));
    }
    let text = input.text;
    let created = state
        .db(move |conn| {
            let (interaction_id, contact_id) = NewInteraction {
                kind,
                value: &value,
                body: &text,
                occurred_at,
                external_id: None,
            }
            .insert(conn, now)?;
            let contact = match contact_id {
                Some(id) => ContactProfile::find(conn, id)?,
                None => None,
            };
            Ok(InteractionCreated {
                interaction_id,
                contact,
            })
        })
        .await?;
    Ok(HttpResponse::Created().json(created))
}

#[derive(Deserialize)]
pub struct LookupQuery {
    value: Option<String>,
}

/// `GET /api/v1/contacts/lookup?value=…`.
pub async fn lookup(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<LookupQuery>,
) -> HttpResponse {
    answer(lookup_inner(req, state, query.into_inner()).await)
}

async fn lookup_inner(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: LookupQuery,
) -> ApiResult {
    authenticate(&req, &state).await?;
    let raw = query.value.unwrap_or_default();
    if raw.trim().is_empty() {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "malformed",
            "Informe value: um telefone ou um e-mail.",
        ));
    }
    let (kind, value) = parse_channel(&raw).ok_or_else(|| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_value",
            messages::API_VALUE_INVALID,
        )
    })?;
    let found = state
        .db(move |conn| Ok(ContactProfile::find_by_channel(conn, kind, &value)?))
        .await?;
    match found {
        Some(profile) => Ok(HttpResponse::Ok().json(profile)),
        None => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "Nenhum contato tem esse canal.",
        )),
    }
}

/// Anything else under `/api/`.
pub async fn not_found() -> HttpResponse {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        "Rota inexistente na API.",
    )
    .response()
}

/// A query string that cannot be read, as JSON.
pub fn query_error(
    err: actix_web::error::QueryPayloadError,
    _req: &HttpRequest,
) -> actix_web::Error {
    let response = ApiError::new(StatusCode::BAD_REQUEST, "malformed", err.to_string()).response();
    actix_web::error::InternalError::from_response(err, response).into()
}
