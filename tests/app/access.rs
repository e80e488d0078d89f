use crate::helpers::*;

crate::on_both_backends!(
    anonymous_requests_while_on_the_login_page_do_not_spoil_its_form,
    anonymous_requests_go_to_login_and_come_back_after,
    next_never_leads_off_site,
    public_paths_need_no_login,
    a_post_without_a_valid_csrf_token_is_refused_and_changes_nothing,
    staff_get_403_on_admin_pages,
    unknown_pages_get_a_pt_br_404,
);

async fn anonymous_requests_go_to_login_and_come_back_after(app: TestApp) {
    app.add_admin();
    let response = app.get("/engajar/publicos?page=1").await;
    assert_eq!(
        location(&response),
        "/login?next=%2Fengajar%2Fpublicos%3Fpage%3D1"
    );
    let html = app
        .get_html("/login?next=%2Fengajar%2Fpublicos%3Fpage%3D1")
        .await;
    assert_eq!(
        field_value(&html, "input[name=next]").as_deref(),
        Some("/engajar/publicos?page=1")
    );
    let token = field_value(&html, "input[name=csrf_token]").unwrap();
    let response = app
        .post_form(
            "/login",
            &[
                ("csrf_token", &token),
                ("next", "/engajar/publicos?page=1"),
                ("email", ADMIN_EMAIL),
                ("password", ADMIN_PASSWORD),
            ],
        )
        .await;
    assert_eq!(location(&response), "/engajar/publicos?page=1");
}

async fn next_never_leads_off_site(app: TestApp) {
    app.add_admin();
    for hostile in [
        "https://evil.example/",
        "//evil.example/x",
        "/\\evil.example",
    ] {
        let token = app.csrf_token("/login").await;
        let response = app
            .post_form(
                "/login",
                &[
                    ("csrf_token", &token),
                    ("next", hostile),
                    ("email", ADMIN_EMAIL),
                    ("password", ADMIN_PASSWORD),
                ],
            )
            .await;
        assert_eq!(location(&response), "/engajar", "next={hostile}");
        let token = app.csrf_token("/engajar").await;
        app.post_form("/logout", &[("csrf_token", &token)]).await;
    }
}

async fn public_paths_need_no_login(app: TestApp) {
    let health = app.get("/healthz").await;
    assert_eq!(health.status(), 200);
    assert_eq!(health.text().await.unwrap(), "ok");
    let css = app.get("/static/engajar.css").await;
    assert_eq!(css.status(), 200);
    assert!(
        css.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/css")
    );
    assert_eq!(app.get("/static/nao-existe.css").await.status(), 404);
    let login = app.get("/setup").await;
    assert_eq!(login.status(), 200);
    let headers = login.headers();
    assert_eq!(headers["x-frame-options"], "DENY");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert!(
        headers["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("frame-ancestors 'none'")
    );
}

async fn a_post_without_a_valid_csrf_token_is_refused_and_changes_nothing(app: TestApp) {
    app.add_admin();
    // Login without a token: refused even with the right password.
    app.get("/login").await;
    let response = app
        .post_form(
            "/login",
            &[("email", ADMIN_EMAIL), ("password", ADMIN_PASSWORD)],
        )
        .await;
    assert_eq!(response.status(), 403);
    let html = scraper::Html::parse_document(&response.text().await.unwrap());
    assert_eq!(texts(&html, "h1"), vec!["Formulário expirado"]);
    assert!(app.get("/engajar").await.status().is_redirection());

    app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    for fields in [
        vec![("name", "Sem token")],
        vec![("name", "Token errado"), ("csrf_token", "AAAA")],
        vec![("name", "Token vazio"), ("csrf_token", "")],
    ] {
        let response = app.post_form("/admin/segmentos", &fields).await;
        assert_eq!(response.status(), 403, "{fields:?}");
    }
    // A token from another session is no good either.
    let other = new_client();
    let other_page = other.get(app.url("/login")).send().await.unwrap();
    let other_html = scraper::Html::parse_document(&other_page.text().await.unwrap());
    let foreign = field_value(&other_html, "input[name=csrf_token]").unwrap();
    let response = app
        .post_form(
            "/admin/segmentos",
            &[("name", "Alheio"), ("csrf_token", &foreign)],
        )
        .await;
    assert_eq!(response.status(), 403);

    use diesel::prelude::*;
    let segments: i64 = engajar::schema::segments::table
        .count()
        .get_result(&mut app.db())
        .unwrap();
    assert_eq!(segments, 0);
    // Logout without a token does not log out.
    assert_eq!(app.post_form("/logout", &[]).await.status(), 403);
    assert_eq!(app.get("/engajar").await.status(), 200);
}

async fn staff_get_403_on_admin_pages(app: TestApp) {
    app.login_staff().await;
    assert_eq!(app.get("/engajar/publicos").await.status(), 200);
    let response = app.get("/admin/segmentos").await;
    assert_eq!(response.status(), 403);
    let html = scraper::Html::parse_document(&response.text().await.unwrap());
    assert_eq!(texts(&html, "h1"), vec!["Acesso negado"]);
    // Staff do not see the admin menu entry.
    let html = app.get_html("/engajar").await;
    assert!(texts(&html, ".menu a").iter().all(|t| t != "Segmentos"));
    let token = app.csrf_token("/engajar").await;
    let response = app
        .post_form(
            "/admin/segmentos",
            &[("name", "Da equipe"), ("csrf_token", &token)],
        )
        .await;
    assert_eq!(response.status(), 403);
    use diesel::prelude::*;
    let segments: i64 = engajar::schema::segments::table
        .count()
        .get_result(&mut app.db())
        .unwrap();
    assert_eq!(segments, 0);
}

async fn unknown_pages_get_a_pt_br_404(app: TestApp) {
    app.login_staff().await;
    let response = app.get("/nao-existe").await;
    assert_eq!(response.status(), 404);
    let html = scraper::Html::parse_document(&response.text().await.unwrap());
    assert_eq!(texts(&html, "h1"), vec!["Página não encontrada"]);
}

/// A browser fetches more than the page (a favicon, a stale tab) while the user types:
/// those anonymous requests must not throw away the session holding the form's token.
async fn anonymous_requests_while_on_the_login_page_do_not_spoil_its_form(app: TestApp) {
    app.add_admin();
    let token = app.csrf_token("/login").await;
    assert_eq!(app.get("/favicon.ico").await.status(), 404);
    assert!(app.get("/engajar/publicos").await.status().is_redirection());
    let response = app
        .post_form(
            "/login",
            &[
                ("csrf_token", &token),
                ("email", ADMIN_EMAIL),
                ("password", ADMIN_PASSWORD),
            ],
        )
        .await;
    assert_eq!(location(&response), "/engajar");
}
