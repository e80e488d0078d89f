//! What an attacker with a network connection, an admin's form or a copy of the database
//! cannot do: fill the disk with refused logins, guess the Zenvia webhook secret, match a
//! suppressed CPF from the database alone, run the server under another key, make a
//! provider's saved token travel to a typed host, or reach internal addresses through a
//! provider's base URL or the SMTP host.

use std::io::{Read, Write};
use std::sync::{Arc, Mutex};

use base64::Engine;
use diesel::prelude::*;
use engajar::schema::{audit_log, settings, suppressed_keys};
use hmac::{Hmac, Mac};
use scraper::Html;
use sha2::Sha256;

use crate::helpers::*;

crate::on_both_backends!(
    a_short_zenvia_webhook_secret_is_refused_and_a_long_one_offered,
    testar_never_sends_a_saved_token_to_a_typed_host,
    the_database_alone_cannot_match_a_suppressed_cpf,
    a_provider_reply_never_reaches_the_page,
    the_smtp_host_may_be_local_but_not_link_local,
);

crate::for_both_backends!(
    refused_logins_from_one_address_write_one_summary_whatever_the_emails,
    guessing_the_zenvia_secret_is_throttled_per_address,
    provider_base_urls_must_be_public_without_the_private_switch,
    a_server_started_with_another_key_refuses_to_start,
    an_older_database_is_migrated_to_the_server_key_once,
);

/// A request's first line and its credential header (`Authorization` or `X-API-TOKEN`).
type Seen = (String, Option<String>);

/// A loopback HTTP server that records each request's first line and `Authorization`
/// header and answers every one with `status` and `body`.
struct Recorder {
    base: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Recorder {
    fn start(status: u16, body: &'static str) -> Recorder {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
        let log = Arc::clone(&seen);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut raw = Vec::new();
                let mut buf = [0u8; 4096];
                while !raw.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => raw.extend_from_slice(&buf[..n]),
                    }
                }
                let head = String::from_utf8_lossy(&raw).to_string();
                let line = head.lines().next().unwrap_or_default().to_string();
                let auth = head
                    .lines()
                    .find(|l| l.to_ascii_lowercase().starts_with("authorization:"))
                    .map(|l| l["authorization:".len()..].trim().to_string());
                let token = head
                    .lines()
                    .find(|l| l.to_ascii_lowercase().starts_with("x-api-token:"))
                    .map(|l| l["x-api-token:".len()..].trim().to_string());
                log.lock().unwrap().push((line, auth.or(token)));
                let reply = format!(
                    "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(reply.as_bytes());
            }
        });
        Recorder { base, seen }
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

fn errors_of(html: &str) -> String {
    let page = Html::parse_document(html);
    [
        texts(&page, ".field-error"),
        texts(&page, ".alert-error"),
        texts(&page, ".error-summary li"),
    ]
    .concat()
    .join(" | ")
}

fn stored_settings(app: &TestApp) -> Vec<(String, String)> {
    settings::table
        .select((settings::key, settings::value))
        .load(&mut app.db())
        .unwrap()
}

// --- Refused logins ---------------------------------------------------------------------

