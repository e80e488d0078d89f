//! Segmentos, Usuários, Minha conta, Configurações and Auditoria.

use diesel::prelude::*;
use engajar::schema::{contact_segments, contacts, segments, users};
use scraper::Html;

use crate::helpers::*;

crate::on_both_backends!(
    segments_are_renamed_uniquely_and_deleted_only_when_unused,
    admins_create_users_and_password_rules_hold,
    the_last_active_admin_cannot_be_demoted_or_disabled,
    a_disabled_user_is_logged_out_at_the_next_request,
    admins_reset_passwords_and_users_change_their_own,
    settings_switch_verify_and_the_upload_limit,
    the_audit_log_filters_by_user_and_action,
    the_user_form_refuses_long_names_unknown_roles_and_blank_passwords,
);

async fn page(response: reqwest::Response) -> Html {
    Html::parse_document(&response.text().await.unwrap())
}

async fn segments_are_renamed_uniquely_and_deleted_only_when_unused(app: TestApp) {
    app.login_admin().await;
    let used = app.add_segment("Cobrança");
    let spare = app.add_segment("Reserva");
    app.import_bytes(
        "a.csv",
        layout_csv(&[person("TELEFONE", "11987654321", "Ana", "", "", "", "")]),
        used,
        &[],
    )
    .await;
    let contact: i64 = contacts::table
        .select(contacts::id)
        .first(&mut app.db())
        .unwrap();
    diesel::insert_into(contact_segments::table)
        .values((
            contact_segments::contact_id.eq(contact),
            contact_segments::segment_id.eq(spare),
            contact_segments::created_at.eq(1),
        ))
        .execute(&mut app.db())
        .unwrap();

    // Renaming to another segment's name (any case) is refused beside that row.
    let response = app
        .submit(
            "/admin/segmentos",
            &format!("/admin/segmentos/{spare}/renomear"),
            &[("name", "  COBRANÇA ")],
        )
        .await;
    assert_eq!(response.status(), 200);
    let html = page(response).await;
    assert_eq!(
        texts(&html, &format!("#segmento-{spare} .field-error")),
        vec!["Já existe um segmento com esse nome."]
    );
    let response = app
        .submit(
            "/admin/segmentos",
            &format!("/admin/segmentos/{spare}/renomear"),
            &[("name", "Reserva  Técnica")],
        )
        .await;
    assert_eq!(location(&response), "/admin/segmentos?ok=renomeado");
    let html = app.get_html("/admin/segmentos").await;
    assert_eq!(
        texts(&html, "table.segments tbody td:first-child"),
        vec!["Cobrança", "Reserva Técnica"]
    );
    // Counts: one contact in each, one audience in the used one.
    assert_eq!(
        texts(&html, "table.segments tbody td.num"),
        vec!["1", "1", "1", "0"]
    );

    // A segment an audience used cannot be deleted: explained, and a POST changes nothing.
    let html = app
        .get_html(&format!("/admin/segmentos/{used}/excluir"))
        .await;
    assert!(texts(&html, ".refused")[0].contains("1 público(s)"));
    assert!(
        texts(&html, "form button")
            .iter()
            .all(|b| b != "Excluir segmento")
    );
    let response = app
        .submit(
            "/admin/segmentos",
            &format!("/admin/segmentos/{used}/excluir"),
            &[],
        )
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        segments::table
            .count()
            .get_result::<i64>(&mut app.db())
            .unwrap(),
        2
    );

    // The unused one asks first, then goes with its memberships; the contact stays.
    let html = app
        .get_html(&format!("/admin/segmentos/{spare}/excluir"))
        .await;
    assert!(texts(&html, ".confirm-text")[0].starts_with("1 contato(s)"));
    let response = app
        .submit(
            &format!("/admin/segmentos/{spare}/excluir"),
            &format!("/admin/segmentos/{spare}/excluir"),
            &[],
        )
        .await;
    assert_eq!(location(&response), "/admin/segmentos?ok=excluido");
    let mut conn = app.db();
    assert_eq!(
        segments::table
            .count()
            .get_result::<i64>(&mut conn)
            .unwrap(),
        1
    );
    let memberships: Vec<i64> = contact_segments::table
        .select(contact_segments::segment_id)
        .load(&mut conn)
        .unwrap();
    assert_eq!(memberships, vec![used]);
    assert_eq!(
        contacts::table
            .count()
            .get_result::<i64>(&mut conn)
            .unwrap(),
        1
    );
    let actions = app.audit_actions();
    assert!(actions.contains(&"segment_rename".to_string()));
    assert!(actions.contains(&"segment_delete".to_string()));
    assert_eq!(
        app.get("/admin/segmentos/999999/excluir").await.status(),
        404
    );
}

