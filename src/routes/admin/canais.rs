//! Configurações → Canais: the SMTP server for e-mail (with Testar conexão) and the
//! dispatcher's limits. The password is never shown back: left blank, it stays as it was.

use actix_web::{HttpRequest, web};
use askama::Template;
use askama_web::WebTemplate;
use serde::Deserialize;

use crate::models::audit;
use crate::models::channel_settings::{CAMPAIGN_LIMITS, CampaignSettings, EmailSettings, TlsMode};
use crate::models::provider_settings::StopWords;
use crate::web::csrf::CsrfForm;
use crate::web::page::PageCtx;
use crate::web::{AppError, AppState, client_ip};

#[derive(Template, WebTemplate)]
#[template(path = "admin/canais.html")]
pub struct ChannelsPage {
    ctx: PageCtx,
    form: ChannelsForm,
    password_set: bool,
    notice: Option<String>,
    errors: Vec<(&'static str, String)>,
}

impl ChannelsPage {
    fn error(&self, field: &str) -> Option<String> {
        self.errors
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, m)| m.clone())
    }

    fn limits(&self) -> Vec<(&'static str, &'static str, String, i64, i64)> {
        let labels = [
            "Tolerância para execuções atrasadas (minutos)",
            "E-mails por segundo (todos os servidores juntos)",
            "Conexões SMTP por servidor",
            "Tentativas por mensagem",
            "Pausar após falhas seguidas",
        ];
        CAMPAIGN_LIMITS
            .iter()
            .zip(labels)
            .zip(&self.form.limits)
            .map(|(((key, min, max), label), value)| (*key, label, value.clone(), *min, *max))
            .collect()
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ChannelsForm {
    #[serde(default)]
    host: String,
    #[serde(default)]
    port: String,
    #[serde(default)]
    tls: String,
    #[serde(default)]
    user: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    from_name: String,
    #[serde(default)]
    from_address: String,
    #[serde(default)]
    reply_to: String,
    #[serde(default)]
    grace_minutes: String,
    #[serde(default)]
    email_per_second: String,
    #[serde(default)]
    email_connections: String,
    #[serde(default)]
    max_attempts: String,
    #[serde(default)]
    pause_after_failures: String,
    #[serde(default)]
    stop_words: String,
    #[serde(default)]
    acao: String,
    #[serde(skip)]
    limits: Vec<String>,
}

impl ChannelsForm {
    fn of(e: &EmailSettings, c: &CampaignSettings, words: &StopWords) -> ChannelsForm {
        ChannelsForm {
            host: e.host.clone(),
            port: if e.port == 0 {
                String::new()
            } else {
                e.port.to_string()
            },
            tls: e.tls.code().into(),
            user: e.user.clone(),
            from_name: e.from_name.clone(),
            from_address: e.from_address.clone(),
            reply_to: e.reply_to.clone(),
            limits: c.values().iter().map(i64::to_string).collect(),
            stop_words: words.text(),
            ..Default::default()
        }
    }

    fn limit_texts(&self) -> [&String; 5] {
        [
            &self.grace_minutes,
            &self.email_per_second,
            &self.email_connections,
            &self.max_attempts,
            &self.pause_after_failures,
        ]
    }
}

async fn current(
    state: &AppState,
) -> Result<(EmailSettings, CampaignSettings, StopWords), AppError> {
    let config = state.config.clone();
    state
        .db(move |conn| {
            Ok((
                EmailSettings::load(conn, &config)?,
                CampaignSettings::load(conn)?,
                StopWords::load(conn)?,
            ))
        })
        .await
}

/// `GET /admin/configuracoes/canais`.
pub async fn channels_form(
    ctx: PageCtx,
    state: web::Data<AppState>,
) -> Result<ChannelsPage, AppError> {
    let (email, limits, words) = current(&state).await?;
    Ok(ChannelsPage {
        ctx,
        form: ChannelsForm::of(&email, &limits, &words),
        password_set: !email.password.is_empty(),
        notice: None,
        errors: Vec::new(),
    })
}

/// `POST /admin/configuracoes/canais`: `acao=salvar` saves, `acao=testar` tries the
/// settings as typed (the saved password when none is typed) without saving.
pub async fn save_channels(
    req: HttpRequest,
    ctx: PageCtx,
    state: web::Data<AppState>,
    CsrfForm(mut form): CsrfForm<ChannelsForm>,
) -> Result<ChannelsPage, AppError> {
    use crate::messages::channels as m;
    let (saved, _, saved_words) = current(&state).await?;
    let mut errors = Vec::new();
    let port = form.port.trim().parse::<u16>().ok().filter(|p| *p > 0);
    if port.is_none() {
        errors.push(("port", m::PORT_INVALID.to_string()));
    }
    if form.host.trim().is_empty() || form.host.trim().contains(char::is_whitespace) {
        errors.push(("host", m::HOST_INVALID.to_string()));
    }
    let tls = TlsMode::from_code(&form.tls).unwrap_or_default();
    // The saved password goes only to the server it was saved with: the same host, the
    // same port, and a connection at least as protected (never downgraded to plain text).
    let same_server = form.host.trim().eq_ignore_ascii_case(&saved.host)
        && port == Some(saved.port)
        && tls == saved.tls;
    if form.password.is_empty() && !saved.password.is_empty() && !same_server {
        errors.push(("password", m::SECRET_NEEDED_FOR_NEW_HOST.to_string()));
    }
    if errors.is_empty()
        && let Some(refused) =
            crate::channels::net::check_smtp_host(form.host.trim(), port.unwrap_or(25)).await
    {
        errors.push(("host", refused));
    }
    let email = EmailSettings {
        host: form.host.trim().to_string(),
        port: port.unwrap_or(0),
        tls,
        user: form.user.trim().to_string(),
        password: if form.password.is_empty() && same_server {
            saved.password.clone()
        } else {
            form.password.clone()
        },
        from_name: form.from_name.trim().to_string(),
        from_address: form.from_address.trim().to_string(),
        reply_to: form.reply_to.trim().to_string(),
    };
    if email.from_mailbox().is_none() {
        errors.push(("from_address", m::FROM_INVALID.to_string()));
    }
    if !email.reply_to.is_empty() && email.reply_to.parse::<lettre::message::Mailbox>().is_err() {
        errors.push(("reply_to", m::REPLY_TO_INVALID.to_string()));
    }
    let mut values = [0i64; 5];
    for (i, ((key, min, max), text)) in CAMPAIGN_LIMITS.iter().zip(form.limit_texts()).enumerate() {
        match text.trim().parse::<i64>() {
            Ok(n) if (*min..=*max).contains(&n) => values[i] = n,
            _ => errors.push((key, m::out_of_range(*min, *max))),
        }
    }
    // Left empty (or not on the form), the words stay as they were.
    let words = if form.stop_words.trim().is_empty() {
        saved_words
    } else {
        StopWords::parse(&form.stop_words)
    };
    if words.text().is_empty() {
        errors.push(("stop_words", m::STOP_WORDS_REQUIRED.to_string()));
    }
    form.stop_words = words.text();
    form.limits = form.limit_texts().iter().map(|s| s.to_string()).collect();
    form.password.clear();
    let password_set = !email.password.is_empty();
    if !errors.is_empty() {
        return Ok(ChannelsPage {
            ctx,
            form,
            password_set,
            notice: None,
            errors,
        });
    }
    if form.acao == "testar" {
        let outcome = match crate::channels::email::EmailChannel::new(&email, 1) {
            Ok(channel) => channel.test_connection().await,
            Err(e) => Err(e),
        };
        let (notice, errors) = match outcome {
            Ok(()) => (Some(m::TEST_OK.to_string()), Vec::new()),
            Err(e) => (None, vec![("test", m::test_failed(&e))]),
        };
        return Ok(ChannelsPage {
            ctx,
            form,
            password_set,
            notice,
            errors,
        });
    }
    let limits = CampaignSettings::from_values(values);
    let by = ctx.user.id;
    let ip = client_ip(&req);
    let detail = format!(
        "E-mail: {}:{} ({}), remetente {}; senha {} (nunca registrada)",
        email.host,
        email.port,
        email.tls.code(),
        email.from_address,
        if password_set { "definida" } else { "vazia" }
    );
    state
        .db(move |conn| {
            let now = crate::time::now();
            email.save(conn, now)?;
            limits.save(conn, now)?;
            words.save(conn, now)?;
            audit(conn, Some(by), "channel_settings", &detail, ip.as_deref())?;
            Ok(())
        })
        .await?;
    Ok(ChannelsPage {
        ctx,
        form,
        password_set,
        notice: Some(m::SAVED.to_string()),
        errors: Vec::new(),
    })
}
