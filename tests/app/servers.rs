//! Two app servers on one PostgreSQL, sharing the session key and nothing else (each has
//! its own spool folder; uploads wait in the database): a session from one is valid on
//! the other, and every import submitted through either is processed exactly once,
//! whichever server received its file.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use diesel::prelude::*;
use engajar::schema::{audience_members, audiences, contacts};

use crate::helpers::*;

const SESSION_KEY: &str =
    "c2Vzc2lvbi1rZXktc2hhcmVkLWJ5LXR3by1zZXJ2ZXJzLXNlc3Npb24ta2V5LXNoYXJlZC1ieS10d28tc2VydmVycy0=";

async fn form_token(client: &reqwest::Client, url: String) -> String {
    let page = client.get(url).send().await.unwrap();
    let html = scraper::Html::parse_document(&page.text().await.unwrap());
    field_value(&html, "input[name=csrf_token]").unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_share_sessions_and_process_each_import_once() {
    let Some((url, _db)) = fresh_database(Backend::Postgres) else {
        return;
    };
    let segment = {
        let mut conn = engajar::db::DatabaseUrl::parse(&url)
            .unwrap()
            .establish()
            .unwrap();
        engajar::db::run_migrations(&mut conn).unwrap();
        seed_staff(&mut conn);
        engajar::models::NewSegment {
            name: "Dois servidores",
            name_key: "dois servidores",
            created_by: None,
            created_at: 1,
        }
        .insert_if_absent(&mut conn)
        .unwrap()
        .0
        .id
    };
    let spools = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
    let logs = tempfile::tempdir().unwrap();
    let ports = [free_port(), free_port()];
    let mut servers = Vec::new();
    for (i, port) in ports.iter().enumerate() {
        let env = [
            ("ENGAJAR_SPOOL_DIR", spools[i].path().to_str().unwrap()),
            ("ENGAJAR_SESSION_KEY", SESSION_KEY),
        ];
        let log = logs.path().join(format!("server-{i}.log"));
        servers.push(start_binary_logging(&url, *port, &env, Some(&log)).await);
    }
    let address = |i: usize| format!("http://127.0.0.1:{}", ports[i]);

    // Logged in on the first, the same cookie is a session on the second.
    let client = login_at(&address(0), STAFF_EMAIL, STAFF_PASSWORD).await;
    let on_second = client
        .get(format!("{}/contatos", address(1)))
        .send()
        .await
        .unwrap();
    assert_eq!(
        on_second.status(),
        200,
        "the session is valid on the other server"
    );

    // Six imports, three through each server, with a form token from the other one.
    let rows = 3_000;
    let mut pages = Vec::new();
    for n in 0..6usize {
        let (form_from, post_to) = (address((n + 1) % 2), address(n % 2));
        let token = form_token(&client, format!("{form_from}/engajar/publicos/importar")).await;
        let csv = String::from_utf8(generated_layout(rows))
            .unwrap()
            .replace(
                "TELEFONE;119",
                &format!("TELEFONE;{}9", [21, 27, 31, 41, 51, 61][n]),
            )
            .replace(";C-", &format!(";S{n}-"));
        let form = reqwest::multipart::Form::new()
            .text("csrf_token", token)
            .text("descricao", format!("Import {n}"))
            .text("segmento", segment.to_string())
            .text("autorizacao", "consentimento")
            .text("acao", "importar")
            .part(
                "arquivo",
                reqwest::multipart::Part::bytes(csv.into_bytes()).file_name(format!("{n}.csv")),
            );
        let response = client
            .post(format!("{post_to}/engajar/publicos/importar"))
            .multipart(form)
            .send()
            .await
            .unwrap();
        pages.push(location(&response));
    }
    let ids: Vec<i64> = pages
        .iter()
        .map(|p| p.trim_start_matches("/engajar/publicos/").parse().unwrap())
        .collect();
    let mut conn = engajar::db::DatabaseUrl::parse(&url)
        .unwrap()
        .establish()
        .unwrap();
    let started = Instant::now();
    loop {
        let statuses: Vec<String> = audiences::table
            .filter(audiences::id.eq_any(&ids))
            .select(audiences::status)
            .load(&mut conn)
            .unwrap();
        if statuses.iter().all(|s| s != "queued" && s != "processing") {
            assert!(statuses.iter().all(|s| s == "done"), "{statuses:?}");
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(300), "{statuses:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    for id in &ids {
        let members: i64 = audience_members::table
            .filter(audience_members::audience_id.eq(id))
            .count()
            .get_result(&mut conn)
            .unwrap();
        assert_eq!(members, rows as i64, "audience {id}");
    }
    let contacts: i64 = contacts::table.count().get_result(&mut conn).unwrap();
    assert_eq!(contacts, 6 * rows as i64);

    // Every page shows the result, whichever server is asked.
    for (i, page) in pages.iter().enumerate() {
        let response = client
            .get(format!("{}{page}", address((i + 1) % 2)))
            .send()
            .await
            .unwrap();
        let html = scraper::Html::parse_document(&response.text().await.unwrap());
        assert_eq!(texts(&html, "#status"), vec!["Concluída"], "{page}");
    }

    // Each import was started by exactly one server.
    drop(servers);
    let mut started_by: HashMap<i64, Vec<usize>> = HashMap::new();
    for i in 0..2 {
        let log = std::fs::read_to_string(logs.path().join(format!("server-{i}.log"))).unwrap();
        for line in log.lines().filter(|l| l.contains("import started")) {
            let id: i64 = line
                .split("audience=")
                .nth(1)
                .and_then(|rest| rest.split(' ').next())
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("no audience in {line:?}"));
            started_by.entry(id).or_default().push(i);
        }
    }
    for id in &ids {
        assert_eq!(
            started_by.get(id).map(Vec::len),
            Some(1),
            "audience {id} started by {:?}",
            started_by.get(id)
        );
    }
    // The uploads lived in the database and are gone; neither server kept a file.
    let stored: i64 = engajar::schema::uploads::table
        .count()
        .get_result(&mut conn)
        .unwrap();
    assert_eq!(stored, 0);
    for spool in &spools {
        assert_eq!(std::fs::read_dir(spool.path()).unwrap().count(), 0);
    }
    assert!(
        engajar::models::erase::orphans(&mut conn)
            .unwrap()
            .is_empty()
    );
}
