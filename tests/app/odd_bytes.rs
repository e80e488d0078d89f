//! Odd bytes at every door: NUL, ESC and other control characters in forms, queries,
//! uploads and the API are refused with a pt-BR message naming the field, never stored
//! and never a 500; in a layout file they reject the row.

use diesel::prelude::*;
use engajar::schema::{audit_log, contacts, dnd_entries, interactions, segments, users};
use scraper::Html;
use serde_json::{Value, json};

use crate::api::post_interaction;
use crate::contacts::create_token;
use crate::helpers::*;

crate::on_both_backends!(
    control_characters_in_any_form_field_are_refused_and_change_nothing,
    control_characters_in_any_query_are_refused,
    control_characters_in_the_import_form_are_refused,
    control_characters_in_the_api_answer_422_invalid_text,
    control_characters_in_a_layout_cell_reject_the_row,
);

const ODD: [&str; 3] = ["Ana\u{0}Lima", "Ana\u{1b}[31mLima", "Ana\u{7f}"];

fn counts(app: &TestApp) -> (i64, i64, i64, i64) {
    let mut conn = app.db();
    (
        users::table.count().get_result(&mut conn).unwrap(),
        segments::table.count().get_result(&mut conn).unwrap(),
        dnd_entries::table.count().get_result(&mut conn).unwrap(),
        contacts::table.count().get_result(&mut conn).unwrap(),
    )
}

async fn refused(response: reqwest::Response, label: &str) {
    assert_eq!(response.status(), 422, "{label}");
    let html = Html::parse_document(&response.text().await.unwrap());
    let message = texts(&html, "main p").join(" ");
    assert!(
        message.contains(&format!("O campo «{label}» contém caracteres de controle")),
        "{message}"
    );
}

async fn control_characters_in_any_form_field_are_refused_and_change_nothing(app: TestApp) {
    app.login_admin().await;
    let before = counts(&app);
    let audit_before: i64 = audit_log::table.count().get_result(&mut app.db()).unwrap();
    for odd in ODD {
        for (page, action, fields, label) in [
            (
                "/admin/segmentos",
                "/admin/segmentos",
                vec![("name", odd)],
                "Nome",
            ),
            (
                "/admin/usuarios",
                "/admin/usuarios",
                vec![
                    ("name", odd),
                    ("email", "nova@engajar.test"),
                    ("role", "staff"),
                    ("password", "senha-boa-12345"),
                ],
                "Nome",
            ),
            (
                "/admin/usuarios",
                "/admin/usuarios",
                vec![
                    ("name", "Nova"),
                    ("email", "nova\u{0}@engajar.test"),
                    ("role", "staff"),
                    ("password", "senha-boa-12345"),
                ],
                "E-mail",
            ),
            (
                "/admin/nao-perturbe",
                "/admin/nao-perturbe",
                vec![("value", odd)],
                "Telefone ou e-mail",
            ),
            (
                "/admin/tokens",
                "/admin/tokens",
                vec![("name", odd)],
                "Nome",
            ),
            (
                "/conta",
                "/conta/senha",
                vec![
                    ("current", ADMIN_PASSWORD),
                    ("password", odd),
                    ("password_confirm", odd),
                ],
                "Senha",
            ),
        ] {
            refused(app.submit(page, action, &fields).await, label).await;
        }
    }
    assert_eq!(counts(&app), before);
    let audit_after: i64 = audit_log::table.count().get_result(&mut app.db()).unwrap();
    assert_eq!(
        audit_after, audit_before,
        "nothing changed, so nothing audited"
    );
    // The login form too: the e-mail with a NUL is refused before anything is looked up.
    app.logout().await;
    refused(
        app.login("admin\u{0}@engajar.test", ADMIN_PASSWORD).await,
        "E-mail",
    )
    .await;
    app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(app.get("/conta").await.status(), 200);
}

