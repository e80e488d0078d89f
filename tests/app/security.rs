//! Login throttling, and sessions that end for good: logout, password changes, admin
//! actions, idle and absolute limits.

use diesel::prelude::*;
use engajar::schema::{audit_log, user_sessions, users};
use scraper::Html;

use crate::helpers::*;

crate::on_both_backends!(
    five_failures_make_further_logins_wait,
    failures_recorded_elsewhere_count_for_the_account,
    a_cookie_copied_before_logout_is_worthless_after_it,
    a_password_change_ends_the_other_sessions_and_keeps_this_one,
    an_admin_reset_disable_or_role_change_ends_every_session_of_the_user,
    leaving_every_device_ends_all_of_ones_sessions,
    a_session_ends_after_its_absolute_lifetime_even_when_used,
    a_forwarded_address_from_an_untrusted_peer_is_ignored,
    wrong_passwords_at_once_get_five_checks,
    an_over_long_email_is_refused_without_a_trace,
    the_current_password_check_is_throttled_and_audited,
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
    // Refused attempts are counted, not written one by one.
    for _ in 0..20 {
        assert_eq!(app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await.status(), 429);
    }
    // Five typos on one account do not lock out the colleagues at the same address.
    app.add_staff();
    assert_eq!(
        location(&app.login(STAFF_EMAIL, STAFF_PASSWORD).await),
        "/engajar"
    );
    app.wait_for_audit("login", 1).await;
    let throttled: Vec<(String, Option<String>)> = audit_log::table
        .filter(audit_log::action.eq("login_throttled"))
        .select((audit_log::detail, audit_log::ip))
        .load(&mut app.db())
        .unwrap();
    assert_eq!(
        throttled,
        vec![(
            format!("e-mail: {ADMIN_EMAIL}; 1 tentativa(s) recusada(s)"),
            Some("127.0.0.1".to_string())
        )]
    );
}

/// The CSRF token of the form on `path`, as `client` (with its own cookies) sees it.
async fn csrf_of(app: &TestApp, client: &reqwest::Client, path: &str) -> String {
    let page = client.get(app.url(path)).send().await.unwrap();
    let html = Html::parse_document(&page.text().await.unwrap());
    field_value(&html, "input[name=csrf_token]").unwrap()
}

