//! Configurações: the Verify add-on switch and the upload size limit.

use actix_web::{Either, HttpRequest, HttpResponse, web};
use askama::Template;
use askama_web::WebTemplate;
use serde::Deserialize;

use crate::messages;
use crate::models::settings::MAX_UPLOAD_MB_RANGE;
use crate::models::{Settings, audit};
use crate::time;
use crate::web::csrf::CsrfForm;
use crate::web::page::PageCtx;
use crate::web::{AppError, AppState, client_ip, see_other};

#[derive(Template, WebTemplate)]
#[template(path = "admin/configuracoes.html")]
pub struct SettingsPage {
    ctx: PageCtx,
    verify_enabled: bool,
    max_upload_mb: String,
    min_mb: u64,
    max_mb: u64,
    notice: Option<&'static str>,
    error: Option<&'static str>,
}

#[derive(Deserialize)]
pub struct SettingsQuery {
    ok: Option<String>,
}

/// `GET /admin/configuracoes`.
pub async fn settings_form(
    ctx: PageCtx,
    state: web::Data<AppState>,
    query: web::Query<SettingsQuery>,
) -> Result<SettingsPage, AppError> {
    let settings = state.settings().await?;
    Ok(SettingsPage {
        ctx,
        verify_enabled: settings.verify_enabled,
        max_upload_mb: settings.max_upload_mb.to_string(),
        min_mb: *MAX_UPLOAD_MB_RANGE.start(),
        max_mb: *MAX_UPLOAD_MB_RANGE.end(),
        notice: query.ok.as_ref().map(|_| messages::SETTINGS_SAVED),
        error: None,
    })
}

#[derive(Deserialize)]
pub struct SettingsForm {
    #[serde(default)]
    verify: Option<String>,
    #[serde(default)]
    max_upload_mb: String,
}

/// `POST /admin/configuracoes`.
pub async fn save_settings(
    req: HttpRequest,
    ctx: PageCtx,
    state: web::Data<AppState>,
    CsrfForm(form): CsrfForm<SettingsForm>,
) -> Result<Either<SettingsPage, HttpResponse>, AppError> {
    let verify_enabled = form.verify.as_deref() == Some("on");
    let Some(max_upload_mb) = form
        .max_upload_mb
        .trim()
        .parse::<u64>()
        .ok()
        .filter(|mb| MAX_UPLOAD_MB_RANGE.contains(mb))
    else {
        return Ok(Either::Left(SettingsPage {
            ctx,
            verify_enabled,
            max_upload_mb: form.max_upload_mb,
            min_mb: *MAX_UPLOAD_MB_RANGE.start(),
            max_mb: *MAX_UPLOAD_MB_RANGE.end(),
            notice: None,
            error: Some(messages::SETTINGS_UPLOAD_INVALID),
        }));
    };
    let settings = Settings {
        verify_enabled,
        max_upload_mb,
    };
    let by = ctx.user.id;
    let ip = client_ip(&req);
    state
        .db(move |conn| {
            settings.save(conn, time::now())?;
            audit(
                conn,
                Some(by),
                "settings",
                &format!(
                    "Verify: {}; limite de upload: {} MB",
                    if verify_enabled {
                        "ativado"
                    } else {
                        "desativado"
                    },
                    max_upload_mb
                ),
                ip.as_deref(),
            )?;
            Ok(())
        })
        .await?;
    Ok(Either::Right(see_other("/admin/configuracoes?ok=1")))
}
