//! Titulares (LGPD): a person's report, its JSON, and their elimination — after which no
//! text column of any table holds any of their values.

use diesel::prelude::*;
use diesel::sql_types::Text;
use engajar::schema::{audit_log, contacts};

use crate::helpers::*;

crate::on_both_backends!(
    a_titular_report_shows_everything_and_downloads_as_json,
    erasing_a_titular_leaves_no_trace_and_keeps_them_out,
    the_command_line_exports_and_erases_a_titular,
    the_request_register_counts_fifteen_days_and_shows_overdue_ones,
    revoking_consent_lists_the_channels_and_marks_the_rows,
    retention_removes_what_expired_and_its_dry_run_counts_the_same,
);

const NAME: &str = "Joana Prado Lima";
const PHONE: &str = "11987651234";
const EMAIL: &str = "joana.prado@exemplo.com.br";
const CPF: &str = "52998224725";

fn joana(kind: &'static str, value: &'static str, coringa: &'static str) -> [&'static str; 13] {
    [
        kind,
        value,
        "Sua fatura venceu",
        NAME,
        CPF,
        "C-77",
        "Loja Centro",
        coringa,
        "",
        "",
        "",
        "",
        "ALTA",
    ]
}

fn other() -> [&'static str; 13] {
    [
        "TELEFONE",
        "21998761111",
        "",
        "Outra Pessoa",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
    ]
}

/// Joana through two imports (one with a row of hers refused), an interaction, the
/// Não Perturbe list and a look at her page; someone else beside her.
async fn joana_everywhere(app: &TestApp) -> i64 {
    app.login_admin().await;
    let segment = app.add_segment("Cobrança");
    let mut refused = joana("EMAIL", "joana.prado@", "");
    refused[4] = CPF;
    app.import_bytes(
        "primeiro.csv",
        layout_csv(&[
            joana("TELEFONE", PHONE, "R$ 150,00"),
            joana("EMAIL", EMAIL, "R$ 150,00"),
            refused,
            other(),
        ]),
        segment,
        &[],
    )
    .await;
    app.import_bytes(
        "segundo.csv",
        layout_csv(&[joana("TELEFONE", "(11) 98765-1234", "R$ 99,00")]),
        segment,
        &[],
    )
    .await;
    engajar::models::NewInteraction {
        kind: engajar::domain::RecordType::Telefone,
        value: "+5511987651234",
        body: "Aqui é a Joana Prado Lima, quero negociar",
        occurred_at: engajar::time::now(),
        external_id: None,
    }
    .insert(&mut app.db(), engajar::time::now())
    .unwrap();
    let response = app
        .submit(
            "/admin/nao-perturbe",
            "/admin/nao-perturbe",
            &[("value", EMAIL)],
        )
        .await;
    assert_eq!(response.status(), 303);
    let id: i64 = contacts::table
        .filter(contacts::document.eq(CPF))
        .select(contacts::id)
        .first(&mut app.db())
        .unwrap();
    assert_eq!(app.get(&format!("/contatos/{id}")).await.status(), 200);
    id
}

