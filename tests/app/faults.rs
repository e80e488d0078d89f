//! Faults survived with nothing lost: a server killed mid-import, PostgreSQL going away
//! and coming back, and SQLite writers queuing behind an import instead of failing.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use diesel::prelude::*;
use engajar::schema::{audience_members, audiences, contact_channels, contacts};

use crate::helpers::*;

/// Rows of the file killed mid-import. CI runs a debug build, where 200,000 rows take
/// long enough to be caught mid-way; the README records the 1,000,000-row run by hand.
fn fault_rows() -> usize {
    std::env::var("ENGAJAR_FAULT_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200_000)
}

const SESSION_KEY: &str =
    "dGVzdC1rZXktZm9yLWZhdWx0cy10ZXN0LWtleS1mb3ItZmF1bHRzLXRlc3Qta2V5LWZvci1mYXVsdHMtdGVzdC1rZXk=";

async fn killed_mid_import_then_restarted_imports_exactly_once(backend: Backend) {
    let Some((url, _db)) = fresh_database(backend) else {
        return;
    };
    let spool = tempfile::tempdir().unwrap();
    let segment = {
        let mut conn = engajar::db::DatabaseUrl::parse(&url)
            .unwrap()
            .establish()
            .unwrap();
        engajar::db::run_migrations(&mut conn).unwrap();
        seed_staff(&mut conn);
        engajar::models::NewSegment {
            name: "Queda",
            name_key: "queda",
            created_by: None,
            created_at: 1,
        }
        .insert_if_absent(&mut conn)
        .unwrap()
        .0
        .id
    };
    let env = [
        ("ENGAJAR_SPOOL_DIR", spool.path().to_str().unwrap()),
        ("ENGAJAR_SESSION_KEY", SESSION_KEY),
    ];
    let port = free_port();
    let address = format!("http://127.0.0.1:{port}");
    let mut server = start_binary(&url, port, &env).await;
    let client = login_at(&address, STAFF_EMAIL, STAFF_PASSWORD).await;
    let rows = fault_rows();
    let token = {
        let page = client
            .get(format!("{address}/engajar/publicos/importar"))
            .send()
            .await
            .unwrap();
        let html = scraper::Html::parse_document(&page.text().await.unwrap());
        field_value(&html, "input[name=csrf_token]").unwrap()
    };
    let form = reqwest::multipart::Form::new()
        .text("csrf_token", token)
        .text("descricao", "Interrompida por SIGKILL")
        .text("segmento", segment.to_string())
        .text("autorizacao", "consentimento")
        .text("acao", "importar")
        .part(
            "arquivo",
            reqwest::multipart::Part::bytes(generated_layout(rows)).file_name("grande.csv"),
        );
    let response = client
        .post(format!("{address}/engajar/publicos/importar"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    let page = location(&response);
    // Wait until the import is well under way, then kill the server outright.
    let started = Instant::now();
    loop {
        let html = scraper::Html::parse_document(
            &client
                .get(format!("{address}{page}"))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap(),
        );
        // "Gravando contatos · 20.000 de 60.000 linhas": rows written so far.
        let progress = texts(&html, "#rows-written").join("");
        let done: usize = progress.replace('.', "").parse().ok().unwrap_or(0);
        if done >= 20_000 && done < rows {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "never caught the import mid-way: {progress:?} {:?}",
            texts(&html, "#status")
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    server.kill();
    let mut conn = engajar::db::DatabaseUrl::parse(&url)
        .unwrap()
        .establish()
        .unwrap();
    let visible: i64 = audience_members::table
        .count()
        .get_result(&mut conn)
        .unwrap();
    assert_eq!(visible, 0, "nothing of the killed transaction is visible");

    // Restarted, the server finds the job and runs it again from scratch.
    let _server = start_binary(&url, port, &env).await;
    let id: i64 = page
        .trim_start_matches("/engajar/publicos/")
        .parse()
        .unwrap();
    let started = Instant::now();
    loop {
        let status: String = audiences::table
            .find(id)
            .select(audiences::status)
            .first(&mut conn)
            .unwrap();
        if status == "done" {
            break;
        }
        assert_ne!(status, "failed");
        assert!(
            started.elapsed() < Duration::from_secs(600),
            "still {status}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let rows = rows as i64;
    let members: i64 = audience_members::table
        .filter(audience_members::audience_id.eq(id))
        .count()
        .get_result(&mut conn)
        .unwrap();
    let distinct_lines: i64 = audience_members::table
        .filter(audience_members::audience_id.eq(id))
        .select(diesel::dsl::count(audience_members::line).aggregate_distinct())
        .first(&mut conn)
        .unwrap();
    let contacts: i64 = contacts::table.count().get_result(&mut conn).unwrap();
    let channels: i64 = contact_channels::table
        .count()
        .get_result(&mut conn)
        .unwrap();
    let (imported, created): (i64, i64) = audiences::table
        .find(id)
        .select((audiences::imported, audiences::contacts_created))
        .first(&mut conn)
        .unwrap();
    assert_eq!(
        (
            members,
            distinct_lines,
            contacts,
            channels,
            imported,
            created
        ),
        (rows, rows, rows, rows, rows, rows)
    );
    // The page a user reloads says so, through the same session.
    let html = scraper::Html::parse_document(
        &client
            .get(format!("{address}{page}"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    );
    assert_eq!(texts(&html, "#status"), vec!["Concluída"]);
}

mod sigkill {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        killed_mid_import_then_restarted_imports_exactly_once(Backend::Sqlite).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        killed_mid_import_then_restarted_imports_exactly_once(Backend::Postgres).await;
    }
}

/// A TCP proxy in front of PostgreSQL that can cut every connection and refuse new
/// ones, as a stopped server does, then serve again.
struct Outage {
    port: u16,
    up: Arc<AtomicBool>,
    generation: Arc<std::sync::atomic::AtomicU64>,
}

impl Outage {
    async fn start(upstream: String) -> Outage {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let up = Arc::new(AtomicBool::new(true));
        let generation = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let (accept_up, accept_generation) = (up.clone(), generation.clone());
        tokio::spawn(async move {
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else {
                    continue;
                };
                if !accept_up.load(Ordering::SeqCst) {
                    drop(inbound);
                    continue;
                }
                let upstream = upstream.clone();
                let born = accept_generation.load(Ordering::SeqCst);
                let watch = accept_generation.clone();
                tokio::spawn(async move {
                    let Ok(mut outbound) = tokio::net::TcpStream::connect(upstream).await else {
                        return;
                    };
                    let copy = tokio::io::copy_bidirectional(&mut inbound, &mut outbound);
                    tokio::pin!(copy);
                    loop {
                        tokio::select! {
                            _ = &mut copy => return,
                            _ = tokio::time::sleep(Duration::from_millis(50)) => {
                                if watch.load(Ordering::SeqCst) != born {
                                    return; // dropping both ends cuts the connection
                                }
                            }
                        }
                    }
                });
            }
        });
        Outage {
            port,
            up,
            generation,
        }
    }

    fn stop_database(&self) {
        self.up.store(false, Ordering::SeqCst);
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    fn start_database(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_going_away_gets_a_503_page_and_the_app_recovers_by_itself() {
    let Some(admin_url) = pg_admin_url() else {
        return;
    };
    let after_scheme = admin_url.find("://").unwrap() + 3;
    let rest = &admin_url[after_scheme..];
    let host_port = rest
        .split(['/', '?'])
        .next()
        .unwrap()
        .rsplit('@')
        .next()
        .unwrap()
        .to_string();
    let upstream = if host_port.contains(':') {
        host_port.clone()
    } else {
        format!("{host_port}:5432")
    };
    let outage = Outage::start(upstream.clone()).await;
    let proxied_port = outage.port;
    let app = spawn_app_configured(
        Backend::Postgres,
        |_, _| {},
        |config| {
            let url = match &config.database_url {
                engajar::db::DatabaseUrl::Postgres(u) => {
                    u.replacen(&host_port, &format!("127.0.0.1:{proxied_port}"), 1)
                }
                other => panic!("not PostgreSQL: {other:?}"),
            };
            config.database_url = engajar::db::DatabaseUrl::parse(&url).unwrap();
        },
    )
    .await
    .expect("PostgreSQL configured");
    app.login_staff().await;
    assert_eq!(app.get("/contatos").await.status(), 200);

    outage.stop_database();
    // The proxy drops its open connections within 50 ms, as a stopping server would.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = Instant::now();
    let response = app.get("/contatos").await;
    assert_eq!(response.status(), 503);
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "answered in time"
    );
    let html = scraper::Html::parse_document(&response.text().await.unwrap());
    assert_eq!(texts(&html, "h1"), vec!["Serviço indisponível"]);
    assert_eq!(app.get("/healthz").await.status(), 503);

    outage.start_database();
    let started = Instant::now();
    loop {
        let status = app.get("/contatos").await.status();
        if status == 200 {
            break;
        }
        assert_eq!(status, 503, "only the unavailable page while it recovers");
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "did not recover"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Still the same session, and writes work again.
    let response = app.submit("/conta", "/logout", &[]).await;
    assert!(response.status().is_redirection());
}

/// On SQLite an import holds the write lock until it commits; everything else that
/// writes waits its turn instead of failing.
async fn sqlite_writers_wait_behind_imports() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    app.login_admin().await;
    let segment = app.add_segment("Fila").to_string();
    let fields = [
        ("descricao", "Concorrente"),
        ("segmento", segment.as_str()),
        ("autorizacao", "consentimento"),
        ("acao", "importar"),
    ];
    let first = generated_layout(30_000);
    let second: Vec<u8> = String::from_utf8(generated_layout(30_000))
        .unwrap()
        .replace("TELEFONE;119", "TELEFONE;219")
        .into_bytes();
    let (a, b) = tokio::join!(
        app.post_import("a.csv", first, &fields),
        app.post_import("b.csv", second, &fields)
    );
    let pages = [location(&a), location(&b)];
    app.add_staff();
    let staff = new_client();
    let mut seen_statuses = Vec::new();
    let started = Instant::now();
    let mut round = 0;
    loop {
        round += 1;
        for page in [
            "/engajar/publicos",
            "/contatos?q=cliente",
            "/admin/auditoria",
            &pages[0],
        ] {
            let response = app.get(page).await;
            seen_statuses.push(response.status().as_u16());
            let body = response.text().await.unwrap();
            assert!(!body.to_lowercase().contains("locked"), "{page}");
        }
        // Writes: an admin change and logins, while the imports hold the lock.
        let response = app
            .submit(
                "/admin/segmentos",
                "/admin/segmentos",
                &[("name", &format!("Durante {round}"))],
            )
            .await;
        seen_statuses.push(response.status().as_u16());
        let page = staff.get(app.url("/login")).send().await.unwrap();
        let html = scraper::Html::parse_document(&page.text().await.unwrap());
        if let Some(token) = field_value(&html, "input[name=csrf_token]") {
            let response = staff
                .post(app.url("/login"))
                .form(&[
                    ("csrf_token", token.as_str()),
                    ("email", STAFF_EMAIL),
                    ("password", STAFF_PASSWORD),
                ])
                .send()
                .await
                .unwrap();
            seen_statuses.push(response.status().as_u16());
        }
        let statuses: Vec<String> = pages
            .iter()
            .map(|p| {
                let id: i64 = p.trim_start_matches("/engajar/publicos/").parse().unwrap();
                audiences::table
                    .find(id)
                    .select(audiences::status)
                    .first::<String>(&mut app.db())
                    .unwrap()
            })
            .collect();
        if statuses.iter().all(|s| s == "done") {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(300), "{statuses:?}");
    }
    assert!(
        seen_statuses.iter().all(|s| matches!(s, 200 | 303)),
        "every request answered normally: {seen_statuses:?}"
    );
    // The second file has other phones for the same customer codes: one contact each,
    // with two channels.
    let contacts: i64 = contacts::table.count().get_result(&mut app.db()).unwrap();
    let channels: i64 = contact_channels::table
        .count()
        .get_result(&mut app.db())
        .unwrap();
    assert_eq!((contacts, channels), (30_000, 60_000));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_browsing_and_writes_never_see_a_locked_database() {
    sqlite_writers_wait_behind_imports().await;
}
