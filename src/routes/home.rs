//! `/`: the platform opens on Engajar.

use actix_web::HttpResponse;

use crate::web::see_other;

pub async fn home() -> HttpResponse {
    see_other("/engajar")
}
