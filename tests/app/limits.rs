//! What a careless or hostile client cannot do: make pages cacheable, overflow a page
//! number, make a search expensive, fill the spool, or upload without a valid form.

use std::os::unix::fs::PermissionsExt;

use crate::helpers::*;

crate::on_both_backends!(
    pages_and_csv_files_are_never_cached,
    a_huge_page_number_is_the_last_page_not_an_error,
    a_search_of_a_hundred_words_is_cut_to_a_few,
    an_upload_without_a_valid_token_writes_nothing,
    a_full_spool_refuses_new_uploads_with_a_clear_page,
    an_import_failed_by_the_database_forgets_its_upload,
);

async fn pages_and_csv_files_are_never_cached(app: TestApp) {
    app.login_staff().await;
    let segment = app.add_segment("Clientes");
    let (id, _) = app
        .import_bytes(
            "a.csv",
            layout_csv(&[person("TELEFONE", "1198", "Ana", "", "", "", "")]),
            segment,
            &[],
        )
        .await;
    for path in [
        "/contatos".to_string(),
        "/engajar/publicos".to_string(),
        format!("/engajar/publicos/{id}"),
        format!("/engajar/publicos/{id}/rejeitadas.csv"),
        "/engajar/publicos/layout.csv".to_string(),
        "/login".to_string(),
    ] {
        let response = app.get(&path).await;
        assert_eq!(
            response.headers().get("cache-control").unwrap(),
            "no-store",
            "{path}"
        );
        assert!(
            response
                .headers()
                .get("strict-transport-security")
                .is_none()
        );
    }
    let css = app.get("/static/engajar.css").await;
    assert_eq!(
        css.headers().get("cache-control").unwrap(),
        "public, max-age=3600"
    );
}

async fn a_huge_page_number_is_the_last_page_not_an_error(app: TestApp) {
    app.login_admin().await;
    for path in [
        "/contatos?page=9223372036854775807",
        "/contatos?q=ana&page=922337203685477580",
        "/engajar/publicos?page=9223372036854775807",
        "/admin/auditoria?page=9223372036854775807",
        "/admin/nao-perturbe?page=9223372036854775807",
        "/fila?page=9223372036854775807",
        "/contatos?page=-5",
    ] {
        let status = app.get(path).await.status();
        assert!(status == 200 || status == 400, "{path}: {status}");
        assert_ne!(status, 500);
    }
}

async fn a_search_of_a_hundred_words_is_cut_to_a_few(app: TestApp) {
    app.login_staff().await;
    let segment = app.add_segment("Clientes");
    app.import_bytes(
        "a.csv",
        layout_csv(&[person(
            "TELEFONE",
            "11987654321",
            "Ana Maria Lima",
            "",
            "",
            "",
            "",
        )]),
        segment,
        &[],
    )
    .await;
    let words: Vec<String> = (0..100).map(|i| format!("p{i}")).collect();
    let response = app.get(&format!("/contatos?q={}", words.join("+"))).await;
    assert_eq!(response.status(), 200);
    // Repeated and contained words do not hide a match.
    let html = app
        .get_html("/contatos?q=ana+an+ana+lima+lim+maria+ma")
        .await;
    assert_eq!(texts(&html, "td.name"), vec!["Ana Maria Lima"]);
}

