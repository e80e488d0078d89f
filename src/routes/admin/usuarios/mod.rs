//! Usuários: list, create, change role, disable/enable and reset password. No change may
//! leave the platform without an active admin.

use actix_web::{Either, HttpRequest, HttpResponse, web};
use askama::Template;
use askama_web::WebTemplate;
use serde::Deserialize;

use crate::credentials::hash_password;
use crate::domain::{Email, NewPassword, Role};
use crate::messages;
use crate::models::{NewUser, User, UserChangeError, UserSession, audit};
use crate::time;
use crate::web::csrf::CsrfForm;
use crate::web::page::PageCtx;
use crate::web::{AppError, AppState, client_ip, see_other};

#[derive(Default)]
pub struct NewUserFields {
    name: String,
    email: String,
    role: String,
    name_error: Option<&'static str>,
    email_error: Option<&'static str>,
    role_error: Option<&'static str>,
    password_error: Option<String>,
}

impl NewUserFields {
    /// The empty form: a new user is staff unless chosen otherwise.
    fn blank() -> Self {
        NewUserFields {
            role: Role::Staff.as_str().into(),
            ..Default::default()
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/usuarios.html")]
pub struct UsersPage {
    ctx: PageCtx,
    users: Vec<User>,
    form: NewUserFields,
    notice: Option<&'static str>,
    error: Option<String>,
}

impl UsersPage {
    async fn render(
        ctx: PageCtx,
        state: &AppState,
        form: NewUserFields,
        notice: Option<&'static str>,
        error: Option<String>,
    ) -> Result<UsersPage, AppError> {
        let users = state.db(|conn| Ok(User::list(conn)?)).await?;
        Ok(UsersPage {
            ctx,
            users,
            form,
            notice,
            error,
        })
    }
}

#[derive(Deserialize)]
pub struct UsersQuery {
    ok: Option<String>,
}

/// `GET /admin/usuarios`.
pub async fn user_list(
    ctx: PageCtx,
    state: web::Data<AppState>,
    query: web::Query<UsersQuery>,
) -> Result<UsersPage, AppError> {
    let notice = match query.ok.as_deref() {
        Some("criado") => Some(messages::USER_CREATED),
        Some("papel") => Some(messages::USER_ROLE_CHANGED),
        Some("desativado") => Some(messages::USER_DISABLED),
        Some("ativado") => Some(messages::USER_ENABLED),
        Some("senha") => Some(messages::USER_PASSWORD_RESET),
        _ => None,
    };
    UsersPage::render(ctx, &state, NewUserFields::blank(), notice, None).await
}

#[derive(Deserialize)]
pub struct CreateForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    password: String,
}

/// `POST /admin/usuarios`.
pub async fn create_user(
    req: HttpRequest,
    ctx: PageCtx,
    state: web::Data<AppState>,
    CsrfForm(form): CsrfForm<CreateForm>,
) -> Result<Either<UsersPage, HttpResponse>, AppError> {
    let name = crate::domain::text::person_name(&form.name);
    let email = Email::parse(&form.email);
    let role = Role::parse(&form.role);
    let mut fields = NewUserFields {
        name: form.name.trim().to_string(),
        email: form.email.trim().to_string(),
        role: role.clone().unwrap_or(Role::Staff).as_str().to_string(),
        ..Default::default()
    };
    if let Err(e) = &name {
        fields.name_error = Some(e);
    }
    if email.is_err() {
        fields.email_error = Some(messages::EMAIL_INVALID);
    }
    if role.is_err() {
        fields.role_error = Some(messages::ROLE_INVALID);
    }
    let password = NewPassword::parse(&form.password, form.email.trim())
        .map_err(|e| fields.password_error = Some(e.to_string()))
        .ok();
    let (Ok(name), Ok(email), Ok(role), Some(password)) = (name, email, role, password) else {
        return Ok(Either::Left(
            UsersPage::render(ctx, &state, fields, None, None).await?,
        ));
    };
    let by = ctx.user.id;
    let ip = client_ip(&req);
    let created = state
        .db(move |conn| {
            let hash = hash_password(&password);
            let now = time::now();
            let user = NewUser::active(email.as_str(), &name, role, &hash, now)
                .insert_if_email_free(conn)?;
            if let Some(user) = &user {
                audit(
                    conn,
                    Some(by),
                    "user_create",
                    &format!(
                        "Criou o usuário #{} {} como {}.",
                        user.id,
                        user.email,
                        user.role().label()
                    ),
                    ip.as_deref(),
                )?;
            }
            Ok(user.is_some())
        })
        .await?;
    if created {
        return Ok(Either::Right(see_other("/admin/usuarios?ok=criado")));
    }
    fields.email_error = Some(messages::USER_EMAIL_TAKEN);
    Ok(Either::Left(
        UsersPage::render(ctx, &state, fields, None, None).await?,
    ))
}

#[derive(Deserialize)]
pub struct RoleForm {
    #[serde(default)]
    role: String,
}

#[derive(Deserialize)]
pub struct StatusForm {
    #[serde(default)]
    active: String,
}

/// `POST /admin/usuarios/{id}/papel`.
pub async fn change_role(
    req: HttpRequest,
    ctx: PageCtx,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    CsrfForm(form): CsrfForm<RoleForm>,
) -> Result<Either<UsersPage, HttpResponse>, AppError> {
    let role = Role::parse(&form.role)
        .map_err(|_| AppError::BadRequest(format!("role {:?}", form.role)))?;
    apply_change(
        req,
        ctx,
        state,
        path.into_inner(),
        Some(role),
        None,
        "papel",
    )
    .await
}

/// `POST /admin/usuarios/{id}/situacao`: `active=1` enables, `active=0` disables.
pub async fn change_status(
    req: HttpRequest,
    ctx: PageCtx,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    CsrfForm(form): CsrfForm<StatusForm>,
) -> Result<Either<UsersPage, HttpResponse>, AppError> {
    let (disabled, ok) = match form.active.as_str() {
        "1" => (false, "ativado"),
        "0" => (true, "desativado"),
        other => return Err(AppError::BadRequest(format!("active {other:?}"))),
    };
    apply_change(req, ctx, state, path.into_inner(), None, Some(disabled), ok).await
}

async fn apply_change(
    req: HttpRequest,
    ctx: PageCtx,
    state: web::Data<AppState>,
    id: i64,
    role: Option<Role>,
    disabled: Option<bool>,
    ok: &str,
) -> Result<Either<UsersPage, HttpResponse>, AppError> {
    let by = ctx.user.id;
    let ip = client_ip(&req);
    let outcome = state
        .db(move |conn| {
            let outcome = User::change(conn, id, role, disabled, time::now())?;
            if let Ok(user) = &outcome {
                // New privileges, or none: the user's open sessions end, and a disabled
                // user's API tokens with them.
                UserSession::end_all(conn, user.id)?;
                if disabled == Some(true) {
                    crate::models::token::revoke_created_by(conn, user.id, time::now())?;
                }
                let (action, what) = match (role, disabled) {
                    (Some(r), _) => ("user_role", format!("passou a ser {}", r.label())),
                    (_, Some(true)) => ("user_disable", "foi desativado".to_string()),
                    _ => ("user_enable", "foi reativado".to_string()),
                };
                audit(
                    conn,
                    Some(by),
                    action,
                    &format!("O usuário #{} {} {what}.", user.id, user.email),
                    ip.as_deref(),
                )?;
            }
            Ok(outcome)
        })
        .await?;
    match outcome {
        Ok(_) => Ok(Either::Right(see_other(&format!(
            "/admin/usuarios?ok={ok}"
        )))),
        Err(UserChangeError::NotFound) => Err(AppError::NotFound),
        Err(UserChangeError::LastAdmin) => Ok(Either::Left(
            UsersPage::render(
                ctx,
                &state,
                NewUserFields::blank(),
                None,
                Some(messages::USER_LAST_ADMIN.to_string()),
            )
            .await?,
        )),
    }
}

#[derive(Deserialize)]
pub struct ResetForm {
    #[serde(default)]
    password: String,
}

/// `POST /admin/usuarios/{id}/senha`: sets a new password for someone else.
pub async fn reset_password(
    req: HttpRequest,
    ctx: PageCtx,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    CsrfForm(form): CsrfForm<ResetForm>,
) -> Result<Either<UsersPage, HttpResponse>, AppError> {
    let id = path.into_inner();
    let user = state
        .db(move |conn| User::find(conn, id)?.ok_or(AppError::NotFound))
        .await?;
    let password = match NewPassword::parse(&form.password, &user.email) {
        Ok(p) => p,
        Err(e) => {
            let error = format!("{} ({})", e, user.email);
            return Ok(Either::Left(
                UsersPage::render(
                    ctx,
                    &state,
                    NewUserFields {
                        role: Role::Staff.as_str().into(),
                        ..Default::default()
                    },
                    None,
                    Some(error),
                )
                .await?,
            ));
        }
    };
    let by = ctx.user.id;
    let ip = client_ip(&req);
    state
        .db(move |conn| {
            let hash = hash_password(&password);
            User::set_password_hash(conn, id, &hash, time::now())?;
            // After a compromise the attacker's sessions must end with the password.
            UserSession::end_all(conn, id)?;
            audit(
                conn,
                Some(by),
                "user_password_reset",
                &format!("Redefiniu a senha do usuário #{} {}.", user.id, user.email),
                ip.as_deref(),
            )?;
            Ok(())
        })
        .await?;
    Ok(Either::Right(see_other("/admin/usuarios?ok=senha")))
}
