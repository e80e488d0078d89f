//! `GET /engajar/publicos/layout.csv`: the template users fill in.

use actix_web::HttpResponse;
use actix_web::http::header::{ContentDisposition, DispositionParam, DispositionType};

use crate::layout;

pub async fn layout_csv() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header(ContentDisposition {
            disposition: DispositionType::Attachment,
            parameters: vec![DispositionParam::Filename("layout_publico.csv".into())],
        })
        .body(layout::template_csv())
}
