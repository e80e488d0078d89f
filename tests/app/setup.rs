use crate::helpers::*;

crate::on_both_backends!(
    first_visit_leads_to_setup_which_creates_an_admin,
    setup_is_gone_once_a_user_exists,
    setup_keeps_input_and_names_each_problem,
);

async fn first_visit_leads_to_setup_which_creates_an_admin(app: TestApp) {
    assert_eq!(location(&app.get("/").await), "/login");
    assert_eq!(
        location(&app.get("/engajar").await),
        "/login?next=%2Fengajar"
    );
    assert_eq!(location(&app.get("/login").await), "/setup");

    let response = app
        .submit(
            "/setup",
            "/setup",
            &[
                ("name", "Beatriz Souza"),
                ("email", "Beatriz@Empresa.com.br"),
                ("password", "uma-senha-longa"),
                ("password_confirm", "uma-senha-longa"),
            ],
        )
        .await;
    assert_eq!(location(&response), "/engajar");
    // Logged in as the new admin, who can reach admin pages.
    let html = app.get_html("/admin/segmentos").await;
    assert_eq!(texts(&html, ".user-name"), vec!["Beatriz Souza"]);
    assert_eq!(texts(&html, ".user-role"), vec!["Administrador"]);

    // And can log in again later with the normalised e-mail.
    let token = app.csrf_token("/engajar").await;
    app.post_form("/logout", &[("csrf_token", &token)]).await;
    let response = app.login("beatriz@empresa.com.br", "uma-senha-longa").await;
    assert_eq!(location(&response), "/engajar");
}

async fn setup_is_gone_once_a_user_exists(app: TestApp) {
    app.add_staff();
    assert_eq!(app.get("/setup").await.status(), 404);
    // Posting with a valid token still creates nothing.
    let token = app.csrf_token("/login").await;
    let response = app
        .post_form(
            "/setup",
            &[
                ("csrf_token", &token),
                ("name", "Intruso"),
                ("email", "intruso@exemplo.com"),
                ("password", "senha-do-intruso"),
                ("password_confirm", "senha-do-intruso"),
            ],
        )
        .await;
    assert_eq!(response.status(), 404);
    use diesel::prelude::*;
    let users: i64 = engajar::schema::users::table
        .count()
        .get_result(&mut app.db())
        .unwrap();
    assert_eq!(users, 1);
}

async fn setup_keeps_input_and_names_each_problem(app: TestApp) {
    let response = app
        .submit(
            "/setup",
            "/setup",
            &[
                ("name", "Beatriz"),
                ("email", "beatriz-sem-arroba"),
                ("password", "curta"),
                ("password_confirm", "curta"),
            ],
        )
        .await;
    assert_eq!(response.status(), 200);
    let html = scraper::Html::parse_document(&response.text().await.unwrap());
    assert_eq!(
        field_value(&html, "input[name=name]").as_deref(),
        Some("Beatriz")
    );
    assert_eq!(
        field_value(&html, "input[name=email]").as_deref(),
        Some("beatriz-sem-arroba")
    );
    assert_eq!(
        texts(&html, ".field-error"),
        vec![
            "Informe um e-mail válido.",
            "A senha deve ter pelo menos 10 caracteres."
        ]
    );
    // Nothing was created: setup is still offered.
    assert_eq!(app.get("/setup").await.status(), 200);
}
