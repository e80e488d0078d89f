//! The providers' callbacks: no session; each request is authenticated by the provider's
//! own signature (WhatsApp's `X-Hub-Signature-256`, Twilio's `X-Twilio-Signature`) or,
//! for Zenvia, which does not sign, by a secret its subscription sends in the
//! `X-Engajar-Webhook-Secret` header. An unsigned or forged callback is 403 and a
//! malformed one 400, and neither changes anything; unknown message ids are accepted and
//! ignored. An address whose authentications keep failing waits (429) before it may try
//! again, so a secret cannot be guessed at network speed. The work itself is
//! `campaigns::replies`'.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::Deserialize;
use serde_json::Value;

use crate::campaigns::CampaignChannel;
use crate::campaigns::ledger::Report;
use crate::campaigns::replies::{self, Incoming};
use crate::channels::provider_code;
use crate::channels::whatsapp::phone_from_wa;
use crate::models::provider_settings::{SmsProvider, SmsSettings, WhatsAppSettings};
use crate::web::session::constant_time_eq;
use crate::web::{AppError, AppState, client_ip};

/// Largest callback accepted: Meta batches up to a thousand statuses in one.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Shortest Zenvia webhook secret accepted: it is the callback's only authentication.
pub const MIN_WEBHOOK_SECRET_CHARS: usize = 24;

/// The header Zenvia's subscription is configured to send.
pub const ZENVIA_SECRET_HEADER: &str = "X-Engajar-Webhook-Secret";

fn plain(status: StatusCode, text: &str) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/plain; charset=utf-8")
        .body(text.to_string())
}

fn forbidden() -> HttpResponse {
    plain(StatusCode::FORBIDDEN, "assinatura inválida")
}

fn malformed() -> HttpResponse {
    plain(StatusCode::BAD_REQUEST, "corpo inválido")
}

/// 429 while this address has failed too often; the check comes before any secret is
/// compared.
fn waiting(state: &AppState, req: &HttpRequest) -> Option<HttpResponse> {
    let now = crate::time::now();
    let until = state
        .webhook_throttle
        .blocked_until(client_ip(req).as_deref(), now)?;
    Some(
        HttpResponse::TooManyRequests()
            .content_type("text/plain; charset=utf-8")
            .insert_header(("Retry-After", (until - now).max(1).to_string()))
            .body("muitas tentativas"),
    )
}

/// A refused callback, counted against its address.
fn refused(state: &AppState, req: &HttpRequest) -> HttpResponse {
    state
        .webhook_throttle
        .failed(client_ip(req).as_deref(), crate::time::now());
    forbidden()
}

fn header<'a>(req: &'a HttpRequest, name: &str) -> Option<&'a str> {
    req.headers().get(name).and_then(|h| h.to_str().ok())
}

/// The WhatsApp settings in force (the saved ones, or the environment's).
pub async fn whatsapp_settings(state: &AppState) -> Result<WhatsAppSettings, AppError> {
    let initial = state.config.whatsapp.clone();
    state
        .db(move |conn| Ok(WhatsAppSettings::load(conn, &initial)?))
        .await
}

/// The SMS settings in force (the saved ones, or the environment's).
pub async fn sms_settings(state: &AppState) -> Result<SmsSettings, AppError> {
    let initial = state.config.sms.clone();
    state
        .db(move |conn| Ok(SmsSettings::load(conn, &initial)?))
        .await
}

#[derive(Deserialize)]
pub struct Handshake {
    #[serde(rename = "hub.mode")]
    mode: Option<String>,
    #[serde(rename = "hub.verify_token")]
    verify_token: Option<String>,
    #[serde(rename = "hub.challenge")]
    challenge: Option<String>,
}

