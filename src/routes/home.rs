//! `/`: the platform opens on Engajar.

use actix_web::HttpResponse;
use actix_web::http::header;

pub async fn home() -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/engajar"))
        .finish()
}