async fn a_titular_report_shows_everything_and_downloads_as_json(app: TestApp) {
    let id = joana_everywhere(&app).await;
    // Any key, in any format the import accepts.
    for q in [
        "529.982.247-25",
        "(11) 98765-1234",
        "JOANA.PRADO@exemplo.com.br",
    ] {
        let html = app
            .get_html(&format!("/lgpd?q={}", urlencoding::encode(q)))
            .await;
        assert_eq!(texts(&html, ".titular-contact dd.name"), vec![NAME], "{q}");
        assert_eq!(
            texts(&html, ".titular-contact dd.document"),
            vec!["529.982.247-25"]
        );
        assert_eq!(texts(&html, "table.titular-rows tbody tr").len(), 3, "{q}");
        assert_eq!(texts(&html, "table.titular-interactions tbody tr").len(), 1);
        assert_eq!(texts(&html, "ul.titular-dnd li").len(), 1);
        assert!(
            texts(&html, "table.titular-rows td[data-label=Coringas]")
                .contains(&"@Coringa1: R$ 99,00".to_string())
        );
    }
    let html = app.get_html("/lgpd?q=Joana").await;
    assert!(texts(&html, "#q-error")[0].starts_with("Informe um CPF/CNPJ"));
    let html = app.get_html("/lgpd?q=11999990000").await;
    assert_eq!(texts(&html, "#nothing").len(), 1);

    // Listing an import's people and downloading its rejected rows are recorded too.
    let audience: i64 = engajar::schema::audiences::table
        .select(engajar::schema::audiences::id)
        .order(engajar::schema::audiences::id)
        .first(&mut app.db())
        .unwrap();
    app.get_html(&format!("/engajar/publicos/{audience}")).await;
    let csv = app
        .get(&format!("/engajar/publicos/{audience}/rejeitadas.csv"))
        .await;
    assert_eq!(csv.status(), 200);
    app.wait_for_audit("audience_view", 1).await;
    app.wait_for_audit("rejected_export", 1).await;
    // The views are written off the request path: settled before the report lists them.
    app.wait_for_audit("titular_report", 3).await;
    app.wait_for_audit("contact_view", 1).await;
    let response = app.get("/lgpd/relatorio.json?q=52998224725").await;
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("titular.json")
    );
    let report: serde_json::Value = response.json().await.unwrap();
    let keys: Vec<&str> = report
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    for key in [
        "contacts",
        "audience_rows",
        "interactions",
        "messages",
        "dnd",
        "access",
    ] {
        assert!(keys.contains(&key), "{key} in {keys:?}");
    }
    assert_eq!(report["contacts"][0]["id"], id);
    assert_eq!(report["audience_rows"].as_array().unwrap().len(), 3);
    let row = &report["audience_rows"][0];
    for key in [
        "audience_id",
        "line",
        "imported_at",
        "legal_basis",
        "message",
        "coringas",
        "tag",
        "priority",
    ] {
        assert!(row.get(key).is_some(), "{key} in {row}");
    }
    assert_eq!(row["coringas"].as_array().unwrap().len(), 5);
    assert_eq!(row["legal_basis"], "consentimento");
    // Who looked: the contact's page, the reports, the download.
    let access: Vec<String> = report["access"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["action"].as_str().unwrap().to_string())
        .collect();
    assert!(access.contains(&"contact_view".to_string()), "{access:?}");
    assert!(access.contains(&"titular_report".to_string()), "{access:?}");
    let html = app
        .get_html(&format!("/admin/auditoria?contato={id}"))
        .await;
    assert!(texts(&html, "td.action").len() >= 4);
    // Staff may not.
    app.logout().await;
    app.login_staff().await;
    assert_eq!(app.get("/lgpd?q=52998224725").await.status(), 403);
    assert_eq!(
        app.get("/lgpd/relatorio.json?q=52998224725").await.status(),
        403
    );
}

#[derive(QueryableByName)]
struct Column {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
}