async fn forwarded_login(app: &TestApp, forwarded: &str, email: &str, password: &str) -> u16 {
    let client = new_client();
    let page = client.get(app.url("/login")).send().await.unwrap();
    let html = Html::parse_document(&page.text().await.unwrap());
    let token = field_value(&html, "input[name=csrf_token]").unwrap();
    client
        .post(app.url("/login"))
        .header("X-Forwarded-For", forwarded)
        .form(&[
            ("email", email),
            ("password", password),
            ("csrf_token", &token),
        ])
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn refused_logins_from_one_address_write_one_summary_whatever_the_emails(backend: Backend) {
    let Some(app) = spawn_app_configured(
        backend,
        |_, _| {},
        |c| c.trusted_proxies = engajar::config::parse_proxies("127.0.0.1/32").unwrap(),
    )
    .await
    else {
        return;
    };
    app.add_admin();
    let attacker = "198.51.100.9";
    // The address already failed as often as it may (as another server recorded).
    let now = engajar::time::now();
    for _ in 0..engajar::web::throttle::MAX_ADDRESS_FAILURES {
        diesel::insert_into(audit_log::table)
            .values((
                audit_log::action.eq("login_failed"),
                audit_log::detail.eq("e-mail: alguem@x.com.br"),
                audit_log::ip.eq(attacker),
                audit_log::created_at.eq(now),
            ))
            .execute(&mut app.db())
            .unwrap();
    }
    for i in 0..25 {
        let email = format!("{}{i:03}@x.com.br", "a".repeat(238));
        assert_eq!(email.chars().count(), 250);
        assert_eq!(
            forwarded_login(&app, attacker, &email, "qualquer-senha").await,
            429,
            "attempt {i}"
        );
    }
    // A login from elsewhere is audited after the refusals (one writer, in order).
    assert_eq!(
        forwarded_login(&app, "198.51.100.10", ADMIN_EMAIL, ADMIN_PASSWORD).await,
        303
    );
    app.wait_for_audit("login", 1).await;
    let throttled: Vec<(String, Option<String>)> = audit_log::table
        .filter(audit_log::action.eq("login_throttled"))
        .select((audit_log::detail, audit_log::ip))
        .load(&mut app.db())
        .unwrap();
    assert_eq!(throttled.len(), 1, "{throttled:?}");
    assert_eq!(throttled[0].1.as_deref(), Some(attacker));
    assert!(throttled[0].0.len() < 300);
}

// --- Zenvia's webhook secret ------------------------------------------------------------

async fn a_short_zenvia_webhook_secret_is_refused_and_a_long_one_offered(app: TestApp) {
    app.login_admin().await;
    let page = "/admin/configuracoes/canais/sms";
    let html = app.get_html(page).await;
    let offered = texts(&html, "#suggested_secret").join("");
    assert!(offered.chars().count() >= 24, "{offered:?}");
    let response = app
        .submit(
            page,
            page,
            &[
                ("provider", "zenvia"),
                ("base_url", ""),
                ("from", "loja"),
                ("zenvia_token", "token-da-zenvia"),
                ("webhook_secret", "x"),
                ("per_second", "30"),
                ("acao", "salvar"),
            ],
        )
        .await;
    let errors = errors_of(&response.text().await.unwrap());
    assert!(errors.contains("ao menos 24 caracteres"), "{errors}");
    assert!(
        !stored_settings(&app)
            .iter()
            .any(|(k, _)| k == "sms_webhook_secret"),
        "nothing saved"
    );
    let response = app
        .submit(
            page,
            page,
            &[
                ("provider", "zenvia"),
                ("base_url", ""),
                ("from", "loja"),
                ("zenvia_token", "token-da-zenvia"),
                ("webhook_secret", &offered),
                ("per_second", "30"),
                ("acao", "salvar"),
            ],
        )
        .await;
    let html = response.text().await.unwrap();
    assert_eq!(errors_of(&html), "", "the offered secret is accepted");
}

async fn guessing_the_zenvia_secret_is_throttled_per_address(backend: Backend) {
    const SECRET: &str = "um-segredo-longo-o-bastante-para-a-zenvia";
    let Some(app) = spawn_app_configured(
        backend,
        |_, _| {},
        |c| {
            c.trusted_proxies = engajar::config::parse_proxies("127.0.0.1/32").unwrap();
            c.sms = engajar::models::provider_settings::SmsSettings {
                provider: engajar::models::provider_settings::SmsProvider::Zenvia,
                base_url: "https://api.zenvia.com".into(),
                from: "loja".into(),
                zenvia_token: "token".into(),
                webhook_secret: SECRET.into(),
                per_second: 30,
                ..Default::default()
            };
        },
    )
    .await
    else {
        return;
    };
    let event = r#"{"type":"MESSAGE_STATUS","messageId":"desconhecido","messageStatus":{"code":"DELIVERED"}}"#;
    let post = |from: &'static str, secret: String| {
        let client = app.client.clone();
        let url = app.url("/webhooks/zenvia");
        async move {
            client
                .post(url)
                .header("X-Forwarded-For", from)
                .header("X-Engajar-Webhook-Secret", secret)
                .header("content-type", "application/json")
                .body(event)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(post("203.0.113.50", SECRET.into()).await, 200);
    for guess in 0..engajar::web::throttle::MAX_WEBHOOK_FAILURES {
        assert_eq!(post("203.0.113.66", format!("palpite-{guess}")).await, 403);
    }
    // Even the right secret waits now, from that address only.
    assert_eq!(post("203.0.113.66", SECRET.into()).await, 429);
    assert_eq!(post("203.0.113.50", SECRET.into()).await, 200);
}

// --- The server's secret key ------------------------------------------------------------

const CPF: &str = "52998224725";

fn hmac_b64(key: &[u8], parts: &[&[u8]]) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap();
    for p in parts {
        mac.update(p);
    }
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
}

async fn the_database_alone_cannot_match_a_suppressed_cpf(app: TestApp) {
    app.login_staff().await;
    let segment = app.add_segment("Clientes");
    let rows = [person(
        "TELEFONE",
        "11987654321",
        "Maria Souza",
        CPF,
        "C-1",
        "Loja",
        "MEDIA",
    )];
    app.import_bytes("um.csv", layout_csv(&rows), segment, &[])
        .await;
    let (code, _) = crate::campaigns::cli(
        &app,
        &[
            "titular",
            "erase",
            "--document",
            CPF,
            "--reason",
            "pedido 1",
            "--suppress",
            "--yes",
        ],
    );
    assert_eq!(code, 0);
    let stored: Vec<String> = suppressed_keys::table
        .select(suppressed_keys::key)
        .load(&mut app.db())
        .unwrap();
    assert!(!stored.is_empty());
    // Every value the database holds, tried as the key, raw and decoded.
    for (name, value) in stored_settings(&app) {
        let mut candidates = vec![value.as_bytes().to_vec()];
        for engine in [
            base64::engine::general_purpose::URL_SAFE_NO_PAD,
            base64::engine::general_purpose::STANDARD_NO_PAD,
        ] {
            if let Ok(bytes) = engine.decode(value.trim_end_matches('=')) {
                candidates.push(bytes);
            }
        }
        for key in candidates {
            for hash in [
                hmac_b64(&key, &[b"supressao\0DOCUMENTO\0", CPF.as_bytes()]),
                engajar::models::secret::suppression_key(&key, "DOCUMENTO", CPF),
            ] {
                assert!(
                    !stored.contains(&hash),
                    "setting {name} gives the CPF's suppressed hash"
                );
            }
        }
    }
    // With the server's key the same CPF is still recognised: a new file skips her.
    let segment = app.add_segment("Depois");
    let (_, html) = app
        .import_bytes("de-novo.csv", layout_csv(&rows), segment, &[])
        .await;
    assert_eq!(
        texts(&html, "#count-imported"),
        vec!["0"],
        "the CPF is skipped"
    );
    let contacts: i64 = engajar::schema::contacts::table
        .count()
        .get_result(&mut app.db())
        .unwrap();
    assert_eq!(contacts, 0);
}

/// Runs the binary with `key` until it exits (or 30 s pass): its exit status and stderr.
fn run_with_key(url: &str, key: &str, args: &[&str]) -> (Option<i32>, String) {
    let log = tempfile::NamedTempFile::new().unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_engajar"))
        .arg("--database-url")
        .arg(url)
        .args(args)
        .env("ENGAJAR_BIND", format!("127.0.0.1:{}", free_port()))
        .env("ENGAJAR_SECRET_KEY", key)
        .env_remove("DATABASE_URL")
        .stdout(std::process::Stdio::null())
        .stderr(log.reopen().unwrap())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status.code();
        }
        if started.elapsed() > std::time::Duration::from_secs(30) {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    (status, std::fs::read_to_string(log.path()).unwrap())
}

async fn a_server_started_with_another_key_refuses_to_start(backend: Backend) {
    let Some((url, _db)) = fresh_database(backend) else {
        return;
    };
    let first = base64::engine::general_purpose::STANDARD.encode([7u8; 32]);
    let other = base64::engine::general_purpose::STANDARD.encode([8u8; 32]);
    let (status, log) = run_with_key(&url, &first, &["db", "check"]);
    assert_eq!(status, Some(0), "{log}");
    let (status, log) = run_with_key(&url, &other, &["serve"]);
    assert!(status.is_some_and(|s| s != 0), "serve ran: {log}");
    assert!(
        log.contains("is not the one this database was set up with"),
        "{log}"
    );
    let (status, log) = run_with_key(&url, &other, &["db", "check"]);
    assert!(status.is_some_and(|s| s != 0), "{log}");
    // The right key still works.
    let (status, log) = run_with_key(&url, &first, &["db", "check"]);
    assert_eq!(status, Some(0), "{log}");
}

async fn an_older_database_is_migrated_to_the_server_key_once(backend: Backend) {
    let Some((url, _db)) = fresh_database(backend) else {
        return;
    };
    let legacy = [5u8; 32];
    let legacy_text = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(legacy);
    let old_hash = hmac_b64(&legacy, &[b"supressao\0DOCUMENTO\0", CPF.as_bytes()]);
    {
        // As an older version left it: the secret and a provider token in plaintext.
        let mut conn = engajar::db::DatabaseUrl::parse(&url)
            .unwrap()
            .establish()
            .unwrap();
        engajar::db::run_migrations(&mut conn).unwrap();
        for (key, value) in [
            ("unsubscribe_secret", legacy_text.as_str()),
            ("wa_base_url", "https://graph.facebook.com/v23.0"),
            ("wa_token", "EAAG-token-antigo"),
        ] {
            diesel::insert_into(settings::table)
                .values((
                    settings::key.eq(key),
                    settings::value.eq(value),
                    settings::updated_at.eq(1),
                ))
                .execute(&mut conn)
                .unwrap();
        }
        diesel::insert_into(suppressed_keys::table)
            .values((
                suppressed_keys::key.eq(&old_hash),
                suppressed_keys::kind.eq("DOCUMENTO"),
                suppressed_keys::created_at.eq(1),
            ))
            .execute(&mut conn)
            .unwrap();
    }
    for _ in 0..2 {
        let (status, log) = run_with_key(&url, &test_secret_key(), &["db", "check"]);
        assert_eq!(status, Some(0), "{log}");
    }
    let mut conn = engajar::db::DatabaseUrl::parse(&url)
        .unwrap()
        .establish()
        .unwrap();
    let stored: Vec<(String, String)> = settings::table
        .select((settings::key, settings::value))
        .load(&mut conn)
        .unwrap();
    assert!(
        !stored
            .iter()
            .any(|(k, v)| k == "unsubscribe_secret" || v.contains(&legacy_text)),
        "{stored:?}"
    );
    assert!(
        !stored.iter().any(|(_, v)| v.contains("EAAG")),
        "{stored:?}"
    );
    let keys: Vec<String> = suppressed_keys::table
        .select(suppressed_keys::key)
        .load(&mut conn)
        .unwrap();
    assert_eq!(keys.len(), 1);
    assert_ne!(keys[0], old_hash, "re-keyed");
    // The re-keyed hash is what the CPF hashes to now, and the token still reads.
    let secret = engajar::models::secret::suppression_secret(&mut conn).unwrap();
    assert_eq!(
        engajar::models::secret::suppression_key(&secret, "DOCUMENTO", CPF),
        keys[0]
    );
    let whatsapp =
        engajar::models::provider_settings::WhatsAppSettings::load(&mut conn, &Default::default())
            .unwrap();
    assert_eq!(whatsapp.token, "EAAG-token-antigo");
}

// --- Provider secrets and addresses ----------------------------------------------------

/// Submits `fields` on the form at `page`: the page's HTML.
async fn post_fields(app: &TestApp, page: &str, fields: Vec<(&'static str, String)>) -> String {
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let response = app.submit(page, page, &fields).await;
    response.text().await.unwrap()
}

async fn testar_never_sends_a_saved_token_to_a_typed_host(app: TestApp) {
    app.login_admin().await;
    let saved_host = Recorder::start(200, r#"{"display_phone_number":"+55 11 4000-0000"}"#);
    let typed_host = Recorder::start(200, r#"{"display_phone_number":"+55 11 4000-0000"}"#);
    let page = "/admin/configuracoes/canais/whatsapp";
    let form = |base: &str, token: &str, acao: &str| {
        vec![
            ("base_url", base.to_string()),
            ("phone_number_id", "1234567890".to_string()),
            ("waba_id", "987654321".to_string()),
            ("token", token.to_string()),
            ("app_secret", String::new()),
            ("verify_token", String::new()),
            ("per_second", "80".to_string()),
            ("acao", acao.to_string()),
        ]
    };
    let html = post_fields(
        &app,
        page,
        form(&saved_host.base, "EAAG-token-salvo-123", "salvar"),
    )
    .await;
    assert_eq!(errors_of(&html), "");
    // The database holds no provider secret in the clear.
    for (key, value) in stored_settings(&app) {
        assert!(
            !value.contains("EAAG-token-salvo-123"),
            "{key} in plaintext"
        );
    }
    // Another host typed, the token left blank: the saved token does not go there.
    let html = post_fields(&app, page, form(&typed_host.base, "", "testar")).await;
    assert!(
        errors_of(&html).contains("digite as credenciais"),
        "{}",
        errors_of(&html)
    );
    assert!(
        typed_host
            .seen()
            .iter()
            .all(|(_, auth)| !auth.as_deref().unwrap_or_default().contains("EAAG")),
        "{:?}",
        typed_host.seen()
    );
    // The saved host still gets it, read back from its sealed form.
    let html = post_fields(&app, page, form(&saved_host.base, "", "testar")).await;
    assert_eq!(errors_of(&html), "");
    assert_eq!(
        saved_host.seen().last().and_then(|(_, a)| a.clone()),
        Some("Bearer EAAG-token-salvo-123".to_string())
    );
    // SMS: Twilio's auth token likewise stays with its host.
    let sms = "/admin/configuracoes/canais/sms";
    let sms_form = |base: &str, token: &str, acao: &str| {
        vec![
            ("provider", "twilio".to_string()),
            ("base_url", base.to_string()),
            ("from", "+5511940000000".to_string()),
            ("zenvia_token", String::new()),
            ("twilio_account_sid", "AC123".to_string()),
            ("twilio_auth_token", token.to_string()),
            ("webhook_secret", String::new()),
            ("per_second", "30".to_string()),
            ("acao", acao.to_string()),
        ]
    };
    let html = post_fields(
        &app,
        sms,
        sms_form(&saved_host.base, "twilio-segredo-456", "salvar"),
    )
    .await;
    assert_eq!(errors_of(&html), "");
    let before = typed_host.seen().len();
    let html = post_fields(&app, sms, sms_form(&typed_host.base, "", "testar")).await;
    assert!(errors_of(&html).contains("digite as credenciais"));
    assert_eq!(
        typed_host.seen().len(),
        before,
        "nothing went to the typed host"
    );
    for (key, value) in stored_settings(&app) {
        assert!(!value.contains("twilio-segredo-456"), "{key} in plaintext");
    }
}

async fn provider_base_urls_must_be_public_without_the_private_switch(backend: Backend) {
    let Some(app) =
        spawn_app_configured(backend, |_, _| {}, |c| c.allow_private_providers = false).await
    else {
        return;
    };
    app.login_admin().await;
    let internal = Recorder::start(200, r#"{"display_phone_number":"interno"}"#);
    let port = internal.base.rsplit(':').next().unwrap().to_string();
    let page = "/admin/configuracoes/canais/whatsapp";
    for base in [
        internal.base.clone(),
        format!("http://localhost:{port}"),
        "http://169.254.169.254/latest".to_string(),
        "http://[::1]:9/".to_string(),
        "http://10.0.0.8/".to_string(),
    ] {
        for acao in ["salvar", "testar"] {
            let response = app
                .submit(
                    page,
                    page,
                    &[
                        ("base_url", base.as_str()),
                        ("phone_number_id", "1234567890"),
                        ("waba_id", ""),
                        ("token", "EAAG-token"),
                        ("per_second", "80"),
                        ("acao", acao),
                    ],
                )
                .await;
            let errors = errors_of(&response.text().await.unwrap());
            assert!(errors.contains("rede interna"), "{base} {acao}: {errors}");
        }
    }
    assert!(internal.seen().is_empty(), "{:?}", internal.seen());
    assert!(
        !stored_settings(&app)
            .iter()
            .any(|(k, _)| k == "wa_base_url"),
        "nothing saved"
    );
    let sms = "/admin/configuracoes/canais/sms";
    let response = app
        .submit(
            sms,
            sms,
            &[
                ("provider", "zenvia"),
                ("base_url", &internal.base),
                ("from", "loja"),
                ("zenvia_token", "token"),
                ("per_second", "30"),
                ("acao", "testar"),
            ],
        )
        .await;
    assert!(errors_of(&response.text().await.unwrap()).contains("rede interna"));
    assert!(internal.seen().is_empty());
}

async fn a_provider_reply_never_reaches_the_page(app: TestApp) {
    app.login_admin().await;
    let internal = Recorder::start(
        400,
        r#"{"error":{"code":999,"message":"SEGREDO-INTERNO-XYZ"},"admin":"SEGREDO-INTERNO-XYZ"}"#,
    );
    let page = "/admin/configuracoes/canais/whatsapp";
    let response = app
        .submit(
            page,
            page,
            &[
                ("base_url", internal.base.as_str()),
                ("phone_number_id", "1234567890"),
                ("waba_id", ""),
                ("token", "EAAG-token"),
                ("per_second", "80"),
                ("acao", "testar"),
            ],
        )
        .await;
    let html = response.text().await.unwrap();
    assert_eq!(internal.seen().len(), 1, "the test reached the provider");
    assert!(!html.contains("SEGREDO-INTERNO"), "{}", errors_of(&html));
    assert!(
        errors_of(&html).contains("HTTP 400"),
        "{}",
        errors_of(&html)
    );
    let details: Vec<String> = audit_log::table
        .select(audit_log::detail)
        .load(&mut app.db())
        .unwrap();
    assert!(!details.iter().any(|d| d.contains("SEGREDO-INTERNO")));
}

async fn the_smtp_host_may_be_local_but_not_link_local(app: TestApp) {
    app.login_admin().await;
    let page = "/admin/configuracoes/canais";
    let html = app.get_html(page).await;
    let mut fields: Vec<(String, String)> = Vec::new();
    let inputs = scraper::Selector::parse("form input[name], form select[name]").unwrap();
    for input in html.select(&inputs) {
        let name = input.value().attr("name").unwrap().to_string();
        if name == "csrf_token" || name == "acao" {
            continue;
        }
        let value = if input.value().name() == "select" {
            let option = scraper::Selector::parse("option[selected], option").unwrap();
            input
                .select(&option)
                .next()
                .and_then(|o| o.value().attr("value"))
                .unwrap_or_default()
                .to_string()
        } else {
            input.value().attr("value").unwrap_or_default().to_string()
        };
        fields.push((name, value));
    }
    let with_host = |host: &str| {
        let mut all: Vec<(String, String)> = fields
            .iter()
            .filter(|(k, _)| k != "host" && k != "port" && k != "from_address")
            .cloned()
            .collect();
        all.push(("host".into(), host.into()));
        all.push(("port".into(), "25".into()));
        all.push(("from_address".into(), "loja@empresa.com.br".into()));
        all.push(("acao".into(), "salvar".into()));
        all
    };
    for host in ["169.254.169.254", "fe80::1", "100.100.100.200"] {
        let all = with_host(host);
        let refs: Vec<(&str, &str)> = all.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let response = app.submit(page, page, &refs).await;
        let errors = errors_of(&response.text().await.unwrap());
        assert!(errors.contains("link-local"), "{host}: {errors}");
    }
    assert!(
        !stored_settings(&app).iter().any(|(k, _)| k == "smtp_host"),
        "nothing saved"
    );
    let all = with_host("127.0.0.1");
    let refs: Vec<(&str, &str)> = all.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let response = app.submit(page, page, &refs).await;
    let html = response.text().await.unwrap();
    assert_eq!(errors_of(&html), "", "a local relay is fine");
    assert!(
        stored_settings(&app)
            .iter()
            .any(|(k, v)| k == "smtp_host" && v == "127.0.0.1")
    );
    // With a password saved, another port or a weaker connection on the same host does
    // not get it: the form asks for it again and nothing changes.
    let with = |changes: &[(&str, &str)]| {
        let mut all = with_host("127.0.0.1");
        all.retain(|(k, _)| !changes.iter().any(|(c, _)| c == k));
        all.extend(changes.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        all
    };
    let all = with(&[("password", "segredo-do-smtp"), ("tls", "starttls")]);
    let refs: Vec<(&str, &str)> = all.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let response = app.submit(page, page, &refs).await;
    assert_eq!(errors_of(&response.text().await.unwrap()), "");
    let before = stored_settings(&app);
    for change in [
        [("password", ""), ("port", "2525"), ("tls", "starttls")],
        [("password", ""), ("port", "25"), ("tls", "none")],
    ] {
        let all = with(&change);
        let refs: Vec<(&str, &str)> = all.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let response = app.submit(page, page, &refs).await;
        let errors = errors_of(&response.text().await.unwrap());
        assert!(errors.contains("digite as"), "{change:?}: {errors}");
        assert_eq!(stored_settings(&app), before, "{change:?}: nothing saved");
    }
}