/// `GET /webhooks/whatsapp`: Meta's subscription handshake.
pub async fn whatsapp_handshake(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<Handshake>,
) -> Result<HttpResponse, AppError> {
    if let Some(wait) = waiting(&state, &req) {
        return Ok(wait);
    }
    let settings = whatsapp_settings(&state).await?;
    let q = query.into_inner();
    let ok = q.mode.as_deref() == Some("subscribe")
        && !settings.verify_token.is_empty()
        && constant_time_eq(
            q.verify_token.unwrap_or_default().as_bytes(),
            settings.verify_token.as_bytes(),
        );
    Ok(match (ok, q.challenge) {
        (true, Some(challenge)) => plain(StatusCode::OK, &challenge),
        (true, None) => forbidden(),
        (false, _) => refused(&state, &req),
    })
}

/// `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app secret, raw body)>`.
fn whatsapp_signed(secret: &str, signature: Option<&str>, body: &[u8]) -> bool {
    let Some(hex) = signature.and_then(|s| s.trim().strip_prefix("sha256=")) else {
        return false;
    };
    let Some(expected) = decode_hex(hex) else {
        return false;
    };
    if secret.is_empty() {
        return false;
    }
    let Ok(mut mac) = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()) else {
        return false;
    };
    mac.update(body);
    mac.verify_slice(&expected).is_ok()
}

fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    if !hex.len().is_multiple_of(2) {
        return None;
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect()
}

fn unix(v: Option<&Value>) -> Option<i64> {
    v.and_then(|t| {
        t.as_str()
            .and_then(|s| s.parse().ok())
            .or_else(|| t.as_i64())
    })
}

/// What a WhatsApp callback holds, read before anything is written.
#[derive(Default)]
struct WhatsAppEvents {
    receipts: Vec<(String, Report, Option<i64>)>,
    incoming: Vec<Incoming>,
    preferences: Vec<MarketingPreference>,
}

/// A user stopped (or took back) marketing messages inside WhatsApp.
struct MarketingPreference {
    phone: String,
    takes_marketing: bool,
    at: i64,
}

/// An id no database can key on (PostgreSQL's text holds no NUL): that event is refused.
fn usable_id(id: &str) -> bool {
    !id.is_empty() && !id.contains('\0')
}

/// A provider's free text as the ledger can keep it.
fn without_nul(text: String) -> String {
    if text.contains('\0') {
        text.replace('\0', "")
    } else {
        text
    }
}

