//! `GET /setup`.

use actix_web::web;

use super::SetupPage;
use crate::models::User;
use crate::web::session::TypedSession;
use crate::web::{AppError, AppState};

pub async fn setup_form(
    state: web::Data<AppState>,
    session: TypedSession,
) -> Result<SetupPage, AppError> {
    if state.db(|conn| Ok(User::count(conn)?)).await? > 0 {
        return Err(AppError::NotFound);
    }
    Ok(SetupPage {
        csrf_token: session.csrf_token(),
        ..SetupPage::default()
    })
}
