//! `GET /login`.

use actix_web::{Either, HttpResponse, web};
use serde::Deserialize;

use super::LoginPage;
use crate::messages;
use crate::models::User;
use crate::web::auth::safe_next;
use crate::web::session::TypedSession;
use crate::web::{AppError, AppState, see_other};

#[derive(Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
    expirada: Option<String>,
}

pub async fn login_form(
    state: web::Data<AppState>,
    session: TypedSession,
    query: web::Query<LoginQuery>,
) -> Result<Either<LoginPage, HttpResponse>, AppError> {
    let users = state.db(|conn| Ok(User::count(conn)?)).await?;
    if users == 0 {
        return Ok(Either::Right(see_other("/setup")));
    }
    let next = safe_next(query.next.as_deref());
    if session.session_id().is_some() {
        return Ok(Either::Right(see_other(&next)));
    }
    Ok(Either::Left(LoginPage {
        csrf_token: session.csrf_token(),
        next,
        email: String::new(),
        error: None,
        notice: query.expirada.as_ref().map(|_| messages::SESSION_EXPIRED),
    }))
}