/// Logs in from a fresh client, as if from `forwarded` behind a load balancer.
async fn login_via(app: &TestApp, forwarded: &str, email: &str, password: &str) -> u16 {
    let client = new_client();
    let token = csrf_of(app, &client, "/login").await;
    client
        .post(app.url("/login"))
        .header("X-Forwarded-For", forwarded)
        .form(&[
            ("email", email),
            ("password", password),
            ("csrf_token", &token),
        ])
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

mod proxies {
    use super::*;

    /// Behind a trusted balancer each client is its own address: fifty failures on
    /// made-up accounts stop that address, not the office next door, and its audit
    /// entries name the real client.
    async fn an_address_behind_the_balancer_is_throttled_alone(backend: Backend) {
        let Some(app) = spawn_app_configured(
            backend,
            |_, _| {},
            |c| {
                c.trusted_proxies = engajar::config::parse_proxies("127.0.0.1/32").unwrap();
            },
        )
        .await
        else {
            return;
        };
        app.add_admin();
        let attacker = "198.51.100.1";
        for i in 0..engajar::web::throttle::MAX_ADDRESS_FAILURES {
            let status = login_via(
                &app,
                attacker,
                &format!("ninguem{i}@x.com.br"),
                "x1234567890",
            )
            .await;
            assert_eq!(status, 200, "attempt {i}");
        }
        assert_eq!(
            login_via(&app, attacker, ADMIN_EMAIL, ADMIN_PASSWORD).await,
            429
        );
        assert_eq!(
            login_via(&app, "198.51.100.2", ADMIN_EMAIL, ADMIN_PASSWORD).await,
            303
        );
        app.wait_for_audit("login", 1).await;
        let ip: Option<String> = audit_log::table
            .filter(audit_log::action.eq("login"))
            .select(audit_log::ip)
            .first(&mut app.db())
            .unwrap();
        assert_eq!(ip.as_deref(), Some("198.51.100.2"));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        an_address_behind_the_balancer_is_throttled_alone(Backend::Sqlite).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        an_address_behind_the_balancer_is_throttled_alone(Backend::Postgres).await;
    }
}

async fn a_forwarded_address_from_an_untrusted_peer_is_ignored(app: TestApp) {
    app.add_admin();
    assert_eq!(
        login_via(&app, "203.0.113.77", ADMIN_EMAIL, ADMIN_PASSWORD).await,
        303
    );
    app.wait_for_audit("login", 1).await;
    let ip: Option<String> = audit_log::table
        .filter(audit_log::action.eq("login"))
        .select(audit_log::ip)
        .first(&mut app.db())
        .unwrap();
    assert_eq!(ip.as_deref(), Some("127.0.0.1"));
}

async fn wrong_passwords_at_once_get_five_checks(app: TestApp) {
    app.add_admin();
    // Twenty browsers with the login form open, then all submit at the same moment.
    let mut browsers = Vec::new();
    for _ in 0..20 {
        let client = new_client();
        let token = csrf_of(&app, &client, "/login").await;
        browsers.push((client, token));
    }
    let url = app.url("/login");
    let attempts = browsers.iter().map(|(client, token)| {
        let url = url.clone();
        async move {
            client
                .post(url)
                .form(&[
                    ("email", ADMIN_EMAIL),
                    ("password", "senha errada demais"),
                    ("csrf_token", token.as_str()),
                ])
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    });
    let statuses = futures_util::future::join_all(attempts).await;
    let checked = statuses.iter().filter(|s| **s == 200).count();
    let waited = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!((checked, waited), (5, 15), "{statuses:?}");
    app.wait_for_audit("login_failed", 5).await;
    let failed = app
        .audit_actions()
        .iter()
        .filter(|a| *a == "login_failed")
        .count();
    assert_eq!(failed, 5, "five passwords were checked");
    let throttled: i64 = audit_log::table
        .filter(audit_log::action.eq("login_throttled"))
        .count()
        .get_result(&mut app.db())
        .unwrap();
    assert_eq!(throttled, 1, "refusals are noted once a minute");
}

async fn an_over_long_email_is_refused_without_a_trace(app: TestApp) {
    app.add_admin();
    let long = format!("{}@x.com.br", "a".repeat(60_000));
    for _ in 0..10 {
        let response = app.login(&long, "qualquer senha").await;
        assert_eq!(response.status(), 200);
        let html = Html::parse_document(&response.text().await.unwrap());
        assert_eq!(
            texts(&html, ".alert-error"),
            vec!["E-mail ou senha inválidos."]
        );
    }
    assert_eq!(
        location(&app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await),
        "/engajar"
    );
    app.wait_for_audit("login", 1).await;
    let longest: Option<i32> = audit_log::table
        .select(diesel::dsl::max(diesel::dsl::sql::<
            diesel::sql_types::Integer,
        >("length(detail)")))
        .first(&mut app.db())
        .unwrap();
    assert!(longest.unwrap_or(0) < 300, "{longest:?}");
}

async fn the_current_password_check_is_throttled_and_audited(app: TestApp) {
    app.login_admin().await;
    let change = |current: &'static str| {
        let app = &app;
        async move {
            app.submit(
                "/conta",
                "/conta/senha",
                &[
                    ("current", current),
                    ("password", "outra-senha-boa-123"),
                    ("password_confirm", "outra-senha-boa-123"),
                ],
            )
            .await
        }
    };
    for _ in 0..5 {
        let response = change("chute errado 123").await;
        assert_eq!(response.status(), 200);
        let html = Html::parse_document(&response.text().await.unwrap());
        assert_eq!(
            texts(&html, "#current-error"),
            vec!["A senha atual não confere."]
        );
    }
    let response = change(ADMIN_PASSWORD).await;
    assert_eq!(response.status(), 429);
    let html = Html::parse_document(&response.text().await.unwrap());
    assert!(texts(&html, "#current-error")[0].starts_with("Muitas tentativas"));
    let failures: Vec<String> = audit_log::table
        .filter(audit_log::action.eq("password_change_failed"))
        .select(audit_log::detail)
        .load(&mut app.db())
        .unwrap();
    assert_eq!(failures, vec![format!("e-mail: {ADMIN_EMAIL}"); 5]);
    // The password did not change.
    app.logout().await;
    assert_eq!(
        app.login(ADMIN_EMAIL, "outra-senha-boa-123").await.status(),
        429
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

/// A client that keeps no cookies of its own: it sends exactly the cookie it was given,
/// as someone who copied it from a browser would.
fn with_copied_cookie(cookie: &str) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(reqwest::header::COOKIE, cookie.parse().unwrap());
    reqwest::Client::builder()
        .default_headers(headers)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Logs in with a fresh client and returns the session cookie as a browser would send it.
async fn session_cookie(app: &TestApp, email: &str, password: &str) -> String {
    let client = new_client();
    let token = csrf_of(app, &client, "/login").await;
    let response = client
        .post(app.url("/login"))
        .form(&[
            ("email", email),
            ("password", password),
            ("csrf_token", &token),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(location(&response), "/engajar");
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(SESSION_COOKIE_PREFIX))
        .and_then(|v| v.split(';').next())
        .expect("a session cookie")
        .to_string()
}

const SESSION_COOKIE_PREFIX: &str = "engajar_session=";

async fn is_logged_in(app: &TestApp, client: &reqwest::Client) -> bool {
    client.get(app.url("/conta")).send().await.unwrap().status() == 200
}

async fn a_cookie_copied_before_logout_is_worthless_after_it(app: TestApp) {
    app.add_admin();
    let cookie = session_cookie(&app, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let original = with_copied_cookie(&cookie);
    let copy = with_copied_cookie(&cookie);
    assert!(is_logged_in(&app, &copy).await);
    let token = csrf_of(&app, &original, "/conta").await;
    let response = original
        .post(app.url("/logout"))
        .form(&[("csrf_token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(location(&response), "/login");
    assert!(
        !is_logged_in(&app, &copy).await,
        "the copied cookie died with the logout"
    );
    let sessions: i64 = user_sessions::table
        .count()
        .get_result(&mut app.db())
        .unwrap();
    assert_eq!(sessions, 0);
}

async fn a_password_change_ends_the_other_sessions_and_keeps_this_one(app: TestApp) {
    app.login_admin().await;
    let elsewhere = with_copied_cookie(&session_cookie(&app, ADMIN_EMAIL, ADMIN_PASSWORD).await);
    assert!(is_logged_in(&app, &elsewhere).await);
    let response = app
        .submit(
            "/conta",
            "/conta/senha",
            &[
                ("current", ADMIN_PASSWORD),
                ("password", "outra-senha-boa-123"),
                ("password_confirm", "outra-senha-boa-123"),
            ],
        )
        .await;
    assert_eq!(location(&response), "/conta?ok=1");
    assert!(
        is_logged_in(&app, &app.client).await,
        "this session goes on"
    );
    assert!(!is_logged_in(&app, &elsewhere).await, "the other one ended");
}

async fn an_admin_reset_disable_or_role_change_ends_every_session_of_the_user(app: TestApp) {
    app.login_admin().await;
    let staff = app.add_staff();
    let mut password = STAFF_PASSWORD.to_string();
    for (action, field) in [
        ("senha", ("password", "senha-nova-da-equipe-1")),
        ("papel", ("role", "admin")),
        ("situacao", ("active", "0")),
    ] {
        let a = with_copied_cookie(&session_cookie(&app, STAFF_EMAIL, &password).await);
        let b = with_copied_cookie(&session_cookie(&app, STAFF_EMAIL, &password).await);
        assert!(is_logged_in(&app, &a).await && is_logged_in(&app, &b).await);
        let response = app
            .submit(
                "/admin/usuarios",
                &format!("/admin/usuarios/{staff}/{action}"),
                &[field],
            )
            .await;
        assert!(response.status().is_redirection(), "{action}");
        assert!(
            !is_logged_in(&app, &a).await,
            "{action} ends the first session"
        );
        assert!(
            !is_logged_in(&app, &b).await,
            "{action} ends the second session"
        );
        if action == "senha" {
            password = field.1.to_string();
        }
    }
    let role: String = users::table
        .find(staff)
        .select(users::role)
        .first(&mut app.db())
        .unwrap();
    assert_eq!(role, "admin");
    assert!(
        is_logged_in(&app, &app.client).await,
        "the admin's own session goes on"
    );
}

async fn leaving_every_device_ends_all_of_ones_sessions(app: TestApp) {
    app.login_admin().await;
    let staff_id = app.add_staff();
    let staff = with_copied_cookie(&session_cookie(&app, STAFF_EMAIL, STAFF_PASSWORD).await);
    let phone = with_copied_cookie(&session_cookie(&app, ADMIN_EMAIL, ADMIN_PASSWORD).await);
    let html = app.get_html("/conta").await;
    assert_eq!(
        texts(&html, "#logout-everywhere button"),
        vec!["Sair de todos os dispositivos"]
    );
    let response = app.submit("/conta", "/conta/sair-de-todos", &[]).await;
    assert_eq!(location(&response), "/login");
    assert!(!is_logged_in(&app, &app.client).await);
    assert!(!is_logged_in(&app, &phone).await);
    assert!(
        is_logged_in(&app, &staff).await,
        "someone else's session is untouched"
    );
    let left: Vec<i64> = user_sessions::table
        .select(user_sessions::user_id)
        .load(&mut app.db())
        .unwrap();
    assert_eq!(left, vec![staff_id]);
    assert!(
        app.audit_actions()
            .contains(&"logout_everywhere".to_string())
    );
}

async fn a_session_ends_after_its_absolute_lifetime_even_when_used(app: TestApp) {
    app.login_admin().await;
    assert!(is_logged_in(&app, &app.client).await);
    // Opened 12 hours and a minute ago, used a moment ago.
    let now = engajar::time::now();
    diesel::update(user_sessions::table)
        .set((
            user_sessions::created_at.eq(now - 12 * 3600 - 60),
            user_sessions::last_seen_at.eq(now - 5),
        ))
        .execute(&mut app.db())
        .unwrap();
    let response = app.get("/contatos").await;
    assert_eq!(location(&response), "/login?expirada=1&next=%2Fcontatos");
    // Expired sessions, this one and others', are purged at the next login.
    let staff = app.add_staff();
    diesel::insert_into(user_sessions::table)
        .values((
            user_sessions::token_hash.eq("0".repeat(64)),
            user_sessions::user_id.eq(staff),
            user_sessions::created_at.eq(now - 20 * 3600),
            user_sessions::last_seen_at.eq(now - 20 * 3600),
        ))
        .execute(&mut app.db())
        .unwrap();
    assert_eq!(
        location(&app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await),
        "/engajar"
    );
    let users_with_sessions: Vec<i64> = user_sessions::table
        .select(user_sessions::user_id)
        .load(&mut app.db())
        .unwrap();
    assert_eq!(users_with_sessions.len(), 1);
    assert_ne!(users_with_sessions[0], staff);
}

mod idle {
    use super::*;

    /// The session's clock is its `last_seen_at`: moved back instead of slept through.
    fn last_seen(app: &TestApp, seconds_ago: i64) {
        diesel::update(user_sessions::table)
            .set(user_sessions::last_seen_at.eq(engajar::time::now() - seconds_ago))
            .execute(&mut app.db())
            .unwrap();
    }

    async fn an_idle_session_ends_and_an_active_one_does_not(backend: Backend) {
        let Some(app) =
            spawn_app_configured(backend, |_, _| {}, |c| c.session_idle_secs = 600).await
        else {
            return;
        };
        app.login_admin().await;
        // Used nine minutes ago: still alive, and the visit counts as use.
        last_seen(&app, 540);
        assert_eq!(app.get("/contatos").await.status(), 200);
        // Recorded off the request path, so a page view never waits for a write.
        let started = std::time::Instant::now();
        loop {
            let seen: i64 = user_sessions::table
                .select(user_sessions::last_seen_at)
                .first(&mut app.db())
                .unwrap();
            if engajar::time::now() - seen < 5 {
                break;
            }
            assert!(
                started.elapsed().as_secs() < 10,
                "the visit was never recorded"
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        // Unused for eleven minutes: over.
        last_seen(&app, 660);
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