async fn control_characters_in_any_query_are_refused(app: TestApp) {
    app.login_admin().await;
    for path in [
        "/contatos?q=Ana%00",
        "/contatos?q=%1B%5B31m",
        "/engajar/publicos?q=Cobran%00ca",
        "/admin/nao-perturbe?q=%00",
        "/admin/auditoria?acao=%00",
        "/fila?page=%00",
    ] {
        let response = app.get(path).await;
        assert_eq!(response.status(), 422, "{path}");
        let body = response.text().await.unwrap();
        assert!(body.contains("caracteres de controle"), "{path}");
    }
    // Plain accents and spaces are fine.
    assert_eq!(
        app.get("/contatos?q=Jo%C3%A3o%20da%20Silva").await.status(),
        200
    );
}

async fn control_characters_in_the_import_form_are_refused(app: TestApp) {
    app.login_staff().await;
    let segment = app.add_segment("Clientes").to_string();
    let bytes = layout_csv(&[person("TELEFONE", "11987654321", "Ana", "", "", "", "")]);
    let response = app
        .post_import(
            "a.csv",
            bytes,
            &[
                ("descricao", "Cobran\u{0}ça"),
                ("segmento", &segment),
                ("autorizacao", "consentimento"),
                ("acao", "importar"),
            ],
        )
        .await;
    refused(response, "Descrição").await;
    let audiences: i64 = engajar::schema::audiences::table
        .count()
        .get_result(&mut app.db())
        .unwrap();
    assert_eq!(audiences, 0);
    assert_eq!(app.uploads_kept(), 0);
}

async fn control_characters_in_the_api_answer_422_invalid_text(app: TestApp) {
    app.login_admin().await;
    let token = create_token(&app).await;
    for body in [
        json!({"channel": "TELEFONE", "value": "11987654321", "text": "oi\u{0}"}),
        json!({"channel": "TELEFONE", "value": "11987654321", "text": "\u{1b}[2J"}),
        json!({"channel": "TELEFONE", "value": "1198765\u{0}4321", "text": "oi"}),
        json!({"channel": "TELE\u{0}FONE", "value": "11987654321", "text": "oi"}),
    ] {
        let (status, answer) = post_interaction(&app, &token, body).await;
        assert_eq!(status, 422);
        assert_eq!(answer["error"]["code"], "invalid_text");
    }
    // Line breaks and tabs belong in a message.
    let (status, _) = post_interaction(
        &app,
        &token,
        json!({"channel": "TELEFONE", "value": "11987654321", "text": "linha 1\r\nlinha 2\tfim"}),
    )
    .await;
    assert_eq!(status, 201);
    let stored: i64 = interactions::table
        .count()
        .get_result(&mut app.db())
        .unwrap();
    assert_eq!(stored, 1);
    let response = app
        .client
        .get(app.url("/api/v1/contacts/lookup?value=1198765%004321"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 422);
    let answer: Value = response.json().await.unwrap();
    assert_eq!(answer["error"]["code"], "invalid_text");
}

async fn control_characters_in_a_layout_cell_reject_the_row(app: TestApp) {
    app.login_staff().await;
    let segment = app.add_segment("Clientes");
    // A CSV holding control bytes is not text: the whole file is refused, nothing stored.
    let rows = [person(
        "TELEFONE",
        "11987654322",
        "Bia\u{1b}",
        "",
        "",
        "",
        "",
    )];
    let (_, html) = app
        .import_bytes("odd.csv", layout_csv(&rows), segment, &[])
        .await;
    assert_eq!(texts(&html, "#status"), vec!["Falhou"]);
    assert!(attrs(&html, "td[data-code]", "data-code").contains(&"unreadable".to_string()));
    // Invisible characters are dropped; line breaks in a cell are kept.
    let rows = [[
        "\u{feff}EMAIL",
        "c@exemplo.com.br",
        "linha 1\nlinha 2",
        "Caio\u{200b} Reis",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
    ]];
    let (_, html) = app
        .import_bytes("bom.csv", layout_csv(&rows), segment, &[])
        .await;
    assert_eq!(texts(&html, "#status"), vec!["Concluída"]);
    let names: Vec<Option<String>> = contacts::table
        .select(contacts::name)
        .load(&mut app.db())
        .unwrap();
    assert_eq!(names, vec![Some("Caio Reis".to_string())]);
    let message: Option<String> = engajar::schema::audience_members::table
        .select(engajar::schema::audience_members::message)
        .first(&mut app.db())
        .unwrap();
    assert_eq!(message.as_deref(), Some("linha 1\nlinha 2"));
}
