//! HTTP routes, one module per area; handlers translate HTTP to calls and back.

mod admin;
pub mod api;
mod conta;
mod contato_editar;
mod contatos;
mod descadastrar;
mod engajar;
mod fila;
mod health;
mod home;
mod lgpd;
mod login;
mod logout;
mod setup;
mod static_files;
pub mod webhooks;

use actix_web::middleware::from_fn;
use actix_web::web;

use crate::web::AppError;
use crate::web::auth::require_admin;
use admin::{
    auditoria, canais, configuracoes, nao_perturbe, provedores, segmentos, tokens, usuarios,
};

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
            "/engajar/publicos/layout",
            web::get().to(engajar::publicos::layout::layout_help),
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
            "/engajar/publicos/validacoes/{id}",
            web::get().to(engajar::publicos::validation::show_validation),
        )
        .route(
            "/engajar/publicos/validacoes/{id}/importar",
            web::post().to(engajar::publicos::validation::import_validated),
        )
        .route(
            "/engajar/publicos/{id}",
            web::get().to(engajar::publicos::show::show_audience),
        )
        .route(
            "/engajar/publicos/{id}/rejeitadas.csv",
            web::get().to(engajar::publicos::rejected::rejected_rows_csv),
        )
        .route(
            "/engajar/campanhas",
            web::get().to(engajar::campanhas::list::campaign_list),
        )
        .route(
            "/engajar/campanhas/nova",
            web::get().to(engajar::campanhas::compose::new_form),
        )
        .route(
            "/engajar/campanhas/nova",
            web::post().to(engajar::campanhas::compose::create),
        )
        .route(
            "/engajar/campanhas/{id}",
            web::get().to(engajar::campanhas::show::show_campaign),
        )
        .route(
            "/engajar/campanhas/{id}/editar",
            web::get().to(engajar::campanhas::compose::edit_form),
        )
        .route(
            "/engajar/campanhas/{id}/editar",
            web::post().to(engajar::campanhas::compose::update),
        )
        .route(
            "/engajar/campanhas/{id}/previa",
            web::get().to(engajar::campanhas::preview::preview_page),
        )
        .route(
            "/engajar/campanhas/{id}/teste",
            web::post().to(engajar::campanhas::preview::test_send),
        )
        .route(
            "/engajar/campanhas/{id}/envios.csv",
            web::get().to(engajar::campanhas::export::export_csv),
        )
        .route(
            "/engajar/campanhas/{id}/excluir",
            web::get().to(engajar::campanhas::delete::confirm_delete),
        )
        .route(
            "/engajar/campanhas/{id}/excluir",
            web::post().to(engajar::campanhas::delete::delete_campaign),
        )
        .route(
            "/engajar/campanhas/{id}/{action}",
            web::post().to(engajar::campanhas::actions::campaign_action),
        )
        .route("/descadastrar", web::get().to(descadastrar::typed_form))
        .route("/descadastrar", web::post().to(descadastrar::typed))
        .route(
            "/descadastrar/{token}",
            web::get().to(descadastrar::unsubscribe_form),
        )
        .route(
            "/descadastrar/{token}",
            web::post().to(descadastrar::unsubscribe),
        )
        .service(
            web::scope("/webhooks")
                .app_data(web::PayloadConfig::new(webhooks::MAX_BODY_BYTES))
                .route("/whatsapp", web::get().to(webhooks::whatsapp_handshake))
                .route("/whatsapp", web::post().to(webhooks::whatsapp_event))
                .route("/twilio", web::post().to(webhooks::twilio_event))
                .route("/zenvia", web::post().to(webhooks::zenvia_event)),
        )
        .route("/contatos", web::get().to(contatos::contact_list))
        .route(
            "/contatos/cpf-repetidos",
            web::get().to(contatos::repeated_documents),
        )
        .route(
            "/contatos/cpf-repetidos/{id}/resolvido",
            web::post().to(contatos::resolve_repeated_document),
        )
        .route("/contatos/{id}", web::get().to(contatos::show_contact))
        .route(
            "/contatos/{id}/editar",
            web::get().to(contato_editar::edit_form),
        )
        .route(
            "/contatos/{id}/editar",
            web::post().to(contato_editar::edit),
        )
        .route(
            "/contatos/{id}/mesclar",
            web::get().to(contato_editar::merge_form),
        )
        .route(
            "/contatos/{id}/mesclar",
            web::post().to(contato_editar::merge),
        )
        .route("/fila", web::get().to(fila::queue))
        .route("/fila/{id}/atender", web::post().to(fila::attend))
        .route("/fila/{id}/desfazer", web::post().to(fila::undo))
        .route("/conta", web::get().to(conta::account))
        .route("/conta/senha", web::post().to(conta::change_password))
        .route(
            "/conta/sair-de-todos",
            web::post().to(conta::log_out_everywhere),
        )
        .service(
            web::scope("/api/v1")
                .app_data(web::QueryConfig::default().error_handler(api::query_error))
                .route("/interactions", web::post().to(api::create_interaction))
                .route("/contacts/lookup", web::get().to(api::lookup))
                .default_service(web::to(api::not_found)),
        )
        .service(web::scope("/api").default_service(web::to(api::not_found)))
        .service(
            web::scope("/lgpd")
                .wrap(from_fn(require_admin))
                .route("", web::get().to(lgpd::titular))
                .route("/relatorio.json", web::get().to(lgpd::titular_json))
                .route("/eliminar", web::get().to(lgpd::confirm_erase))
                .route("/eliminar", web::post().to(lgpd::erase))
                .route("/revogar", web::post().to(lgpd::revoke))
                .route("/pedidos", web::get().to(lgpd::requests))
                .route("/pedidos", web::post().to(lgpd::add_request))
                .route(
                    "/pedidos/{id}/responder",
                    web::post().to(lgpd::answer_request),
                ),
        )
        .service(
            web::scope("/admin")
                .wrap(from_fn(require_admin))
                .route("/segmentos", web::get().to(segmentos::get::segment_list))
                .route(
                    "/segmentos",
                    web::post().to(segmentos::post::create_segment),
                )
                .route(
                    "/segmentos/{id}/renomear",
                    web::post().to(segmentos::manage::rename_segment),
                )
                .route(
                    "/segmentos/{id}/excluir",
                    web::get().to(segmentos::manage::confirm_delete),
                )
                .route(
                    "/segmentos/{id}/excluir",
                    web::post().to(segmentos::manage::delete_segment),
                )
                .route("/usuarios", web::get().to(usuarios::user_list))
                .route("/usuarios", web::post().to(usuarios::create_user))
                .route(
                    "/usuarios/{id}/papel",
                    web::post().to(usuarios::change_role),
                )
                .route(
                    "/usuarios/{id}/situacao",
                    web::post().to(usuarios::change_status),
                )
                .route(
                    "/usuarios/{id}/senha",
                    web::post().to(usuarios::reset_password),
                )
                .route("/nao-perturbe", web::get().to(nao_perturbe::dnd_list))
                .route("/nao-perturbe", web::post().to(nao_perturbe::dnd_add))
                .route(
                    "/nao-perturbe/lista",
                    web::post().to(nao_perturbe::dnd_upload),
                )
                .route(
                    "/nao-perturbe/{id}/remover",
                    web::post().to(nao_perturbe::dnd_remove),
                )
                .route(
                    "/configuracoes",
                    web::get().to(configuracoes::settings_form),
                )
                .route(
                    "/configuracoes",
                    web::post().to(configuracoes::save_settings),
                )
                .route(
                    "/configuracoes/canais",
                    web::get().to(canais::channels_form),
                )
                .route(
                    "/configuracoes/canais",
                    web::post().to(canais::save_channels),
                )
                .route(
                    "/configuracoes/canais/whatsapp",
                    web::get().to(provedores::whatsapp_form),
                )
                .route(
                    "/configuracoes/canais/whatsapp",
                    web::post().to(provedores::save_whatsapp),
                )
                .route(
                    "/configuracoes/canais/sms",
                    web::get().to(provedores::sms_form),
                )
                .route(
                    "/configuracoes/canais/sms",
                    web::post().to(provedores::save_sms),
                )
                .route(
                    "/configuracoes/whatsapp/modelos",
                    web::get().to(provedores::templates_list),
                )
                .route(
                    "/configuracoes/whatsapp/modelos",
                    web::post().to(provedores::templates_save),
                )
                .route(
                    "/publicos/{id}/excluir",
                    web::get().to(admin::publicos::confirm_delete),
                )
                .route(
                    "/publicos/{id}/excluir",
                    web::post().to(admin::publicos::delete_audience),
                )
                .route(
                    "/configuracoes/retencao",
                    web::get().to(admin::retencao::retention_form),
                )
                .route(
                    "/configuracoes/retencao",
                    web::post().to(admin::retencao::save_retention),
                )
                .route("/tokens", web::get().to(tokens::token_list))
                .route("/tokens", web::post().to(tokens::create_token))
                .route("/tokens/{id}/revogar", web::post().to(tokens::revoke_token))
                .route("/auditoria", web::get().to(auditoria::audit_log)),
        )
        .default_service(web::to(not_found));
}

async fn not_found() -> Result<actix_web::HttpResponse, AppError> {
    Err(AppError::NotFound)
}
