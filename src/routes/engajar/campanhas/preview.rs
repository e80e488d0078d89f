//! `GET /engajar/campanhas/{id}/previa`: what a run started now would send, any one
//! recipient's message, and `POST …/teste`, which sends one recipient's message to an
//! address the user types (recorded in the audit log, never counted as a send).

use actix_web::{HttpRequest, web};
use askama::Template;
use askama_web::WebTemplate;
use serde::Deserialize;

use crate::campaigns::preview::{self, Found, Preview};
use crate::campaigns::recipients::Decision;
use crate::campaigns::status::SkipReason;
use crate::models::audit;
use crate::models::campaign::Campaign;
use crate::models::channel_settings::EmailSettings;
use crate::web::csrf::CsrfForm;
use crate::web::page::PageCtx;
use crate::web::{AppError, AppState, client_ip};

const FOUND_LIMIT: usize = 20;

#[derive(Template, WebTemplate)]
#[template(path = "engajar/campanhas/preview.html")]
pub struct PreviewPage {
    ctx: PageCtx,
    campaign: Campaign,
    preview: Preview,
    q: String,
    found: Vec<Found>,
    searched: bool,
    footer: String,
    test_to: String,
    test_recipient: String,
    notice: Option<String>,
    error: Option<String>,
}

impl PreviewPage {
    fn skipped_lines(&self) -> Vec<(&'static str, i64)> {
        SkipReason::ALL
            .iter()
            .filter(|r| r.applies_to(self.campaign.channel))
            .map(|r| (r.label(), self.preview.skipped(*r)))
            .collect()
    }

    fn empty_lines(&self) -> Vec<(String, i64)> {
        self.preview
            .used
            .iter()
            .map(|v| (v.to_string(), self.preview.empty(*v)))
            .collect()
    }

    fn outcome(&self, f: &Found) -> String {
        match &f.decision {
            Decision::Send { .. } => "Recebe a mensagem abaixo".into(),
            Decision::Skip(SkipReason::EmptyVariable) => format!(
                "Ignorado: {} vazia e sem texto para usar no lugar",
                f.empty_variable.map(|v| v.to_string()).unwrap_or_default()
            ),
            Decision::Skip(r) => format!("Ignorado: {}", r.label()),
        }
    }

    fn message_of<'a>(&self, f: &'a Found) -> Option<(&'a str, &'a str)> {
        match &f.decision {
            Decision::Send { subject, body, .. } => Some((subject, body)),
            Decision::Skip(_) => None,
        }
    }
}

#[derive(Deserialize)]
pub struct PreviewQuery {
    q: Option<String>,
}

async fn build(
    ctx: PageCtx,
    state: &AppState,
    id: i64,
    q: String,
) -> Result<PreviewPage, AppError> {
    let search = q.clone();
    let public_url = state.config.public_url.clone();
    state
        .db(move |conn| {
            let campaign = Campaign::find(conn, id)?.ok_or(AppError::NotFound)?;
            let preview = preview::preview(conn, &campaign)?;
            let found = if search.trim().is_empty() {
                Vec::new()
            } else {
                preview::find(conn, &campaign, &search, FOUND_LIMIT)?
            };
            Ok(PreviewPage {
                ctx,
                preview,
                searched: !search.trim().is_empty(),
                q: search,
                found,
                footer: if campaign.channel == crate::campaigns::CampaignChannel::Email {
                    crate::messages::campaign::unsubscribe_footer(&format!(
                        "{public_url}/descadastrar/…"
                    ))
                } else {
                    String::new()
                },
                test_to: String::new(),
                test_recipient: String::new(),
                notice: None,
                error: None,
                campaign,
            })
        })
        .await
}

pub async fn preview_page(
    ctx: PageCtx,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    query: web::Query<PreviewQuery>,
) -> Result<PreviewPage, AppError> {
    build(
        ctx,
        &state,
        id.into_inner(),
        query.q.clone().unwrap_or_default(),
    )
    .await
}

#[derive(Deserialize)]
pub struct TestForm {
    #[serde(default)]
    to: String,
    /// The recipient whose message is sent (address or name, as in the search).
    #[serde(default)]
    recipient: String,
}

/// `POST /engajar/campanhas/{id}/teste`.
pub async fn test_send(
    req: HttpRequest,
    ctx: PageCtx,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    CsrfForm(form): CsrfForm<TestForm>,
) -> Result<PreviewPage, AppError> {
    let id = id.into_inner();
    let mut page = build(ctx.clone(), &state, id, form.recipient.clone()).await?;
    page.test_to = form.to.clone();
    page.test_recipient = form.recipient.clone();
    let to = match crate::domain::Email::parse(form.to.trim()) {
        Ok(e) => e.into_inner(),
        Err(_) => {
            page.error = Some(crate::messages::campaign::TEST_ADDRESS_INVALID.into());
            return Ok(page);
        }
    };
    let chosen = if form.recipient.trim().is_empty() {
        page.preview
            .sample
            .first()
            .map(|s| (s.to.clone(), s.subject.clone(), s.body.clone()))
    } else {
        page.found.iter().find_map(|f| match &f.decision {
            Decision::Send { subject, body, .. } => {
                Some((f.to.clone(), subject.clone(), body.clone()))
            }
            Decision::Skip(_) => None,
        })
    };
    let Some((recipient, subject, body)) = chosen else {
        page.error = Some(crate::messages::campaign::TEST_NO_RECIPIENT.into());
        return Ok(page);
    };
    let config = state.config.clone();
    let settings = state
        .db(move |conn| Ok(EmailSettings::load(conn, &config)?))
        .await?;
    let body = format!("{body}{}", page.footer);
    let result = match crate::channels::email::EmailChannel::new(&settings, 1) {
        Ok(channel) => channel
            .send(&crate::channels::Outgoing {
                to: &to,
                subject: &format!("[TESTE] {subject}"),
                body: &body,
                unsubscribe_url: None,
                template: None,
                parameters: &[],
            })
            .await
            .map_err(|e| e.describe()),
        Err(e) => Err(e),
    };
    let detail = format!(
        "campanha #{id}: mensagem de {recipient} enviada a {to}: {}",
        match &result {
            Ok(mid) => format!("aceita ({mid})"),
            Err(e) => format!("falhou ({e})"),
        }
    );
    let by = ctx.user.id;
    let ip = client_ip(&req);
    state
        .db(move |conn| {
            Ok(audit(
                conn,
                Some(by),
                "campaign_test_send",
                &detail,
                ip.as_deref(),
            )?)
        })
        .await?;
    match result {
        Ok(_) => page.notice = Some(crate::messages::campaign::test_sent(&recipient, &to)),
        Err(e) => page.error = Some(crate::messages::campaign::test_failed(&e)),
    }
    Ok(page)
}