#[derive(QueryableByName)]
struct Found {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// Every text column of every table, as `(table, column)`.
fn text_columns(app: &TestApp) -> Vec<(String, String)> {
    let mut conn = app.db();
    let columns: Vec<Column> = match app.backend() {
        Backend::Postgres => diesel::sql_query(
            "SELECT table_name::text AS table_name, column_name::text AS column_name \
             FROM information_schema.columns WHERE table_schema = 'public' \
             AND data_type IN ('text', 'character varying')",
        )
        .load(&mut conn)
        .unwrap(),
        Backend::Sqlite => diesel::sql_query(
            "SELECT m.name AS table_name, p.name AS column_name FROM sqlite_master m \
             JOIN pragma_table_info(m.name) p WHERE m.type = 'table' \
             AND (upper(p.type) LIKE '%TEXT%' OR upper(p.type) LIKE '%CHAR%' OR p.type = '')",
        )
        .load(&mut conn)
        .unwrap(),
    };
    columns
        .into_iter()
        .map(|c| (c.table_name, c.column_name))
        .collect()
}

/// Where, in the whole database, `needle` is still written.
pub(crate) fn written_anywhere(app: &TestApp, needle: &str) -> Vec<String> {
    let mut conn = app.db();
    let mut found = Vec::new();
    for (table, column) in text_columns(app) {
        let n = diesel::sql_query(format!(
            "SELECT COUNT(*) AS n FROM \"{table}\" WHERE CAST(\"{column}\" AS TEXT) LIKE $1"
        ))
        .bind::<Text, _>(format!("%{needle}%"));
        let n = match app.backend() {
            Backend::Postgres => n.get_result::<Found>(&mut conn),
            Backend::Sqlite => diesel::sql_query(format!(
                "SELECT COUNT(*) AS n FROM \"{table}\" WHERE CAST(\"{column}\" AS TEXT) LIKE ?"
            ))
            .bind::<Text, _>(format!("%{needle}%"))
            .get_result::<Found>(&mut conn),
        }
        .map(|f| f.n)
        .unwrap_or(0);
        if n > 0 {
            found.push(format!("{table}.{column}"));
        }
    }
    found
}

const SPELLINGS: [&str; 9] = [
    NAME,
    "JOANA PRADO",
    "Joana Prado",
    "5511987651234",
    "98765-1234",
    "987651234",
    EMAIL,
    CPF,
    "529.982.247-25",
];

async fn erasing_a_titular_leaves_no_trace_and_keeps_them_out(app: TestApp) {
    joana_everywhere(&app).await;
    // Her request, in the register: it stays, without her values.
    let today = engajar::time::format_iso_date(engajar::time::now());
    let response = app
        .submit(
            "/lgpd/pedidos",
            "/lgpd/pedidos",
            &[
                ("tipo", "eliminacao"),
                ("solicitante", NAME),
                ("titular", "529.982.247-25"),
                ("recebido_em", &today),
            ],
        )
        .await;
    assert_eq!(location(&response), "/lgpd/pedidos?ok=registrado");
    // The check sees her first, wherever the app wrote her.
    for needle in [NAME, "987651234", EMAIL, CPF] {
        let found = written_anywhere(&app, needle);
        assert!(found.len() >= 2, "{needle}: {found:?}");
    }
    let page = "/lgpd/eliminar?q=52998224725";
    let html = app.get_html(page).await;
    let listed = texts(&html, "#erase-list li");
    assert!(listed[0].starts_with("1 contato(s)"), "{listed:?}");
    // A reason is required: nothing goes without it.
    let response = app
        .submit(
            page,
            "/lgpd/eliminar",
            &[("q", "52998224725"), ("motivo", "  ")],
        )
        .await;
    assert_eq!(response.status(), 422);
    assert!(!written_anywhere(&app, CPF).is_empty());
    let response = app
        .submit(
            page,
            "/lgpd/eliminar",
            &[
                ("q", "529.982.247-25"),
                ("motivo", "Pedido de eliminação nº 12"),
                ("impedir_reimportacao", "on"),
            ],
        )
        .await;
    assert_eq!(location(&response), "/lgpd?eliminado=1");
    for needle in SPELLINGS {
        assert_eq!(
            written_anywhere(&app, needle),
            Vec::<String>::new(),
            "{needle} is still written"
        );
    }
    // Someone else is untouched, and the elimination is on record without her data.
    assert_eq!(
        contacts::table
            .count()
            .get_result::<i64>(&mut app.db())
            .unwrap(),
        1
    );
    let erased: Vec<String> = audit_log::table
        .filter(audit_log::action.eq("titular_erase"))
        .select(audit_log::detail)
        .load(&mut app.db())
        .unwrap();
    assert_eq!(erased.len(), 1);
    assert!(
        erased[0].contains("Pedido de eliminação nº 12"),
        "{erased:?}"
    );
    let html = app.get_html("/lgpd?q=52998224725").await;
    assert_eq!(texts(&html, "#nothing").len(), 1);
    app.assert_no_orphans();

    // A later file with her in it skips her, counted like Não Perturbe.
    let segment = app.add_segment("Depois");
    let (_, html) = app
        .import_bytes(
            "de-novo.csv",
            layout_csv(&[
                joana("TELEFONE", PHONE, ""),
                joana("EMAIL", "outro.email@exemplo.com.br", ""),
            ]),
            segment,
            &[],
        )
        .await;
    assert_eq!(
        texts(&html, "#count-dnd"),
        vec!["2"],
        "by phone, and by CPF"
    );
    assert_eq!(texts(&html, "#count-imported"), vec!["0"]);
    assert_eq!(
        contacts::table
            .count()
            .get_result::<i64>(&mut app.db())
            .unwrap(),
        1
    );
    assert!(written_anywhere(&app, CPF).is_empty());
}

async fn the_command_line_exports_and_erases_a_titular(app: TestApp) {
    joana_everywhere(&app).await;
    let cli = |args: &[&str]| crate::cli::engajar(&app.database_url, args, None);
    let output = cli(&["titular", "export", "--phone", "(11) 98765-1234"]);
    assert!(output.status.success());
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["contacts"][0]["name"], NAME);
    assert_eq!(report["audience_rows"].as_array().unwrap().len(), 3);
    assert_eq!(report["interactions"].as_array().unwrap().len(), 1);
    let output = cli(&["titular", "export", "--email", "ninguem@exemplo.com.br"]);
    assert_eq!(output.status.code(), Some(4));
    let empty: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(empty["contacts"], serde_json::json!([]));
    // Erase needs a reason and --yes.
    let output = cli(&[
        "titular",
        "erase",
        "--document",
        CPF,
        "--reason",
        "Pedido 7",
    ]);
    assert!(!output.status.success());
    assert_eq!(
        contacts::table
            .count()
            .get_result::<i64>(&mut app.db())
            .unwrap(),
        2
    );
    let output = cli(&[
        "titular",
        "erase",
        "--document",
        CPF,
        "--reason",
        "Pedido 7",
        "--yes",
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let done: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(done["erased_contacts"], 1);
    assert!(done["anonymised_rows"].as_i64().unwrap() >= 1);
    for needle in SPELLINGS {
        assert!(written_anywhere(&app, needle).is_empty(), "{needle}");
    }
}

async fn the_request_register_counts_fifteen_days_and_shows_overdue_ones(app: TestApp) {
    app.login_admin().await;
    let today = engajar::time::format_iso_date(engajar::time::now());
    // Nothing is registered with a wrong field; each problem is named beside its field.
    let response = app
        .submit(
            "/lgpd/pedidos",
            "/lgpd/pedidos",
            &[
                ("tipo", "qualquer"),
                ("solicitante", " "),
                ("titular", "Ana"),
                ("recebido_em", "2999-01-01"),
            ],
        )
        .await;
    assert_eq!(response.status(), 200);
    let html = scraper::Html::parse_document(&response.text().await.unwrap());
    assert_eq!(
        attrs(&html, "#error-summary a", "href"),
        vec!["#tipo", "#solicitante", "#titular", "#recebido_em"]
    );
    assert!(texts(&html, "table.requests tbody tr").is_empty());
    let old = engajar::time::format_iso_date(engajar::time::now() - 20 * 86_400);
    for (who, when) in [("Ana Lima", today.as_str()), ("Bruno Souza", old.as_str())] {
        let response = app
            .submit(
                "/lgpd/pedidos",
                "/lgpd/pedidos",
                &[
                    ("tipo", "acesso"),
                    ("solicitante", who),
                    ("titular", "ana@exemplo.com.br"),
                    ("recebido_em", when),
                ],
            )
            .await;
        assert_eq!(location(&response), "/lgpd/pedidos?ok=registrado");
    }
    let html = app.get_html("/lgpd/pedidos").await;
    // The overdue one first, highlighted; due 15 days after it came.
    assert_eq!(
        texts(&html, "#overdue-count"),
        vec!["1 pedido(s) em atraso."]
    );
    assert_eq!(
        texts(&html, "table.requests tbody tr td[data-label='Quem pediu']"),
        vec!["Bruno Souza", "Ana Lima"]
    );
    assert_eq!(
        texts(&html, "tr.overdue td[data-label='Quem pediu']"),
        vec!["Bruno Souza"]
    );
    let due = texts(&html, "table.requests tbody tr td[data-label=Prazo]");
    let expected =
        engajar::time::format_br_date(engajar::time::parse_iso_date(&today).unwrap() + 15 * 86_400);
    assert_eq!(due[1], expected);
    // Answered: no longer overdue, the note kept.
    let id = attrs(&html, "tr.overdue", "id")[0]
        .trim_start_matches("pedido-")
        .to_string();
    let response = app
        .submit(
            "/lgpd/pedidos",
            &format!("/lgpd/pedidos/{id}/responder"),
            &[("nota", "Relatório enviado por e-mail")],
        )
        .await;
    assert_eq!(location(&response), "/lgpd/pedidos?ok=respondido");
    let html = app.get_html("/lgpd/pedidos").await;
    assert!(texts(&html, "#overdue-count").is_empty());
    assert!(
        texts(&html, "td[data-label=Resposta]")
            .contains(&"Relatório enviado por e-mail".to_string())
    );
    let response = app
        .submit(
            "/lgpd/pedidos",
            &format!("/lgpd/pedidos/{id}/responder"),
            &[("nota", "de novo")],
        )
        .await;
    assert_eq!(response.status(), 409);
    assert!(
        app.audit_actions()
            .contains(&"titular_request_answer".to_string())
    );
}

async fn revoking_consent_lists_the_channels_and_marks_the_rows(app: TestApp) {
    joana_everywhere(&app).await;
    let report = "/lgpd?q=52998224725";
    let response = app
        .submit(report, "/lgpd/revogar", &[("q", "52998224725")])
        .await;
    assert_eq!(location(&response), "/lgpd?q=52998224725&revogado=1");
    let html = app.get_html("/lgpd?q=52998224725&revogado=1").await;
    assert!(texts(&html, "#notice")[0].starts_with("Consentimento revogado"));
    // Her three rows came in under consent: each marked; her phone joined her e-mail on
    // the list (the e-mail was there already).
    assert_eq!(texts(&html, "strong.revoked").len(), 3);
    assert_eq!(texts(&html, "ul.titular-dnd li").len(), 2);
    let html = app.get_html("/admin/nao-perturbe").await;
    assert!(
        texts(&html, "td.origin").contains(&"Revogação de consentimento".to_string()),
        "{:?}",
        texts(&html, "td.origin")
    );
    assert!(app.audit_actions().contains(&"titular_revoke".to_string()));
    // Done again, nothing more is added.
    let response = app
        .submit(report, "/lgpd/revogar", &[("q", "52998224725")])
        .await;
    assert_eq!(response.status(), 303);
    let html = app.get_html(report).await;
    assert_eq!(texts(&html, "ul.titular-dnd li").len(), 2);
}

async fn retention_removes_what_expired_and_its_dry_run_counts_the_same(app: TestApp) {
    use engajar::schema::{audience_members, audience_row_errors, audiences};
    app.login_admin().await;
    let segment = app.add_segment("Retenção");
    let (old, _) = app
        .import_fixture("row_level_errors.csv", segment, &[])
        .await;
    let (recent, _) = app
        .import_fixture("row_level_errors.csv", segment, &[])
        .await;
    diesel::update(audiences::table.find(old))
        .set(audiences::created_at.eq(engajar::time::now() - 40 * 86_400))
        .execute(&mut app.db())
        .unwrap();
    let page = "/admin/configuracoes/retencao";
    // A period that is not a number of days is refused beside its field.
    let response = app
        .submit(page, page, &[("consentimento__linhas", "-3")])
        .await;
    assert_eq!(response.status(), 200);
    let html = scraper::Html::parse_document(&response.text().await.unwrap());
    assert_eq!(
        attrs(&html, "#error-summary a", "href"),
        vec!["#consentimento__linhas"]
    );
    let html = app.get_html(page).await;
    assert_eq!(
        field_value(&html, "#consentimento__linhas").as_deref(),
        Some("")
    );
    let response = app
        .submit(
            page,
            page,
            &[
                ("consentimento__linhas", "30"),
                ("consentimento__rejeitadas", "30"),
                ("legitimo_interesse__linhas", "1"),
            ],
        )
        .await;
    assert_eq!(location(&response), "/admin/configuracoes/retencao?ok=1");
    let html = app.get_html(page).await;
    assert_eq!(
        field_value(&html, "#consentimento__linhas").as_deref(),
        Some("30")
    );
    // The one member has no message, coringa or tag: nothing of it expires.
    assert_eq!(texts(&html, "#next-rows"), vec!["0"]);
    assert_eq!(texts(&html, "#next-rejected"), vec!["5"]);
    // The command line's dry run says the same, and the real run removes exactly that.
    let cli = |args: &[&str]| crate::cli::engajar(&app.database_url, args, None);
    let dry: serde_json::Value =
        serde_json::from_slice(&cli(&["retention", "run", "--dry-run", "--json"]).stdout).unwrap();
    assert_eq!(
        (
            &dry["audience_rows"],
            &dry["rejected_rows"],
            &dry["dry_run"]
        ),
        (
            &serde_json::json!(0),
            &serde_json::json!(5),
            &serde_json::json!(true)
        )
    );
    let members = |id: i64| -> i64 {
        audience_members::table
            .filter(audience_members::audience_id.eq(id))
            .count()
            .get_result(&mut app.db())
            .unwrap()
    };
    let rejected = |id: i64| -> i64 {
        audience_row_errors::table
            .filter(audience_row_errors::audience_id.eq(id))
            .count()
            .get_result(&mut app.db())
            .unwrap()
    };
    assert_eq!(
        (members(old), rejected(old)),
        (1, 5),
        "the dry run removed nothing"
    );
    let real: serde_json::Value =
        serde_json::from_slice(&cli(&["retention", "run", "--json"]).stdout).unwrap();
    assert_eq!(real["audience_rows"], dry["audience_rows"]);
    assert_eq!(real["rejected_rows"], dry["rejected_rows"]);
    assert_eq!((members(old), rejected(old)), (1, 0), "members stay");
    assert_eq!(
        (members(recent), rejected(recent)),
        (1, 5),
        "the recent one stays"
    );
    // The contacts and the import's counts stay.
    let html = app.get_html(&format!("/engajar/publicos/{old}")).await;
    assert_eq!(texts(&html, "#count-imported"), vec!["1"]);
    let again: serde_json::Value =
        serde_json::from_slice(&cli(&["retention", "run", "--dry-run", "--json"]).stdout).unwrap();
    assert_eq!(
        (&again["audience_rows"], &again["rejected_rows"]),
        (&serde_json::json!(0), &serde_json::json!(0))
    );
    assert!(app.audit_actions().contains(&"retention_run".to_string()));
    assert!(
        app.audit_actions()
            .contains(&"retention_settings".to_string())
    );
}
