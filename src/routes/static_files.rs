//! The stylesheet and other static files, built into the binary so it runs from anywhere.

use actix_web::{HttpResponse, web};

use crate::web::AppError;

const FILES: &[(&str, &str, &str)] = &[(
    "engajar.css",
    "text/css; charset=utf-8",
    include_str!("../../static/engajar.css"),
)];

pub async fn static_file(name: web::Path<String>) -> Result<HttpResponse, AppError> {
    let (_, content_type, body) = FILES
        .iter()
        .find(|(file, _, _)| *file == name.as_str())
        .ok_or(AppError::NotFound)?;
    Ok(HttpResponse::Ok()
        .content_type(*content_type)
        .insert_header(("Cache-Control", "public, max-age=3600"))
        .body(*body))
}
