//! Who is asking: the login gate for every non-public path, and the admin gate.

use std::future::{Ready, ready};

use actix_session::SessionExt;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::{FromRequest, HttpMessage, HttpRequest, ResponseError, web};

use crate::domain::Role;
use crate::models::{SessionEnd, UserSession};
use crate::web::AppState;
use crate::web::error::AppError;
use crate::web::session::TypedSession;

/// The logged-in user, put in the request's extensions by [`require_login`].
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub id: i64,
    pub name: String,
    pub email: String,
    pub role: Role,
}

impl CurrentUser {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }
}

impl FromRequest for CurrentUser {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        ready(
            req.extensions()
                .get::<CurrentUser>()
                .cloned()
                .ok_or_else(|| {
                    AppError::Internal("no current user on a protected route".into()).into()
                }),
        )
    }
}

fn is_public(path: &str) -> bool {
    matches!(path, "/login" | "/setup" | "/healthz" | "/favicon.ico")
        || path.starts_with("/static/")
        // The opt-out link in campaign e-mails: its token is the permission.
        || path.starts_with("/descadastrar/")
        // Where anyone types an address to stop receiving messages.
        || path == "/descadastrar"
        // Providers' callbacks: each is authenticated by the provider's signature.
        || path.starts_with("/webhooks/")
        // The API authenticates with its own bearer tokens.
        || path == "/api"
        || path.starts_with("/api/")
}

/// Sends anonymous requests to the login page (remembering where they were going), and
/// requests whose server-side session has ended (logged out, revoked, expired, the user
/// disabled): checked against the database on every request.
pub async fn require_login(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    if is_public(req.path()) {
        return Ok(next.call(req).await?.map_into_boxed_body());
    }
    let session = TypedSession::new(req.get_session());
    let Some(session_id) = session.session_id() else {
        // An anonymous session is left alone: it holds the CSRF token of the login form
        // being filled.
        let target = login_redirect_target(&req, false);
        return Ok(req.into_response(super::see_other(&target)));
    };
    let state = req
        .app_data::<web::Data<AppState>>()
        .expect("AppState is registered")
        .clone();
    let limits = state.config.session_limits();
    let now = crate::time::now();
    let resumed = state
        .db(move |conn| Ok(UserSession::resume(conn, &session_id, limits, now)?))
        .await;
    let user = match resumed {
        Ok(Ok(resumed)) => {
            if resumed.stale {
                state.sessions.touch(resumed.session, now);
            }
            resumed.user
        }
        Ok(Err(end)) => {
            // Logged out elsewhere, ended by a password change or an admin, disabled,
            // or past its limits: the cookie is worthless now.
            session.log_out();
            let target = login_redirect_target(&req, end == SessionEnd::Expired);
            return Ok(req.into_response(super::see_other(&target)));
        }
        Err(e) => return Ok(req.into_response(e.error_response())),
    };
    let current = CurrentUser {
        id: user.id,
        role: user.role(),
        name: user.name,
        email: user.email,
    };
    req.extensions_mut().insert(current.clone());
    let ctx = crate::web::page::PageCtx {
        user: current,
        csrf_token: session.csrf_token(),
        path: req.path().to_string(),
    };
    let res = next.call(req).await?;
    // An error page keeps the menu of whoever is logged in.
    if res.status().is_client_error() || res.status().is_server_error() {
        let page = res
            .response()
            .error()
            .and_then(|e| e.as_error::<AppError>())
            .map(|e| e.page_for(ctx));
        if let Some(page) = page {
            return Ok(res.into_response(page));
        }
    }
    Ok(res.map_into_boxed_body())
}

/// `/login?next=…` for page views, so the user lands back where they were headed;
/// `expirada=1` when an idle session was just ended, so the page can say why.
fn login_redirect_target(req: &ServiceRequest, expired: bool) -> String {
    let mut params = Vec::new();
    if expired {
        params.push("expirada=1".to_string());
    }
    let wanted = match req.query_string() {
        "" => req.path().to_string(),
        q => format!("{}?{}", req.path(), q),
    };
    if req.method() == Method::GET && wanted != "/" {
        params.push(format!("next={}", urlencoding::encode(&wanted)));
    }
    if params.is_empty() {
        "/login".to_string()
    } else {
        format!("/login?{}", params.join("&"))
    }
}

/// Answers 403 to anyone but admins; wraps the `/admin` scope.
pub async fn require_admin(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let is_admin = req
        .extensions()
        .get::<CurrentUser>()
        .is_some_and(CurrentUser::is_admin);
    if !is_admin {
        return Ok(req.error_response(AppError::Forbidden));
    }
    Ok(next.call(req).await?.map_into_boxed_body())
}

/// Where to go after logging in: only a path on this site, never another host.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n.contains('\\')
                && !n.chars().any(char::is_control) =>
        {
            n.to_string()
        }
        _ => "/engajar".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_only_accepts_local_paths() {
        assert_eq!(
            safe_next(Some("/engajar/publicos?page=2")),
            "/engajar/publicos?page=2"
        );
        for hostile in [
            "https://evil.example",
            "//evil.example",
            "/\\evil.example",
            "javascript:alert(1)",
            "evil",
            "/ok\r\nSet-Cookie: x=y",
        ] {
            assert_eq!(safe_next(Some(hostile)), "/engajar", "{hostile}");
        }
        assert_eq!(safe_next(None), "/engajar");
    }
}
