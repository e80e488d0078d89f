//! `POST /logout`: ends the server-side session for good, then forgets the cookie.

use actix_web::{HttpResponse, web};

use crate::models::UserSession;
use crate::web::csrf::{CsrfForm, NoFields};
use crate::web::session::TypedSession;
use crate::web::{AppError, AppState, see_other};

pub async fn logout(
    session: TypedSession,
    state: web::Data<AppState>,
    _form: CsrfForm<NoFields>,
) -> Result<HttpResponse, AppError> {
    if let Some(session_id) = session.session_id() {
        state
            .db(move |conn| Ok(UserSession::end(conn, &session_id)?))
            .await?;
    }
    session.log_out();
    Ok(see_other("/login"))
}