fn read_whatsapp(body: &Value, now: i64) -> Option<WhatsAppEvents> {
    let mut events = WhatsAppEvents::default();
    for entry in body.get("entry")?.as_array()? {
        for change in entry
            .get("changes")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let Some(value) = change.get("value") else {
                continue;
            };
            for s in value
                .get("statuses")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let Some(id) = s.get("id").and_then(Value::as_str).filter(|i| usable_id(i)) else {
                    tracing::debug!("WhatsApp status without a usable id skipped");
                    continue;
                };
                let report = match s.get("status").and_then(Value::as_str).unwrap_or_default() {
                    "sent" => Report::Sent,
                    "delivered" => Report::Delivered,
                    "read" => Report::Read,
                    "failed" => {
                        let error = s.pointer("/errors/0");
                        let field = |k: &str| {
                            error
                                .and_then(|e| e.get(k))
                                .map(|v| v.as_str().map(str::to_string).unwrap_or(v.to_string()))
                                .unwrap_or_default()
                        };
                        let code = without_nul(field("code"));
                        // Meta's own words (English, and anything at all) stay in the log.
                        let details = error
                            .and_then(|e| e.pointer("/error_data/details"))
                            .and_then(Value::as_str)
                            .unwrap_or_default();
                        tracing::info!(
                            code = %code,
                            title = %field("title"),
                            details = %details,
                            "WhatsApp reported a failed message"
                        );
                        Report::Failed {
                            error: crate::messages::channels::reported_failure(
                                &code,
                                crate::messages::webhooks::FAILED_AT_PROVIDER,
                            ),
                            code,
                        }
                    }
                    _ => continue,
                };
                events
                    .receipts
                    .push((id.to_string(), report, unix(s.get("timestamp"))));
            }
            for m in value
                .get("messages")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let (Some(from), Some(id)) = (
                    m.get("from").and_then(Value::as_str),
                    m.get("id").and_then(Value::as_str).filter(|i| usable_id(i)),
                ) else {
                    tracing::debug!("incoming WhatsApp message without a usable id skipped");
                    continue;
                };
                let Some(phone) = phone_from_wa(from) else {
                    tracing::debug!(from, "incoming WhatsApp message from an unreadable number");
                    continue;
                };
                let kind = m.get("type").and_then(Value::as_str).unwrap_or("text");
                let text = m
                    .pointer("/text/body")
                    .or_else(|| m.pointer("/button/text"))
                    .or_else(|| m.pointer("/interactive/button_reply/title"))
                    .or_else(|| m.pointer("/interactive/list_reply/title"))
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .unwrap_or_else(|| crate::messages::webhooks::non_text(kind));
                events.incoming.push(Incoming {
                    channel: CampaignChannel::Whatsapp,
                    phone,
                    text,
                    external_id: id.to_string(),
                    at: unix(m.get("timestamp")).unwrap_or(now),
                });
            }
            // Field `user_preferences`: a user stopped or resumed marketing messages.
            for p in value
                .get("user_preferences")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if p.get("category").and_then(Value::as_str) != Some("marketing_messages") {
                    continue;
                }
                let takes_marketing = match p.get("value").and_then(Value::as_str) {
                    Some("stop") => false,
                    Some("resume") => true,
                    _ => continue,
                };
                let Some(phone) = p
                    .get("wa_id")
                    .and_then(Value::as_str)
                    .filter(|w| usable_id(w))
                    .and_then(phone_from_wa)
                else {
                    continue;
                };
                events.preferences.push(MarketingPreference {
                    phone,
                    takes_marketing,
                    at: unix(p.get("timestamp")).unwrap_or(now),
                });
            }
        }
    }
    Some(events)
}

/// Applies what a callback held; every event on its own (one bad event does not lose
/// the others).
async fn apply(
    state: &AppState,
    channel: CampaignChannel,
    provider: &'static str,
    receipts: Vec<(String, Report, Option<i64>)>,
    incoming: Vec<Incoming>,
) -> Result<(), AppError> {
    state
        .db(move |conn| {
            let now = crate::time::now();
            for (id, report, at) in &receipts {
                replies::receipt(conn, provider, id, report, at.unwrap_or(now), now)?;
            }
            for m in &incoming {
                let outcome = replies::incoming(conn, m, now)?;
                if outcome.opted_out {
                    tracing::info!(channel = channel.code(), "a reply opted a phone out");
                }
            }
            Ok(())
        })
        .await
}

/// `POST /webhooks/whatsapp`: delivery receipts and customers' messages.
pub async fn whatsapp_event(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    if let Some(wait) = waiting(&state, &req) {
        return Ok(wait);
    }
    let settings = whatsapp_settings(&state).await?;
    if !whatsapp_signed(
        &settings.app_secret,
        header(&req, "X-Hub-Signature-256"),
        &body,
    ) {
        tracing::warn!("WhatsApp callback with a missing or wrong signature refused");
        return Ok(refused(&state, &req));
    }
    let Some(events) = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| read_whatsapp(&v, crate::time::now()))
    else {
        return Ok(malformed());
    };
    apply(
        &state,
        CampaignChannel::Whatsapp,
        provider_code::WHATSAPP,
        events.receipts,
        events.incoming,
    )
    .await?;
    let preferences = events.preferences;
    if !preferences.is_empty() {
        state
            .db(move |conn| {
                for p in &preferences {
                    replies::marketing_preference(conn, &p.phone, p.takes_marketing, p.at)?;
                }
                Ok(())
            })
            .await?;
    }
    Ok(plain(StatusCode::OK, "ok"))
}

