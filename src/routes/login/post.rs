//! `POST /login`: checks the password off the async workers and renews the session.

use actix_web::{Either, HttpRequest, HttpResponse, web};
use serde::Deserialize;

use super::LoginPage;
use crate::credentials::{LoginOutcome, check_login};
use crate::messages;
use crate::models::NewAuditEntry;
use crate::time;
use crate::web::auth::safe_next;
use crate::web::csrf::CsrfForm;
use crate::web::session::TypedSession;
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
    let refuse = |error: &'static str| {
        Either::Left(LoginPage {
            csrf_token: session.csrf_token(),
            next: next.clone(),
            email: form.email.trim().to_string(),
            error: Some(error),
        })
    };
    if email.is_empty() || form.password.is_empty() {
        return Ok(refuse(messages::LOGIN_REQUIRED_FIELDS));
    }
    let ip = client_ip(&req);
    let password = form.password.clone();
    let audited_email = email.clone();
    let outcome = state
        .db(move |conn| {
            let outcome = check_login(conn, &email, &password)?;
            let (user_id, action, detail) = match &outcome {
                LoginOutcome::Success(user) => (Some(user.id), "login", String::new()),
                LoginOutcome::Refused { user_id } => {
                    (*user_id, "login_failed", format!("e-mail: {audited_email}"))
                }
            };
            NewAuditEntry {
                user_id,
                action,
                detail: &detail,
                ip: ip.as_deref(),
                created_at: time::now(),
            }
            .insert(conn)?;
            Ok(outcome)
        })
        .await?;
    match outcome {
        LoginOutcome::Success(user) => {
            session.log_in(user.id)?;
            tracing::info!(user_id = user.id, "login");
            Ok(Either::Right(see_other(&next)))
        }
        LoginOutcome::Refused { .. } => Ok(refuse(messages::LOGIN_FAILED)),
    }
}
