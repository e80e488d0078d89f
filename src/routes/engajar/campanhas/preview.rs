//! `GET /engajar/campanhas/{id}/previa`: what a run started now would send, any one
//! recipient's message, and `POST …/teste`, which sends one recipient's message to an
//! address (e-mail) or phone (WhatsApp, SMS) the user types (recorded in the audit log,
//! never counted as a send).

use actix_web::{Either, HttpRequest, HttpResponse, web};
use askama::Template;
use askama_web::WebTemplate;
use serde::Deserialize;

use crate::campaigns::CampaignChannel;
use crate::campaigns::preview::{self, Found, Preview};
use crate::campaigns::recipients::Decision;
use crate::campaigns::status::SkipReason;
use crate::channels::Provider;
use crate::models::audit;
use crate::models::campaign::Campaign;
use crate::models::channel_settings::EmailSettings;
use crate::models::form_submission::{self, Once};
use crate::models::whatsapp_template::WhatsAppTemplate;
use crate::web::csrf::CsrfForm;
use crate::web::display::filters;
use crate::web::page::PageCtx;
use crate::web::{AppError, AppState, client_ip, see_other};

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

    /// A one-time token for the form whose action is `/engajar/campanhas/{id}/{action}`.
    fn once_token(&self, action: &str) -> String {
        self.ctx
            .once_token(format!("/engajar/campanhas/{}/{action}", self.campaign.id))
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
    /// Where a repeated Enviar teste lands: `enviado`, `falhou` or `repetido`.
    teste: Option<String>,
}

/// The test form's action, and its one-time tokens' purpose.
fn test_action(id: i64) -> String {
    format!("/engajar/campanhas/{id}/teste")
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
    let mut page = build(
        ctx,
        &state,
        id.into_inner(),
        query.q.clone().unwrap_or_default(),
    )
    .await?;
    use crate::messages::campaign as m;
    match query.teste.as_deref() {
        Some("enviado") => page.notice = Some(m::TEST_ALREADY_SENT.into()),
        Some("falhou") => page.error = Some(m::TEST_ALREADY_FAILED.into()),
        Some("repetido") => page.notice = Some(m::TEST_ALREADY_POSTED.into()),
        _ => {}
    }
    Ok(page)
}

/// The campaign channel's provider as now configured, and a WhatsApp campaign's template
/// (name, language); or why there is none.
async fn test_provider(
    state: &AppState,
    campaign: &Campaign,
) -> Result<Result<(Provider, Option<(String, String)>), String>, AppError> {
    Ok(match campaign.channel {
        CampaignChannel::Email => {
            let config = state.config.clone();
            let settings = state
                .db(move |conn| Ok(EmailSettings::load(conn, &config)?))
                .await?;
            crate::channels::email::EmailChannel::new(&settings, 1)
                .map(|c| (Provider::Email(c), None))
        }
        CampaignChannel::Sms => {
            let settings = crate::routes::webhooks::sms_settings(state).await?;
            crate::channels::sms::SmsChannel::new(
                &settings,
                &state.config.public_url,
                state.config.net_policy(),
            )
            .map(|c| (Provider::Sms(c), None))
        }
        CampaignChannel::Whatsapp => {
            let settings = crate::routes::webhooks::whatsapp_settings(state).await?;
            let template = campaign.template_id;
            let template = state
                .db(move |conn| {
                    Ok(match template {
                        Some(t) => WhatsAppTemplate::find(conn, t)?.map(|t| (t.name, t.language)),
                        None => None,
                    })
                })
                .await?;
            match template {
                None => Err(crate::messages::whatsapp::TEMPLATE_NOT_FOUND.to_string()),
                Some(t) => crate::channels::whatsapp::WhatsAppChannel::new(
                    &settings,
                    state.config.net_policy(),
                )
                .map(|c| (Provider::WhatsApp(c), Some(t))),
            }
        }
    })
}

