//! Hostile input: markup typed or imported into every field comes back escaped on every
//! page; oversize bodies are refused on every form; upload names never become paths.

use serde_json::json;

use crate::contacts::create_token;
use crate::helpers::*;

crate::on_both_backends!(
    markup_in_every_field_comes_back_escaped_everywhere,
    oversize_bodies_are_refused_on_every_form,
    an_upload_named_like_a_path_stays_a_name,
);

const PAYLOAD: &str = "\"><script>alert(1)</script><img src=x onerror=alert(1)>";

fn assert_escaped(page: &str, body: &str) {
    for raw in ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>"] {
        assert!(!body.contains(raw), "{page} shows {raw} unescaped");
    }
}

async fn markup_in_every_field_comes_back_escaped_everywhere(app: TestApp) {
    app.login_admin().await;
    // Typed by an admin: a segment, a user, a token, a Não Perturbe search.
    let response = app
        .submit("/admin/segmentos", "/admin/segmentos", &[("name", PAYLOAD)])
        .await;
    assert_eq!(response.status(), 303);
    let response = app
        .submit(
            "/admin/usuarios",
            "/admin/usuarios",
            &[
                ("name", PAYLOAD),
                ("email", "hostil@empresa.com.br"),
                ("role", "staff"),
                ("password", "senha comprida 123"),
            ],
        )
        .await;
    assert_eq!(response.status(), 303);
    let token_page = app
        .submit("/admin/tokens", "/admin/tokens", &[("name", PAYLOAD)])
        .await
        .text()
        .await
        .unwrap();
    assert_escaped("token creation", &token_page);
    let token = create_token(&app).await;
    // Imported: the file name, the description, and every text cell of a row.
    let segment = app.add_segment("Seguro");
    let mut row = person(
        "TELEFONE",
        "11987654321",
        PAYLOAD,
        "",
        PAYLOAD,
        PAYLOAD,
        "ALTA",
    );
    row[2] = PAYLOAD;
    for coringa in &mut row[7..12] {
        *coringa = PAYLOAD;
    }
    let bad_row = person("TELEFONE", PAYLOAD, PAYLOAD, "", "", "", "");
    let segment_id = segment.to_string();
    let response = app
        .post_import(
            &format!("{PAYLOAD}.csv"),
            layout_csv(&[row, bad_row]),
            &[
                ("descricao", PAYLOAD),
                ("segmento", &segment_id),
                ("autorizacao", "consentimento"),
                ("acao", "importar"),
            ],
        )
        .await;
    let audience = location(&response);
    let id: i64 = audience
        .trim_start_matches("/engajar/publicos/")
        .parse()
        .unwrap();
    let html = app.wait_for_audience(id).await;
    assert_eq!(texts(&html, "#count-imported"), vec!["1"]);
    // Sent in by an integration.
    let response = app
        .client
        .post(app.url("/api/v1/interactions"))
        .bearer_auth(&token)
        .json(&json!({"channel":"TELEFONE","value":"11987654321","text":PAYLOAD}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let contact: serde_json::Value = response.json().await.unwrap();
    let contact_id = contact["contact"]["id"].as_i64().unwrap();
    assert_eq!(contact["contact"]["name"], PAYLOAD, "stored as typed");

    // A campaign whose every text field holds the payload, and a refused one shown back.
    let audience_id = id.to_string();
    let body = format!("{PAYLOAD} @Nome @Coringa1");
    let mut fields = vec![
        ("name", PAYLOAD),
        ("channel", "email"),
        ("target", "audience"),
        ("audience_id", audience_id.as_str()),
        ("subject", PAYLOAD),
        ("body", body.as_str()),
        ("fallback_Tag", PAYLOAD),
        ("schedule", "now"),
        ("acao", "rascunho"),
    ];
    let response = app
        .submit(
            "/engajar/campanhas/nova",
            "/engajar/campanhas/nova",
            &fields,
        )
        .await;
    let campaign = location(&response).trim_end_matches("/previa").to_string();
    fields[5] = ("body", "@Foo<script>alert(1)</script>");
    let refused = app
        .submit(
            "/engajar/campanhas/nova",
            "/engajar/campanhas/nova",
            &fields,
        )
        .await;
    assert_eq!(refused.status(), 200);
    assert_escaped("refused campaign", &refused.text().await.unwrap());

    let encoded = urlencoding::encode(PAYLOAD).into_owned();
    for page in [
        "/engajar/campanhas".to_string(),
        campaign.clone(),
        format!("{campaign}/previa?q={encoded}"),
        format!("{campaign}/editar"),
        "/engajar/publicos".to_string(),
        format!("/engajar/publicos?q={encoded}"),
        audience.clone(),
        format!("/contatos?q={encoded}"),
        "/contatos".to_string(),
        format!("/contatos/{contact_id}"),
        "/fila".to_string(),
        "/admin/segmentos".to_string(),
        "/admin/usuarios".to_string(),
        "/admin/tokens".to_string(),
        "/admin/auditoria".to_string(),
        format!("/admin/nao-perturbe?q={encoded}"),
        "/engajar/publicos/importar".to_string(),
    ] {
        let response = app.get(&page).await;
        assert_eq!(response.status(), 200, "{page}");
        let body = response.text().await.unwrap();
        assert_escaped(&page, &body);
    }
    // The payload really is on those pages, as text.
    let html = app.get_html(&format!("/contatos/{contact_id}")).await;
    assert_eq!(texts(&html, "h1.contact-name"), vec![PAYLOAD]);
    assert_eq!(texts(&html, "td.body"), vec![PAYLOAD]);
    // The rejected-rows CSV neutralises the formula-like cells it writes back.
    let csv = app
        .get(&format!("{audience}/rejeitadas.csv"))
        .await
        .text()
        .await
        .unwrap();
    assert!(csv.contains(PAYLOAD) || csv.contains(&PAYLOAD.replace('"', "\"\"")));
}

async fn oversize_bodies_are_refused_on_every_form(app: TestApp) {
    // Anonymous forms first (before any user exists, the form is the setup's).
    let big = "x".repeat(100 * 1024);
    for path in ["/login", "/setup"] {
        let token = app.csrf_token("/setup").await;
        let response = app
            .post_form(path, &[("csrf_token", &token), ("email", &big)])
            .await;
        assert_eq!(response.status(), 413, "{path}");
    }
    app.login_admin().await;
    let token = app.csrf_token("/conta").await;
    for path in [
        "/logout",
        "/conta/senha",
        "/fila/1/atender",
        "/admin/segmentos",
        "/admin/segmentos/1/renomear",
        "/admin/segmentos/1/excluir",
        "/admin/usuarios",
        "/admin/usuarios/1/papel",
        "/admin/usuarios/1/situacao",
        "/admin/usuarios/1/senha",
        "/admin/nao-perturbe",
        "/admin/nao-perturbe/1/remover",
        "/admin/configuracoes",
        "/admin/tokens",
        "/admin/tokens/1/revogar",
    ] {
        let response = app
            .post_form(path, &[("csrf_token", &token), ("name", &big)])
            .await;
        assert_eq!(response.status(), 413, "{path}");
        let html = scraper::Html::parse_document(&response.text().await.unwrap());
        assert_eq!(texts(&html, "h1"), vec!["Envio grande demais"], "{path}");
    }
    // Multipart forms: an oversize text field, or too many fields.
    for path in ["/engajar/publicos/importar", "/admin/nao-perturbe/lista"] {
        let form = reqwest::multipart::Form::new()
            .text("csrf_token", token.clone())
            .text("descricao", big.clone());
        let response = app
            .client
            .post(app.url(path))
            .multipart(form)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 413, "{path}");
        let mut form = reqwest::multipart::Form::new().text("csrf_token", token.clone());
        for i in 0..200 {
            form = form.text(format!("campo{i}"), "x");
        }
        let response = app
            .client
            .post(app.url(path))
            .multipart(form)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 413, "{path}");
    }
    // Nothing was written by any of them, and the session still works.
    use diesel::prelude::*;
    let segments: i64 = engajar::schema::segments::table
        .count()
        .get_result(&mut app.db())
        .unwrap();
    assert_eq!(segments, 0);
    assert_eq!(app.get("/conta").await.status(), 200);
}

async fn an_upload_named_like_a_path_stays_a_name(app: TestApp) {
    app.login_staff().await;
    let segment = app.add_segment("Caminhos");
    let rows = [person("TELEFONE", "11987654321", "Ana", "", "", "", "")];
    let (id, html) = app
        .import_bytes("../../etc/passwd", layout_csv(&rows), segment, &[])
        .await;
    assert_eq!(texts(&html, "#status"), vec!["Concluída"]);
    assert_eq!(texts(&html, "dd.file"), vec!["passwd"]);
    // Nothing was written outside the spool folder, and nothing stays inside it.
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    assert!(!passwd.contains("TIPO_DE_REGISTRO"));
    let left: Vec<_> = std::fs::read_dir(app.spool.path()).unwrap().collect();
    assert!(left.is_empty(), "spool keeps {left:?} after audience {id}");
    assert_eq!(app.uploads_kept(), 0);
}
