//! WhatsApp template campaigns and SMS campaigns, end to end: the app sends to a local
//! server speaking Meta's, Zenvia's and Twilio's wire formats (every request checked
//! field by field there), and the test plays back the providers' callbacks signed as they
//! sign them — out of order, replayed and forged.

use std::time::{Duration, Instant};

use diesel::prelude::*;
use engajar::models::provider_settings::{SmsProvider, SmsSettings, WhatsAppSettings};
use engajar::schema::{campaign_messages, contact_channels, dnd_entries, interactions};
use serde_json::json;

use crate::helpers::*;
use crate::providers::*;

/// An app whose WhatsApp and SMS go to `fake` (SMS through `sms`).
pub async fn app_with(backend: Backend, fake: &FakeProviders, sms: SmsProvider) -> Option<TestApp> {
    app_with_rate(backend, fake, sms, 80).await
}

pub async fn app_with_rate(
    backend: Backend,
    fake: &FakeProviders,
    sms: SmsProvider,
    whatsapp_per_second: i64,
) -> Option<TestApp> {
    app_with_seed(backend, fake, sms, whatsapp_per_second, |_| {}).await
}

/// The app on the fake providers, its database seeded by `seed` first.
pub async fn app_with_seed(
    backend: Backend,
    fake: &FakeProviders,
    sms: SmsProvider,
    whatsapp_per_second: i64,
    seed: impl FnOnce(&mut engajar::db::DbConnection),
) -> Option<TestApp> {
    let whatsapp = WhatsAppSettings {
        base_url: fake.whatsapp_base(),
        phone_number_id: PHONE_NUMBER_ID.into(),
        waba_id: WABA_ID.into(),
        token: WA_TOKEN.into(),
        app_secret: APP_SECRET.into(),
        verify_token: VERIFY_TOKEN.into(),
        per_second: whatsapp_per_second,
    };
    let sms = SmsSettings {
        provider: sms,
        base_url: fake.address.clone(),
        from: match sms {
            SmsProvider::Twilio => TWILIO_FROM.into(),
            _ => ZENVIA_FROM.into(),
        },
        zenvia_token: ZENVIA_TOKEN.into(),
        twilio_account_sid: TWILIO_SID.into(),
        twilio_auth_token: TWILIO_TOKEN.into(),
        webhook_secret: ZENVIA_SECRET.into(),
        per_second: 30,
    };
    spawn_app_configured(
        backend,
        |conn, _| seed(conn),
        move |c| {
            c.whatsapp = whatsapp;
            c.sms = sms;
        },
    )
    .await
}

/// A layout file of phones: (phone, MENSAGEM, name, coringa1).
pub fn phones(rows: &[(&str, &str, &str, &str)]) -> Vec<u8> {
    let rows: Vec<[&str; 13]> = rows
        .iter()
        .map(|(phone, message, name, c1)| {
            [
                "TELEFONE",
                phone,
                message,
                name,
                "",
                "",
                "Loja Centro",
                c1,
                "",
                "",
                "",
                "",
                "",
            ]
        })
        .collect();
    layout_csv(&rows)
}

use crate::campaigns::{cli, json as json_of};

pub async fn wait_done(app: &TestApp, id: i64) {
    crate::campaigns::wait_until(app, id, |page| page.contains("Concluída")).await;
}