#[derive(Deserialize)]
pub struct TestForm {
    #[serde(default)]
    to: String,
    /// The recipient whose message is sent (address or name, as in the search).
    #[serde(default)]
    recipient: String,
    #[serde(default)]
    form_token: String,
}

/// `POST /engajar/campanhas/{id}/teste`.
pub async fn test_send(
    req: HttpRequest,
    ctx: PageCtx,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    CsrfForm(form): CsrfForm<TestForm>,
) -> Result<Either<PreviewPage, HttpResponse>, AppError> {
    let id = id.into_inner();
    let mut page = build(ctx.clone(), &state, id, form.recipient.clone()).await?;
    page.test_to = form.to.clone();
    page.test_recipient = form.recipient.clone();
    let channel = page.campaign.channel;
    let to = match channel {
        CampaignChannel::Email => crate::domain::Email::parse(form.to.trim())
            .map(crate::domain::Email::into_inner)
            .ok(),
        _ => crate::domain::Phone::parse(form.to.trim())
            .map(crate::domain::Phone::into_inner)
            .ok(),
    };
    let Some(to) = to else {
        page.error = Some(match channel {
            CampaignChannel::Email => crate::messages::campaign::TEST_ADDRESS_INVALID.into(),
            _ => crate::messages::campaign::TEST_PHONE_INVALID.into(),
        });
        return Ok(Either::Left(page));
    };
    let chosen = if form.recipient.trim().is_empty() {
        page.preview.sample.first().map(|s| {
            (
                s.to.clone(),
                s.subject.clone(),
                s.body.clone(),
                s.parameters.clone(),
            )
        })
    } else {
        page.found.iter().find_map(|f| match &f.decision {
            Decision::Send {
                subject,
                body,
                parameters,
            } => Some((
                f.to.clone(),
                subject.clone(),
                body.clone(),
                parameters.clone(),
            )),
            Decision::Skip(_) => None,
        })
    };
    let Some((recipient, subject, body, parameters)) = chosen else {
        page.error = Some(crate::messages::campaign::TEST_NO_RECIPIENT.into());
        return Ok(Either::Left(page));
    };
    // The same form posted again sends nothing more.
    let token = form.form_token.clone();
    let here = format!("/engajar/campanhas/{id}/previa");
    let now = state.config.clock.now();
    let taken = {
        let token = token.clone();
        let purpose = test_action(id);
        let repeated = format!("{here}?teste=repetido");
        state
            .db(move |conn| {
                Ok(form_submission::take_for(
                    conn,
                    Some(&token),
                    &purpose,
                    &repeated,
                    now,
                )?)
            })
            .await?
    };
    match taken {
        Once::Done(()) => {}
        Once::Before(location) => return Ok(Either::Right(see_other(&location))),
        Once::OtherForm => {
            page.error = Some(crate::messages::campaign::FORM_TOKEN_OTHER_FORM.into());
            return Ok(Either::Left(page));
        }
    }
    let result = match test_provider(&state, &page.campaign).await? {
        Ok((provider, template)) => {
            let (subject, body) = match channel {
                CampaignChannel::Email => (
                    format!("[TESTE] {subject}"),
                    format!("{body}{}", page.footer),
                ),
                CampaignChannel::Sms => (subject, format!("[TESTE] {body}")),
                CampaignChannel::Whatsapp => (subject, body),
            };
            let parameters = parameters.unwrap_or_default();
            provider
                .send(&crate::channels::Outgoing {
                    to: &to,
                    subject: &subject,
                    body: &body,
                    unsubscribe_url: None,
                    template: template.as_ref().map(|(n, l)| (n.as_str(), l.as_str())),
                    parameters: &parameters,
                })
                .await
                .map_err(|e| e.describe())
        }
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
    // The same form posted again leads to this post's outcome.
    let outcome = format!(
        "{here}?teste={}",
        if result.is_ok() { "enviado" } else { "falhou" }
    );
    state
        .db(move |conn| {
            form_submission::lead_to(conn, &token, &outcome)?;
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
    Ok(Either::Left(page))
}
