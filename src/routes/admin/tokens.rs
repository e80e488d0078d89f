//! Tokens da API: create (the token is shown once, never again) and revoke.

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use askama_web::WebTemplate;
use serde::Deserialize;

use crate::messages;
use crate::models::audit;
use crate::models::token::{self, ApiTokenView};
use crate::time;
use crate::web::csrf::{CsrfForm, NoFields};
use crate::web::page::PageCtx;
use crate::web::{AppError, AppState, client_ip, see_other};

pub const MAX_TOKEN_NAME_CHARS: usize = 100;

#[derive(Template, WebTemplate)]
#[template(path = "admin/tokens.html")]
pub struct TokensPage {
    ctx: PageCtx,
    tokens: Vec<ApiTokenView>,
    /// The token just created: shown on this response only.
    created: Option<String>,
    name: String,
    notice: Option<&'static str>,
    error: Option<&'static str>,
}

impl TokensPage {
    fn when(ts: &i64) -> String {
        time::format_br(*ts)
    }

    fn expired(expires_at: &Option<i64>) -> bool {
        expires_at.is_some_and(|at| at <= time::now())
    }

    fn validity_days(&self) -> [i64; 4] {
        VALIDITY_DAYS
    }
}

async fn render(
    ctx: PageCtx,
    state: &AppState,
    created: Option<String>,
    name: String,
    notice: Option<&'static str>,
    error: Option<&'static str>,
) -> Result<TokensPage, AppError> {
    let tokens = state.db(|conn| Ok(token::list(conn)?)).await?;
    Ok(TokensPage {
        ctx,
        tokens,
        created,
        name,
        notice,
        error,
    })
}

#[derive(Deserialize)]
pub struct TokensQuery {
    ok: Option<String>,
}

/// `GET /admin/tokens`.
pub async fn token_list(
    ctx: PageCtx,
    state: web::Data<AppState>,
    query: web::Query<TokensQuery>,
) -> Result<TokensPage, AppError> {
    let notice = query.ok.as_ref().map(|_| messages::TOKEN_REVOKED);
    render(ctx, &state, None, String::new(), notice, None).await
}

#[derive(Deserialize)]
pub struct CreateForm {
    #[serde(default)]
    name: String,
    /// Days until the token stops working; empty: until revoked.
    #[serde(default)]
    validade_dias: String,
}

/// The validity choices offered, in days; empty means until revoked.
pub const VALIDITY_DAYS: [i64; 4] = [30, 90, 180, 365];

/// `POST /admin/tokens`: answers with the page showing the new token once.
pub async fn create_token(
    req: HttpRequest,
    ctx: PageCtx,
    state: web::Data<AppState>,
    CsrfForm(form): CsrfForm<CreateForm>,
) -> Result<HttpResponse, AppError> {
    let name = crate::domain::text::collapse_spaces(&form.name);
    let validity = match form.validade_dias.trim() {
        "" => Ok(None),
        days => days
            .parse::<i64>()
            .ok()
            .filter(|d| VALIDITY_DAYS.contains(d))
            .map(Some)
            .ok_or(()),
    };
    let error = if validity.is_err() {
        Some(messages::TOKEN_VALIDITY_INVALID)
    } else if name.is_empty() {
        Some(messages::TOKEN_NAME_REQUIRED)
    } else if name.chars().count() > MAX_TOKEN_NAME_CHARS || name.chars().any(char::is_control) {
        Some(messages::TOKEN_NAME_INVALID)
    } else {
        None
    };
    if error.is_some() {
        let page = render(ctx, &state, None, form.name, None, error).await?;
        return Ok(HttpResponse::Ok()
            .content_type("text/html; charset=utf-8")
            .body(page.render()?));
    }
    let by = ctx.user.id;
    let ip = client_ip(&req);
    let created = state
        .db(move |conn| {
            let now = time::now();
            let expires_at = validity.ok().flatten().map(|days| now + days * 86_400);
            let (id, token) = token::create(conn, &name, Some(by), expires_at, now)?;
            audit(
                conn,
                Some(by),
                "token_create",
                &format!("token #{id}: {name}"),
                ip.as_deref(),
            )?;
            Ok(token)
        })
        .await?;
    let page = render(
        ctx,
        &state,
        Some(created),
        String::new(),
        Some(messages::TOKEN_CREATED),
        None,
    )
    .await?;
    // The secret must not linger in any cache.
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header(("Cache-Control", "no-store"))
        .body(page.render()?))
}

/// `POST /admin/tokens/{id}/revogar`.
pub async fn revoke_token(
    req: HttpRequest,
    ctx: PageCtx,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let by = ctx.user.id;
    let ip = client_ip(&req);
    state
        .db(move |conn| {
            let name = token::revoke(conn, id, time::now())?.ok_or(AppError::NotFound)?;
            audit(
                conn,
                Some(by),
                "token_revoke",
                &format!("token #{id}: {name}"),
                ip.as_deref(),
            )?;
            Ok(())
        })
        .await?;
    Ok(see_other("/admin/tokens?ok=revogado"))
}