pub fn campaign_from(response: &reqwest::Response) -> i64 {
    location(response)
        .trim_start_matches("/engajar/campanhas/")
        .split('/')
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

/// One ledger row: (phone, status, provider id, attempts, skip reason).
pub type Row = (String, String, Option<String>, i32, Option<String>);

/// Every ledger row, in order.
pub fn ledger(app: &TestApp) -> Vec<Row> {
    campaign_messages::table
        .order(campaign_messages::id)
        .select((
            campaign_messages::channel_value,
            campaign_messages::status,
            campaign_messages::provider_id,
            campaign_messages::attempts,
            campaign_messages::skip_reason,
        ))
        .load(&mut app.db())
        .unwrap()
}

fn status_of(app: &TestApp, phone: &str) -> String {
    ledger(app)
        .into_iter()
        .rev()
        .find(|r| r.0 == phone)
        .map(|r| r.1)
        .unwrap_or_else(|| panic!("no message to {phone}"))
}

async fn post_signed(app: &TestApp, path: &str, body: &[u8], signature: Option<&str>) -> u16 {
    let mut request = new_client()
        .post(app.url(path))
        .header("Content-Type", "application/json")
        .body(body.to_vec());
    if let Some(s) = signature {
        request = request.header("X-Hub-Signature-256", s);
    }
    request.send().await.unwrap().status().as_u16()
}

pub async fn whatsapp_callback(app: &TestApp, body: &[u8]) -> u16 {
    let signature = meta_signature(APP_SECRET, body);
    post_signed(app, "/webhooks/whatsapp", body, Some(&signature)).await
}

const JOAO: &str = "+5511987650001";
const MARIA: &str = "+5511987650002";
const ANA: &str = "+5511987650003";
const PEDRO: &str = "+5511987650004";

async fn a_whatsapp_template_campaign_goes_out_and_its_receipts_come_back(backend: Backend) {
    let fake = FakeProviders::start().await;
    let Some(app) = app_with(backend, &fake, SmsProvider::Zenvia).await else {
        return;
    };
    app.login_admin().await;
    // Modelos do WhatsApp: a template registered as Meta approved it.
    let response = app
        .submit(
            "/admin/configuracoes/whatsapp/modelos",
            "/admin/configuracoes/whatsapp/modelos",
            &[
                ("name", "promo_sabado"),
                ("language", "pt_BR"),
                ("category", "MARKETING"),
                ("body", "Olá {{1}}! A promoção de sábado é na {{2}}."),
                ("acao", "cadastrar"),
            ],
        )
        .await;
    let page = scraper::Html::parse_document(&response.text().await.unwrap());
    assert_eq!(texts(&page, "tr.template td.name"), vec!["promo_sabado"]);
    fake.approve("promo_sabado", 2);
    let template: i64 = engajar::schema::whatsapp_templates::table
        .select(engajar::schema::whatsapp_templates::id)
        .first(&mut app.db())
        .unwrap();
    let segment = app.add_segment("Clientes");
    let (audience, _) = app
        .import_bytes(
            "publico.csv",
            phones(&[
                ("11987650001", "", "JOÃO DA SILVA", "Av. Santos Dumont, 500"),
                ("11987650002", "", "MARIA", ""),
                ("11987650003", "", "ANA DE SOUZA", "Rua das Flores, 10"),
                ("11987650004", "", "PEDRO", "Rua B, 2"),
            ]),
            segment,
            &[],
        )
        .await;
    let audience = audience.to_string();
    let template = template.to_string();
    let fields = |params: &'static [(&'static str, &'static str)]| {
        let mut f = vec![
            ("name", "Sábado no WhatsApp"),
            ("channel", "whatsapp"),
            ("target", "audience"),
            ("audience_id", audience.as_str()),
            ("template", template.as_str()),
            ("fallback_Coringa1", "loja mais perto de você"),
            ("schedule", "now"),
            ("acao", "agendar"),
        ];
        f.extend_from_slice(params);
        f
    };
    // One parameter for a template of two: refused before sending, nothing saved.
    let response = app
        .submit(
            "/engajar/campanhas/nova",
            "/engajar/campanhas/nova",
            &fields(&[("param_1", "@PrimeiroNome")]),
        )
        .await;
    assert_eq!(response.status(), 200);
    let page = scraper::Html::parse_document(&response.text().await.unwrap());
    let errors = texts(&page, ".field-error").join(" ");
    assert!(
        errors.contains("2 parâmetro(s)") && errors.contains("132000"),
        "{errors}"
    );
    let saved: i64 = engajar::schema::campaigns::table
        .count()
        .get_result(&mut app.db())
        .unwrap();
    assert_eq!(saved, 0);

    // Meta's throughput limit answers the first send: it is retried and goes out.
    fake.refuse_next(
        400,
        json!({"error": {"code": 130429, "message": "(#130429) Rate limit hit", "type": "OAuthException"}}),
    );
    let response = app
        .submit(
            "/engajar/campanhas/nova",
            "/engajar/campanhas/nova",
            &fields(&[("param_1", "@PrimeiroNome"), ("param_2", "@Coringa1")]),
        )
        .await;
    assert_eq!(response.status(), 303);
    let id = campaign_from(&response);
    wait_done(&app, id).await;
    assert!(fake.violations().is_empty(), "{:?}", fake.violations());
    assert_eq!(fake.requests(), 5, "four messages and one throttled try");
    let joao = fake.to("5511987650001");
    assert_eq!(joao.len(), 1, "sent once");
    assert_eq!(
        joao[0].template,
        Some(("promo_sabado".to_string(), "pt_BR".to_string()))
    );
    assert_eq!(joao[0].texts, vec!["João", "Av. Santos Dumont, 500"]);
    assert_eq!(
        fake.to("5511987650002")[0].texts,
        vec!["Maria", "loja mais perto de você"]
    );
    let rows = ledger(&app);
    assert_eq!(rows.len(), 4);
    assert!(rows.iter().all(|r| r.1 == "sent"), "{rows:?}");
    assert_eq!(
        rows.iter().filter(|r| r.3 == 2).count(),
        1,
        "the throttled one took two attempts"
    );
    let wamid = |phone: &str| {
        rows.iter()
            .find(|r| r.0 == phone)
            .and_then(|r| r.2.clone())
            .unwrap()
    };
    assert_eq!(wamid(JOAO), joao[0].id);
    // The preview showed the body with the values filled in; the ledger keeps it so.
    let body: String = campaign_messages::table
        .filter(campaign_messages::channel_value.eq(JOAO))
        .select(campaign_messages::body)
        .first(&mut app.db())
        .unwrap();
    assert_eq!(
        body,
        "Olá João! A promoção de sábado é na Av. Santos Dumont, 500."
    );

    // Receipts: read before delivered ends read; 131026 marks sem WhatsApp.
    let (j, m, a) = (wamid(JOAO), wamid(MARIA), wamid(ANA));
    assert_eq!(
        whatsapp_callback(&app, &wa_statuses(&[(&j, "read", 1_800_000_100, None)])).await,
        200
    );
    assert_eq!(
        whatsapp_callback(
            &app,
            &wa_statuses(&[
                (&j, "delivered", 1_800_000_050, None),
                (&m, "failed", 1_800_000_060, Some(131026)),
                ("wamid.DESCONHECIDO", "delivered", 1_800_000_060, None),
            ])
        )
        .await,
        200
    );
    assert_eq!(status_of(&app, JOAO), "read");
    assert_eq!(status_of(&app, MARIA), "failed");
    // Replayed: nothing changes.
    let before = ledger(&app);
    let verdicts_before: Vec<(String, Option<String>, Option<i64>)> = contact_channels::table
        .order(contact_channels::id)
        .select((
            contact_channels::value,
            contact_channels::whatsapp,
            contact_channels::whatsapp_at,
        ))
        .load(&mut app.db())
        .unwrap();
    whatsapp_callback(&app, &wa_statuses(&[(&j, "read", 1_800_000_100, None)])).await;
    whatsapp_callback(
        &app,
        &wa_statuses(&[(&m, "failed", 1_800_000_060, Some(131026))]),
    )
    .await;
    assert_eq!(ledger(&app), before);
    let verdicts_after: Vec<(String, Option<String>, Option<i64>)> = contact_channels::table
        .order(contact_channels::id)
        .select((
            contact_channels::value,
            contact_channels::whatsapp,
            contact_channels::whatsapp_at,
        ))
        .load(&mut app.db())
        .unwrap();
    assert_eq!(verdicts_after, verdicts_before);
    assert!(verdicts_after.contains(&(JOAO.into(), Some("yes".into()), Some(1_800_000_100))));
    assert!(verdicts_after.contains(&(MARIA.into(), Some("no".into()), Some(1_800_000_060))));
    // Forged, unsigned and malformed callbacks change nothing.
    let delivered_ana = wa_statuses(&[(&a, "delivered", 1_800_000_200, None)]);
    let forged = meta_signature("outro-segredo", &delivered_ana);
    assert_eq!(
        post_signed(&app, "/webhooks/whatsapp", &delivered_ana, Some(&forged)).await,
        403
    );
    assert_eq!(
        post_signed(&app, "/webhooks/whatsapp", &delivered_ana, None).await,
        403
    );
    assert_eq!(whatsapp_callback(&app, b"{\"entry\": 7").await, 400);
    assert_eq!(status_of(&app, ANA), "sent");
    assert_eq!(whatsapp_callback(&app, &delivered_ana).await, 200);
    assert_eq!(status_of(&app, ANA), "delivered");

    // The pages: counts, the contact's verdict, the audience's split.
    let page = app.get_html(&format!("/engajar/campanhas/{id}")).await;
    assert_eq!(texts(&page, "[data-count=sent]"), vec!["3"]);
    assert_eq!(texts(&page, "[data-count=delivered]"), vec!["2"]);
    assert_eq!(texts(&page, "[data-count=read]"), vec!["1"]);
    assert_eq!(texts(&page, "[data-count=failed]"), vec!["1"]);
    let contact_of = |phone: &str| -> i64 {
        contact_channels::table
            .filter(contact_channels::value.eq(phone))
            .select(contact_channels::contact_id)
            .first(&mut app.db())
            .unwrap()
    };
    let page = app
        .get_html(&format!("/contatos/{}", contact_of(JOAO)))
        .await;
    assert!(texts(&page, ".whatsapp-status")[0].contains("com WhatsApp"));
    let page = app
        .get_html(&format!("/contatos/{}", contact_of(MARIA)))
        .await;
    assert!(texts(&page, ".whatsapp-status")[0].contains("sem WhatsApp"));
    let page = app.get_html(&format!("/engajar/publicos/{audience}")).await;
    assert_eq!(texts(&page, "[data-whatsapp=yes]"), vec!["2"]);
    assert_eq!(texts(&page, "[data-whatsapp=no]"), vec!["1"]);
    assert_eq!(texts(&page, "[data-whatsapp=unknown]"), vec!["1"]);

    // The handshake.
    let anonymous = new_client();
    let ok = anonymous
        .get(app.url(&format!(
            "/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token={VERIFY_TOKEN}&hub.challenge=1158201444"
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.text().await.unwrap(), "1158201444");
    let wrong = anonymous
        .get(app.url(
            "/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=errado&hub.challenge=1158201444",
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 403);

    // Customers writing in: "Sair" opts Pedro out (recorded once however often it
    // comes); a question from someone unknown reaches the Fila; Ana's thanks lets Verify
    // discard her unchanged row.
    let sair = wa_message("5511987650004", "wamid.IN.SAIR", "Sair", 1_800_000_300);
    assert_eq!(whatsapp_callback(&app, &sair).await, 200);
    assert_eq!(whatsapp_callback(&app, &sair).await, 200);
    let listed: Vec<(String, Option<String>)> = dnd_entries::table
        .select((dnd_entries::value, dnd_entries::source))
        .load(&mut app.db())
        .unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].0, PEDRO);
    assert_eq!(listed[0].1.as_deref(), Some("whatsapp_reply: Sair"));
    let page = app.get_html("/admin/nao-perturbe").await;
    assert!(texts(&page, "td.origin")[0].contains("Resposta no WhatsApp"));
    // A Brazilian wa_id without the ninth digit still finds the number.
    let question = wa_message(
        "558591112222",
        "wamid.IN.Q",
        "Quero saber mais da promoção",
        1_800_000_310,
    );
    assert_eq!(whatsapp_callback(&app, &question).await, 200);
    let thanks = wa_message("5511987650003", "wamid.IN.OBG", "Obrigada!", 1_800_000_320);
    assert_eq!(whatsapp_callback(&app, &thanks).await, 200);
    let recorded: Vec<(String, String)> = interactions::table
        .order(interactions::id)
        .select((interactions::channel_value, interactions::body))
        .load(&mut app.db())
        .unwrap();
    assert_eq!(
        recorded,
        vec![
            (PEDRO.to_string(), "Sair".to_string()),
            (
                "+5585991112222".to_string(),
                "Quero saber mais da promoção".to_string()
            ),
            (ANA.to_string(), "Obrigada!".to_string()),
        ]
    );
    let fila = app.get("/fila").await.text().await.unwrap();
    assert!(fila.contains("Quero saber mais da promoção"));
    let (_, html) = app
        .import_bytes(
            "de-novo.csv",
            phones(&[("11987650003", "", "ANA DE SOUZA", "Rua das Flores, 10")]),
            segment,
            &["verify"],
        )
        .await;
    assert_eq!(texts(&html, "#count-verify"), vec!["1"]);

    // The command line: counts with delivered and read; a draft that leaves out phones
    // without WhatsApp, previewed.
    let (code, out) = cli(&app, &["campaign", "show", &id.to_string(), "--json"]);
    assert_eq!(code, 0);
    let shown = json_of(&out);
    assert_eq!(shown["runs"][0]["counts"]["delivered"], 2);
    assert_eq!(shown["runs"][0]["counts"]["read"], 1);
    let (code, out) = cli(
        &app,
        &[
            "campaign",
            "create",
            "--name",
            "Sábado de novo",
            "--channel",
            "whatsapp",
            "--audience",
            &audience,
            "--template",
            "promo_sabado",
            "--param",
            "1=@PrimeiroNome",
            "--param",
            "2=@Coringa1",
            "--fallback",
            "Coringa1=loja",
            "--exclude-no-whatsapp",
            "--draft",
            "--json",
        ],
    );
    assert_eq!(code, 0, "{out}");
    let draft = json_of(&out)["id"].as_i64().unwrap().to_string();
    let (_, out) = cli(&app, &["campaign", "preview", &draft, "--json"]);
    let preview = json_of(&out);
    assert_eq!(preview["known_without_whatsapp"], 1);
    assert_eq!(preview["skipped"]["no_whatsapp"], 1);
    assert_eq!(preview["skipped"]["dnd"], 1);
    assert_eq!(preview["recipients"], 2);
    assert_eq!(
        preview["sample"][0]["body"],
        "Olá João! A promoção de sábado é na Av. Santos Dumont, 500."
    );
    // Enviar teste: the first recipient's message to a typed phone, audited, not counted.
    let preview_path = format!("/engajar/campanhas/{draft}/previa");
    let test_path = format!("/engajar/campanhas/{draft}/teste");
    let html = app
        .submit(
            &preview_path,
            &test_path,
            &[("to", "123"), ("recipient", "")],
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("Informe um telefone válido"));
    let before = fake.accepted().len();
    let html = app
        .submit(
            &preview_path,
            &test_path,
            &[("to", "(85) 99111-2222"), ("recipient", "")],
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("Mensagem de teste"), "{html}");
    let test = fake.to("5585991112222");
    assert_eq!(test.len(), 1);
    assert_eq!(
        test[0].template,
        Some(("promo_sabado".to_string(), "pt_BR".to_string()))
    );
    assert_eq!(test[0].texts, vec!["João", "Av. Santos Dumont, 500"]);
    assert_eq!(fake.accepted().len(), before + 1);
    let in_ledger: i64 = campaign_messages::table
        .filter(campaign_messages::channel_value.eq("+5585991112222"))
        .count()
        .get_result(&mut app.db())
        .unwrap();
    assert_eq!(in_ledger, 0, "a test is never a campaign send");
    app.wait_for_audit("campaign_test_send", 1).await;
    // A wrong count from the command line is refused the same way.
    let (code, out) = cli(
        &app,
        &[
            "campaign",
            "create",
            "--name",
            "x",
            "--channel",
            "whatsapp",
            "--audience",
            &audience,
            "--template",
            "promo_sabado",
            "--param",
            "1=@PrimeiroNome",
            "--json",
        ],
    );
    assert_eq!(code, 3);
    assert_eq!(json_of(&out)["errors"][0]["code"], "param_count");
}

async fn templates_sync_from_the_cloud_api_and_the_settings_keep_secrets(backend: Backend) {
    let fake = FakeProviders::start().await;
    let Some(app) = app_with(backend, &fake, SmsProvider::Zenvia).await else {
        return;
    };
    app.login_admin().await;
    let response = app
        .submit(
            "/admin/configuracoes/whatsapp/modelos",
            "/admin/configuracoes/whatsapp/modelos",
            &[("acao", "sincronizar")],
        )
        .await;
    let page = scraper::Html::parse_document(&response.text().await.unwrap());
    // Two pages; only approved ones, their BODY component as the text.
    assert_eq!(
        texts(&page, "tr.template td.name"),
        vec!["boas_vindas", "lembrete_pagamento"]
    );
    assert!(texts(&page, ".alert-ok")[0].contains("2 modelo(s)"));
    let (code, out) = cli(&app, &["whatsapp", "template", "list", "--json"]);
    assert_eq!(code, 0);
    let first = json_of(out.lines().next().unwrap());
    assert_eq!(first["body"], "Olá {{1}}! Sua loja: {{2}}.");
    assert_eq!(first["parameters"], 2);
    // The command line adds one; a bad body is refused with exit 3.
    let (code, out) = cli(
        &app,
        &[
            "whatsapp",
            "template",
            "add",
            "--name",
            "aviso",
            "--language",
            "pt_BR",
            "--body",
            "Olá {{1}}, seu pedido {{2}} chegou.",
            "--json",
        ],
    );
    assert_eq!(code, 0, "{out}");
    assert_eq!(json_of(&out)["parameters"], 2);
    let (code, _) = cli(
        &app,
        &[
            "whatsapp",
            "template",
            "add",
            "--name",
            "aviso2",
            "--body",
            "Olá {{2}}",
        ],
    );
    assert_eq!(code, 3);
    let (code, out) = cli(&app, &["whatsapp", "template", "sync", "--json"]);
    // The command line reads the environment's settings; the test's app has them in
    // its own configuration only, so there is nothing to reach.
    assert_eq!(code, 1, "{out}");

    // Settings: saved, tested, secrets never shown back.
    let page = app.get("/admin/configuracoes/canais/whatsapp").await;
    let html = page.text().await.unwrap();
    assert!(!html.contains(WA_TOKEN) && !html.contains(APP_SECRET) && !html.contains(VERIFY_TOKEN));
    let base = fake.whatsapp_base();
    let response = app
        .submit(
            "/admin/configuracoes/canais/whatsapp",
            "/admin/configuracoes/canais/whatsapp",
            &[
                ("base_url", base.as_str()),
                ("phone_number_id", PHONE_NUMBER_ID),
                ("waba_id", WABA_ID),
                ("token", ""),
                ("app_secret", ""),
                ("verify_token", ""),
                ("per_second", "40"),
                ("acao", "testar"),
            ],
        )
        .await;
    let html = response.text().await.unwrap();
    assert!(
        html.contains("+55 11 94000-1000"),
        "the test reached the API"
    );
    let response = app
        .submit(
            "/admin/configuracoes/canais/whatsapp",
            "/admin/configuracoes/canais/whatsapp",
            &[
                ("base_url", base.as_str()),
                ("phone_number_id", PHONE_NUMBER_ID),
                ("waba_id", WABA_ID),
                ("token", ""),
                ("app_secret", "novo-segredo"),
                ("verify_token", ""),
                ("per_second", "40"),
                ("acao", "salvar"),
            ],
        )
        .await;
    let html = response.text().await.unwrap();
    assert!(html.contains("salvas") && !html.contains("novo-segredo"));
    let saved = {
        let mut conn = app.db();
        WhatsAppSettings::load(&mut conn, &WhatsAppSettings::default()).unwrap()
    };
    assert_eq!(saved.token, WA_TOKEN, "a blank token keeps the saved one");
    assert_eq!(saved.app_secret, "novo-segredo");
    assert_eq!(saved.per_second, 40);
    // Callbacks are now checked with the new secret.
    let body = wa_statuses(&[("wamid.X", "delivered", 1, None)]);
    assert_eq!(whatsapp_callback(&app, &body).await, 403);
    let signed = meta_signature("novo-segredo", &body);
    assert_eq!(
        post_signed(&app, "/webhooks/whatsapp", &body, Some(&signed)).await,
        200
    );
    let audit = app.get("/admin/auditoria").await.text().await.unwrap();
    assert!(!audit.contains("novo-segredo") && !audit.contains(WA_TOKEN));
}

const LONG_UCS2: &str = "Olá, João! Sua fatura de março já está disponível no aplicativo; pague até sexta-feira e evite juros.";
const FALLBACK: &str = "Temos novidades para você na Loja Centro!";

pub async fn zenvia_callback(app: &TestApp, secret: Option<&str>, body: serde_json::Value) -> u16 {
    let mut request = new_client()
        .post(app.url("/webhooks/zenvia"))
        .header("Content-Type", "application/json")
        .body(body.to_string());
    if let Some(s) = secret {
        request = request.header("X-Engajar-Webhook-Secret", s);
    }
    request.send().await.unwrap().status().as_u16()
}

pub async fn twilio_callback(app: &TestApp, params: &[(&str, &str)], token: &str) -> u16 {
    let signature = twilio_signature(token, "http://engajar.test/webhooks/twilio", params);
    new_client()
        .post(app.url("/webhooks/twilio"))
        .header("X-Twilio-Signature", signature)
        .form(params)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

fn sms_draft(app: &TestApp, audience: &str, extra: &[&str]) -> String {
    let mut args = vec![
        "campaign",
        "create",
        "--name",
        "Fatura",
        "--channel",
        "sms",
        "--audience",
        audience,
        "--per-row-message",
        "--body",
        FALLBACK,
        "--json",
    ];
    args.extend_from_slice(extra);
    let (code, out) = cli(app, &args);
    assert_eq!(code, 0, "{out}");
    json_of(&out)["id"].as_i64().unwrap().to_string()
}

async fn sms_campaigns_count_their_parts_and_speak_zenvia_and_twilio(backend: Backend) {
    let fake = FakeProviders::start().await;
    let Some(app) = app_with(backend, &fake, SmsProvider::Zenvia).await else {
        return;
    };
    app.login_admin().await;
    let segment = app.add_segment("Clientes");
    let (audience, _) = app
        .import_bytes(
            "publico.csv",
            phones(&[
                ("11987650001", LONG_UCS2, "JOÃO DA SILVA", ""),
                ("11987650002", "", "MARIA", ""),
                (
                    "11987650003",
                    "Cupom {VERAO} vale 10€ hoje na Loja Centro",
                    "ANA",
                    "",
                ),
                ("11987650004", "Seu pedido saiu para entrega.", "PEDRO", ""),
            ]),
            segment,
            &[],
        )
        .await;
    let audience = audience.to_string();
    // Each row's MENSAGEM, the fallback for the row without one: the cost before sending.
    let plain = sms_draft(&app, &audience, &["--draft"]);
    let (_, out) = cli(&app, &["campaign", "preview", &plain, "--json"]);
    let preview = json_of(&out);
    assert_eq!(
        preview["sms"],
        json!({"encoding": "UCS-2", "parts_total": 5, "parts_max": 2})
    );
    assert_eq!(preview["sample"][0]["body"], LONG_UCS2);
    assert_eq!(preview["sample"][0]["encoding"], "UCS-2");
    assert_eq!(preview["sample"][0]["parts"], 2);
    assert_eq!(preview["sample"][1]["body"], FALLBACK);
    assert_eq!(preview["sample"][2]["encoding"], "GSM-7");
    let stripped = sms_draft(&app, &audience, &["--draft", "--strip-accents"]);
    let (_, out) = cli(&app, &["campaign", "preview", &stripped, "--json"]);
    let preview = json_of(&out);
    assert_eq!(
        preview["sms"],
        json!({"encoding": "GSM-7", "parts_total": 4, "parts_max": 1})
    );
    assert_eq!(
        preview["sample"][0]["body"],
        "Ola, Joao! Sua fatura de marco ja esta disponivel no aplicativo; pague até sexta-feira e evite juros."
    );
    // Enviar teste through Zenvia: "[TESTE]" first, to the typed phone.
    let html = app
        .submit(
            &format!("/engajar/campanhas/{plain}/previa"),
            &format!("/engajar/campanhas/{plain}/teste"),
            &[("to", "11 98888-7777"), ("recipient", "")],
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("Mensagem de teste"), "{html}");
    assert_eq!(
        fake.to("5511988887777")[0].texts,
        vec![format!("[TESTE] {LONG_UCS2}")]
    );
    // The page shows the same.
    let page = app
        .get_html(&format!("/engajar/campanhas/{plain}/previa"))
        .await;
    assert_eq!(texts(&page, "#sms-parts-total"), vec!["5"]);
    assert_eq!(texts(&page, "#sms-encoding"), vec!["UCS-2"]);

    // Sent through Zenvia.
    let sent = sms_draft(&app, &audience, &[]);
    let sent: i64 = sent.parse().unwrap();
    wait_done(&app, sent).await;
    assert!(fake.violations().is_empty(), "{:?}", fake.violations());
    let joao = fake.to("5511987650001");
    assert_eq!(joao.len(), 1);
    assert_eq!(joao[0].provider, "zenvia");
    assert_eq!(joao[0].texts, vec![LONG_UCS2]);
    assert_eq!(fake.to("5511987650002")[0].texts, vec![FALLBACK]);
    let id_of = |phone: &str| {
        ledger(&app)
            .into_iter()
            .find(|r| r.0 == phone)
            .and_then(|r| r.2)
            .unwrap()
    };
    let (j, m) = (id_of(JOAO), id_of(MARIA));
    assert_eq!(j, joao[0].id);
    let delivered = json!({"id": "ev-1", "type": "MESSAGE_STATUS", "messageId": j,
        "messageStatus": {"timestamp": "2026-11-28T10:00:00Z", "code": "DELIVERED", "description": "Delivered"}});
    assert_eq!(zenvia_callback(&app, None, delivered.clone()).await, 403);
    assert_eq!(
        zenvia_callback(&app, Some("segredo-errado"), delivered.clone()).await,
        403
    );
    assert_eq!(status_of(&app, JOAO), "sent");
    assert_eq!(
        zenvia_callback(&app, Some(ZENVIA_SECRET), delivered.clone()).await,
        200
    );
    assert_eq!(status_of(&app, JOAO), "delivered");
    let failed = json!({"id": "ev-2", "type": "MESSAGE_STATUS", "messageId": m,
        "messageStatus": {"code": "NOT_DELIVERED", "description": "Not delivered",
                          "causes": [{"reason": "Número inexistente", "details": "carrier"}]}});
    assert_eq!(
        zenvia_callback(&app, Some(ZENVIA_SECRET), failed).await,
        200
    );
    let before = ledger(&app);
    assert_eq!(
        zenvia_callback(&app, Some(ZENVIA_SECRET), delivered).await,
        200
    );
    assert_eq!(ledger(&app), before, "a replay changes nothing");
    let error: Option<String> = campaign_messages::table
        .filter(campaign_messages::provider_id.eq(&m))
        .select(campaign_messages::error)
        .first(&mut app.db())
        .unwrap();
    // Zenvia's own words stay in the log; the ledger says what the code means.
    assert_eq!(
        error.as_deref(),
        Some("NOT_DELIVERED não entregue pela operadora")
    );
    assert_eq!(
        zenvia_callback(&app, Some(ZENVIA_SECRET), json!({"type": "OUTRO"})).await,
        400
    );
    let parar = json!({"id": "ev-3", "type": "MESSAGE", "message": {"id": "zin-1",
        "from": "5511987650004", "to": ZENVIA_FROM, "direction": "IN", "channel": "sms",
        "contents": [{"type": "text", "text": "PARAR"}]}});
    assert_eq!(zenvia_callback(&app, Some(ZENVIA_SECRET), parar).await, 200);
    let listed: Vec<(String, Option<String>)> = dnd_entries::table
        .select((dnd_entries::value, dnd_entries::source))
        .load(&mut app.db())
        .unwrap();
    assert_eq!(
        listed,
        vec![(PEDRO.to_string(), Some("sms_reply: PARAR".to_string()))]
    );

    // Switched to Twilio on the settings page.
    let html = app
        .get("/admin/configuracoes/canais/sms")
        .await
        .text()
        .await
        .unwrap();
    assert!(!html.contains(ZENVIA_TOKEN) && !html.contains(ZENVIA_SECRET));
    let base = fake.address.clone();
    let twilio = |acao: &'static str| {
        vec![
            ("provider", "twilio"),
            ("base_url", base.as_str()),
            ("from", TWILIO_FROM),
            ("twilio_account_sid", TWILIO_SID),
            ("twilio_auth_token", TWILIO_TOKEN),
            ("per_second", "30"),
            ("acao", acao),
        ]
    };
    let html = app
        .submit(
            "/admin/configuracoes/canais/sms",
            "/admin/configuracoes/canais/sms",
            &twilio("testar"),
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("as credenciais estão corretas"), "{html}");
    let html = app
        .submit(
            "/admin/configuracoes/canais/sms",
            "/admin/configuracoes/canais/sms",
            &twilio("salvar"),
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("salvas") && !html.contains(TWILIO_TOKEN));
    // A campaign from the composer, accents removed; Pedro said PARAR and gets nothing.
    let response = app
        .submit(
            "/engajar/campanhas/nova",
            "/engajar/campanhas/nova",
            &[
                ("name", "Verão"),
                ("channel", "sms"),
                ("target", "audience"),
                ("audience_id", audience.as_str()),
                (
                    "body",
                    "Oi @PrimeiroNome, a promoção de verão começou na Loja Centro!",
                ),
                ("strip_accents", "on"),
                ("schedule", "now"),
                ("acao", "agendar"),
            ],
        )
        .await;
    assert_eq!(response.status(), 303);
    let verao = campaign_from(&response);
    wait_done(&app, verao).await;
    assert!(fake.violations().is_empty(), "{:?}", fake.violations());
    let by_twilio: Vec<Accepted> = fake
        .accepted()
        .into_iter()
        .filter(|a| a.provider == "twilio")
        .collect();
    assert_eq!(by_twilio.len(), 3);
    let to_joao = by_twilio.iter().find(|a| a.to == "5511987650001").unwrap();
    assert_eq!(
        to_joao.texts,
        vec!["Oi Joao, a promocao de verao comecou na Loja Centro!"]
    );
    assert_eq!(to_joao.extra, "http://engajar.test/webhooks/twilio");
    assert!(!by_twilio.iter().any(|a| a.to == "5511987650004"));
    assert_eq!(status_of(&app, PEDRO), "skipped");
    let sid = to_joao.id.clone();
    let receipt = [
        ("AccountSid", TWILIO_SID),
        ("MessageSid", sid.as_str()),
        ("MessageStatus", "delivered"),
        ("To", "+5511987650001"),
    ];
    assert_eq!(twilio_callback(&app, &receipt, "outro-token").await, 403);
    assert_eq!(status_of(&app, JOAO), "sent");
    assert_eq!(twilio_callback(&app, &receipt, TWILIO_TOKEN).await, 200);
    assert_eq!(status_of(&app, JOAO), "delivered");
    let sair = [
        ("AccountSid", TWILIO_SID),
        ("MessageSid", "SMin0001"),
        ("SmsStatus", "received"),
        ("From", "+5511987650003"),
        ("To", TWILIO_FROM),
        ("Body", "Sair"),
    ];
    assert_eq!(twilio_callback(&app, &sair, TWILIO_TOKEN).await, 200);
    assert_eq!(twilio_callback(&app, &sair, TWILIO_TOKEN).await, 200);
    let listed: i64 = dnd_entries::table
        .filter(dnd_entries::value.eq(ANA))
        .count()
        .get_result(&mut app.db())
        .unwrap();
    assert_eq!(listed, 1);
    let recorded: i64 = interactions::table
        .filter(interactions::channel_value.eq(ANA))
        .count()
        .get_result(&mut app.db())
        .unwrap();
    assert_eq!(recorded, 1, "a retried reply is one interaction");
}

async fn a_stop_word_mid_run_spares_the_phone_at_the_next_batch(backend: Backend) {
    let fake = FakeProviders::start().await;
    // One message a second: the run lasts long enough for a reply to arrive mid-way.
    let Some(app) = app_with_rate(backend, &fake, SmsProvider::Zenvia, 1).await else {
        return;
    };
    app.login_admin().await;
    fake.approve("aviso", 1);
    let (code, out) = cli(
        &app,
        &[
            "whatsapp",
            "template",
            "add",
            "--name",
            "aviso",
            "--body",
            "Olá {{1}}, temos novidades.",
        ],
    );
    assert_eq!(code, 0, "{out}");
    let segment = app.add_segment("Clientes");
    let (audience, _) = app
        .import_bytes(
            "publico.csv",
            phones(&[
                ("11987650001", "", "JOÃO", ""),
                ("11987650002", "", "MARIA", ""),
                ("11987650003", "", "ANA", ""),
                ("11987650004", "", "PEDRO", ""),
            ]),
            segment,
            &[],
        )
        .await;
    let (code, out) = cli(
        &app,
        &[
            "campaign",
            "create",
            "--name",
            "Devagar",
            "--channel",
            "whatsapp",
            "--audience",
            &audience.to_string(),
            "--template",
            "aviso",
            "--param",
            "1=@PrimeiroNome",
            "--json",
        ],
    );
    assert_eq!(code, 0, "{out}");
    let id = json_of(&out)["id"].as_i64().unwrap();
    let started = Instant::now();
    while fake.accepted().is_empty() {
        assert!(started.elapsed() < Duration::from_secs(30));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let sair = wa_message("5511987650004", "wamid.IN.1", "SAIR", 1_800_000_000);
    assert_eq!(whatsapp_callback(&app, &sair).await, 200);
    wait_done(&app, id).await;
    assert!(fake.to("5511987650004").is_empty(), "opted out mid-run");
    assert_eq!(fake.accepted().len(), 3);
    let pedro = ledger(&app).into_iter().find(|r| r.0 == PEDRO).unwrap();
    assert_eq!(
        (pedro.1.as_str(), pedro.4.as_deref()),
        ("skipped", Some("dnd"))
    );
}

/// Hostile callbacks: control characters, bytes that are not UTF-8, bodies too large.
/// Each gets a clear status and nothing is stored but what is valid.
async fn hostile_callbacks_never_break_anything(backend: Backend) {
    let fake = FakeProviders::start().await;
    let Some(app) = app_with(backend, &fake, SmsProvider::Twilio).await else {
        return;
    };
    // A NUL and an ESC in a customer's text: kept out, the rest recorded.
    let body = wa_message(
        "5511987650001",
        "wamid.IN.NUL",
        "oi\u{0}\u{1b}[2J tudo bem?",
        1,
    );
    assert_eq!(whatsapp_callback(&app, &body).await, 200);
    let stored: Vec<String> = interactions::table
        .select(interactions::body)
        .load(&mut app.db())
        .unwrap();
    assert_eq!(stored, vec!["oi[2J tudo bem?"]);
    // Not UTF-8, signed: malformed.
    let bytes = b"{\"entry\": \"\xff\xfe\"}".to_vec();
    assert_eq!(whatsapp_callback(&app, &bytes).await, 400);
    let response = new_client()
        .post(app.url("/webhooks/twilio"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("X-Twilio-Signature", "x")
        .body(b"Body=%FF%FE&From=%2B5511987650001".to_vec())
        .send()
        .await
        .unwrap();
    assert!(matches!(response.status().as_u16(), 400 | 403));
    // Larger than any real callback: refused before it is read whole.
    let huge = vec![b'a'; 2 * 1024 * 1024];
    let status = new_client()
        .post(app.url("/webhooks/whatsapp"))
        .header("X-Hub-Signature-256", meta_signature(APP_SECRET, &huge))
        .body(huge)
        .send()
        .await
        .map(|r| r.status().as_u16())
        .unwrap_or(413);
    assert_eq!(status, 413);
    // A Twilio status with no message id and a signed empty form: malformed.
    assert_eq!(twilio_callback(&app, &[], TWILIO_TOKEN).await, 400);
    let count: i64 = interactions::table
        .count()
        .get_result(&mut app.db())
        .unwrap();
    assert_eq!(count, 1);
}

/// Meta may call back before the send's own answer is committed: the receipt waits for
/// the message's id and is applied when it is recorded.
async fn a_receipt_ahead_of_its_send_is_applied_once_the_send_is_recorded(backend: Backend) {
    let fake = FakeProviders::start().await;
    let Some(app) = app_with(backend, &fake, SmsProvider::Zenvia).await else {
        return;
    };
    app.login_admin().await;
    fake.approve("aviso", 1);
    let (code, _) = cli(
        &app,
        &[
            "whatsapp",
            "template",
            "add",
            "--name",
            "aviso",
            "--body",
            "Olá {{1}}!",
        ],
    );
    assert_eq!(code, 0);
    let segment = app.add_segment("Clientes");
    let (audience, _) = app
        .import_bytes(
            "publico.csv",
            phones(&[("11987650001", "", "JOÃO", "")]),
            segment,
            &[],
        )
        .await;
    // The local Cloud API numbers its wamids in order: the first send gets this one.
    let wamid = "wamid.HBgNNTUxMTk000001";
    let early = wa_statuses(&[(wamid, "read", 1_800_000_000, None)]);
    assert_eq!(whatsapp_callback(&app, &early).await, 200);
    let waiting: i64 = engajar::schema::unmatched_receipts::table
        .count()
        .get_result(&mut app.db())
        .unwrap();
    assert_eq!(waiting, 1);
    let (code, out) = cli(
        &app,
        &[
            "campaign",
            "create",
            "--name",
            "Aviso",
            "--channel",
            "whatsapp",
            "--audience",
            &audience.to_string(),
            "--template",
            "aviso",
            "--param",
            "1=@PrimeiroNome",
            "--json",
        ],
    );
    assert_eq!(code, 0, "{out}");
    wait_done(&app, json_of(&out)["id"].as_i64().unwrap()).await;
    assert_eq!(fake.accepted()[0].id, wamid);
    assert_eq!(status_of(&app, JOAO), "read");
    let waiting: i64 = engajar::schema::unmatched_receipts::table
        .count()
        .get_result(&mut app.db())
        .unwrap();
    assert_eq!(waiting, 0);
    let verdict: Option<String> = contact_channels::table
        .filter(contact_channels::value.eq(JOAO))
        .select(contact_channels::whatsapp)
        .first(&mut app.db())
        .unwrap();
    assert_eq!(verdict.as_deref(), Some("yes"));
}

crate::for_both_backends!(
    a_receipt_ahead_of_its_send_is_applied_once_the_send_is_recorded,
    hostile_callbacks_never_break_anything,
    sms_campaigns_count_their_parts_and_speak_zenvia_and_twilio,
    a_stop_word_mid_run_spares_the_phone_at_the_next_batch,
    a_whatsapp_template_campaign_goes_out_and_its_receipts_come_back,
    templates_sync_from_the_cloud_api_and_the_settings_keep_secrets,
);
