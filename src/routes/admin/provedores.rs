//! Configurações → Canais → WhatsApp and SMS, and Modelos do WhatsApp. Tokens and secrets
//! are never shown back: left blank, they stay as they were — but only for the base URL
//! they were saved with: with another URL typed, a blank credential is no credential, so
//! a saved token never reaches a host it was not saved for. **Testar** tries the settings
//! as typed without saving. Base URLs must lead to public addresses (see `channels::net`).

use actix_web::{Either, HttpRequest, HttpResponse, web};
use askama::Template;
use askama_web::WebTemplate;
use serde::Deserialize;

use crate::models::audit;
use crate::models::provider_settings::{
    PER_SECOND_RANGE, SmsProvider, SmsSettings, WhatsAppSettings,
};
use crate::models::whatsapp_template::{self, STATUS_MANUAL, TemplateInput, WhatsAppTemplate};
use crate::routes::webhooks::{sms_settings, whatsapp_settings};
use crate::web::csrf::CsrfForm;
use crate::web::page::PageCtx;
use crate::web::{AppError, AppState, client_ip};

type Errors = Vec<(&'static str, String)>;

fn error_of(errors: &Errors, field: &str) -> Option<String> {
    errors
        .iter()
        .find(|(f, _)| *f == field)
        .map(|(_, m)| m.clone())
}

/// A secret field: what was typed, or the saved value when left blank.
fn keep(typed: &str, saved: &str) -> String {
    if typed.trim().is_empty() {
        saved.to_string()
    } else {
        typed.trim().to_string()
    }
}

/// A credential sent to the provider's base URL: what was typed, or the saved value when
/// left blank and the URL is the saved one. A saved credential left blank for another URL
/// is an error, so the admin types it for the new host.
fn keep_for_host(
    typed: &str,
    saved: &str,
    same_host: bool,
    field: &'static str,
    errors: &mut Errors,
) -> String {
    if !typed.trim().is_empty() {
        return typed.trim().to_string();
    }
    if same_host {
        return saved.to_string();
    }
    if !saved.is_empty() && !errors.iter().any(|(f, _)| *f == field) {
        errors.push((
            field,
            crate::messages::channels::SECRET_NEEDED_FOR_NEW_HOST.to_string(),
        ));
    }
    String::new()
}

fn base_url_ok(url: &str) -> bool {
    url::Url::parse(url).is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.has_host())
}

fn per_second(text: &str, errors: &mut Errors) -> i64 {
    match text.trim().parse::<i64>() {
        Ok(n) if PER_SECOND_RANGE.contains(&n) => n,
        _ => {
            errors.push((
                "per_second",
                crate::messages::channels::out_of_range(
                    *PER_SECOND_RANGE.start(),
                    *PER_SECOND_RANGE.end(),
                ),
            ));
            0
        }
    }
}

