use engajar::domain::Role;

use crate::helpers::*;

crate::on_both_backends!(
    login_with_the_right_password_opens_engajar,
    login_failure_says_the_same_for_unknown_email_and_wrong_password,
    login_renews_the_session_cookie,
    logout_ends_the_session,
    a_disabled_user_cannot_log_in,
    a_disabled_user_loses_an_open_session_at_the_next_request,
    login_failures_and_successes_are_audited,
);

async fn login_with_the_right_password_opens_engajar(app: TestApp) {
    app.add_admin();
    // E-mail case and spaces do not matter.
    let response = app.login("  Admin@Engajar.Test ", ADMIN_PASSWORD).await;
    assert_eq!(location(&response), "/engajar");

    let html = app.get_html("/engajar").await;
    assert_eq!(texts(&html, ".user-name"), vec!["Ana Administradora"]);
    let options = texts(&html, ".options li strong");
    assert_eq!(
        options.first().map(String::as_str),
        Some("Importação de Público")
    );
}

async fn login_failure_says_the_same_for_unknown_email_and_wrong_password(app: TestApp) {
    app.add_admin();
    let wrong_password = app.login(ADMIN_EMAIL, "senha-errada-123").await;
    assert_eq!(wrong_password.status(), 200);
    let wrong_password = scraper::Html::parse_document(&wrong_password.text().await.unwrap());

    let unknown = app.login("ninguem@engajar.test", ADMIN_PASSWORD).await;
    assert_eq!(unknown.status(), 200);
    let unknown = scraper::Html::parse_document(&unknown.text().await.unwrap());

    let message = texts(&wrong_password, ".alert-error");
    assert_eq!(message, vec!["E-mail ou senha inválidos."]);
    assert_eq!(texts(&unknown, ".alert-error"), message);
    // Still anonymous.
    assert_eq!(
        location(&app.get("/engajar").await),
        "/login?next=%2Fengajar"
    );
}

async fn login_renews_the_session_cookie(app: TestApp) {
    app.add_admin();
    let first = app.get("/login").await;
    let before = session_cookie(&first).expect("anonymous session cookie");
    let response = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let after = session_cookie(&response).expect("new session cookie at login");
    assert_ne!(before, after);
    let raw = response
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with("engajar_session="))
        .unwrap();
    assert!(raw.contains("HttpOnly"), "{raw}");
    assert!(raw.contains("SameSite=Lax"), "{raw}");
    assert!(
        !raw.contains("Secure"),
        "not Secure unless configured: {raw}"
    );
}

fn session_cookie(response: &reqwest::Response) -> Option<String> {
    response
        .cookies()
        .find(|c| c.name() == "engajar_session")
        .map(|c| c.value().to_string())
}

async fn logout_ends_the_session(app: TestApp) {
    app.login_admin().await;
    let token = app.csrf_token("/engajar").await;
    let response = app.post_form("/logout", &[("csrf_token", &token)]).await;
    assert_eq!(location(&response), "/login");
    assert_eq!(
        location(&app.get("/engajar").await),
        "/login?next=%2Fengajar"
    );
}

async fn a_disabled_user_cannot_log_in(app: TestApp) {
    let id = app.add_staff();
    set_disabled(&app, id);
    let response = app.login(STAFF_EMAIL, STAFF_PASSWORD).await;
    assert_eq!(response.status(), 200);
    let html = scraper::Html::parse_document(&response.text().await.unwrap());
    assert_eq!(
        texts(&html, ".alert-error"),
        vec!["E-mail ou senha inválidos."]
    );
    assert!(app.get("/engajar").await.status().is_redirection());
}

async fn a_disabled_user_loses_an_open_session_at_the_next_request(app: TestApp) {
    app.login_staff().await;
    assert_eq!(app.get("/engajar/publicos").await.status(), 200);
    let id = app.add_user(
        "outra@engajar.test",
        "Outra",
        Role::Staff,
        "outra-senha-123",
    );
    assert_ne!(id, 0);
    let staff_id = {
        use diesel::prelude::*;
        use engajar::schema::users;
        users::table
            .filter(users::email.eq(STAFF_EMAIL))
            .select(users::id)
            .first::<i64>(&mut app.db())
            .unwrap()
    };
    set_disabled(&app, staff_id);
    let response = app.get("/engajar/publicos").await;
    assert_eq!(location(&response), "/login?next=%2Fengajar%2Fpublicos");
    // The session is gone, not just hidden: re-enabling does not bring it back.
    {
        use diesel::prelude::*;
        use engajar::schema::users;
        diesel::update(users::table.find(staff_id))
            .set(users::disabled.eq(0))
            .execute(&mut app.db())
            .unwrap();
    }
    assert!(app.get("/engajar/publicos").await.status().is_redirection());
}

fn set_disabled(app: &TestApp, id: i64) {
    use diesel::prelude::*;
    use engajar::schema::users;
    let changed = diesel::update(users::table.find(id))
        .set(users::disabled.eq(1))
        .execute(&mut app.db())
        .unwrap();
    assert_eq!(changed, 1);
}

async fn login_failures_and_successes_are_audited(app: TestApp) {
    app.add_admin();
    app.login(ADMIN_EMAIL, "senha-errada-123").await;
    app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    app.wait_for_audit("login_failed", 1).await;
    app.wait_for_audit("login", 1).await;
    let entries = engajar::models::audit::AuditEntry::latest(&mut app.db(), 10).unwrap();
    let actions: Vec<&str> = entries.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, vec!["login", "login_failed"]);
    assert_eq!(entries[0].ip.as_deref(), Some("127.0.0.1"));
    assert!(entries[1].detail.contains(ADMIN_EMAIL));
}
