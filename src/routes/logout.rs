//! `POST /logout`.

use actix_web::HttpResponse;
use serde::Deserialize;

use crate::web::csrf::CsrfForm;
use crate::web::see_other;
use crate::web::session::TypedSession;

#[derive(Deserialize)]
pub struct LogoutForm {}

pub async fn logout(session: TypedSession, _form: CsrfForm<LogoutForm>) -> HttpResponse {
    session.log_out();
    see_other("/login")
}
