//! One local server on loopback that speaks the providers' wire formats: Meta's Cloud API
//! (template messages, the templates list, the phone number record), Zenvia's SMS API v2
//! and Twilio's Messages API. Every request is checked field by field — a request that
//! breaks the documented format gets the provider's own kind of 400 and is recorded as
//! a violation — and every accepted message is recorded. Tests sign callbacks exactly as
//! each provider signs them.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};

pub const PHONE_NUMBER_ID: &str = "109876543210";
pub const WABA_ID: &str = "998877665544";
pub const WA_TOKEN: &str = "EAAG-token-de-teste";
pub const APP_SECRET: &str = "segredo-do-app";
pub const VERIFY_TOKEN: &str = "token-de-verificacao";
pub const ZENVIA_TOKEN: &str = "zenvia-token-de-teste";
pub const ZENVIA_FROM: &str = "lojacentro";
pub const ZENVIA_SECRET: &str = "segredo-do-webhook-zenvia";
pub const TWILIO_SID: &str = "AC0123456789abcdef0123456789abcdef";
pub const TWILIO_TOKEN: &str = "twilio-auth-token-de-teste";
pub const TWILIO_FROM: &str = "+5511940001000";

/// One message a provider accepted.
#[derive(Debug, Clone)]
pub struct Accepted {
    /// whatsapp, zenvia or twilio.
    pub provider: &'static str,
    pub id: String,
    pub to: String,
    /// WhatsApp: the template name and language.
    pub template: Option<(String, String)>,
    /// WhatsApp: the body parameters; SMS: the text, alone.
    pub texts: Vec<String>,
    /// Twilio: the StatusCallback; Zenvia: the sender.
    pub extra: String,
}

#[derive(Default)]
struct State {
    accepted: Vec<Accepted>,
    violations: Vec<String>,
    /// Answers to give instead of accepting, in order: (HTTP status, body).
    refusals: VecDeque<(u16, Value)>,
    /// Approved templates' parameter counts, as Meta checks them (132000 otherwise).
    template_params: HashMap<String, usize>,
    counter: u64,
    requests: usize,
}

#[derive(Clone)]
pub struct FakeProviders {
    pub address: String,
    state: Arc<Mutex<State>>,
}

impl FakeProviders {
    pub async fn start() -> FakeProviders {
        let state = Arc::new(Mutex::new(State::default()));
        let shared = state.clone();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(web::Data::new(shared.clone()))
                .app_data(web::PayloadConfig::new(1 << 20))
                .route("/v23.0/{id}/messages", web::post().to(whatsapp_send))
                .route(
                    "/v23.0/{id}/message_templates",
                    web::get().to(whatsapp_templates),
                )
                .route("/v23.0/{id}", web::get().to(whatsapp_number))
                .route("/v2/channels/sms/messages", web::post().to(zenvia_send))
                .route("/v2/subscriptions", web::get().to(zenvia_subscriptions))
                .route(
                    "/2010-04-01/Accounts/{sid}/Messages.json",
                    web::post().to(twilio_send),
                )
                .route("/2010-04-01/Accounts/{file}", web::get().to(twilio_account))
        })
        .workers(2)
        .bind("127.0.0.1:0")
        .unwrap();
        let port = server.addrs()[0].port();
        tokio::spawn(server.run());
        FakeProviders {
            address: format!("http://127.0.0.1:{port}"),
            state,
        }
    }

    pub fn whatsapp_base(&self) -> String {
        format!("{}/v23.0", self.address)
    }

    /// A template Meta approved, with this many parameters.
    pub fn approve(&self, name: &str, parameters: usize) {
        self.lock().template_params.insert(name.into(), parameters);
    }

    /// The next send is refused with this answer.
    pub fn refuse_next(&self, status: u16, body: Value) {
        self.lock().refusals.push_back((status, body));
    }

    pub fn accepted(&self) -> Vec<Accepted> {
        self.lock().accepted.clone()
    }

    pub fn requests(&self) -> usize {
        self.lock().requests
    }

    /// Requests that broke the documented format (none, in a passing test).
    pub fn violations(&self) -> Vec<String> {
        self.lock().violations.clone()
    }

    pub fn to(&self, phone_digits: &str) -> Vec<Accepted> {
        self.accepted()
            .into_iter()
            .filter(|a| a.to == phone_digits)
            .collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

type Shared = web::Data<Arc<Mutex<State>>>;

fn lock(state: &Shared) -> std::sync::MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|p| p.into_inner())
}