async fn admins_create_users_and_password_rules_hold(app: TestApp) {
    app.login_admin().await;
    let create = |email: &'static str, password: &'static str| {
        let app = &app;
        async move {
            app.submit(
                "/admin/usuarios",
                "/admin/usuarios",
                &[
                    ("name", "Bia Souza"),
                    ("email", email),
                    ("role", "staff"),
                    ("password", password),
                ],
            )
            .await
        }
    };
    let html = page(create("bia@empresa.com.br", "curta").await).await;
    assert_eq!(
        texts(&html, "#password-error"),
        vec!["A senha deve ter pelo menos 10 caracteres."]
    );
    assert_eq!(
        field_value(&html, "#email").as_deref(),
        Some("bia@empresa.com.br")
    );
    let html = page(create("bia@empresa.com.br", "BIA@empresa.com.br").await).await;
    assert_eq!(
        texts(&html, "#password-error"),
        vec!["A senha não pode ser igual ao e-mail."]
    );
    let html = page(create(ADMIN_EMAIL, "uma senha longa 1").await).await;
    assert_eq!(
        texts(&html, "#email-error"),
        vec!["Já existe um usuário com esse e-mail."]
    );
    assert_eq!(
        users::table
            .count()
            .get_result::<i64>(&mut app.db())
            .unwrap(),
        1
    );
    let response = create("Bia@Empresa.com.br", "senha da bia 2026").await;
    assert_eq!(location(&response), "/admin/usuarios?ok=criado");
    let html = app.get_html("/admin/usuarios?ok=criado").await;
    assert_eq!(texts(&html, ".alert-ok"), vec!["Usuário criado."]);
    assert!(texts(&html, "table.users td").contains(&"bia@empresa.com.br".to_string()));
    // The new user logs in, as staff: no admin pages.
    let bia = app
        .other_browser("bia@empresa.com.br", "senha da bia 2026")
        .await;
    let status = bia
        .get(app.url("/admin/usuarios"))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 403);
    // Promoted, her sessions end; logged in again, she reaches them.
    let id: i64 = users::table
        .filter(users::email.eq("bia@empresa.com.br"))
        .select(users::id)
        .first(&mut app.db())
        .unwrap();
    let response = app
        .submit(
            "/admin/usuarios",
            &format!("/admin/usuarios/{id}/papel"),
            &[("role", "admin")],
        )
        .await;
    assert_eq!(location(&response), "/admin/usuarios?ok=papel");
    let status = bia
        .get(app.url("/admin/usuarios"))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 303, "the session of the old role ended");
    let bia = app
        .other_browser("bia@empresa.com.br", "senha da bia 2026")
        .await;
    let status = bia
        .get(app.url("/admin/usuarios"))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 200);
    assert!(app.audit_actions().contains(&"user_role".to_string()));
}

async fn the_last_active_admin_cannot_be_demoted_or_disabled(app: TestApp) {
    app.login_admin().await;
    let me: i64 = users::table.select(users::id).first(&mut app.db()).unwrap();
    for (action, field) in [("papel", ("role", "staff")), ("situacao", ("active", "0"))] {
        let response = app
            .submit(
                "/admin/usuarios",
                &format!("/admin/usuarios/{me}/{action}"),
                &[field],
            )
            .await;
        assert_eq!(response.status(), 200, "{action}");
        let html = page(response).await;
        assert_eq!(
            texts(&html, ".alert-error"),
            vec!["Não é possível: a plataforma ficaria sem nenhum administrador ativo."]
        );
    }
    let (role, disabled): (String, i32) = users::table
        .find(me)
        .select((users::role, users::disabled))
        .first(&mut app.db())
        .unwrap();
    assert_eq!((role.as_str(), disabled), ("admin", 0));
    // A disabled admin does not count: with a second admin disabled, still refused.
    let other = app.add_user(
        "outra@engajar.test",
        "Outra Admin",
        engajar::domain::Role::Admin,
        "senha da outra 1",
    );
    diesel::update(users::table.find(other))
        .set(users::disabled.eq(1))
        .execute(&mut app.db())
        .unwrap();
    let response = app
        .submit(
            "/admin/usuarios",
            &format!("/admin/usuarios/{me}/papel"),
            &[("role", "staff")],
        )
        .await;
    assert_eq!(response.status(), 200);
    // Once she is active again, the first admin may step down.
    let response = app
        .submit(
            "/admin/usuarios",
            &format!("/admin/usuarios/{other}/situacao"),
            &[("active", "1")],
        )
        .await;
    assert_eq!(location(&response), "/admin/usuarios?ok=ativado");
    let response = app
        .submit(
            "/admin/usuarios",
            &format!("/admin/usuarios/{me}/papel"),
            &[("role", "staff")],
        )
        .await;
    assert_eq!(location(&response), "/admin/usuarios?ok=papel");
    // Now staff: this session ended with the old role, and the new one is staff's.
    assert!(app.get("/admin/usuarios").await.status().is_redirection());
    app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(app.get("/admin/usuarios").await.status(), 403);
}