async fn an_upload_without_a_valid_token_writes_nothing(app: TestApp) {
    app.login_staff().await;
    let segment = app.add_segment("Clientes").to_string();
    let form = reqwest::multipart::Form::new()
        .text("csrf_token", "forjado")
        .text("descricao", "Sem token")
        .text("segmento", segment)
        .text("autorizacao", "consentimento")
        .part(
            "arquivo",
            reqwest::multipart::Part::bytes(vec![b'x'; 3 * 1024 * 1024]).file_name("a.csv"),
        );
    let response = app
        .client
        .post(app.url("/engajar/publicos/importar"))
        .multipart(form)
        .send()
        .await;
    // The server may answer before reading the body, and close the connection.
    if let Ok(response) = response {
        assert_eq!(response.status(), 403);
    }
    assert_eq!(app.uploads_kept(), 0);
    let audiences: i64 = {
        use diesel::prelude::*;
        engajar::schema::audiences::table
            .count()
            .get_result(&mut app.db())
            .unwrap()
    };
    assert_eq!(audiences, 0);
    // The spool folder and the SQLite files are the owner's alone.
    let spool = std::fs::metadata(app.spool.path())
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(spool & 0o077, 0, "spool {spool:o}");
    if let Some(path) = app.database_url.strip_prefix("sqlite://") {
        for suffix in ["", "-wal"] {
            let mode = std::fs::metadata(format!("{path}{suffix}"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o077, 0, "{path}{suffix} {mode:o}");
        }
    }
}

async fn a_full_spool_refuses_new_uploads_with_a_clear_page(app: TestApp) {
    app.login_staff().await;
    let segment = app.add_segment("Clientes").to_string();
    // Uploads waiting for the worker already fill the allowed space (64 MB in tests):
    // in the spool folder on SQLite, in the database on PostgreSQL.
    match app.backend() {
        Backend::Sqlite => {
            let waiting = app.spool.path().join("upload-waiting");
            std::fs::File::create(&waiting)
                .unwrap()
                .set_len(64 * 1024 * 1024)
                .unwrap();
        }
        Backend::Postgres => {
            use diesel::prelude::*;
            use engajar::schema::uploads;
            diesel::insert_into(uploads::table)
                .values((
                    uploads::size.eq(64 * 1024 * 1024),
                    uploads::complete.eq(0),
                    uploads::created_at.eq(engajar::time::now()),
                ))
                .execute(&mut app.db())
                .unwrap();
        }
    }
    let response = app
        .post_import(
            "a.csv",
            layout_csv(&[person("TELEFONE", "11987654321", "Ana", "", "", "", "")]),
            &[
                ("descricao", "Cheio"),
                ("segmento", &segment),
                ("autorizacao", "consentimento"),
            ],
        )
        .await;
    assert_eq!(response.status(), 429);
    let html = scraper::Html::parse_document(&response.text().await.unwrap());
    assert!(texts(&html, "main p").join(" ").contains("está cheio"));
    assert_eq!(app.uploads_kept(), 1);
}

async fn an_import_failed_by_the_database_forgets_its_upload(app: TestApp) {
    use diesel::prelude::*;
    use engajar::schema::audiences;
    app.login_staff().await;
    let segment = app.add_segment("Clientes").to_string();
    // The import's first write fails: its table is gone.
    diesel::sql_query("ALTER TABLE audience_members RENAME TO audience_members_away")
        .execute(&mut app.db())
        .unwrap();
    let response = app
        .post_import(
            "a.csv",
            layout_csv(&[person("TELEFONE", "11987654321", "Ana", "", "", "", "")]),
            &[
                ("descricao", "Falha"),
                ("segmento", &segment),
                ("autorizacao", "consentimento"),
            ],
        )
        .await;
    assert!(response.status().is_redirection());
    let started = std::time::Instant::now();
    let (status, failure) = loop {
        let (status, failure): (String, Option<String>) = audiences::table
            .select((audiences::status, audiences::failure))
            .first(&mut app.db())
            .unwrap();
        if status == "failed" {
            break (status, failure);
        }
        assert!(started.elapsed().as_secs() < 30, "still {status}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert_eq!(status, "failed");
    assert!(failure.unwrap().contains("erro no banco de dados"));
    let started = std::time::Instant::now();
    while app.uploads_kept() > 0 {
        assert!(
            started.elapsed().as_secs() < 10,
            "the upload is gone once the failure is recorded"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// An upload cut off mid-way (its server died) stays in PostgreSQL until a worker's
/// recovery finds it an hour old: `db check` names it, the next start deletes it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cut_off_upload_is_reported_then_purged() {
    use diesel::prelude::*;
    use engajar::schema::{upload_chunks, uploads};
    let Some(app) = spawn_app_seeded(Backend::Postgres, |conn, _| {
        let id = engajar::models::upload::begin(conn, 1).unwrap();
        engajar::models::upload::append(conn, id, 0, b"TIPO_DE_REGISTRO;VALOR").unwrap();
        assert_eq!(
            engajar::models::erase::orphans(conn).unwrap(),
            vec![("uploads", 1)]
        );
    })
    .await
    else {
        return;
    };
    let started = std::time::Instant::now();
    loop {
        let (stored, pieces): (i64, i64) = (
            uploads::table.count().get_result(&mut app.db()).unwrap(),
            upload_chunks::table
                .count()
                .get_result(&mut app.db())
                .unwrap(),
        );
        if (stored, pieces) == (0, 0) {
            break;
        }
        assert!(started.elapsed().as_secs() < 30, "still {stored} uploads");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    app.assert_no_orphans();
}
