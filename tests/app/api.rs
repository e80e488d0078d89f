//! API tokens, the inbound API, Verify driven by its interactions, and the queue.

use std::process::Command;

use diesel::prelude::*;
use engajar::schema::{api_tokens, interactions};
use serde_json::{Value, json};

use crate::contacts::create_token;
use crate::helpers::*;

crate::on_both_backends!(
    tokens_are_shown_once_stored_hashed_and_revocable,
    the_cli_prints_a_new_token_alone,
    interactions_are_recorded_with_the_contact_profile,
    api_errors_are_json_with_proper_statuses,
    lookup_finds_contacts_by_any_phone_format_or_email,
    verify_uses_recorded_interactions_both_ways,
    the_queue_orders_by_priority_then_arrival,
    a_message_from_a_stranger_joins_the_contact_an_import_creates,
    tokens_expire_and_die_with_a_disabled_creator,
    texts_and_dates_are_bounded,
);

mod rate {
    use super::*;

    /// A runaway integration is slowed, not let through: with a burst of 5 and one
    /// request a second, thirty quick requests get the five and one a second, no more.
    async fn a_runaway_token_is_slowed(backend: Backend) {
        let Some(app) = spawn_app_configured(backend, |_, _| {}, |c| c.api_rate = (1, 5)).await
        else {
            return;
        };
        app.login_admin().await;
        let token = create_token(&app).await;
        let mut statuses = Vec::new();
        let mut limited = None;
        let started = std::time::Instant::now();
        for _ in 0..30 {
            let response = app
                .client
                .get(app.url("/api/v1/contacts/lookup?value=11987654321"))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap();
            statuses.push(response.status().as_u16());
            if response.status() == 429 && limited.is_none() {
                limited = Some(response);
            }
        }
        // The burst, then one more for each second the requests took.
        let allowed = 5 + started.elapsed().as_secs() as usize + 1;
        let served = statuses.iter().filter(|s| **s == 404).count();
        assert_eq!(&statuses[..5], &[404; 5], "{statuses:?}");
        assert!(served <= allowed, "{statuses:?} in {:?}", started.elapsed());
        assert_eq!(served + statuses.iter().filter(|s| **s == 429).count(), 30);
        let limited = limited.unwrap();
        assert_eq!(limited.headers().get("retry-after").unwrap(), "1");
        let answer: Value = limited.json().await.unwrap();
        assert_eq!(answer["error"]["code"], "rate_limited");
        // Another token has its own allowance.
        let other = create_token(&app).await;
        let (status, _) = lookup(&app, &other, "11987654321").await;
        assert_eq!(status, 404);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        a_runaway_token_is_slowed(Backend::Sqlite).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        a_runaway_token_is_slowed(Backend::Postgres).await;
    }
}