async fn a_disabled_user_is_logged_out_at_the_next_request(app: TestApp) {
    app.login_admin().await;
    let staff = app.add_staff();
    let browser = app.other_browser(STAFF_EMAIL, STAFF_PASSWORD).await;
    let get = |path: &'static str| {
        let browser = browser.clone();
        let url = app.url(path);
        async move { browser.get(url).send().await.unwrap() }
    };
    assert_eq!(get("/contatos").await.status(), 200);
    let response = app
        .submit(
            "/admin/usuarios",
            &format!("/admin/usuarios/{staff}/situacao"),
            &[("active", "0")],
        )
        .await;
    assert_eq!(location(&response), "/admin/usuarios?ok=desativado");
    assert_eq!(location(&get("/contatos").await), "/login?next=%2Fcontatos");
    // Enabled again, the old session stays ended: the user logs in anew.
    app.submit(
        "/admin/usuarios",
        &format!("/admin/usuarios/{staff}/situacao"),
        &[("active", "1")],
    )
    .await;
    assert!(get("/contatos").await.status().is_redirection());
    app.other_browser(STAFF_EMAIL, STAFF_PASSWORD).await;
    let actions = app.audit_actions();
    assert!(actions.contains(&"user_disable".to_string()));
    assert!(actions.contains(&"user_enable".to_string()));
}

async fn admins_reset_passwords_and_users_change_their_own(app: TestApp) {
    app.login_admin().await;
    let staff = app.add_staff();
    let response = app
        .submit(
            "/admin/usuarios",
            &format!("/admin/usuarios/{staff}/senha"),
            &[("password", "nova senha da equipe")],
        )
        .await;
    assert_eq!(location(&response), "/admin/usuarios?ok=senha");
    app.logout().await;
    let refused = app.login(STAFF_EMAIL, STAFF_PASSWORD).await;
    assert_eq!(refused.status(), 200);
    let response = app.login(STAFF_EMAIL, "nova senha da equipe").await;
    assert_eq!(location(&response), "/engajar");

    // Minha conta: the current password is required, the rules apply.
    let html = app.get_html("/conta").await;
    assert!(texts(&html, "dl.facts dd").contains(&STAFF_EMAIL.to_string()));
    let change = |current: &'static str, new: &'static str, confirm: &'static str| {
        let app = &app;
        async move {
            app.submit(
                "/conta",
                "/conta/senha",
                &[
                    ("current", current),
                    ("password", new),
                    ("password_confirm", confirm),
                ],
            )
            .await
        }
    };
    let html = page(change("errada errada", "outra senha boa", "outra senha boa").await).await;
    assert_eq!(
        texts(&html, "#current-error"),
        vec!["A senha atual não confere."]
    );
    let html = page(
        change(
            "nova senha da equipe",
            "outra senha boa",
            "outra senha ruim",
        )
        .await,
    )
    .await;
    assert_eq!(
        texts(&html, "#password-error"),
        vec!["As senhas não conferem."]
    );
    let html = page(change("nova senha da equipe", STAFF_EMAIL, STAFF_EMAIL).await).await;
    assert_eq!(
        texts(&html, "#password-error"),
        vec!["A senha não pode ser igual ao e-mail."]
    );
    let response = change("nova senha da equipe", "outra senha boa", "outra senha boa").await;
    assert_eq!(location(&response), "/conta?ok=1");
    // Still logged in (the session was renewed), and the new password is the one.
    assert_eq!(app.get("/conta").await.status(), 200);
    app.logout().await;
    assert_eq!(
        app.login(STAFF_EMAIL, "nova senha da equipe")
            .await
            .status(),
        200
    );
    assert_eq!(
        location(&app.login(STAFF_EMAIL, "outra senha boa").await),
        "/engajar"
    );
    let actions = app.audit_actions();
    assert!(actions.contains(&"user_password_reset".to_string()));
    assert!(actions.contains(&"password_change".to_string()));
}

