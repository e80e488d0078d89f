//! `POST /logout`.

use actix_web::HttpResponse;

use crate::web::csrf::{CsrfForm, NoFields};
use crate::web::see_other;
use crate::web::session::TypedSession;

pub async fn logout(session: TypedSession, _form: CsrfForm<NoFields>) -> HttpResponse {
    session.log_out();
    see_other("/login")
}
