use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use diesel::prelude::*;
use engajar::schema::{segments, users};

use crate::helpers::*;

crate::on_both_backends!(
    user_add_reads_the_password_from_stdin_and_the_user_can_log_in,
    user_add_refuses_bad_input_and_creates_nothing,
    segment_add_is_idempotent,
);

pub fn engajar(database_url: &str, args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_engajar"))
        .arg("--database-url")
        .arg(database_url)
        .args(args)
        .env_remove("DATABASE_URL")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run engajar");
    {
        let mut input = child.stdin.take().unwrap();
        if let Some(text) = stdin {
            input.write_all(text.as_bytes()).unwrap();
        }
    }
    child.wait_with_output().unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).to_string()
}

async fn user_add_reads_the_password_from_stdin_and_the_user_can_log_in(app: TestApp) {
    let output = engajar(
        &app.database_url,
        &[
            "user",
            "add",
            "--email",
            "Rita@Empresa.com.br",
            "--name",
            "Rita Lopes",
            "--role",
            "staff",
        ],
        Some("senha da rita 2026\n"),
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("rita@empresa.com.br"), "{stdout}");

    let response = app.login("rita@empresa.com.br", "senha da rita 2026").await;
    assert_eq!(location(&response), "/engajar");
    let html = app.get_html("/engajar").await;
    assert_eq!(texts(&html, ".user-role"), vec!["Equipe"]);
    assert_eq!(app.get("/admin/segmentos").await.status(), 403);
}

async fn user_add_refuses_bad_input_and_creates_nothing(app: TestApp) {
    let cases: [(&[&str], Option<&str>, &str); 5] = [
        (
            &["--email", "a@b.com.br", "--name", "A", "--role", "staff"],
            Some("curta\n"),
            "10 caracteres",
        ),
        (
            &["--email", "a@b.com.br", "--name", "A", "--role", "staff"],
            None,
            "standard input",
        ),
        (
            &["--email", "sem-arroba", "--name", "A", "--role", "staff"],
            Some("senha-boa-123\n"),
            "invalid --email",
        ),
        (
            &["--email", "a@b.com.br", "--name", "  ", "--role", "staff"],
            Some("senha-boa-123\n"),
            "--name",
        ),
        (
            &["--email", "a@b.com.br", "--name", "A", "--role", "root"],
            Some("senha-boa-123\n"),
            "root",
        ),
    ];
    for (args, stdin, expected) in cases {
        let mut all = vec!["user", "add"];
        all.extend_from_slice(args);
        let output = engajar(&app.database_url, &all, stdin);
        assert!(!output.status.success(), "{args:?} should fail");
        assert!(
            stderr(&output).contains(expected),
            "{args:?}: {}",
            stderr(&output)
        );
    }
    let ok = engajar(
        &app.database_url,
        &[
            "user",
            "add",
            "--email",
            "a@b.com.br",
            "--name",
            "A",
            "--role",
            "admin",
        ],
        Some("senha-boa-123\n"),
    );
    assert!(ok.status.success(), "{}", stderr(&ok));
    let again = engajar(
        &app.database_url,
        &[
            "user",
            "add",
            "--email",
            "A@B.com.br",
            "--name",
            "B",
            "--role",
            "staff",
        ],
        Some("outra-senha-123\n"),
    );
    assert!(!again.status.success());
    assert!(
        stderr(&again).contains("already exists"),
        "{}",
        stderr(&again)
    );
    let count: i64 = users::table.count().get_result(&mut app.db()).unwrap();
    assert_eq!(count, 1);
}

async fn segment_add_is_idempotent(app: TestApp) {
    for name in [
        "Cobrança Nordeste",
        "cobrança   nordeste",
        "Cobrança Nordeste",
    ] {
        let output = engajar(&app.database_url, &["segment", "add", name], None);
        assert!(output.status.success(), "{}", stderr(&output));
    }
    let names: Vec<String> = segments::table
        .select(segments::name)
        .load(&mut app.db())
        .unwrap();
    assert_eq!(names, vec!["Cobrança Nordeste"]);
}

