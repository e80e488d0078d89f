//! The Não Perturbe list page, and its effect on imports.

use diesel::prelude::*;
use engajar::schema::dnd_entries;
use scraper::Html;

use crate::helpers::*;

crate::on_both_backends!(
    admins_add_search_and_remove_entries_in_any_format,
    an_uploaded_list_is_normalised_like_the_import_and_used_by_it,
);

fn listed(app: &TestApp) -> Vec<(String, String)> {
    dnd_entries::table
        .order(dnd_entries::id.asc())
        .select((dnd_entries::kind, dnd_entries::value))
        .load(&mut app.db())
        .unwrap()
}

async fn add(app: &TestApp, value: &str) -> reqwest::Response {
    app.submit(
        "/admin/nao-perturbe",
        "/admin/nao-perturbe",
        &[("value", value)],
    )
    .await
}

async fn admins_add_search_and_remove_entries_in_any_format(app: TestApp) {
    app.login_admin().await;
    let html = app.get_html("/admin/nao-perturbe").await;
    assert_eq!(texts(&html, ".dnd-total"), vec!["0"]);
    assert_eq!(
        location(&add(&app, "(11) 98765-4321").await),
        "/admin/nao-perturbe?ok=adicionado"
    );
    assert_eq!(
        location(&add(&app, "Cliente@Exemplo.com.BR").await),
        "/admin/nao-perturbe?ok=adicionado"
    );
    // The same phone written another way is already there.
    let html = Html::parse_document(&add(&app, "+55 11 98765 4321").await.text().await.unwrap());
    assert_eq!(
        texts(&html, ".alert-error"),
        vec!["Esse telefone ou e-mail já está na lista."]
    );
    let html = Html::parse_document(&add(&app, "1234").await.text().await.unwrap());
    assert_eq!(
        texts(&html, ".alert-error"),
        vec!["Informe um telefone (com DDD) ou um e-mail válido, como na importação."]
    );
    assert_eq!(field_value(&html, "#value").as_deref(), Some("1234"));
    assert_eq!(
        listed(&app),
        vec![
            ("TELEFONE".into(), "+5511987654321".into()),
            ("EMAIL".into(), "cliente@exemplo.com.br".into())
        ]
    );
    let html = app.get_html("/admin/nao-perturbe").await;
    assert_eq!(texts(&html, ".dnd-total"), vec!["2"]);
    assert!(texts(&html, "table.dnd td").contains(&"Ana Administradora".to_string()));
    // Search in a format other than the stored one, and by a fragment.
    let html = app.get_html("/admin/nao-perturbe?q=011%2098765-4321").await;
    assert_eq!(texts(&html, "td.value"), vec!["(11) 98765-4321"]);
    // Also as the page shows it.
    let html = app
        .get_html("/admin/nao-perturbe?q=(11)%2098765-4321")
        .await;
    assert_eq!(texts(&html, "td.value"), vec!["(11) 98765-4321"]);
    let html = app.get_html("/admin/nao-perturbe?q=exemplo").await;
    assert_eq!(texts(&html, "td.value"), vec!["cliente@exemplo.com.br"]);
    let html = app.get_html("/admin/nao-perturbe?q=%25").await;
    assert!(texts(&html, "td.value").is_empty(), "% is not a wildcard");

    let id: i64 = dnd_entries::table
        .filter(dnd_entries::kind.eq("EMAIL"))
        .select(dnd_entries::id)
        .first(&mut app.db())
        .unwrap();
    let response = app
        .submit(
            "/admin/nao-perturbe",
            &format!("/admin/nao-perturbe/{id}/remover"),
            &[],
        )
        .await;
    assert_eq!(location(&response), "/admin/nao-perturbe?ok=removido");
    assert_eq!(listed(&app).len(), 1);
    let actions = app.audit_actions();
    assert_eq!(
        actions.iter().filter(|a| a.starts_with("dnd_")).count(),
        3,
        "{actions:?}"
    );
}

async fn an_uploaded_list_is_normalised_like_the_import_and_used_by_it(app: TestApp) {
    app.login_admin().await;
    let list = "Telefone;Observação\r\n(21) 3456-7890;loja\r\n11 98765-4321;\r\nnao-e-telefone\r\n\r\nFULANO@EXEMPLO.COM\r\n21 3456 7890\r\n";
    let token = app.csrf_token("/admin/nao-perturbe").await;
    let form = reqwest::multipart::Form::new()
        .text("csrf_token", token)
        .part(
            "arquivo",
            reqwest::multipart::Part::bytes(list.as_bytes().to_vec()).file_name("lista.csv"),
        );
    let response = app
        .client
        .post(app.url("/admin/nao-perturbe/lista"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    let target = location(&response);
    let html = app.get_html(&target).await;
    assert_eq!(
        texts(&html, ".alert-ok"),
        vec![
            "Lista importada: 3 adicionado(s), 1 já estavam na lista, 1 linha(s) sem telefone ou e-mail válido."
        ]
    );
    assert_eq!(
        listed(&app),
        vec![
            ("TELEFONE".into(), "+552134567890".into()),
            ("TELEFONE".into(), "+5511987654321".into()),
            ("EMAIL".into(), "fulano@exemplo.com".into()),
        ]
    );
    // The import's option skips exactly those.
    let segment = app.add_segment("Campanha");
    let rows = [
        person("TELEFONE", "011 98765-4321", "Listado", "", "", "", ""),
        person("EMAIL", "Fulano@Exemplo.com", "Listado", "", "", "", ""),
        person("TELEFONE", "11 91234-5678", "Livre", "", "", "", ""),
    ];
    let (_, html) = app
        .import_bytes("p.csv", layout_csv(&rows), segment, &["nao_perturbe"])
        .await;
    assert_eq!(texts(&html, "#count-dnd"), vec!["2"]);
    assert_eq!(texts(&html, "#count-imported"), vec!["1"]);
}
