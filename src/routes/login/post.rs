//! `POST /login`: checks the password off the async workers and renews the session.

use actix_web::{Either, HttpRequest, HttpResponse, web};
use serde::Deserialize;

use super::LoginPage;
use crate::credentials::{LoginOutcome, check_login};
use crate::messages;
use crate::models::UserSession;
use crate::time;
use crate::web::audit_sink::QueuedAudit;
use crate::web::auth::safe_next;
use crate::web::csrf::CsrfForm;
use crate::web::session::TypedSession;
use crate::web::throttle;
use crate::web::{AppError, AppState, client_ip, see_other};

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: Option<String>,
}

pub async fn login(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: TypedSession,
    CsrfForm(form): CsrfForm<LoginForm>,
) -> Result<Either<LoginPage, HttpResponse>, AppError> {
    let email = form.email.trim().to_lowercase();
    let next = safe_next(form.next.as_deref());
    let refuse = |error: String| LoginPage {
        csrf_token: session.csrf_token(),
        next: next.clone(),
        email: form.email.trim().to_string(),
        error: Some(error),
        notice: None,
    };
    if email.is_empty() || form.password.is_empty() {
        return Ok(Either::Left(refuse(
            messages::LOGIN_REQUIRED_FIELDS.to_string(),
        )));
    }
    // No account has such an e-mail or password: refused before anything is looked up,
    // counted or written.
    if email.chars().count() > throttle::MAX_EMAIL_CHARS || form.password.len() > MAX_PASSWORD_BYTES
    {
        return Ok(Either::Left(refuse(messages::LOGIN_FAILED.to_string())));
    }
    let ip = client_ip(&req);
    let now = time::now();
    let checked_email = email.clone();
    let checked_ip = ip.clone();
    let throttle = state.throttle.clone();
    let reserved = state
        .db(move |conn| Ok(throttle.reserve(conn, &checked_email, checked_ip.as_deref(), now)?))
        .await?;
    let attempt = match reserved {
        Ok(attempt) => attempt,
        Err(until) => return throttled(&state, &email, ip, now, until, refuse),
    };
    let password = form.password.clone();
    let checked_email = email.clone();
    let outcome = state
        .db(move |conn| Ok(check_login(conn, &checked_email, &password)?))
        .await?;
    match outcome {
        LoginOutcome::Success(user) => {
            attempt.succeeded();
            state.audit.record(QueuedAudit {
                user_id: Some(user.id),
                action: "login",
                detail: String::new(),
                ip: ip.clone(),
                created_at: now,
                contact_id: None,
            });
            let user_id = user.id;
            let limits = state.config.session_limits();
            let session_id = state
                .db(move |conn| {
                    UserSession::purge_expired(conn, limits, now)?;
                    Ok(UserSession::open(conn, user_id, ip.as_deref(), now)?)
                })
                .await?;
            session.log_in(&session_id)?;
            tracing::info!(user_id = user.id, "login");
            Ok(Either::Right(see_other(&next)))
        }
        LoginOutcome::Refused { user_id } => {
            attempt.failed(now);
            state.audit.record(QueuedAudit {
                user_id,
                action: "login_failed",
                detail: throttle::failure_detail(&email),
                ip,
                created_at: now,
                contact_id: None,
            });
            Ok(Either::Left(refuse(messages::LOGIN_FAILED.to_string())))
        }
    }
}

/// Longest password a login reads; no account can have a longer one.
const MAX_PASSWORD_BYTES: usize = 1024;

/// 429 with the wait, and an audit entry at most once a minute per client address
/// (counting the refusals in between, whatever e-mails they named), so refused attempts
/// cannot fill the disk.
fn throttled(
    state: &AppState,
    email: &str,
    ip: Option<String>,
    now: i64,
    until: i64,
    refuse: impl FnOnce(String) -> LoginPage,
) -> Result<Either<LoginPage, HttpResponse>, AppError> {
    if let Some(count) = state.throttle.note_refusal(ip.as_deref(), now) {
        state.audit.record(QueuedAudit {
            user_id: None,
            action: "login_throttled",
            detail: format!(
                "{}; {count} tentativa(s) recusada(s)",
                throttle::failure_detail(email)
            ),
            ip,
            created_at: now,
            contact_id: None,
        });
    }
    let minutes = ((until - now) + 59).div_euclid(60).max(1);
    let page = refuse(messages::login_throttled(minutes));
    Ok(Either::Right(
        HttpResponse::TooManyRequests()
            .content_type("text/html; charset=utf-8")
            .insert_header(("Retry-After", (until - now).max(1).to_string()))
            .body(askama::Template::render(&page)?),
    ))
}