fn meta_error(code: i64, message: &str) -> HttpResponse {
    HttpResponse::BadRequest().json(json!({
        "error": {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "AbC"}
    }))
}

fn violation(state: &Shared, what: String) -> HttpResponse {
    lock(state).violations.push(what.clone());
    meta_error(100, &format!("(#100) {what}"))
}

/// A refusal queued by the test, if any.
fn refusal(state: &Shared) -> Option<HttpResponse> {
    let mut s = lock(state);
    s.requests += 1;
    s.refusals.pop_front().map(|(status, body)| {
        HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap()).json(body)
    })
}

fn next_id(state: &Shared, prefix: &str) -> String {
    let mut s = lock(state);
    s.counter += 1;
    format!("{prefix}{:06}", s.counter)
}

async fn whatsapp_send(
    req: HttpRequest,
    state: Shared,
    path: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    if path.as_str() != PHONE_NUMBER_ID {
        return violation(&state, format!("phone number id {path}"));
    }
    if req
        .headers()
        .get("Authorization")
        .and_then(|h| h.to_str().ok())
        != Some(&format!("Bearer {WA_TOKEN}"))
    {
        return HttpResponse::Unauthorized()
            .json(json!({"error": {"code": 190, "message": "Invalid OAuth access token"}}));
    }
    if !req
        .headers()
        .get("Content-Type")
        .and_then(|h| h.to_str().ok())
        .is_some_and(|c| c.starts_with("application/json"))
    {
        return violation(&state, "content type".into());
    }
    let Ok(v) = serde_json::from_slice::<Value>(&body) else {
        return violation(&state, "body is not JSON".into());
    };
    if v["messaging_product"] != "whatsapp" || v["type"] != "template" {
        return violation(&state, format!("messaging_product/type: {v}"));
    }
    let to = v["to"].as_str().unwrap_or_default().to_string();
    if to.is_empty() || !to.chars().all(|c| c.is_ascii_digit()) || to.len() < 10 {
        return violation(&state, format!("to: {to:?}"));
    }
    let name = v["template"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let language = v["template"]["language"]["code"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    if name.is_empty() || language.is_empty() {
        return violation(&state, format!("template: {v}"));
    }
    let mut texts = Vec::new();
    if let Some(components) = v["template"].get("components") {
        let Some(list) = components.as_array() else {
            return violation(&state, "components is not a list".into());
        };
        for c in list {
            if c["type"] != "body" {
                return violation(&state, format!("component type {}", c["type"]));
            }
            for p in c["parameters"].as_array().into_iter().flatten() {
                let text = p["text"].as_str().unwrap_or_default();
                if p["type"] != "text"
                    || text.is_empty()
                    || text.contains(['\n', '\t'])
                    || text.contains("     ")
                {
                    return violation(&state, format!("parameter {p}"));
                }
                texts.push(text.to_string());
            }
        }
    }
    if let Some(r) = refusal(&state) {
        return r;
    }
    let expected = lock(&state).template_params.get(&name).copied();
    match expected {
        None => return meta_error(132001, "Template name does not exist in the translation"),
        Some(n) if n != texts.len() => {
            return meta_error(
                132000,
                "Number of parameters does not match the expected number of params",
            );
        }
        _ => {}
    }
    let id = next_id(&state, "wamid.HBgNNTUxMTk");
    lock(&state).accepted.push(Accepted {
        provider: "whatsapp",
        id: id.clone(),
        to: to.clone(),
        template: Some((name, language)),
        texts,
        extra: String::new(),
    });
    HttpResponse::Ok().json(json!({
        "messaging_product": "whatsapp",
        "contacts": [{"input": to, "wa_id": to}],
        "messages": [{"id": id}],
    }))
}

async fn whatsapp_templates(
    req: HttpRequest,
    path: web::Path<String>,
    query: web::Query<HashMap<String, String>>,
) -> HttpResponse {
    if path.as_str() != WABA_ID
        || req
            .headers()
            .get("Authorization")
            .and_then(|h| h.to_str().ok())
            != Some(&format!("Bearer {WA_TOKEN}"))
    {
        return meta_error(100, "Unsupported get request");
    }
    let base = format!(
        "http://{}/v23.0/{WABA_ID}/message_templates",
        req.connection_info().host()
    );
    // Two pages, as the Graph API pages long lists.
    if query.get("after").map(String::as_str) == Some("PAGE2") {
        return HttpResponse::Ok().json(json!({
            "data": [
                {"name": "lembrete_pagamento", "language": "pt_BR", "status": "APPROVED", "category": "UTILITY",
                 "components": [{"type": "BODY", "text": "{{1}}, sua fatura vence em {{2}}."}]},
                {"name": "rejeitado", "language": "pt_BR", "status": "REJECTED", "category": "MARKETING",
                 "components": [{"type": "BODY", "text": "Não aprovado {{1}}"}]}
            ],
            "paging": {"cursors": {"before": "A", "after": "B"}}
        }));
    }
    HttpResponse::Ok().json(json!({
        "data": [
            {"name": "boas_vindas", "language": "pt_BR", "status": "APPROVED", "category": "MARKETING",
             "components": [{"type": "HEADER", "format": "TEXT", "text": "Bem-vindo"},
                            {"type": "BODY", "text": "Olá {{1}}! Sua loja: {{2}}."},
                            {"type": "FOOTER", "text": "Engajar"}]},
            {"name": "em_analise", "language": "pt_BR", "status": "PENDING", "category": "MARKETING",
             "components": [{"type": "BODY", "text": "Em análise {{1}}"}]}
        ],
        "paging": {"cursors": {"before": "A", "after": "PAGE2"}, "next": format!("{base}?after=PAGE2")}
    }))
}

async fn whatsapp_number(req: HttpRequest, path: web::Path<String>) -> HttpResponse {
    if path.as_str() != PHONE_NUMBER_ID
        || req
            .headers()
            .get("Authorization")
            .and_then(|h| h.to_str().ok())
            != Some(&format!("Bearer {WA_TOKEN}"))
    {
        return HttpResponse::Unauthorized()
            .json(json!({"error": {"code": 190, "message": "Invalid OAuth access token"}}));
    }
    HttpResponse::Ok().json(json!({
        "verified_name": "Loja Centro", "display_phone_number": "+55 11 94000-1000",
        "id": PHONE_NUMBER_ID, "quality_rating": "GREEN"
    }))
}

async fn zenvia_send(req: HttpRequest, state: Shared, body: web::Bytes) -> HttpResponse {
    if req
        .headers()
        .get("X-API-TOKEN")
        .and_then(|h| h.to_str().ok())
        != Some(ZENVIA_TOKEN)
    {
        return HttpResponse::Unauthorized().json(
            json!({"code": "AUTHENTICATION_ERROR", "message": "No authorization token was found"}),
        );
    }
    let Ok(v) = serde_json::from_slice::<Value>(&body) else {
        return violation(&state, "zenvia body is not JSON".into());
    };
    let to = v["to"].as_str().unwrap_or_default().to_string();
    let contents = v["contents"].as_array().cloned().unwrap_or_default();
    if v["from"] != ZENVIA_FROM
        || !to.chars().all(|c| c.is_ascii_digit())
        || !to.starts_with("55")
        || contents.len() != 1
        || contents[0]["type"] != "text"
        || contents[0]["text"].as_str().is_none_or(str::is_empty)
    {
        return violation(&state, format!("zenvia body {v}"));
    }
    if let Some(r) = refusal(&state) {
        return r;
    }
    let id = next_id(&state, "zen-");
    lock(&state).accepted.push(Accepted {
        provider: "zenvia",
        id: id.clone(),
        to,
        template: None,
        texts: vec![contents[0]["text"].as_str().unwrap().to_string()],
        extra: ZENVIA_FROM.into(),
    });
    HttpResponse::Ok().json(json!({"id": id, "from": ZENVIA_FROM, "direction": "OUT"}))
}

async fn zenvia_subscriptions(req: HttpRequest) -> HttpResponse {
    if req
        .headers()
        .get("X-API-TOKEN")
        .and_then(|h| h.to_str().ok())
        != Some(ZENVIA_TOKEN)
    {
        return HttpResponse::Unauthorized().json(json!({"code": "AUTHENTICATION_ERROR"}));
    }
    HttpResponse::Ok().json(json!([]))
}

/// HTTP basic auth with the Account SID and the Auth Token.
fn twilio_authorized(req: &HttpRequest) -> bool {
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{TWILIO_SID}:{TWILIO_TOKEN}"))
    );
    req.headers()
        .get("Authorization")
        .and_then(|h| h.to_str().ok())
        == Some(expected.as_str())
}

fn twilio_unauthorized() -> HttpResponse {
    HttpResponse::Unauthorized()
        .json(json!({"code": 20003, "message": "Authenticate", "status": 401}))
}

async fn twilio_send(
    req: HttpRequest,
    state: Shared,
    path: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    if path.as_str() != TWILIO_SID || !twilio_authorized(&req) {
        return twilio_unauthorized();
    }
    if !req
        .headers()
        .get("Content-Type")
        .and_then(|h| h.to_str().ok())
        .is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"))
    {
        return violation(&state, "twilio content type".into());
    }
    let form: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let get = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let to = get("To").unwrap_or_default();
    if !to.starts_with("+55")
        || !to[1..].chars().all(|c| c.is_ascii_digit())
        || (get("From").is_none() && get("MessagingServiceSid").is_none())
        || get("Body").is_none_or(|b| b.is_empty())
    {
        return violation(&state, format!("twilio form {form:?}"));
    }
    if let Some(r) = refusal(&state) {
        return r;
    }
    let id = next_id(&state, "SM");
    lock(&state).accepted.push(Accepted {
        provider: "twilio",
        id: id.clone(),
        to: to.trim_start_matches('+').to_string(),
        template: None,
        texts: vec![get("Body").unwrap()],
        extra: get("StatusCallback").unwrap_or_default(),
    });
    HttpResponse::Created().json(json!({"sid": id, "status": "queued", "to": to}))
}

async fn twilio_account(req: HttpRequest, path: web::Path<String>) -> HttpResponse {
    if path.as_str() != format!("{TWILIO_SID}.json") || !twilio_authorized(&req) {
        return twilio_unauthorized();
    }
    HttpResponse::Ok().json(json!({"sid": TWILIO_SID, "status": "active"}))
}

/// `X-Hub-Signature-256` as Meta computes it.
pub fn meta_signature(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256={hex}")
}

/// `X-Twilio-Signature` as Twilio computes it.
pub fn twilio_signature(token: &str, url: &str, params: &[(&str, &str)]) -> String {
    let mut sorted = params.to_vec();
    sorted.sort();
    let mut data = url.to_string();
    for (k, v) in sorted {
        data.push_str(k);
        data.push_str(v);
    }
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(token.as_bytes()).unwrap();
    mac.update(data.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// A WhatsApp webhook body holding these statuses: (wamid, status, timestamp, error code).
pub fn wa_statuses(list: &[(&str, &str, i64, Option<i64>)]) -> Vec<u8> {
    let statuses: Vec<Value> = list
        .iter()
        .map(|(id, status, ts, code)| {
            let mut s = json!({"id": id, "status": status, "timestamp": ts.to_string(),
                               "recipient_id": "5511999990000"});
            if let Some(c) = code {
                s["errors"] = json!([{"code": c, "title": "Message undeliverable.",
                                      "error_data": {"details": "Message Undeliverable."}}]);
            }
            s
        })
        .collect();
    wa_envelope(json!({"messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "5511940001000", "phone_number_id": PHONE_NUMBER_ID},
        "statuses": statuses}))
}

/// A WhatsApp webhook body with one customer's text message.
pub fn wa_message(from: &str, id: &str, text: &str, ts: i64) -> Vec<u8> {
    wa_envelope(json!({"messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "5511940001000", "phone_number_id": PHONE_NUMBER_ID},
        "contacts": [{"profile": {"name": "Cliente"}, "wa_id": from}],
        "messages": [{"from": from, "id": id, "timestamp": ts.to_string(), "type": "text",
                      "text": {"body": text}}]}))
}

fn wa_envelope(value: Value) -> Vec<u8> {
    json!({"object": "whatsapp_business_account",
           "entry": [{"id": WABA_ID, "changes": [{"field": "messages", "value": value}]}]})
    .to_string()
    .into_bytes()
}