async fn settings_switch_verify_and_the_upload_limit(app: TestApp) {
    app.login_admin().await;
    // The test app starts with Verify on (the environment's value) and 2 MB.
    let html = app.get_html("/admin/configuracoes").await;
    assert!(
        Html::select(
            &html,
            &scraper::Selector::parse("#verify[checked]").unwrap()
        )
        .next()
        .is_some()
    );
    assert_eq!(field_value(&html, "#max_upload_mb").as_deref(), Some("2"));
    let html = app.get_html("/engajar/publicos/importar").await;
    assert_eq!(texts(&html, "input[name=verify]").len(), 1);

    let response = app
        .submit(
            "/admin/configuracoes",
            "/admin/configuracoes",
            &[("max_upload_mb", "0")],
        )
        .await;
    let html = page(response).await;
    assert_eq!(
        texts(&html, "#max-upload-error"),
        vec!["Informe um limite entre 1 e 2048 MB."]
    );
    // Verify unticked, 1 MB: the form stops offering Verify and refuses bigger files.
    let response = app
        .submit(
            "/admin/configuracoes",
            "/admin/configuracoes",
            &[("max_upload_mb", "1")],
        )
        .await;
    assert_eq!(location(&response), "/admin/configuracoes?ok=1");
    let html = app.get_html("/engajar/publicos/importar").await;
    assert!(texts(&html, "input[name=verify]").is_empty());
    assert!(texts(&html, ".hint").iter().any(|h| h.contains("até 1 MB")));
    let segment = app.add_segment("Limite");
    let segment = segment.to_string();
    let big = vec![b'x'; 1_300_000];
    let response = app
        .post_import(
            "grande.csv",
            big,
            &[
                ("descricao", "Grande"),
                ("segmento", &segment),
                ("autorizacao", "consentimento"),
                ("verify", "on"),
            ],
        )
        .await;
    assert_eq!(response.status(), 413);
    assert!(app.audit_actions().contains(&"settings".to_string()));
}

async fn the_audit_log_filters_by_user_and_action(app: TestApp) {
    app.add_staff();
    assert_eq!(app.login(STAFF_EMAIL, "senha errada!!").await.status(), 200);
    app.login_admin().await;
    app.wait_for_audit("login_failed", 1).await;
    app.wait_for_audit("login", 1).await;
    app.submit(
        "/admin/segmentos",
        "/admin/segmentos",
        &[("name", "Auditado")],
    )
    .await;
    let html = app.get_html("/admin/auditoria?acao=login_failed").await;
    assert_eq!(texts(&html, "td.action"), vec!["Login recusado"]);
    assert_eq!(texts(&html, "td.ip"), vec!["127.0.0.1"]);
    assert_eq!(texts(&html, "td.who"), vec!["Caio da Equipe"]);
    let admin: i64 = users::table
        .filter(users::email.eq(ADMIN_EMAIL))
        .select(users::id)
        .first(&mut app.db())
        .unwrap();
    let html = app
        .get_html(&format!("/admin/auditoria?usuario={admin}"))
        .await;
    let actions: Vec<String> = texts(&html, "td.action");
    assert_eq!(actions, vec!["Segmento criado", "Login"]);
    assert!(texts(&html, "td.detail")[0].contains("Auditado"));
    // Unknown filters are ignored rather than failing.
    let html = app
        .get_html("/admin/auditoria?acao=%3Cx%3E&usuario=abc")
        .await;
    assert_eq!(texts(&html, "td.action").len(), 3);
}

async fn the_user_form_refuses_long_names_unknown_roles_and_blank_passwords(app: TestApp) {
    app.login_admin().await;
    let long = "N".repeat(5_000);
    for (name, role, password, selector, message) in [
        (
            long.as_str(),
            "staff",
            "senha-boa-12345",
            "#name-error",
            "O nome pode ter no máximo 100 caracteres.",
        ),
        (
            "Rui",
            "root",
            "senha-boa-12345",
            "#role-error",
            "Escolha o papel: Equipe ou Administrador.",
        ),
        (
            "Rui",
            "staff",
            "          ",
            "#password-error",
            "A senha não pode ser feita só de espaços.",
        ),
    ] {
        let response = app
            .submit(
                "/admin/usuarios",
                "/admin/usuarios",
                &[
                    ("name", name),
                    ("email", "rui@engajar.test"),
                    ("role", role),
                    ("password", password),
                ],
            )
            .await;
        assert_eq!(response.status(), 200);
        let html = page(response).await;
        assert_eq!(texts(&html, selector), vec![message]);
    }
    let users: i64 = users::table.count().get_result(&mut app.db()).unwrap();
    assert_eq!(users, 1, "nobody was created");
}