pub async fn post_interaction(app: &TestApp, token: &str, body: Value) -> (u16, Value) {
    let response = app
        .client
        .post(app.url("/api/v1/interactions"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn lookup(app: &TestApp, token: &str, value: &str) -> (u16, Value) {
    let response = app
        .client
        .get(app.url("/api/v1/contacts/lookup"))
        .query(&[("value", value)])
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

async fn tokens_are_shown_once_stored_hashed_and_revocable(app: TestApp) {
    app.login_admin().await;
    let token = create_token(&app).await;
    assert!(token.starts_with("eng_"), "{token}");
    let stored: String = api_tokens::table
        .select(api_tokens::token_hash)
        .first(&mut app.db())
        .unwrap();
    assert_ne!(stored, token);
    assert!(!stored.contains(&token[4..]));
    let list = app.get("/admin/tokens").await.text().await.unwrap();
    assert!(!list.contains(&token), "the token is never shown again");
    assert!(list.contains("Central"));

    let (status, _) = lookup(&app, &token, "11987654321").await;
    assert_eq!(status, 404, "a valid token gets through to the lookup");
    let id: i64 = api_tokens::table
        .select(api_tokens::id)
        .first(&mut app.db())
        .unwrap();
    let response = app
        .submit("/admin/tokens", &format!("/admin/tokens/{id}/revogar"), &[])
        .await;
    assert_eq!(location(&response), "/admin/tokens?ok=revogado");
    let (status, body) = lookup(&app, &token, "11987654321").await;
    assert_eq!(status, 401);
    assert_eq!(body["error"]["code"], "unauthorized");
    let actions = app.audit_actions();
    assert!(actions.contains(&"token_create".to_string()));
    assert!(actions.contains(&"token_revoke".to_string()));
}

async fn the_cli_prints_a_new_token_alone(app: TestApp) {
    let output = Command::new(env!("CARGO_BIN_EXE_engajar"))
        .args([
            "--database-url",
            &app.database_url,
            "token",
            "create",
            "Robô de cobrança",
        ])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    let token = stdout.trim_end_matches('\n');
    assert_eq!(token.lines().count(), 1, "{stdout:?}");
    assert!(token.starts_with("eng_"));
    let (status, _) = lookup(&app, token, "cliente@exemplo.com").await;
    assert_eq!(status, 404);
    let name: String = api_tokens::table
        .select(api_tokens::name)
        .first(&mut app.db())
        .unwrap();
    assert_eq!(name, "Robô de cobrança");
}

async fn interactions_are_recorded_with_the_contact_profile(app: TestApp) {
    app.login_admin().await;
    let segment = app.add_segment("Cobrança");
    app.import_bytes(
        "a.csv",
        layout_csv(&[
            person(
                "TELEFONE",
                "11987654321",
                "Ana Lima",
                "529.982.247-25",
                "C-1",
                "Loja Sul",
                "ALTA",
            ),
            person("EMAIL", "ana@exemplo.com", "", "529.982.247-25", "", "", ""),
        ]),
        segment,
        &[],
    )
    .await;
    let token = create_token(&app).await;
    let (status, body) = post_interaction(
        &app,
        &token,
        json!({"channel":"TELEFONE","value":"+55 (11) 98765-4321","text":"Olá","at":"2026-11-27T10:00:00-03:00"}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert!(body["interaction_id"].as_i64().unwrap() > 0);
    let contact = &body["contact"];
    assert_eq!(contact["name"], "Ana Lima");
    assert_eq!(contact["document"], "52998224725");
    assert_eq!(contact["customer_code"], "C-1");
    assert_eq!(contact["priority"], "ALTA");
    assert_eq!(
        contact["channels"],
        json!([{"kind":"TELEFONE","value":"+5511987654321"},{"kind":"EMAIL","value":"ana@exemplo.com"}])
    );
    assert_eq!(contact["tags"], json!(["Loja Sul"]));
    assert_eq!(contact["segments"], json!(["Cobrança"]));
    // The same shape as one line of `contacts export`.
    let export = Command::new(env!("CARGO_BIN_EXE_engajar"))
        .args(["--database-url", &app.database_url, "contacts", "export"])
        .output()
        .unwrap();
    let exported: Value = serde_json::from_slice(&export.stdout).unwrap();
    assert_eq!(&exported, contact);

    let (status, body) = post_interaction(
        &app,
        &token,
        json!({"channel":"EMAIL","value":"Novo@Exemplo.com","text":"Quem é você?"}),
    )
    .await;
    assert_eq!(status, 201);
    assert_eq!(body["contact"], Value::Null);
    let stored: Vec<(Option<i64>, String, i64)> = interactions::table
        .order(interactions::id.asc())
        .select((
            interactions::contact_id,
            interactions::channel_value,
            interactions::occurred_at,
        ))
        .load(&mut app.db())
        .unwrap();
    assert_eq!(stored.len(), 2);
    assert_eq!(stored[0].0, contact["id"].as_i64());
    assert_eq!(stored[0].2, 1_795_784_400, "at is kept as given");
    assert_eq!(stored[1].0, None);
    assert_eq!(stored[1].1, "novo@exemplo.com");
}

async fn api_errors_are_json_with_proper_statuses(app: TestApp) {
    app.login_admin().await;
    let token = create_token(&app).await;
    let url = app.url("/api/v1/interactions");
    let client = new_client();
    let send = |builder: reqwest::RequestBuilder| async move {
        let response = builder.send().await.unwrap();
        let status = response.status().as_u16();
        let content_type = response.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_string();
        let body: Value = response.json().await.unwrap();
        assert!(content_type.starts_with("application/json"));
        (
            status,
            body["error"]["code"].as_str().unwrap_or("").to_string(),
        )
    };
    let valid = json!({"channel":"TELEFONE","value":"11987654321","text":"Oi"});
    for (builder, expected) in [
        (client.post(&url).json(&valid), (401, "unauthorized")),
        (
            client.post(&url).bearer_auth("eng_nao-existe").json(&valid),
            (401, "unauthorized"),
        ),
        (
            client
                .post(&url)
                .header("Authorization", "Basic YTpi")
                .json(&valid),
            (401, "unauthorized"),
        ),
        (
            client.post(&url).bearer_auth(&token).body("{não é json"),
            (400, "malformed"),
        ),
        (
            client
                .post(&url)
                .bearer_auth(&token)
                .json(&json!({"channel":"TELEFONE"})),
            (400, "malformed"),
        ),
        (
            client.post(&url).bearer_auth(&token).json(
                &json!({"channel":"TELEFONE","value":"11987654321","text":"Oi","at":"ontem"}),
            ),
            (400, "malformed"),
        ),
        (
            client
                .post(&url)
                .bearer_auth(&token)
                .json(&json!({"channel":"FAX","value":"11987654321","text":"Oi"})),
            (422, "invalid_channel"),
        ),
        (
            client
                .post(&url)
                .bearer_auth(&token)
                .json(&json!({"channel":"TELEFONE","value":"123","text":"Oi"})),
            (422, "invalid_value"),
        ),
        (
            client
                .post(&url)
                .bearer_auth(&token)
                .json(&json!({"channel":"EMAIL","value":"11987654321","text":"Oi"})),
            (422, "invalid_value"),
        ),
        (
            client.post(&url).bearer_auth(&token).json(
                &json!({"channel":"TELEFONE","value":"11987654321","text":"x".repeat(70_000)}),
            ),
            (413, "too_large"),
        ),
        (
            client.get(app.url("/api/v1/nada")).bearer_auth(&token),
            (404, "not_found"),
        ),
        (
            client
                .get(app.url("/api/v1/contacts/lookup"))
                .bearer_auth(&token),
            (400, "malformed"),
        ),
    ] {
        assert_eq!(send(builder).await, (expected.0, expected.1.to_string()));
    }
    let count: i64 = interactions::table
        .count()
        .get_result(&mut app.db())
        .unwrap();
    assert_eq!(count, 0, "no refused request recorded anything");
}

async fn lookup_finds_contacts_by_any_phone_format_or_email(app: TestApp) {
    app.login_admin().await;
    let segment = app.add_segment("Base");
    app.import_bytes(
        "a.csv",
        layout_csv(&[
            person("TELEFONE", "21 3456-7890", "Fixo", "", "", "", ""),
            person(
                "EMAIL",
                "Bruno@Exemplo.com.br",
                "Bruno",
                "",
                "",
                "",
                "MEDIA",
            ),
        ]),
        segment,
        &[],
    )
    .await;
    let token = create_token(&app).await;
    for value in [
        "(21) 3456-7890",
        "+55 21 3456 7890",
        "02134567890",
        "552134567890",
    ] {
        let (status, body) = lookup(&app, &token, value).await;
        assert_eq!(status, 200, "{value}");
        assert_eq!(body["name"], "Fixo");
    }
    let (status, body) = lookup(&app, &token, "BRUNO@exemplo.com.br").await;
    assert_eq!((status, body["priority"].as_str()), (200, Some("MEDIA")));
    let (status, body) = lookup(&app, &token, "11 91111-2222").await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("not_found"))
    );
    let (status, body) = lookup(&app, &token, "abc").await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (422, Some("invalid_value"))
    );
}

async fn verify_uses_recorded_interactions_both_ways(app: TestApp) {
    app.login_admin().await;
    let segment = app.add_segment("Verify");
    let known = person("TELEFONE", "11955556666", "Carla", "", "C-9", "", "ALTA");
    app.import_bytes("a.csv", layout_csv(&[known]), segment, &[])
        .await;
    let token = create_token(&app).await;
    for phone in ["11955556666", "11977778888"] {
        let (status, _) = post_interaction(
            &app,
            &token,
            json!({"channel":"TELEFONE","value":phone,"text":"Oi"}),
        )
        .await;
        assert_eq!(status, 201);
    }
    // Talked before and nothing new: discarded. Never talked: created normally.
    let never = person("TELEFONE", "11966667777", "Outro", "", "", "", "");
    let (_, html) = app
        .import_bytes("v1.csv", layout_csv(&[known, never]), segment, &["verify"])
        .await;
    assert_eq!(texts(&html, "#count-verify"), vec!["1"]);
    assert_eq!(texts(&html, "#count-imported"), vec!["1"]);
    assert_eq!(texts(&html, "#count-created"), vec!["1"]);
    // Talked before with news: updated. Talked, but nobody had the phone: created.
    let news = person(
        "TELEFONE",
        "11955556666",
        "Carla Souza",
        "",
        "C-9",
        "",
        "ALTA",
    );
    let stranger = person("TELEFONE", "11977778888", "Novo", "", "", "", "");
    let (_, html) = app
        .import_bytes(
            "v2.csv",
            layout_csv(&[news, stranger]),
            segment,
            &["verify"],
        )
        .await;
    assert_eq!(texts(&html, "#count-verify"), vec!["0"]);
    assert_eq!(texts(&html, "#count-updated"), vec!["1"]);
    assert_eq!(texts(&html, "#count-created"), vec!["1"]);
    let (_, body) = lookup(&app, &token, "11955556666").await;
    assert_eq!(body["name"], "Carla Souza");
}

async fn the_queue_orders_by_priority_then_arrival(app: TestApp) {
    app.login_admin().await;
    let segment = app.add_segment("Atendimento");
    app.import_bytes(
        "a.csv",
        layout_csv(&[
            person(
                "TELEFONE",
                "11911110001",
                "Baixa Bia",
                "",
                "",
                "VIP",
                "BAIXA",
            ),
            person("TELEFONE", "11911110002", "Media Mel", "", "", "", "MEDIA"),
            person("TELEFONE", "11911110003", "Alta Ana", "", "", "", "ALTA"),
            person("TELEFONE", "11911110004", "Alta Alice", "", "", "", "ALTA"),
        ]),
        segment,
        &[],
    )
    .await;
    let token = create_token(&app).await;
    for (phone, at) in [
        ("11911110001", "2026-11-27T08:00:00Z"),
        // Earlier than everyone, but nobody knows the sender: still last.
        ("11999999999", "2026-11-27T07:30:00Z"),
        ("11911110004", "2026-11-27T09:30:00Z"),
        ("11911110002", "2026-11-27T09:00:00Z"),
        ("11911110003", "2026-11-27T09:45:00Z"),
    ] {
        let (status, _) = post_interaction(
            &app,
            &token,
            json!({"channel":"TELEFONE","value":phone,"text":format!("de {phone}"),"at":at}),
        )
        .await;
        assert_eq!(status, 201);
    }
    let html = app.get_html("/fila").await;
    assert_eq!(
        texts(&html, "td.contact"),
        vec![
            "Alta Alice",
            "Alta Ana",
            "Media Mel",
            "Baixa Bia",
            "Não cadastrado"
        ]
    );
    assert_eq!(
        texts(&html, "td.priority"),
        vec!["Alta", "Alta", "Média", "Baixa", "Sem cadastro"]
    );
    assert_eq!(texts(&html, "td.tags")[3], "VIP");
    assert_eq!(texts(&html, "td.segments")[0], "Atendimento");
    // Atender takes the first one off the queue.
    let first: i64 = html
        .select(&scraper::Selector::parse("table.queue tbody tr").unwrap())
        .next()
        .and_then(|tr| tr.value().attr("id"))
        .and_then(|id| id.trim_start_matches("interacao-").parse().ok())
        .unwrap();
    let response = app
        .submit("/fila", &format!("/fila/{first}/atender"), &[])
        .await;
    let answered = location(&response);
    assert_eq!(answered, format!("/fila?atendida={first}"));
    assert!(
        app.audit_actions()
            .contains(&"interaction_attend".to_string())
    );
    let html = app.get_html(&answered).await;
    assert_eq!(texts(&html, "td.contact")[0], "Alta Ana");
    assert_eq!(texts(&html, "td.contact").len(), 4);
    // Desfazer returns it to its place, first again.
    assert_eq!(texts(&html, "#desfazer"), vec!["Desfazer"]);
    let response = app
        .submit(&answered, &format!("/fila/{first}/desfazer"), &[])
        .await;
    assert!(location(&response).starts_with(&format!("/fila?desfeita={first}")));
    let html = app.get_html("/fila").await;
    assert_eq!(texts(&html, "td.contact")[0], "Alta Alice");
    assert_eq!(texts(&html, "td.contact").len(), 5);
    assert!(
        app.audit_actions()
            .contains(&"interaction_unattend".to_string())
    );
    // Undoing what is waiting is refused, with the menu kept on the error page.
    let response = app
        .submit("/fila", &format!("/fila/{first}/desfazer"), &[])
        .await;
    assert_eq!(response.status(), 409);
    let html = scraper::Html::parse_document(&response.text().await.unwrap());
    assert!(!texts(&html, "nav.menu a").is_empty(), "the menu stays");
    let response = app
        .submit("/fila", &format!("/fila/{first}/atender"), &[])
        .await;
    assert_eq!(response.status(), 303);
    // Attending twice is refused: it is no longer waiting.
    let response = app
        .submit("/fila", &format!("/fila/{first}/atender"), &[])
        .await;
    assert_eq!(response.status(), 404);
}

async fn a_message_from_a_stranger_joins_the_contact_an_import_creates(app: TestApp) {
    app.login_admin().await;
    let token = create_token(&app).await;
    let (status, answer) = post_interaction(
        &app,
        &token,
        json!({"channel":"TELEFONE","value":"(11) 95555-0001","text":"Quero negociar"}),
    )
    .await;
    assert_eq!(status, 201);
    assert!(answer["contact"].is_null());
    let html = app.get_html("/fila").await;
    assert_eq!(texts(&html, "td.contact"), vec!["Não cadastrado"]);
    let segment = app.add_segment("Cobrança");
    app.import_bytes(
        "a.csv",
        layout_csv(&[person(
            "TELEFONE",
            "11955550001",
            "Rita Alves",
            "",
            "",
            "",
            "ALTA",
        )]),
        segment,
        &[],
    )
    .await;
    let html = app.get_html("/fila").await;
    assert_eq!(texts(&html, "td.contact"), vec!["Rita Alves"]);
    assert_eq!(texts(&html, "td.priority"), vec!["Alta"]);
    let contact: Option<i64> = interactions::table
        .select(interactions::contact_id)
        .first(&mut app.db())
        .unwrap();
    let html = app
        .get_html(&format!("/contatos/{}", contact.expect("linked")))
        .await;
    assert!(html.html().contains("Quero negociar"));
}

async fn tokens_expire_and_die_with_a_disabled_creator(app: TestApp) {
    app.login_admin().await;
    let body = || json!({"channel":"TELEFONE","value":"11987654321","text":"oi"});
    // A token with a validity shows it, and stops working once it has passed.
    let response = app
        .submit(
            "/admin/tokens",
            "/admin/tokens",
            &[("name", "Temporário"), ("validade_dias", "30")],
        )
        .await;
    let html = scraper::Html::parse_document(&response.text().await.unwrap());
    let temporary = texts(&html, "#novo-token").pop().unwrap();
    let expires: Option<i64> = api_tokens::table
        .filter(api_tokens::name.eq("Temporário"))
        .select(api_tokens::expires_at)
        .first(&mut app.db())
        .unwrap();
    let in_30_days = engajar::time::now() + 30 * 86_400;
    assert!((in_30_days - expires.unwrap()).abs() < 60);
    assert_eq!(post_interaction(&app, &temporary, body()).await.0, 201);
    diesel::update(api_tokens::table.filter(api_tokens::name.eq("Temporário")))
        .set(api_tokens::expires_at.eq(Some(engajar::time::now() - 1)))
        .execute(&mut app.db())
        .unwrap();
    let (status, answer) = post_interaction(&app, &temporary, body()).await;
    assert_eq!(status, 401);
    assert_eq!(answer["error"]["code"], "unauthorized");
    let html = app.get_html("/admin/tokens").await;
    assert!(texts(&html, "td.state").contains(&"Expirado".to_string()));
    let refused = app
        .submit(
            "/admin/tokens",
            "/admin/tokens",
            &[("name", "Estranho"), ("validade_dias", "7")],
        )
        .await;
    let html = scraper::Html::parse_document(&refused.text().await.unwrap());
    assert_eq!(
        texts(&html, ".field-error"),
        vec!["Escolha uma validade da lista."]
    );

    // A token created by an admin who is later disabled ends with her.
    let other = app.add_user(
        "outra@engajar.test",
        "Outra Admin",
        engajar::domain::Role::Admin,
        "senha da outra 1",
    );
    let browser = app
        .other_browser("outra@engajar.test", "senha da outra 1")
        .await;
    let page = browser.get(app.url("/admin/tokens")).send().await.unwrap();
    let html = scraper::Html::parse_document(&page.text().await.unwrap());
    let csrf = field_value(&html, "input[name=csrf_token]").unwrap();
    let created = browser
        .post(app.url("/admin/tokens"))
        .form(&[
            ("name", "Dela"),
            ("validade_dias", ""),
            ("csrf_token", &csrf),
        ])
        .send()
        .await
        .unwrap();
    let html = scraper::Html::parse_document(&created.text().await.unwrap());
    let hers = texts(&html, "#novo-token").pop().unwrap();
    assert_eq!(post_interaction(&app, &hers, body()).await.0, 201);
    let response = app
        .submit(
            "/admin/usuarios",
            &format!("/admin/usuarios/{other}/situacao"),
            &[("active", "0")],
        )
        .await;
    assert!(response.status().is_redirection());
    assert_eq!(post_interaction(&app, &hers, body()).await.0, 401);
    let revoked: Option<i64> = api_tokens::table
        .filter(api_tokens::name.eq("Dela"))
        .select(api_tokens::revoked_at)
        .first(&mut app.db())
        .unwrap();
    assert!(revoked.is_some());
}

async fn texts_and_dates_are_bounded(app: TestApp) {
    app.login_admin().await;
    let token = create_token(&app).await;
    let (status, answer) = post_interaction(
        &app,
        &token,
        json!({"channel":"TELEFONE","value":"11987654321","text":"x".repeat(4_097)}),
    )
    .await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (422, Some("invalid_text"))
    );
    let (status, _) = post_interaction(
        &app,
        &token,
        json!({"channel":"TELEFONE","value":"11987654321","text":"á".repeat(4_096)}),
    )
    .await;
    assert_eq!(status, 201, "4,096 characters fit, accents and all");
    for at in ["1999-12-31T23:59:59Z", "2999-01-01T00:00:00Z"] {
        let (status, answer) = post_interaction(
            &app,
            &token,
            json!({"channel":"TELEFONE","value":"11987654321","text":"oi","at":at}),
        )
        .await;
        assert_eq!(
            (status, answer["error"]["code"].as_str()),
            (422, Some("invalid_value")),
            "{at}"
        );
    }
    let stored: i64 = interactions::table
        .count()
        .get_result(&mut app.db())
        .unwrap();
    assert_eq!(stored, 1);
}