/// Saves a section of settings and audits it (without its secrets) in one transaction.
async fn save_audited(
    state: &AppState,
    req: &HttpRequest,
    by: i64,
    detail: String,
    save: impl FnOnce(&mut crate::db::DbConnection, i64) -> diesel::QueryResult<()> + Send + 'static,
) -> Result<(), AppError> {
    let ip = client_ip(req);
    state
        .db(move |conn| {
            crate::db::write_transaction(conn, |conn| {
                save(conn, crate::time::now())?;
                audit(conn, Some(by), "channel_settings", &detail, ip.as_deref())
            })?;
            Ok(())
        })
        .await
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/whatsapp.html")]
pub struct WhatsAppPage {
    ctx: PageCtx,
    form: WhatsAppForm,
    token_set: bool,
    secret_set: bool,
    verify_set: bool,
    webhook_url: String,
    notice: Option<String>,
    errors: Errors,
}

impl WhatsAppPage {
    fn error(&self, field: &str) -> Option<String> {
        error_of(&self.errors, field)
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct WhatsAppForm {
    #[serde(default)]
    base_url: String,
    #[serde(default)]
    phone_number_id: String,
    #[serde(default)]
    waba_id: String,
    #[serde(default)]
    token: String,
    #[serde(default)]
    app_secret: String,
    #[serde(default)]
    verify_token: String,
    #[serde(default)]
    per_second: String,
    #[serde(default)]
    acao: String,
}

fn whatsapp_page(
    ctx: PageCtx,
    state: &AppState,
    s: &WhatsAppSettings,
    notice: Option<String>,
    errors: Errors,
) -> WhatsAppPage {
    WhatsAppPage {
        ctx,
        form: WhatsAppForm {
            base_url: s.base_url.clone(),
            phone_number_id: s.phone_number_id.clone(),
            waba_id: s.waba_id.clone(),
            per_second: s.per_second.to_string(),
            ..Default::default()
        },
        token_set: !s.token.is_empty(),
        secret_set: !s.app_secret.is_empty(),
        verify_set: !s.verify_token.is_empty(),
        webhook_url: format!("{}/webhooks/whatsapp", state.config.public_url),
        notice,
        errors,
    }
}

/// `GET /admin/configuracoes/canais/whatsapp`.
pub async fn whatsapp_form(
    ctx: PageCtx,
    state: web::Data<AppState>,
) -> Result<WhatsAppPage, AppError> {
    let s = whatsapp_settings(&state).await?;
    Ok(whatsapp_page(ctx, &state, &s, None, Vec::new()))
}

/// `POST /admin/configuracoes/canais/whatsapp` (`acao=salvar|testar`).
pub async fn save_whatsapp(
    req: HttpRequest,
    ctx: PageCtx,
    state: web::Data<AppState>,
    CsrfForm(form): CsrfForm<WhatsAppForm>,
) -> Result<WhatsAppPage, AppError> {
    let saved = whatsapp_settings(&state).await?;
    let mut errors = Vec::new();
    let base_url = form.base_url.trim().trim_end_matches('/').to_string();
    let same_host = base_url == saved.base_url.trim_end_matches('/');
    let settings = WhatsAppSettings {
        token: keep_for_host(&form.token, &saved.token, same_host, "token", &mut errors),
        base_url,
        phone_number_id: form.phone_number_id.trim().to_string(),
        waba_id: form.waba_id.trim().to_string(),
        app_secret: keep(&form.app_secret, &saved.app_secret),
        verify_token: keep(&form.verify_token, &saved.verify_token),
        per_second: per_second(&form.per_second, &mut errors),
    };
    if !base_url_ok(&settings.base_url) {
        errors.push((
            "base_url",
            crate::messages::sms::BASE_URL_INVALID.to_string(),
        ));
    } else if let Some(refused) =
        crate::channels::net::check_base_url(&settings.base_url, state.config.net_policy()).await
    {
        errors.push(("base_url", refused));
    }
    for (field, value) in [
        ("phone_number_id", &settings.phone_number_id),
        ("waba_id", &settings.waba_id),
    ] {
        if !value.is_empty() && !value.chars().all(|c| c.is_ascii_digit()) {
            errors.push((field, crate::messages::channels::DIGITS_ONLY.to_string()));
        }
    }
    let shown = |notice, errors| {
        let mut page = whatsapp_page(ctx.clone(), &state, &settings, notice, errors);
        page.form.base_url = form.base_url.clone();
        page.form.phone_number_id = form.phone_number_id.clone();
        page.form.waba_id = form.waba_id.clone();
        page.form.per_second = form.per_second.clone();
        page
    };
    if !errors.is_empty() {
        return Ok(shown(None, errors));
    }
    if form.acao == "testar" {
        let outcome = match crate::channels::whatsapp::WhatsAppChannel::new(
            &settings,
            state.config.net_policy(),
        ) {
            Ok(c) => c.test().await,
            Err(e) => Err(e),
        };
        return Ok(match outcome {
            Ok(number) => shown(
                Some(format!("{} {}", crate::messages::whatsapp::TEST_OK, number)),
                Vec::new(),
            ),
            Err(e) => shown(
                None,
                vec![("test", crate::messages::whatsapp::api_failed(&e))],
            ),
        });
    }
    let detail = format!(
        "WhatsApp: {} número {}, conta {}, {} msg/s; token {}, segredo do app {}, token de verificação {} (nunca registrados)",
        settings.base_url,
        settings.phone_number_id,
        settings.waba_id,
        settings.per_second,
        if settings.token.is_empty() {
            "vazio"
        } else {
            "definido"
        },
        if settings.app_secret.is_empty() {
            "vazio"
        } else {
            "definido"
        },
        if settings.verify_token.is_empty() {
            "vazio"
        } else {
            "definido"
        },
    );
    let to_save = settings.clone();
    save_audited(&state, &req, ctx.user.id, detail, move |conn, now| {
        to_save.save(conn, now)
    })
    .await?;
    Ok(shown(
        Some(crate::messages::whatsapp::SAVED.to_string()),
        Vec::new(),
    ))
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/sms.html")]
pub struct SmsPage {
    ctx: PageCtx,
    form: SmsForm,
    zenvia_set: bool,
    twilio_set: bool,
    secret_set: bool,
    /// A fresh random secret offered for the webhook field.
    suggested_secret: String,
    public_url: String,
    notice: Option<String>,
    errors: Errors,
}

/// 32 random characters (URL-safe base64 of 24 bytes), well past the minimum.
fn generated_secret() -> String {
    use base64::Engine;
    let mut bytes = [0u8; 24];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

impl SmsPage {
    fn error(&self, field: &str) -> Option<String> {
        error_of(&self.errors, field)
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct SmsForm {
    #[serde(default)]
    provider: String,
    #[serde(default)]
    base_url: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    zenvia_token: String,
    #[serde(default)]
    twilio_account_sid: String,
    #[serde(default)]
    twilio_auth_token: String,
    #[serde(default)]
    webhook_secret: String,
    #[serde(default)]
    per_second: String,
    #[serde(default)]
    acao: String,
}

fn sms_page(
    ctx: PageCtx,
    state: &AppState,
    s: &SmsSettings,
    notice: Option<String>,
    errors: Errors,
) -> SmsPage {
    SmsPage {
        ctx,
        form: SmsForm {
            provider: s.provider.code().into(),
            base_url: s.base_url.clone(),
            from: s.from.clone(),
            twilio_account_sid: s.twilio_account_sid.clone(),
            per_second: s.per_second.to_string(),
            ..Default::default()
        },
        zenvia_set: !s.zenvia_token.is_empty(),
        twilio_set: !s.twilio_auth_token.is_empty(),
        secret_set: !s.webhook_secret.is_empty(),
        suggested_secret: generated_secret(),
        public_url: state.config.public_url.clone(),
        notice,
        errors,
    }
}

/// `GET /admin/configuracoes/canais/sms`.
pub async fn sms_form(ctx: PageCtx, state: web::Data<AppState>) -> Result<SmsPage, AppError> {
    let s = sms_settings(&state).await?;
    Ok(sms_page(ctx, &state, &s, None, Vec::new()))
}

/// `POST /admin/configuracoes/canais/sms` (`acao=salvar|testar`).
pub async fn save_sms(
    req: HttpRequest,
    ctx: PageCtx,
    state: web::Data<AppState>,
    CsrfForm(form): CsrfForm<SmsForm>,
) -> Result<SmsPage, AppError> {
    use crate::messages::sms as m;
    let saved = sms_settings(&state).await?;
    let mut errors = Vec::new();
    let provider = match SmsProvider::from_code(&form.provider) {
        Some(p) if p != SmsProvider::None => p,
        _ => {
            errors.push(("provider", m::PROVIDER_INVALID.to_string()));
            SmsProvider::None
        }
    };
    let base = form.base_url.trim().trim_end_matches('/');
    let base_url = if base.is_empty() {
        provider.default_base().to_string()
    } else {
        base.to_string()
    };
    let same_host = base_url == saved.base_url.trim_end_matches('/');
    // Only the chosen provider's credential must be typed again; the other one is not
    // sent anywhere and, left blank for a new URL, is simply dropped.
    let mut dropped = Vec::new();
    let (zenvia_errors, twilio_errors) = if provider == SmsProvider::Twilio {
        (&mut dropped, &mut errors)
    } else {
        (&mut errors, &mut dropped)
    };
    let settings = SmsSettings {
        provider,
        from: form.from.trim().to_string(),
        zenvia_token: keep_for_host(
            &form.zenvia_token,
            &saved.zenvia_token,
            same_host,
            "zenvia_token",
            zenvia_errors,
        ),
        twilio_account_sid: form.twilio_account_sid.trim().to_string(),
        twilio_auth_token: keep_for_host(
            &form.twilio_auth_token,
            &saved.twilio_auth_token,
            same_host,
            "twilio_auth_token",
            twilio_errors,
        ),
        base_url,
        webhook_secret: keep(&form.webhook_secret, &saved.webhook_secret),
        per_second: per_second(&form.per_second, &mut errors),
    };
    if !base_url_ok(&settings.base_url) {
        errors.push(("base_url", m::BASE_URL_INVALID.to_string()));
    } else if let Some(refused) =
        crate::channels::net::check_base_url(&settings.base_url, state.config.net_policy()).await
    {
        errors.push(("base_url", refused));
    }
    if settings.from.is_empty() {
        errors.push(("from", m::FROM_REQUIRED.to_string()));
    }
    if !settings.webhook_secret.is_empty()
        && settings.webhook_secret.chars().count()
            < crate::routes::webhooks::MIN_WEBHOOK_SECRET_CHARS
    {
        errors.push((
            "webhook_secret",
            m::webhook_secret_short(crate::routes::webhooks::MIN_WEBHOOK_SECRET_CHARS),
        ));
    }
    if provider != SmsProvider::None && !settings.is_configured() && !settings.from.is_empty() {
        errors.push(("credentials", m::CREDENTIALS_REQUIRED.to_string()));
    }
    let shown = |notice, errors| {
        let mut page = sms_page(ctx.clone(), &state, &settings, notice, errors);
        page.form.provider = form.provider.clone();
        page.form.base_url = form.base_url.clone();
        page.form.from = form.from.clone();
        page.form.twilio_account_sid = form.twilio_account_sid.clone();
        page.form.per_second = form.per_second.clone();
        page
    };
    if !errors.is_empty() {
        return Ok(shown(None, errors));
    }
    if form.acao == "testar" {
        let outcome = match crate::channels::sms::SmsChannel::new(
            &settings,
            &state.config.public_url,
            state.config.net_policy(),
        ) {
            Ok(c) => c.test().await,
            Err(e) => Err(e),
        };
        return Ok(match outcome {
            Ok(()) => shown(Some(m::TEST_OK.to_string()), Vec::new()),
            Err(e) => shown(None, vec![("test", m::api_failed(&e))]),
        });
    }
    let detail = format!(
        "SMS: {} em {}, remetente {}, {} msg/s; credenciais e segredo do webhook nunca registrados",
        settings.provider.code(),
        settings.base_url,
        settings.from,
        settings.per_second
    );
    let to_save = settings.clone();
    save_audited(&state, &req, ctx.user.id, detail, move |conn, now| {
        to_save.save(conn, now)
    })
    .await?;
    Ok(shown(Some(m::SAVED.to_string()), Vec::new()))
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/whatsapp_modelos.html")]
pub struct TemplatesPage {
    ctx: PageCtx,
    templates: Vec<WhatsAppTemplate>,
    form: TemplateForm,
    notice: Option<String>,
    errors: Errors,
    /// The template just saved (name, language, new): its name is an identifier, shown
    /// as such inside the pt-BR sentence.
    saved: Option<(String, String, bool)>,
}

impl TemplatesPage {
    fn error(&self, field: &str) -> Option<String> {
        error_of(&self.errors, field)
    }

    fn sync_token(&self) -> String {
        self.ctx.once_token(SYNC_PURPOSE)
    }
}

/// Sincronizar's one-time tokens' purpose (the page's other form registers a template).
const SYNC_PURPOSE: &str = "/admin/configuracoes/whatsapp/modelos#sincronizar";

#[derive(Deserialize)]
pub struct TemplatesQuery {
    /// Where a repeated Sincronizar lands: `concluida`, `falhou` or `repetida`.
    sincronizacao: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct TemplateForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    language: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    acao: String,
    /// Sincronizar's one-time token.
    #[serde(default)]
    form_token: String,
}

/// Where Modelos do WhatsApp lives.
const TEMPLATES_PAGE: &str = "/admin/configuracoes/whatsapp/modelos";

async fn templates_page(
    ctx: PageCtx,
    state: &AppState,
    form: TemplateForm,
    notice: Option<String>,
    errors: Errors,
) -> Result<TemplatesPage, AppError> {
    let templates = state.db(|conn| Ok(WhatsAppTemplate::all(conn)?)).await?;
    Ok(TemplatesPage {
        ctx,
        templates,
        form,
        notice,
        errors,
        saved: None,
    })
}

/// `GET /admin/configuracoes/whatsapp/modelos`.
pub async fn templates_list(
    ctx: PageCtx,
    state: web::Data<AppState>,
    query: web::Query<TemplatesQuery>,
) -> Result<TemplatesPage, AppError> {
    use crate::messages::whatsapp as m;
    let form = TemplateForm {
        language: "pt_BR".into(),
        category: "MARKETING".into(),
        ..Default::default()
    };
    let (notice, errors) = match query.sincronizacao.as_deref() {
        Some("concluida") => (Some(m::SYNC_ALREADY_DONE.to_string()), Vec::new()),
        Some("falhou") => (None, vec![("sync", m::SYNC_ALREADY_FAILED.to_string())]),
        Some("repetida") => (Some(m::SYNC_ALREADY_POSTED.to_string()), Vec::new()),
        _ => (None, Vec::new()),
    };
    templates_page(ctx, &state, form, notice, errors).await
}

/// `POST /admin/configuracoes/whatsapp/modelos`: `acao=cadastrar` registers (or
/// replaces) one; `acao=sincronizar` brings the approved ones from the Cloud API.
pub async fn templates_save(
    req: HttpRequest,
    ctx: PageCtx,
    state: web::Data<AppState>,
    CsrfForm(form): CsrfForm<TemplateForm>,
) -> Result<Either<TemplatesPage, HttpResponse>, AppError> {
    templates_post(req, ctx, state, form).await
}

async fn templates_post(
    req: HttpRequest,
    ctx: PageCtx,
    state: web::Data<AppState>,
    form: TemplateForm,
) -> Result<Either<TemplatesPage, HttpResponse>, AppError> {
    use crate::messages::whatsapp as m;
    let by = ctx.user.id;
    let ip = client_ip(&req);
    if form.acao == "sincronizar" {
        // Sincronizar posted twice calls Meta once.
        use crate::models::form_submission::{self, Once};
        let token = form.form_token.clone();
        let now = state.config.clock.now();
        let taken = {
            let token = token.clone();
            state
                .db(move |conn| {
                    Ok(form_submission::take_for(
                        conn,
                        Some(&token),
                        SYNC_PURPOSE,
                        &format!("{TEMPLATES_PAGE}?sincronizacao=repetida"),
                        now,
                    )?)
                })
                .await?
        };
        match taken {
            Once::Done(()) => {}
            Once::Before(location) => return Ok(Either::Right(crate::web::see_other(&location))),
            Once::OtherForm => {
                let refused = vec![(
                    "sync",
                    crate::messages::campaign::FORM_TOKEN_OTHER_FORM.to_string(),
                )];
                return templates_page(ctx, &state, form, None, refused)
                    .await
                    .map(Either::Left);
            }
        }
        // A repeated post of this form leads to this one's outcome.
        let outcome = move |done: bool| {
            let token = token.clone();
            let location = format!(
                "{TEMPLATES_PAGE}?sincronizacao={}",
                if done { "concluida" } else { "falhou" }
            );
            move |conn: &mut crate::db::DbConnection| -> Result<(), AppError> {
                form_submission::lead_to(conn, &token, &location)?;
                Ok(())
            }
        };
        let settings = whatsapp_settings(&state).await?;
        let fetched = match crate::channels::whatsapp::WhatsAppChannel::new(
            &settings,
            state.config.net_policy(),
        ) {
            Ok(c) => c.approved_templates().await,
            Err(e) => Err(e),
        };
        let (list, not_approved) = match fetched {
            Ok(r) => r,
            Err(e) => {
                state.db(outcome(false)).await?;
                return templates_page(ctx, &state, form, None, vec![("sync", m::api_failed(&e))])
                    .await
                    .map(Either::Left);
            }
        };
        let record = outcome(true);
        let (saved, invalid) = state
            .db(move |conn| {
                record(conn)?;
                Ok(crate::db::write_transaction(conn, |conn| {
                    let r = whatsapp_template::save_synced(conn, &list, crate::time::now())?;
                    audit(
                        conn,
                        Some(by),
                        "whatsapp_template_sync",
                        &m::synced(r.0, not_approved + r.1),
                        ip.as_deref(),
                    )?;
                    Ok::<_, diesel::result::Error>(r)
                })?)
            })
            .await?;
        let notice = m::synced(saved, not_approved + invalid);
        return templates_page(
            ctx,
            &state,
            TemplateForm::default(),
            Some(notice),
            Vec::new(),
        )
        .await
        .map(Either::Left);
    }
    let input = TemplateInput {
        name: form.name.clone(),
        language: form.language.clone(),
        category: form.category.clone(),
        body: form.body.replace("\r\n", "\n"),
    };
    let n = match whatsapp_template::validate(&input) {
        Ok(n) => n,
        Err(errors) => {
            return templates_page(ctx, &state, form, None, errors)
                .await
                .map(Either::Left);
        }
    };
    let detail = format!(
        "{} ({}), {n} parâmetro(s)",
        input.name.trim(),
        input.language.trim()
    );
    let to_save = input.clone();
    let (_, new) = state
        .db(move |conn| {
            Ok(crate::db::write_transaction(conn, |conn| {
                let r =
                    WhatsAppTemplate::upsert(conn, &to_save, n, STATUS_MANUAL, crate::time::now())?;
                audit(conn, Some(by), "whatsapp_template", &detail, ip.as_deref())?;
                Ok::<_, diesel::result::Error>(r)
            })?)
        })
        .await?;
    let fresh = TemplateForm {
        language: "pt_BR".into(),
        category: "MARKETING".into(),
        ..Default::default()
    };
    let mut page = templates_page(ctx, &state, fresh, None, Vec::new()).await?;
    page.saved = Some((
        input.name.trim().to_string(),
        input.language.trim().to_string(),
        new,
    ));
    Ok(Either::Left(page))
}