/// Twilio's signature: base64(HMAC-SHA1(auth token, URL + each parameter's name and
/// value, in name order)).
pub fn twilio_signature(auth_token: &str, url: &str, params: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)));
    let mut data = url.to_string();
    for (k, v) in sorted {
        data.push_str(k);
        data.push_str(v);
    }
    let mut mac =
        Hmac::<sha1::Sha1>::new_from_slice(auth_token.as_bytes()).expect("HMAC takes any key");
    mac.update(data.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// `POST /webhooks/twilio`: status callbacks and incoming SMS. The URL signed is the one
/// Twilio was given: `ENGAJAR_PUBLIC_URL` + `/webhooks/twilio` (+ the query, if any).
pub async fn twilio_event(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    if let Some(wait) = waiting(&state, &req) {
        return Ok(wait);
    }
    let settings = sms_settings(&state).await?;
    let Ok(params) = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&body) else {
        return Ok(malformed());
    };
    let mut url = format!(
        "{}{}",
        state.config.public_url.trim_end_matches('/'),
        req.path()
    );
    if !req.query_string().is_empty() {
        url.push('?');
        url.push_str(req.query_string());
    }
    let signed = settings.provider == SmsProvider::Twilio
        && !settings.twilio_auth_token.is_empty()
        && header(&req, "X-Twilio-Signature").is_some_and(|given| {
            constant_time_eq(
                given.trim().as_bytes(),
                twilio_signature(&settings.twilio_auth_token, &url, &params).as_bytes(),
            )
        });
    if !signed {
        tracing::warn!("Twilio callback with a missing or wrong signature refused");
        return Ok(refused(&state, &req));
    }
    let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let now = crate::time::now();
    let sid = get("MessageSid")
        .or_else(|| get("SmsSid"))
        .unwrap_or_default();
    if sid.contains('\0') {
        return Ok(malformed());
    }
    let status = get("MessageStatus").or_else(|| get("SmsStatus"));
    let mut receipts = Vec::new();
    let mut incoming = Vec::new();
    match status {
        Some("received") | None if get("Body").is_some() => {
            let Some(phone) = get("From").and_then(phone_from_wa) else {
                return Ok(malformed());
            };
            incoming.push(Incoming {
                channel: CampaignChannel::Sms,
                phone,
                text: get("Body").unwrap_or_default().to_string(),
                external_id: format!("twilio:{sid}"),
                at: now,
            });
        }
        Some(s) => {
            let report = match s {
                "delivered" => Report::Delivered,
                "read" => Report::Read,
                "undelivered" | "failed" => {
                    let code = without_nul(get("ErrorCode").unwrap_or_default().to_string());
                    Report::Failed {
                        error: crate::messages::channels::reported_failure(
                            &code,
                            &crate::messages::webhooks::twilio_failed(s),
                        ),
                        code,
                    }
                }
                _ => Report::Sent,
            };
            receipts.push((sid.to_string(), report, None));
        }
        None => return Ok(malformed()),
    }
    apply(
        &state,
        CampaignChannel::Sms,
        provider_code::TWILIO,
        receipts,
        incoming,
    )
    .await?;
    Ok(HttpResponse::Ok()
        .content_type("text/xml; charset=utf-8")
        .body("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response></Response>"))
}

