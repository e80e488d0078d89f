//! HTTP routes, one module per area; handlers translate HTTP to calls and back.

mod admin;
mod engajar;
mod health;
mod home;
mod login;
mod logout;
mod setup;
mod static_files;

use actix_web::middleware::from_fn;
use actix_web::web;

use crate::web::AppError;
use crate::web::auth::require_admin;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(home::home))
        .route("/healthz", web::get().to(health::healthz))
        .route("/static/{file}", web::get().to(static_files::static_file))
        .route("/login", web::get().to(login::get::login_form))
        .route("/login", web::post().to(login::post::login))
        .route("/logout", web::post().to(logout::logout))
        .route("/setup", web::get().to(setup::get::setup_form))
        .route("/setup", web::post().to(setup::post::setup))
        .route("/engajar", web::get().to(engajar::index::engajar_home))
        .route(
            "/engajar/publicos",
            web::get().to(engajar::publicos::list::audience_list),
        )
        .route(
            "/engajar/publicos/layout.csv",
            web::get().to(engajar::publicos::layout::layout_csv),
        )
        .route(
            "/engajar/publicos/importar",
            web::get().to(engajar::publicos::importar::get::import_form),
        )
        .route(
            "/engajar/publicos/importar",
            web::post().to(engajar::publicos::importar::post::import),
        )
        .route(
            "/engajar/publicos/{id}",
            web::get().to(engajar::publicos::show::show_audience),
        )
        .route(
            "/engajar/publicos/{id}/rejeitadas.csv",
            web::get().to(engajar::publicos::rejected::rejected_rows_csv),
        )
        .service(
            web::scope("/admin")
                .wrap(from_fn(require_admin))
                .route(
                    "/segmentos",
                    web::get().to(admin::segmentos::get::segment_list),
                )
                .route(
                    "/segmentos",
                    web::post().to(admin::segmentos::post::create_segment),
                ),
        )
        .default_service(web::to(not_found));
}

async fn not_found() -> Result<actix_web::HttpResponse, AppError> {
    Err(AppError::NotFound)
}