#[test]
fn help_explains_every_command() {
    let output = Command::new(env!("CARGO_BIN_EXE_engajar"))
        .arg("--help")
        .output()
        .unwrap();
    assert!(output.status.success());
    let help = String::from_utf8_lossy(&output.stdout);
    for word in ["serve", "user", "segment", "--database-url"] {
        assert!(help.contains(word), "{word} missing from:\n{help}");
    }
    let output = Command::new(env!("CARGO_BIN_EXE_engajar"))
        .args(["user", "add", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&output.stdout);
    assert!(help.contains("standard input"), "{help}");
}

#[test]
fn a_bad_database_url_fails_fast_naming_the_problem() {
    let cases = [
        ("mysql://root@127.0.0.1/engajar", "unsupported DATABASE_URL"),
        (
            "postgres://postgres@127.0.0.1:1/engajar",
            "cannot connect to PostgreSQL",
        ),
        (
            "sqlite:///nonexistent-dir/engajar.db",
            "cannot open the SQLite database",
        ),
    ];
    for (url, expected) in cases {
        let started = Instant::now();
        let mut child = Command::new(env!("CARGO_BIN_EXE_engajar"))
            .args(["--database-url", url, "serve", "--bind", "127.0.0.1:0"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Generous: the point is that it exits on its own instead of hanging.
        while child.try_wait().unwrap().is_none() {
            if started.elapsed() > Duration::from_secs(60) {
                child.kill().unwrap();
                panic!("{url}: still running after 60 s");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let output = child.wait_with_output().unwrap();
        assert!(!output.status.success(), "{url}");
        let err = String::from_utf8_lossy(&output.stderr);
        assert!(err.contains(expected), "{url}: {err}");
    }
}

/// The real binary, with no command, serves on `ENGAJAR_BIND`; a restart keeps sessions
/// because the generated key is stored beside the SQLite file.
#[tokio::test]
async fn the_binary_serves_by_default_and_sessions_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("engajar.db");
    let url = format!("sqlite://{}", db.display());
    let output = engajar(
        &url,
        &[
            "user",
            "add",
            "--email",
            "chefe@empresa.com.br",
            "--name",
            "Chefe",
            "--role",
            "admin",
        ],
        Some("senha-da-chefe-1\n"),
    );
    assert!(output.status.success(), "{}", stderr(&output));

    let port = free_port();
    let address = format!("http://127.0.0.1:{port}");
    let client = new_client();
    let server = start_binary(&url, port, &[]).await;
    let login = client.get(format!("{address}/login")).send().await.unwrap();
    let html = scraper::Html::parse_document(&login.text().await.unwrap());
    let token = field_value(&html, "input[name=csrf_token]").unwrap();
    let response = client
        .post(format!("{address}/login"))
        .form(&[
            ("csrf_token", token.as_str()),
            ("email", "chefe@empresa.com.br"),
            ("password", "senha-da-chefe-1"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(location(&response), "/engajar");
    drop(server);
    assert!(dir.path().join("engajar.db.session-key").exists());

    let _server = start_binary(&url, port, &[]).await;
    let page = client
        .get(format!("{address}/engajar"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200, "still logged in after a restart");
}

mod data_commands {
    use diesel::prelude::*;
    use engajar::schema::{audiences, contacts, dnd_entries};

    use super::{engajar, stderr};
    use crate::helpers::*;

    crate::on_both_backends!(
        import_json_report_has_the_documented_shape,
        import_exit_codes_tell_rejected_from_failed,
        contacts_export_prints_one_profile_per_line,
        dnd_import_normalises_and_counts,
        command_line_imports_and_dnd_lists_are_audited,
        verify_is_refused_while_the_add_on_is_off,
        an_export_read_in_part_ends_quietly,
        db_check_finds_orphans_and_erase_leaves_none,
        a_command_line_import_killed_mid_way_leaves_nothing,
        audience_delete_undoes_an_import,
        import_json_lists_rows_refused_on_identity,
    );

    /// Rows refused because their keys lead to different people are decided after the
    /// file is read; the report lists them all the same (a dry run too).
    async fn import_json_lists_rows_refused_on_identity(app: TestApp) {
        app.add_segment("Clientes CLI");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dois_cpfs.csv");
        std::fs::write(&path, layout_csv(&two_cpf_group())).unwrap();
        for extra in [&["--dry-run"][..], &[]] {
            let (json, code) = import_json_at(&app, &path, extra);
            assert_eq!(code, 0, "{json}");
            assert_eq!(json["counts"]["rejected"], 3, "{json}");
            let rejected = json["rejected_rows"].as_array().unwrap();
            let listed: Vec<(i64, &str)> = rejected
                .iter()
                .map(|r| (r["line"].as_i64().unwrap(), r["code"].as_str().unwrap()))
                .collect();
            assert_eq!(
                listed,
                vec![
                    (2, "identity_conflict"),
                    (3, "identity_conflict"),
                    (4, "identity_conflict")
                ],
                "{json}"
            );
            assert!(
                rejected[0]["message"]
                    .as_str()
                    .unwrap()
                    .contains("CPF/CNPJ diferentes")
            );
        }
    }

    async fn audience_delete_undoes_an_import(app: TestApp) {
        app.add_segment("Clientes CLI");
        let (json, code) = import_json(&app, "row_level_errors.csv", &[]);
        assert_eq!(code, 0);
        let id = json["audience_id"].as_i64().unwrap().to_string();
        let created = json["counts"]["contacts_created"].as_i64().unwrap();
        assert!(created > 0);
        // Without --yes nothing goes.
        let output = engajar(&app.database_url, &["audience", "delete", &id], None);
        assert!(!output.status.success());
        let left: i64 = audiences::table.count().get_result(&mut app.db()).unwrap();
        assert_eq!(left, 1);
        let output = engajar(
            &app.database_url,
            &["audience", "delete", &id, "--yes"],
            None,
        );
        assert!(output.status.success(), "{}", stderr(&output));
        let answer: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(answer["deleted_members"], json["counts"]["imported"]);
        assert_eq!(answer["deleted_contacts"].as_i64(), Some(created));
        assert_eq!(answer["kept_contacts"], 0);
        let (audiences, contacts): (i64, i64) = (
            audiences::table.count().get_result(&mut app.db()).unwrap(),
            contacts::table.count().get_result(&mut app.db()).unwrap(),
        );
        assert_eq!((audiences, contacts), (0, 0));
        assert_eq!(db_check(&app).0, Some(0), "{}", db_check(&app).1);
        // Gone: exit 4.
        let output = engajar(
            &app.database_url,
            &["audience", "delete", &id, "--yes"],
            None,
        );
        assert_eq!(output.status.code(), Some(4));
        assert!(app.audit_actions().contains(&"audience_delete".to_string()));
    }

    fn db_check(app: &TestApp) -> (Option<i32>, String) {
        let output = engajar(&app.database_url, &["db", "check"], None);
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stdout).to_string(),
        )
    }

    async fn db_check_finds_orphans_and_erase_leaves_none(app: TestApp) {
        app.add_segment("Clientes CLI");
        let (json, code) = import_json(&app, "accents_utf8.csv", &[]);
        assert_eq!(code, 0);
        assert_eq!(
            db_check(&app),
            (Some(0), "ok: no orphan rows\n".to_string())
        );
        let ids: Vec<i64> = contacts::table
            .select(contacts::id)
            .order(contacts::id)
            .load(&mut app.db())
            .unwrap();
        assert!(ids.len() >= 2);
        // Through the one way out: the contact and everything of it go together.
        assert!(engajar::models::erase::delete_contact(&mut app.db(), ids[0]).unwrap());
        let audience = json["audience_id"].as_i64().unwrap();
        assert!(engajar::models::erase::delete_audience(&mut app.db(), audience).unwrap());
        assert_eq!(db_check(&app).0, Some(0), "{}", db_check(&app).1);
        // Behind its back: what depended on the contact is left pointing at nothing
        // (its channels on PostgreSQL, which keeps no foreign key there; its name-index
        // entry on SQLite, whose foreign keys cascade).
        diesel::sql_query(format!("DELETE FROM contacts WHERE id = {}", ids[1]))
            .execute(&mut app.db())
            .unwrap();
        let (code, report) = db_check(&app);
        assert_eq!(code, Some(1), "{report}");
        let expected = match app.backend() {
            Backend::Sqlite => "contact_names: 1 orphan row(s)",
            Backend::Postgres => "contact_channels: 1 orphan row(s)",
        };
        assert!(report.contains(expected), "{report}");
    }

    /// Whether some connection holds the import's write lock right now.
    fn import_in_progress(app: &TestApp) -> bool {
        let mut conn = app.db();
        match app.backend() {
            Backend::Sqlite => {
                diesel::sql_query("PRAGMA busy_timeout = 0")
                    .execute(&mut conn)
                    .unwrap();
                match diesel::sql_query("BEGIN IMMEDIATE").execute(&mut conn) {
                    Ok(_) => {
                        diesel::sql_query("ROLLBACK").execute(&mut conn).unwrap();
                        false
                    }
                    Err(_) => true,
                }
            }
            Backend::Postgres => {
                #[derive(QueryableByName)]
                struct N {
                    #[diesel(sql_type = diesel::sql_types::BigInt)]
                    n: i64,
                }
                // The import's advisory lock (0x656e_6a6f_6273, split in two halves).
                diesel::sql_query(
                    "SELECT COUNT(*) AS n FROM pg_locks WHERE locktype = 'advisory' \
                     AND classid = 25966 AND objid = 1785684595 AND granted",
                )
                .get_result::<N>(&mut conn)
                .unwrap()
                .n > 0
            }
        }
    }

    async fn a_command_line_import_killed_mid_way_leaves_nothing(app: TestApp) {
        app.add_segment("Clientes CLI");
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("grande.csv");
        std::fs::write(&file, generated_layout(150_000)).unwrap();
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_engajar"))
            .args(["--database-url", &app.database_url, "import"])
            .arg(&file)
            .args(["--description", "Morta", "--segment", "clientes cli"])
            .args(["--basis", "consentimento"])
            .env_remove("DATABASE_URL")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let started = std::time::Instant::now();
        while !import_in_progress(&app) {
            assert!(
                child.try_wait().unwrap().is_none(),
                "the import ended before it could be killed"
            );
            assert!(
                started.elapsed().as_secs() < 120,
                "the import never started"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        std::thread::sleep(std::time::Duration::from_millis(300));
        child.kill().unwrap();
        child.wait().unwrap();
        let audiences: i64 = audiences::table.count().get_result(&mut app.db()).unwrap();
        let contacts: i64 = contacts::table.count().get_result(&mut app.db()).unwrap();
        assert_eq!((audiences, contacts), (0, 0), "nothing half-written");
        assert_eq!(db_check(&app).0, Some(0), "{}", db_check(&app).1);
        // The server never saw it either, and the next import goes in whole.
        let (json, code) = import_json(&app, "row_level_errors.csv", &[]);
        assert_eq!((code, json["status"].as_str()), (0, Some("imported")));
        assert_eq!(db_check(&app).0, Some(0));
    }

    fn import_json(app: &TestApp, file: &str, extra: &[&str]) -> (serde_json::Value, i32) {
        import_json_at(app, &fixture(file), extra)
    }

    fn import_json_at(
        app: &TestApp,
        path: &std::path::Path,
        extra: &[&str],
    ) -> (serde_json::Value, i32) {
        let mut args = vec![
            "import",
            path.to_str().unwrap(),
            "--description",
            "Pela CLI",
            "--segment",
            "clientes cli",
            "--basis",
            "legitimo_interesse",
            "--json",
        ];
        args.extend_from_slice(extra);
        let output = engajar(&app.database_url, &args, None);
        let stdout = String::from_utf8(output.stdout.clone()).unwrap();
        assert_eq!(
            stdout.lines().count(),
            1,
            "exactly one JSON object: {stdout}{}",
            stderr(&output)
        );
        (
            serde_json::from_str(&stdout).unwrap(),
            output.status.code().unwrap(),
        )
    }

    async fn import_json_report_has_the_documented_shape(app: TestApp) {
        app.add_segment("Clientes CLI");
        let (json, code) = import_json(&app, "row_level_errors.csv", &[]);
        assert_eq!(code, 0);
        assert_eq!(json["status"], "imported");
        assert!(json["audience_id"].as_i64().unwrap() > 0);
        let counts = json["counts"].as_object().unwrap();
        let keys: Vec<&str> = counts.keys().map(String::as_str).collect();
        for key in [
            "rows",
            "imported",
            "rejected",
            "dnd_skipped",
            "verify_discarded",
            "duplicate_rows",
            "contacts_created",
            "contacts_updated",
        ] {
            assert!(keys.contains(&key), "{key}");
        }
        let n = |k: &str| counts[k].as_u64().unwrap();
        assert_eq!(n("rows"), 6);
        assert_eq!(
            n("imported")
                + n("rejected")
                + n("dnd_skipped")
                + n("verify_discarded")
                + n("duplicate_rows"),
            n("rows")
        );
        assert_eq!(json["errors"], serde_json::json!([]));
        let rejected = json["rejected_rows"].as_array().unwrap();
        assert_eq!(rejected.len(), 5);
        assert_eq!(rejected[0]["line"], 3);
        assert_eq!(rejected[0]["column"], "VALOR_DO_REGISTRO");
        assert_eq!(rejected[0]["code"], "scientific_notation");
        assert!(
            rejected[0]["message"]
                .as_str()
                .unwrap()
                .contains("notação científica")
        );
        assert_eq!(rejected[0]["value"], "1,19871E+10");
        let status: String = audiences::table
            .select(audiences::status)
            .first(&mut app.db())
            .unwrap();
        assert_eq!(status, "done_with_rejections");

        let (dry, code) = import_json(
            &app,
            "excel_ptbr_windows1252.csv",
            &["--dry-run", "--dnd", "--clear-tags"],
        );
        assert_eq!(code, 0);
        assert_eq!(dry["status"], "validated");
        assert_eq!(dry["audience_id"], serde_json::Value::Null);
        assert_eq!(dry["counts"]["contacts_created"], 3);
        let audiences: i64 = audiences::table.count().get_result(&mut app.db()).unwrap();
        let contacts: i64 = contacts::table.count().get_result(&mut app.db()).unwrap();
        assert_eq!((audiences, contacts), (1, 1), "the dry run wrote nothing");
    }

    async fn import_exit_codes_tell_rejected_from_failed(app: TestApp) {
        app.add_segment("Clientes CLI");
        let (json, code) = import_json(&app, "file_level_errors.csv", &[]);
        assert_eq!(code, 3);
        assert_eq!(json["status"], "rejected");
        let errors = json["errors"].as_array().unwrap();
        let codes: Vec<&str> = errors.iter().map(|e| e["code"].as_str().unwrap()).collect();
        assert_eq!(
            codes,
            [
                "key_missing",
                "key_missing",
                "record_type",
                "formula",
                "extra_content"
            ]
        );
        assert_eq!(errors[4]["column"], serde_json::Value::Null);
        let status: String = audiences::table
            .select(audiences::status)
            .first(&mut app.db())
            .unwrap();
        assert_eq!(status, "failed");
        let (json, code) = import_json(&app, "workbook_two_sheets.xlsx", &["--dry-run"]);
        assert_eq!((json["status"].as_str(), code), (Some("rejected"), 3));

        let missing_segment = engajar(
            &app.database_url,
            &[
                "import",
                fixture("excel_ptbr_windows1252.csv").to_str().unwrap(),
                "--description",
                "x",
                "--segment",
                "nao existe",
                "--basis",
                "consentimento",
            ],
            None,
        );
        assert_eq!(missing_segment.status.code(), Some(1));
        assert!(stderr(&missing_segment).contains("does not exist"));
        let bad_basis = engajar(
            &app.database_url,
            &[
                "import",
                fixture("excel_ptbr_windows1252.csv").to_str().unwrap(),
                "--description",
                "x",
                "--segment",
                "clientes cli",
                "--basis",
                "vontade",
            ],
            None,
        );
        assert_eq!(bad_basis.status.code(), Some(1));
    }

    async fn contacts_export_prints_one_profile_per_line(app: TestApp) {
        app.add_segment("Clientes CLI");
        import_json(&app, "excel_ptbr_windows1252.csv", &[]);
        let output = engajar(&app.database_url, &["contacts", "export"], None);
        assert!(output.status.success(), "{}", stderr(&output));
        let lines: Vec<serde_json::Value> = String::from_utf8(output.stdout)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 3);
        let francisca = lines
            .iter()
            .find(|c| c["document"] == "11144477735")
            .unwrap();
        assert_eq!(francisca["name"], "FRANCISCA GONÇALVES");
        assert_eq!(francisca["customer_code"], "F-10");
        assert_eq!(francisca["priority"], "ALTA");
        assert_eq!(
            francisca["channels"],
            serde_json::json!([{"kind": "TELEFONE", "value": "+5585991234567"}, {"kind": "EMAIL", "value": "francisca.goncalves@exemplo.com.br"}])
        );
        assert_eq!(francisca["tags"], serde_json::json!(["Loja Aldeota"]));
        assert_eq!(francisca["segments"], serde_json::json!(["Clientes CLI"]));
        let sebastiao = lines
            .iter()
            .find(|c| c["name"] == "SEBASTIÃO LIMA")
            .unwrap();
        assert_eq!(sebastiao["document"], serde_json::Value::Null);
        let keys: Vec<&String> = sebastiao.as_object().unwrap().keys().collect();
        assert_eq!(keys.len(), 8);

        let csv = engajar(
            &app.database_url,
            &["contacts", "export", "--format", "csv"],
            None,
        );
        let text = String::from_utf8(csv.stdout).unwrap();
        assert_eq!(text.lines().count(), 4);
        assert!(text.starts_with("id;nome;cpfcnpj"));
    }

    async fn dnd_import_normalises_and_counts(app: TestApp) {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("dnd.csv");
        std::fs::write(&file, "telefone;obs\r\n(11) 98765-4321;pediu\r\nMaria@Exemplo.com.br;x\r\n+55 11 98765-4321;repetido\r\nnao é contato\r\n\r\n").unwrap();
        let output = engajar(
            &app.database_url,
            &["dnd", "import", file.to_str().unwrap()],
            None,
        );
        assert!(output.status.success(), "{}", stderr(&output));
        let stdout = String::from_utf8(output.stdout).unwrap();
        assert!(stdout.starts_with("added 2 "), "{stdout}");
        let mut values: Vec<String> = dnd_entries::table
            .select(dnd_entries::value)
            .load(&mut app.db())
            .unwrap();
        values.sort();
        assert_eq!(values, vec!["+5511987654321", "maria@exemplo.com.br"]);
        let again = engajar(
            &app.database_url,
            &["dnd", "import", file.to_str().unwrap()],
            None,
        );
        assert!(
            String::from_utf8(again.stdout)
                .unwrap()
                .starts_with("added 0 ")
        );
    }

    async fn command_line_imports_and_dnd_lists_are_audited(app: TestApp) {
        app.add_segment("Clientes CLI");
        let (json, code) = import_json(&app, "row_level_errors.csv", &["--dnd", "--clear-tags"]);
        assert_eq!(code, 0);
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("lista.txt");
        std::fs::write(&file, "11987654321\n").unwrap();
        let output = engajar(
            &app.database_url,
            &["dnd", "import", file.to_str().unwrap()],
            None,
        );
        assert!(output.status.success(), "{}", stderr(&output));
        use engajar::schema::audit_log as a;
        let entries: Vec<(Option<i64>, String, String, Option<String>)> = a::table
            .order(a::id)
            .select((a::user_id, a::action, a::detail, a::ip))
            .load(&mut app.db())
            .unwrap();
        assert_eq!(entries.len(), 2, "{entries:?}");
        let (user, action, detail, ip) = &entries[0];
        assert_eq!((user, action.as_str(), ip), (&None, "import", &None));
        let id = json["audience_id"].as_i64().unwrap();
        for part in [
            format!("público #{id}"),
            // A sentence in pt-BR: labels, not codes.
            "Importou o público".to_string(),
            "Legítimo interesse".to_string(),
            "Verificar site Não Perturbe, Limpar tag de localização".to_string(),
            "(linha de comando)".to_string(),
        ] {
            assert!(detail.contains(&part), "{part} in {detail}");
        }
        let (user, action, detail, _) = &entries[1];
        assert_eq!((user, action.as_str()), (&None, "dnd_upload"));
        assert!(
            detail.contains("lista.txt: 1 adicionado(s) de 1 (linha de comando)"),
            "{detail}"
        );
        app.login_admin().await;
        let html = app.get_html("/admin/auditoria").await;
        assert_eq!(
            texts(&html, "td.who"),
            vec!["Ana Administradora", "Linha de comando", "Linha de comando"]
        );
    }

    async fn verify_is_refused_while_the_add_on_is_off(app: TestApp) {
        app.add_segment("Clientes CLI");
        let path = fixture("row_level_errors.csv");
        let output = engajar(
            &app.database_url,
            &[
                "import",
                path.to_str().unwrap(),
                "--description",
                "Pela CLI",
                "--segment",
                "clientes cli",
                "--basis",
                "consentimento",
                "--verify",
            ],
            None,
        );
        assert_eq!(output.status.code(), Some(1));
        assert!(
            stderr(&output).contains("Verify add-on is off"),
            "{}",
            stderr(&output)
        );
        let audiences: i64 = audiences::table.count().get_result(&mut app.db()).unwrap();
        assert_eq!(audiences, 0);
        // A description over 200 characters is refused as the form refuses it.
        let long = "D".repeat(201);
        let output = engajar(
            &app.database_url,
            &[
                "import",
                path.to_str().unwrap(),
                "--description",
                &long,
                "--segment",
                "clientes cli",
                "--basis",
                "consentimento",
            ],
            None,
        );
        assert_eq!(output.status.code(), Some(1));
        assert!(
            stderr(&output).contains(engajar::messages::IMPORT_DESCRIPTION_TOO_LONG),
            "{}",
            stderr(&output)
        );
    }

    async fn an_export_read_in_part_ends_quietly(app: TestApp) {
        app.add_segment("Clientes CLI");
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("muitos.csv");
        std::fs::write(&file, generated_layout(3_000)).unwrap();
        let output = engajar(
            &app.database_url,
            &[
                "import",
                file.to_str().unwrap(),
                "--description",
                "Muitos",
                "--segment",
                "clientes cli",
                "--basis",
                "consentimento",
            ],
            None,
        );
        assert!(output.status.success(), "{}", stderr(&output));
        // `engajar contacts export | head -c 100`.
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_engajar"))
            .args(["--database-url", &app.database_url, "contacts", "export"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = [0u8; 100];
        std::io::Read::read_exact(child.stdout.as_mut().unwrap(), &mut first).unwrap();
        drop(child.stdout.take());
        let output = child.wait_with_output().unwrap();
        assert!(output.status.success(), "{:?}", output.status);
        assert_eq!(String::from_utf8_lossy(&output.stderr), "");
    }
}
