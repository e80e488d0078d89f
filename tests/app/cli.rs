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

fn engajar(database_url: &str, args: &[&str], stdin: Option<&str>) -> Output {
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
    let server = start_binary(&url, port).await;
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

    let _server = start_binary(&url, port).await;
    let page = client
        .get(format!("{address}/engajar"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200, "still logged in after a restart");
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The server process, killed when the test ends, whether it passed or not.
struct ServerProcess(std::process::Child);

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn start_binary(url: &str, port: u16) -> ServerProcess {
    let child = Command::new(env!("CARGO_BIN_EXE_engajar"))
        .arg("--database-url")
        .arg(url)
        .env("ENGAJAR_BIND", format!("127.0.0.1:{port}"))
        .env_remove("ENGAJAR_SESSION_KEY")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let health = format!("http://127.0.0.1:{port}/healthz");
    let started = Instant::now();
    let child = ServerProcess(child);
    loop {
        if let Ok(r) = reqwest::get(&health).await
            && r.status() == 200
        {
            return child;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "server did not start"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
