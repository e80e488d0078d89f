//! Login throttling, idle sessions and session renewal on a change of privileges.

use std::time::Duration;

use diesel::prelude::*;
use engajar::schema::{audit_log, users};
use scraper::Html;

use crate::helpers::*;

crate::on_both_backends!(
    five_failures_make_further_logins_wait,
    failures_recorded_elsewhere_count_for_the_account,
    a_session_gets_new_ids_when_its_privileges_change,
);

async fn five_failures_make_further_logins_wait(app: TestApp) {
    app.add_admin();
    for _ in 0..5 {
        let response = app.login(ADMIN_EMAIL, "senha errada demais").await;
        assert_eq!(response.status(), 200);
    }
    // The sixth attempt waits, even with the right password.
    let response = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(response.status(), 429);
    assert!(response.headers().contains_key("retry-after"));
    let html = Html::parse_document(&response.text().await.unwrap());
    assert_eq!(
        texts(&html, ".alert-error"),
        vec!["Muitas tentativas de login sem sucesso. Aguarde 15 minuto(s) e tente de novo."]
    );
    assert!(
        app.get("/engajar").await.status().is_redirection(),
        "not logged in"
    );
    // From the same address, another account waits too (per-IP count).
    app.add_staff();
    assert_eq!(app.login(STAFF_EMAIL, STAFF_PASSWORD).await.status(), 429);
    app.wait_for_audit("login_throttled", 2).await;
    let ips: Vec<Option<String>> = audit_log::table
        .filter(audit_log::action.eq("login_throttled"))
        .select(audit_log::ip)
        .load(&mut app.db())
        .unwrap();
    assert_eq!(ips, vec![Some("127.0.0.1".to_string()); 2]);
    assert_eq!(
        app.audit_actions().iter().filter(|a| *a == "login").count(),
        0
    );
}

async fn failures_recorded_elsewhere_count_for_the_account(app: TestApp) {
    app.add_admin();
    app.add_staff();
    // Five failures for the admin's account from another address (another app server
    // sharing the database would record them just so), ten minutes ago.
    let ten_minutes_ago = engajar::time::now() - 600;
    for _ in 0..5 {
        diesel::insert_into(audit_log::table)
            .values((
                audit_log::action.eq("login_failed"),
                audit_log::detail.eq(format!("e-mail: {ADMIN_EMAIL}")),
                audit_log::ip.eq("203.0.113.9"),
                audit_log::created_at.eq(ten_minutes_ago),
            ))
            .execute(&mut app.db())
            .unwrap();
    }
    let response = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(response.status(), 429);
    let html = Html::parse_document(&response.text().await.unwrap());
    assert!(texts(&html, ".alert-error")[0].contains("Aguarde 5 minuto(s)"));
    // Other accounts from this address are not affected.
    assert_eq!(
        location(&app.login(STAFF_EMAIL, STAFF_PASSWORD).await),
        "/engajar"
    );
    // Failures older than 15 minutes no longer count.
    diesel::update(audit_log::table.filter(audit_log::action.eq("login_failed")))
        .set(audit_log::created_at.eq(ten_minutes_ago - 600))
        .execute(&mut app.db())
        .unwrap();
    app.logout().await;
    assert_eq!(
        location(&app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await),
        "/engajar"
    );
}

async fn a_session_gets_new_ids_when_its_privileges_change(app: TestApp) {
    app.login_admin().await;
    let staff = app.add_staff();
    let browser = app.other_browser(STAFF_EMAIL, STAFF_PASSWORD).await;
    let token_of = |browser: reqwest::Client| {
        let url = app.url("/conta");
        async move {
            let response = browser.get(url).send().await.unwrap();
            let renewed = response.headers().contains_key("set-cookie");
            let html = Html::parse_document(&response.text().await.unwrap());
            (
                field_value(&html, "input[name=csrf_token]").unwrap(),
                renewed,
            )
        }
    };
    let (before, _) = token_of(browser.clone()).await;
    let (again, renewed) = token_of(browser.clone()).await;
    assert_eq!(before, again);
    assert!(
        !renewed,
        "an unchanged session is not re-issued on every request"
    );
    app.submit(
        "/admin/usuarios",
        &format!("/admin/usuarios/{staff}/papel"),
        &[("role", "admin")],
    )
    .await;
    let (after, renewed) = token_of(browser.clone()).await;
    assert!(renewed, "a new session cookie after the promotion");
    assert_ne!(before, after, "a new CSRF token after the promotion");
    let role: String = users::table
        .find(staff)
        .select(users::role)
        .first(&mut app.db())
        .unwrap();
    assert_eq!(role, "admin");
    let status = browser
        .get(app.url("/admin/usuarios"))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 200);
}

mod idle {
    use super::*;

    async fn an_idle_session_ends_and_an_active_one_does_not(backend: Backend) {
        let Some(app) = spawn_app_configured(backend, |_, _| {}, |c| c.session_idle_secs = 3).await
        else {
            return;
        };
        app.login_admin().await;
        // Active: a request every second keeps it alive past the limit.
        for _ in 0..5 {
            tokio::time::sleep(Duration::from_millis(1000)).await;
            assert_eq!(app.get("/contatos").await.status(), 200);
        }
        tokio::time::sleep(Duration::from_millis(4500)).await;
        let response = app.get("/contatos").await;
        assert_eq!(location(&response), "/login?expirada=1&next=%2Fcontatos");
        let html = app.get_html("/login?expirada=1&next=%2Fcontatos").await;
        assert_eq!(
            texts(&html, ".alert-ok"),
            vec!["Sua sessão terminou por inatividade. Entre de novo."]
        );
        assert!(app.get("/contatos").await.status().is_redirection());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        an_idle_session_ends_and_an_active_one_does_not(Backend::Sqlite).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        an_idle_session_ends_and_an_active_one_does_not(Backend::Postgres).await;
    }
}
