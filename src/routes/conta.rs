//! Minha conta: anyone changes their own password, knowing the current one.

use actix_web::{Either, HttpRequest, HttpResponse, web};
use askama::Template;
use askama_web::WebTemplate;
use serde::Deserialize;

use crate::credentials::{hash_password, verify_password};
use crate::domain::NewPassword;
use crate::messages;
use crate::models::{User, UserSession, audit};
use crate::time;
use crate::web::csrf::CsrfForm;
use crate::web::csrf::NoFields;
use crate::web::page::PageCtx;
use crate::web::session::TypedSession;
use crate::web::throttle;
use crate::web::{AppError, AppState, client_ip, see_other};

#[derive(Template, WebTemplate)]
#[template(path = "conta.html")]
pub struct AccountPage {
    ctx: PageCtx,
    notice: Option<&'static str>,
    current_error: Option<String>,
    password_error: Option<String>,
}

#[derive(Deserialize)]
pub struct AccountQuery {
    ok: Option<String>,
}

/// `GET /conta`.
pub async fn account(ctx: PageCtx, query: web::Query<AccountQuery>) -> AccountPage {
    AccountPage {
        ctx,
        notice: query.ok.as_ref().map(|_| messages::PASSWORD_CHANGED),
        current_error: None,
        password_error: None,
    }
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    current: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_confirm: String,
}

/// `POST /conta/senha`.
pub async fn change_password(
    req: HttpRequest,
    ctx: PageCtx,
    session: TypedSession,
    state: web::Data<AppState>,
    CsrfForm(form): CsrfForm<PasswordForm>,
) -> Result<Either<AccountPage, HttpResponse>, AppError> {
    let mut page = AccountPage {
        ctx: ctx.clone(),
        notice: None,
        current_error: None,
        password_error: None,
    };
    let password =
        NewPassword::parse_confirmed(&form.password, &form.password_confirm, &ctx.user.email)
            .map_err(|e| page.password_error = Some(e))
            .ok();
    let user_id = ctx.user.id;
    let ip = client_ip(&req);
    let current = form.current;
    let throttle = state.throttle.clone();
    let changed = state
        .db(move |conn| {
            let user = User::find(conn, user_id)?.ok_or(AppError::NotFound)?;
            let now = time::now();
            // Someone at an unlocked screen must not get unlimited guesses either.
            let attempt = match throttle.reserve(conn, &user.email, ip.as_deref(), now)? {
                Ok(attempt) => attempt,
                Err(until) => return Ok(PasswordChange::Throttled(until - now)),
            };
            if !verify_password(&user.password_hash, &current) {
                attempt.failed(now);
                audit(
                    conn,
                    Some(user_id),
                    "password_change_failed",
                    &throttle::failure_detail(&user.email),
                    ip.as_deref(),
                )?;
                return Ok(PasswordChange::WrongCurrent);
            }
            attempt.succeeded();
            let Some(password) = password else {
                return Ok(PasswordChange::Invalid);
            };
            let hash = hash_password(&password);
            User::set_password_hash(conn, user_id, &hash, now)?;
            // A new credential: every other session ends, and this one gets a new id.
            UserSession::end_all(conn, user_id)?;
            let session_id = UserSession::open(conn, user_id, ip.as_deref(), now)?;
            audit(
                conn,
                Some(user_id),
                "password_change",
                &user.email,
                ip.as_deref(),
            )?;
            Ok(PasswordChange::Done(session_id))
        })
        .await?;
    match changed {
        PasswordChange::Done(session_id) => {
            session.log_in(&session_id)?;
            Ok(Either::Right(see_other("/conta?ok=1")))
        }
        PasswordChange::WrongCurrent => {
            page.current_error = Some(messages::PASSWORD_CURRENT_WRONG.to_string());
            Ok(Either::Left(page))
        }
        PasswordChange::Throttled(wait) => {
            let minutes = (wait + 59).div_euclid(60).max(1);
            page.current_error = Some(messages::login_throttled(minutes));
            Ok(Either::Right(
                HttpResponse::TooManyRequests()
                    .content_type("text/html; charset=utf-8")
                    .insert_header(("Retry-After", wait.max(1).to_string()))
                    .body(askama::Template::render(&page)?),
            ))
        }
        PasswordChange::Invalid => Ok(Either::Left(page)),
    }
}

enum PasswordChange {
    Done(String),
    WrongCurrent,
    /// Seconds to wait.
    Throttled(i64),
    /// The current password was right; the new one is not acceptable.
    Invalid,
}

/// `POST /conta/sair-de-todos`: ends every session of the user, this one included.
pub async fn log_out_everywhere(
    req: HttpRequest,
    ctx: PageCtx,
    session: TypedSession,
    state: web::Data<AppState>,
    _form: CsrfForm<NoFields>,
) -> Result<HttpResponse, AppError> {
    let user_id = ctx.user.id;
    let email = ctx.user.email.clone();
    let ip = client_ip(&req);
    state
        .db(move |conn| {
            let ended = UserSession::end_all(conn, user_id)?;
            audit(
                conn,
                Some(user_id),
                "logout_everywhere",
                &format!("{email}: {ended} sessão(ões) encerrada(s)"),
                ip.as_deref(),
            )?;
            Ok(())
        })
        .await?;
    session.log_out();
    Ok(see_other("/login"))
}