/// `POST /webhooks/zenvia`: `MESSAGE_STATUS` and `MESSAGE` events.
pub async fn zenvia_event(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    if let Some(wait) = waiting(&state, &req) {
        return Ok(wait);
    }
    let settings = sms_settings(&state).await?;
    // A secret too short to resist guessing (saved before the minimum existed, or from
    // the environment) authenticates nothing.
    let authentic = settings.webhook_secret.chars().count() >= MIN_WEBHOOK_SECRET_CHARS
        && header(&req, ZENVIA_SECRET_HEADER).is_some_and(|given| {
            constant_time_eq(given.trim().as_bytes(), settings.webhook_secret.as_bytes())
        });
    if !authentic {
        tracing::warn!("Zenvia callback without the configured secret refused");
        return Ok(refused(&state, &req));
    }
    let Ok(event) = serde_json::from_slice::<Value>(&body) else {
        return Ok(malformed());
    };
    let now = crate::time::now();
    let text = |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or_default().to_string();
    let mut receipts = Vec::new();
    let mut incoming = Vec::new();
    match event.get("type").and_then(Value::as_str) {
        Some("MESSAGE_STATUS") => {
            let id = text(event.get("messageId"));
            let code = without_nul(text(event.pointer("/messageStatus/code")));
            if !usable_id(&id) || code.is_empty() {
                return Ok(malformed());
            }
            let report = match code.as_str() {
                "DELIVERED" => Report::Delivered,
                "READ" => Report::Read,
                "NOT_DELIVERED" | "REJECTED" => {
                    let cause = event
                        .pointer("/messageStatus/causes/0/reason")
                        .or_else(|| event.pointer("/messageStatus/causes/0/details"))
                        .or_else(|| event.pointer("/messageStatus/description"))
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string();
                    // Zenvia's own words stay in the log.
                    tracing::info!(code = %code, cause = %cause, "Zenvia reported a failed message");
                    Report::Failed {
                        error: crate::messages::channels::reported_failure(
                            &code,
                            crate::messages::webhooks::FAILED_AT_PROVIDER,
                        ),
                        code,
                    }
                }
                _ => Report::Sent,
            };
            receipts.push((id, report, None));
        }
        Some("MESSAGE") => {
            let message = event.get("message");
            let Some(phone) = message
                .and_then(|m| m.get("from"))
                .and_then(Value::as_str)
                .and_then(phone_from_wa)
            else {
                return Ok(malformed());
            };
            let body: Vec<String> = message
                .and_then(|m| m.get("contents"))
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|c| c.get("text").and_then(Value::as_str).map(str::to_string))
                .collect();
            let id = message
                .and_then(|m| m.get("id"))
                .or_else(|| event.get("id"))
                .and_then(Value::as_str)
                .unwrap_or_default();
            if !usable_id(id) {
                return Ok(malformed());
            }
            incoming.push(Incoming {
                channel: CampaignChannel::Sms,
                phone,
                text: body.join("\n"),
                external_id: format!("zenvia:{id}"),
                at: now,
            });
        }
        _ => return Ok(malformed()),
    }
    apply(
        &state,
        CampaignChannel::Sms,
        provider_code::ZENVIA,
        receipts,
        incoming,
    )
    .await?;
    Ok(plain(StatusCode::OK, "ok"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twilio_signatures_match_twilios_documented_example() {
        // The vector of Twilio's request-validator tests, fields given out of order.
        let params: Vec<(String, String)> = [
            ("To", "+18005551212"),
            ("CallSid", "CA1234567890ABCDE"),
            ("Digits", "1234"),
            ("From", "+14158675309"),
            ("Caller", "+14158675309"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(
            twilio_signature(
                "12345",
                "https://mycompany.com/myapp.php?foo=1&bar=2",
                &params
            ),
            "RSOYDt4T1cUTdK1PDd93/VVr8B8="
        );
    }

    #[test]
    fn whatsapp_signatures_are_hex_hmac_sha256_of_the_raw_body() {
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(b"segredo").unwrap();
        mac.update(b"{}");
        let hex: String = mac
            .finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert!(whatsapp_signed(
            "segredo",
            Some(&format!("sha256={hex}")),
            b"{}"
        ));
        assert!(!whatsapp_signed(
            "outro",
            Some(&format!("sha256={hex}")),
            b"{}"
        ));
        assert!(!whatsapp_signed("segredo", Some(&hex), b"{}"));
        assert!(!whatsapp_signed("", Some(&format!("sha256={hex}")), b"{}"));
        assert!(!whatsapp_signed("segredo", None, b"{}"));
    }
}
