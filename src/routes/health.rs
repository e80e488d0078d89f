//! `/healthz`: answers `ok` only when the database does.

use actix_web::{HttpResponse, web};
use diesel::RunQueryDsl;

use crate::web::{AppError, AppState};

pub async fn healthz(state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    state
        .db(|conn| {
            diesel::sql_query("SELECT 1").execute(conn)?;
            Ok(())
        })
        .await?;
    Ok(HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .insert_header(("Cache-Control", "no-store"))
        .body("ok"))
}
