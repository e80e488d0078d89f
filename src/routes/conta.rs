//! Minha conta: anyone changes their own password, knowing the current one.

use actix_web::{Either, HttpRequest, HttpResponse, web};
use askama::Template;
use askama_web::WebTemplate;
use serde::Deserialize;

use crate::credentials::{hash_password, verify_password};
use crate::domain::NewPassword;
use crate::messages;
use crate::models::{User, audit};
use crate::time;
use crate::web::csrf::CsrfForm;
use crate::web::page::PageCtx;
use crate::web::session::TypedSession;
use crate::web::{AppError, AppState, client_ip, see_other};

#[derive(Template, WebTemplate)]
#[template(path = "conta.html")]
pub struct AccountPage {
    ctx: PageCtx,
    notice: Option<&'static str>,
    current_error: Option<&'static str>,
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
    let changed = state
        .db(move |conn| {
            let user = User::find(conn, user_id)?.ok_or(AppError::NotFound)?;
            if !verify_password(&user.password_hash, &current) {
                return Ok(Some(false));
            }
            let Some(password) = password else {
                return Ok(None);
            };
            let hash = hash_password(&password);
            User::set_password_hash(conn, user_id, &hash, time::now())?;
            audit(
                conn,
                Some(user_id),
                "password_change",
                &user.email,
                ip.as_deref(),
            )?;
            Ok(Some(true))
        })
        .await?;
    match changed {
        Some(true) => {
            // A new credential gets a new session id.
            session.log_in(user_id, ctx.user.role.as_str())?;
            Ok(Either::Right(see_other("/conta?ok=1")))
        }
        Some(false) => {
            page.current_error = Some(messages::PASSWORD_CURRENT_WRONG);
            Ok(Either::Left(page))
        }
        None => Ok(Either::Left(page)),
    }
}
