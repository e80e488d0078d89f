//! The app's one error type for handlers, and the pt-BR error page it renders.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use askama::Template;

use crate::messages;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("not found")]
    NotFound,
    #[error("forbidden")]
    Forbidden,
    #[error("missing or invalid CSRF token")]
    Csrf,
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("request body over the limit")]
    TooLarge,
    /// Too much of something is under way; the message says what and what to do.
    #[error("busy: {0}")]
    Busy(&'static str),
    /// What was asked does not fit the current state (pausing a finished campaign).
    #[error("conflict: {0}")]
    Conflict(String),
    /// A field (by its form name) holds control characters.
    #[error("control characters in field {0:?}")]
    InvalidText(String),
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("database error: {0}")]
    Database(diesel::result::Error),
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<diesel::result::Error> for AppError {
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match e {
            Error::NotFound => AppError::NotFound,
            // The server went away mid-request, or SQLite stayed locked past its busy
            // timeout: the database is unavailable for now, not broken.
            Error::DatabaseError(
                DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
                info,
            ) => AppError::Unavailable(info.message().to_string()),
            Error::DatabaseError(_, info) if is_transient(info.message()) => {
                AppError::Unavailable(info.message().to_string())
            }
            Error::BrokenTransactionManager => {
                AppError::Unavailable("broken transaction manager".into())
            }
            other => AppError::Database(other),
        }
    }
}

/// Messages of errors that pass by themselves: a locked SQLite file, a PostgreSQL server
/// restarting or refusing connections.
fn is_transient(message: &str) -> bool {
    const TRANSIENT: &[&str] = &[
        "database is locked",
        "database table is locked",
        "terminating connection",
        "server closed the connection",
        "connection refused",
        "the database system is",
        "no connection to the server",
    ];
    let message = message.to_ascii_lowercase();
    TRANSIENT.iter().any(|t| message.contains(t))
}

impl From<diesel::r2d2::PoolError> for AppError {
    fn from(e: diesel::r2d2::PoolError) -> Self {
        AppError::Unavailable(e.to_string())
    }
}

impl From<actix_web::error::BlockingError> for AppError {
    fn from(e: actix_web::error::BlockingError) -> Self {
        AppError::Internal(e.to_string())
    }
}

impl From<askama::Error> for AppError {
    fn from(e: askama::Error) -> Self {
        AppError::Internal(format!("template: {e}"))
    }
}

impl From<actix_session::SessionInsertError> for AppError {
    fn from(e: actix_session::SessionInsertError) -> Self {
        AppError::Internal(format!("session: {e}"))
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    status: u16,
    title: &'static str,
    message: String,
}

/// The same page inside the app's frame, menu included, for someone logged in.
#[derive(Template)]
#[template(path = "error_menu.html")]
struct ErrorPageWithMenu {
    ctx: crate::web::page::PageCtx,
    status: u16,
    title: &'static str,
    message: String,
}

impl AppError {
    /// The error's page with the menu of the user who met it (403, 404, 413, 503…).
    pub fn page_for(&self, ctx: crate::web::page::PageCtx) -> HttpResponse {
        let status = self.status_code();
        let (title, message) = self.texts();
        let page = ErrorPageWithMenu {
            ctx,
            status: status.as_u16(),
            title,
            message,
        };
        match page.render() {
            Ok(body) => HttpResponse::build(status)
                .content_type("text/html; charset=utf-8")
                .body(body),
            Err(_) => self.error_response(),
        }
    }

    fn texts(&self) -> (&'static str, String) {
        if let AppError::InvalidText(field) = self {
            return (
                messages::INVALID_TEXT_TITLE,
                messages::invalid_text(messages::field_label(field)),
            );
        }
        let (title, message) = match self {
            AppError::NotFound => (messages::NOT_FOUND_TITLE, messages::NOT_FOUND),
            AppError::Forbidden => (messages::FORBIDDEN_TITLE, messages::FORBIDDEN),
            AppError::Csrf => (messages::CSRF_TITLE, messages::CSRF_INVALID),
            AppError::BadRequest(_) => (messages::BAD_REQUEST_TITLE, messages::BAD_REQUEST),
            AppError::TooLarge => (messages::TOO_LARGE_TITLE, messages::TOO_LARGE),
            AppError::Unavailable(_) => (messages::UNAVAILABLE_TITLE, messages::UNAVAILABLE),
            AppError::Database(_) | AppError::Internal(_) => {
                (messages::INTERNAL_TITLE, messages::INTERNAL)
            }
            AppError::Busy(message) => (messages::BUSY_TITLE, *message),
            AppError::Conflict(message) => (messages::CONFLICT_TITLE, message.as_str()),
            AppError::InvalidText(_) => unreachable!("answered above"),
        };
        (title, message.to_string())
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Forbidden | AppError::Csrf => StatusCode::FORBIDDEN,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::InvalidText(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Busy(_) => StatusCode::TOO_MANY_REQUESTS,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Database(_) | AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        if status.is_server_error() {
            tracing::error!(error = %self, "request failed");
        }
        let (title, message) = self.texts();
        let page = ErrorPage {
            status: status.as_u16(),
            title,
            message,
        };
        let body = page
            .render()
            .unwrap_or_else(|_| format!("{} — {}", page.title, page.message));
        HttpResponse::build(status)
            .content_type("text/html; charset=utf-8")
            .body(body)
    }
}
