//! `POST /setup`: creates the first admin and logs them in.

use actix_web::{Either, HttpRequest, HttpResponse, web};
use serde::Deserialize;

use super::SetupPage;
use crate::credentials::hash_password;
use crate::domain::{Email, NewPassword, Role};
use crate::messages;
use crate::models::{NewAuditEntry, NewUser, User, UserSession};
use crate::time;
use crate::web::csrf::CsrfForm;
use crate::web::session::TypedSession;
use crate::web::{AppError, AppState, client_ip, see_other};

#[derive(Deserialize)]
pub struct SetupForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_confirm: String,
}

pub async fn setup(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: TypedSession,
    CsrfForm(form): CsrfForm<SetupForm>,
) -> Result<Either<SetupPage, HttpResponse>, AppError> {
    if state.db(|conn| Ok(User::count(conn)?)).await? > 0 {
        return Err(AppError::NotFound);
    }
    let name = crate::domain::text::person_name(&form.name);
    let email = Email::parse(&form.email);
    let mut page = SetupPage {
        csrf_token: session.csrf_token(),
        name: form.name.trim().to_string(),
        email: form.email.trim().to_string(),
        ..SetupPage::default()
    };
    if let Err(e) = &name {
        page.name_error = Some(e);
    }
    if email.is_err() {
        page.email_error = Some(messages::EMAIL_INVALID);
    }
    let password =
        NewPassword::parse_confirmed(&form.password, &form.password_confirm, &form.email)
            .map_err(|e| page.password_error = Some(e))
            .ok();
    let (Ok(name), Ok(email), Some(password)) = (name, email, password) else {
        return Ok(Either::Left(page));
    };
    let ip = client_ip(&req);
    let created = state
        .db(move |conn| {
            let hash = hash_password(&password);
            crate::db::write_transaction(conn, |conn| {
                // Two first visitors racing: only the first one becomes admin.
                if User::count(conn)? > 0 {
                    return Ok(None);
                }
                let now = time::now();
                let user =
                    NewUser::active(email.as_str(), &name, Role::Admin, &hash, now).insert(conn)?;
                NewAuditEntry {
                    user_id: Some(user.id),
                    action: "setup",
                    detail: &format!("primeiro administrador: {}", user.email),
                    ip: ip.as_deref(),
                    created_at: now,
                    contact_id: None,
                }
                .insert(conn)?;
                let session_id = UserSession::open(conn, user.id, ip.as_deref(), now)?;
                Ok(Some(session_id))
            })
        })
        .await?;
    let Some(session_id) = created else {
        return Err(AppError::NotFound);
    };
    session.log_in(&session_id)?;
    Ok(Either::Right(see_other("/engajar")))
}
