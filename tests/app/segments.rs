use crate::helpers::*;

crate::on_both_backends!(admins_create_segments_whose_names_are_unique_ignoring_case);

async fn admins_create_segments_whose_names_are_unique_ignoring_case(app: TestApp) {
    app.login_admin().await;
    let html = app.get_html("/admin/segmentos").await;
    assert!(texts(&html, ".empty-state")[0].contains("Nenhum segmento"));

    let response = app
        .submit(
            "/admin/segmentos",
            "/admin/segmentos",
            &[("name", "  Clientes   VIP ")],
        )
        .await;
    assert_eq!(location(&response), "/admin/segmentos?ok=criado");
    let html = app.get_html("/admin/segmentos?ok=criado").await;
    assert_eq!(texts(&html, ".alert-ok"), vec!["Segmento criado."]);
    assert_eq!(
        texts(&html, "table.segments tbody td:first-child"),
        vec!["Clientes VIP"]
    );

    let response = app
        .submit(
            "/admin/segmentos",
            "/admin/segmentos",
            &[("name", "clientes vip")],
        )
        .await;
    assert_eq!(response.status(), 200);
    let html = scraper::Html::parse_document(&response.text().await.unwrap());
    assert_eq!(
        texts(&html, ".field-error"),
        vec!["Já existe um segmento com esse nome."]
    );
    assert_eq!(
        field_value(&html, "input[name=name]").as_deref(),
        Some("clientes vip")
    );

    let response = app
        .submit("/admin/segmentos", "/admin/segmentos", &[("name", "   ")])
        .await;
    let html = scraper::Html::parse_document(&response.text().await.unwrap());
    assert_eq!(
        texts(&html, ".field-error"),
        vec!["Informe o nome do segmento."]
    );

    app.submit(
        "/admin/segmentos",
        "/admin/segmentos",
        &[("name", "<script>alert(1)</script>")],
    )
    .await;
    let body = app.get("/admin/segmentos").await.text().await.unwrap();
    assert!(!body.contains("<script>alert(1)</script>"));
    assert!(body.contains("&#60;script&#62;") || body.contains("&lt;script&gt;"));
    let html = scraper::Html::parse_document(&body);
    assert_eq!(
        texts(&html, "table.segments tbody td:first-child"),
        vec!["<script>alert(1)</script>", "Clientes VIP"]
    );
}
