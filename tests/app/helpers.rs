//! Starts the real app on a fresh database per test (SQLite always, PostgreSQL when
//! `ENGAJAR_TEST_PG_URL` is set) and talks HTTP to it with a cookie-keeping client.

use std::sync::atomic::{AtomicU64, Ordering};

use base64::Engine;
use diesel::prelude::*;
use engajar::config::Config;
use engajar::credentials::hash_password;
use engajar::db::{DatabaseUrl, DbConnection};
use engajar::domain::{NewPassword, Role};
use engajar::models::NewUser;
use reqwest::header::LOCATION;
use scraper::{Html, Selector};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Declares each listed `async fn name(app: TestApp)` as two tests, `sqlite::name` and
/// `postgres::name`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let app = $crate::helpers::spawn_app($crate::helpers::Backend::Sqlite)
                        .await
                        .expect("SQLite is always available");
                    super::$name(app).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if let Some(app) =
                        $crate::helpers::spawn_app($crate::helpers::Backend::Postgres).await
                    {
                        super::$name(app).await;
                    }
                }
            )*
        }
    };
}

/// Declares each listed `async fn name(backend: Backend)` — a test that starts its own
/// app or servers — as two tests, `on_sqlite::name` and `on_postgres::name`.
#[macro_export]
macro_rules! for_both_backends {
    ($($name:ident),* $(,)?) => {
        mod on_sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::helpers::Backend::Sqlite).await;
                }
            )*
        }
        mod on_postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::helpers::Backend::Postgres).await;
                }
            )*
        }
    };
}

pub const ADMIN_EMAIL: &str = "admin@engajar.test";
pub const ADMIN_PASSWORD: &str = "senha-do-admin-123";
pub const STAFF_EMAIL: &str = "equipe@engajar.test";
pub const STAFF_PASSWORD: &str = "senha-da-equipe-123";

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub database_url: String,
    pub spool: tempfile::TempDir,
    _db: TestDb,
}

enum TestDb {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres { admin_url: String, name: String },
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let TestDb::Postgres { admin_url, name } = self
            && let Ok(mut conn) = PgConnection::establish(admin_url)
        {
            let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut conn);
        }
    }
}

/// The server secret key every test app and server uses (base64 of 32 fixed bytes), so
/// the apps a test starts in-process and the binaries it runs on the same database agree.
pub fn test_secret_key() -> String {
    base64::engine::general_purpose::STANDARD.encode(*b"engajar test secret key 32 bytes")
}

/// Writes the test secret key where the app and the binary look for it, replacing the
/// file at once (written aside, then renamed) so no reader sees half a key.
fn write_secret_key_file(path: &std::path::Path) {
    // This process may read what servers on the database sealed.
    engajar::models::secret::register(
        &engajar::models::secret::ServerKey::from_bytes(b"engajar test secret key 32 bytes")
            .unwrap(),
    );
    if std::fs::read_to_string(path).is_ok_and(|k| k.trim() == test_secret_key()) {
        return;
    }
    let aside = path.with_extension(format!("tmp{}", unique_name()));
    std::fs::write(&aside, test_secret_key()).expect("write the test secret key");
    std::fs::rename(&aside, path).expect("place the test secret key");
}

/// The PostgreSQL server tests use, if any. Under CI it must be set: a silently skipped
/// PostgreSQL suite would prove nothing.
pub fn pg_admin_url() -> Option<String> {
    // The tests open PostgreSQL connections of their own before the app's first one.
    engajar::db::keep_openssl_alive_at_exit();
    match std::env::var("ENGAJAR_TEST_PG_URL") {
        Ok(url) if !url.trim().is_empty() => {
            // Servers on PostgreSQL keep their key in the working folder.
            static PLACED: std::sync::Once = std::sync::Once::new();
            PLACED.call_once(|| {
                write_secret_key_file(&engajar::config::secret_key_path(
                    &DatabaseUrl::parse("postgres://localhost/engajar").unwrap(),
                ))
            });
            Some(url)
        }
        _ if std::env::var("CI").is_ok() => {
            panic!("ENGAJAR_TEST_PG_URL must be set under CI so the PostgreSQL suite runs")
        }
        _ => None,
    }
}

fn unique_name() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!("engajar_test_{}_{}_{}", std::process::id(), n, nanos)
}

/// Replaces the database name in a PostgreSQL URL.
pub fn pg_url_for(admin_url: &str, db: &str) -> String {
    let (base, query) = match admin_url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (admin_url, None),
    };
    let after_scheme = base.find("://").map(|i| i + 3).unwrap_or(0);
    let root = match base[after_scheme..].find('/') {
        Some(i) => &base[..after_scheme + i],
        None => base,
    };
    match query {
        Some(q) => format!("{root}/{db}?{q}"),
        None => format!("{root}/{db}"),
    }
}

/// A fresh, empty database of the given kind; `None` when PostgreSQL is not configured.
pub fn fresh_database(backend: Backend) -> Option<(String, TestDbHandle)> {
    match backend {
        Backend::Sqlite => {
            let dir = tempfile::tempdir().expect("temp dir");
            let url = format!("sqlite://{}", dir.path().join("engajar.db").display());
            write_secret_key_file(&engajar::config::secret_key_path(
                &DatabaseUrl::parse(&url).unwrap(),
            ));
            Some((url, TestDbHandle(TestDb::Sqlite(dir))))
        }
        Backend::Postgres => {
            let admin_url = pg_admin_url()?;
            let name = unique_name();
            let mut conn = PgConnection::establish(&admin_url)
                .unwrap_or_else(|e| panic!("cannot reach ENGAJAR_TEST_PG_URL: {e}"));
            diesel::sql_query(format!("CREATE DATABASE {name}"))
                .execute(&mut conn)
                .expect("create test database");
            let url = pg_url_for(&admin_url, &name);
            Some((url, TestDbHandle(TestDb::Postgres { admin_url, name })))
        }
    }
}

pub struct TestDbHandle(TestDb);

pub async fn spawn_app(backend: Backend) -> Option<TestApp> {
    spawn_app_seeded(backend, |_, _| {}).await
}

/// Starts the app on a database that `seed` has filled first (migrated, not served yet),
/// with the app's spool folder.
pub async fn spawn_app_seeded(
    backend: Backend,
    seed: impl FnOnce(&mut DbConnection, &std::path::Path),
) -> Option<TestApp> {
    spawn_app_configured(backend, seed, |_| {}).await
}

/// [`spawn_app_seeded`] with the test configuration changed by `configure`.
pub async fn spawn_app_configured(
    backend: Backend,
    seed: impl FnOnce(&mut DbConnection, &std::path::Path),
    configure: impl FnOnce(&mut Config),
) -> Option<TestApp> {
    let (database_url, handle) = fresh_database(backend)?;
    let spool = tempfile::tempdir().expect("spool dir");
    {
        let mut conn = DatabaseUrl::parse(&database_url)
            .unwrap()
            .establish()
            .unwrap();
        engajar::db::run_migrations(&mut conn).unwrap();
        // What a server does first, so a seed may store provider secrets.
        let key =
            engajar::config::load_secret_key(None, &DatabaseUrl::parse(&database_url).unwrap())
                .unwrap();
        engajar::models::secret::open_with(&mut conn, &key, 1).unwrap();
        seed(&mut conn, spool.path());
    }
    let mut key = [0u8; 64];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut key);
    let mut config = Config {
        database_url: DatabaseUrl::parse(&database_url).unwrap(),
        bind: "127.0.0.1:0".into(),
        secure_cookies: false,
        session_key: Some(base64::engine::general_purpose::STANDARD.encode(key)),
        secret_key: None,
        // The fake providers listen on loopback.
        allow_private_providers: true,
        pool_size: 4,
        workers: Some(1),
        spool_dir: spool.path().to_path_buf(),
        max_upload_bytes: 2 * 1024 * 1024,
        verify_enabled: true,
        max_sheet_cells: 2_000_000,
        session_idle_secs: 8 * 3600,
        session_max_secs: 12 * 3600,
        trusted_proxies: Vec::new(),
        spool_max_bytes: 64 * 1024 * 1024,
        api_rate: (20, 100),
        smtp: None,
        public_url: "http://engajar.test".into(),
        retry_base_ms: 50,
        clock: engajar::time::Clock::system(),
        whatsapp: Default::default(),
        sms: Default::default(),
    };
    configure(&mut config);
    let app = engajar::startup::build(config).expect("app starts");
    let address = format!("http://127.0.0.1:{}", app.port);
    tokio::spawn(app.server);
    Some(TestApp {
        address,
        client: new_client(),
        database_url,
        spool,
        _db: handle.0,
    })
}

pub fn new_client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.expect("GET")
    }

    pub async fn get_html(&self, path: &str) -> Html {
        Html::parse_document(&self.get(path).await.text().await.unwrap())
    }

    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .form(fields)
            .send()
            .await
            .expect("POST")
    }

    /// Reads the CSRF token from the form on `page`, as a browser would submit it.
    pub async fn csrf_token(&self, page: &str) -> String {
        let html = self.get_html(page).await;
        field_value(&html, "input[name=csrf_token]")
            .unwrap_or_else(|| panic!("no csrf_token on {page}"))
    }

    /// Submits a form the way a browser does: loads `page`, then posts with its token.
    pub async fn submit(
        &self,
        page: &str,
        action: &str,
        fields: &[(&str, &str)],
    ) -> reqwest::Response {
        let token = self.csrf_token(page).await;
        let mut all = fields.to_vec();
        all.push(("csrf_token", &token));
        self.post_form(action, &all).await
    }

    /// Uploads kept anywhere: files in the spool folder, and on PostgreSQL stored uploads.
    pub fn uploads_kept(&self) -> usize {
        let files = std::fs::read_dir(self.spool.path()).unwrap().count();
        let stored = match self.backend() {
            Backend::Sqlite => 0,
            Backend::Postgres => {
                use diesel::prelude::*;
                engajar::schema::uploads::table
                    .count()
                    .get_result::<i64>(&mut self.db())
                    .unwrap() as usize
            }
        };
        files + stored
    }

    /// `engajar db check`'s question, asked after every import a test makes.
    pub fn assert_no_orphans(&self) {
        let orphans = engajar::models::erase::orphans(&mut self.db()).unwrap();
        assert!(orphans.is_empty(), "orphan rows: {orphans:?}");
    }

    pub fn backend(&self) -> Backend {
        if self.database_url.starts_with("postgres") {
            Backend::Postgres
        } else {
            Backend::Sqlite
        }
    }

    pub fn db(&self) -> DbConnection {
        DatabaseUrl::parse(&self.database_url)
            .unwrap()
            .establish()
            .expect("test connection")
    }

    pub fn add_user(&self, email: &str, name: &str, role: Role, password: &str) -> i64 {
        let mut conn = self.db();
        let hash = hash_password(&NewPassword::parse(password, email).unwrap());
        NewUser {
            email,
            name,
            role: role.as_str(),
            password_hash: &hash,
            disabled: 0,
            created_at: 1,
            updated_at: 1,
        }
        .insert(&mut conn)
        .unwrap()
        .id
    }

    pub fn add_admin(&self) -> i64 {
        self.add_user(
            ADMIN_EMAIL,
            "Ana Administradora",
            Role::Admin,
            ADMIN_PASSWORD,
        )
    }

    pub fn add_staff(&self) -> i64 {
        self.add_user(STAFF_EMAIL, "Caio da Equipe", Role::Staff, STAFF_PASSWORD)
    }

    pub async fn login(&self, email: &str, password: &str) -> reqwest::Response {
        self.submit(
            "/login",
            "/login",
            &[("email", email), ("password", password)],
        )
        .await
    }

    pub async fn login_admin(&self) {
        self.add_admin();
        let logins = self
            .audit_actions()
            .iter()
            .filter(|a| *a == "login")
            .count();
        let response = self.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
        assert_eq!(location(&response), "/engajar");
        // The login's audit entry is written off the request path: wait for it, so a
        // test that counts or lists entries next sees a settled log.
        self.wait_for_audit("login", logins + 1).await;
    }

    pub async fn login_staff(&self) {
        self.add_staff();
        let logins = self
            .audit_actions()
            .iter()
            .filter(|a| *a == "login")
            .count();
        let response = self.login(STAFF_EMAIL, STAFF_PASSWORD).await;
        assert_eq!(location(&response), "/engajar");
        self.wait_for_audit("login", logins + 1).await;
    }
}

pub fn fixture(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

impl TestApp {
    /// Creates a segment straight in the database; returns its id.
    pub fn add_segment(&self, name: &str) -> i64 {
        let name = engajar::domain::SegmentName::parse(name).unwrap();
        engajar::models::NewSegment {
            name: name.as_str(),
            name_key: name.key(),
            created_by: None,
            created_at: 1,
        }
        .insert_if_absent(&mut self.db())
        .unwrap()
        .0
        .id
    }

    /// Submits the import form as a browser does, with `bytes` as the file.
    pub async fn post_import(
        &self,
        file_name: &str,
        bytes: Vec<u8>,
        fields: &[(&str, &str)],
    ) -> reqwest::Response {
        let token = self.csrf_token("/engajar/publicos/importar").await;
        let mut form = reqwest::multipart::Form::new().text("csrf_token", token);
        for (k, v) in fields {
            form = form.text(k.to_string(), v.to_string());
        }
        let part = reqwest::multipart::Part::bytes(bytes).file_name(file_name.to_string());
        form = form.part("arquivo", part);
        self.client
            .post(self.url("/engajar/publicos/importar"))
            .multipart(form)
            .send()
            .await
            .expect("POST import")
    }

    /// Imports a fixture through the form and waits for its audience page to settle.
    pub async fn import_fixture(
        &self,
        name: &str,
        segment_id: i64,
        options: &[&str],
    ) -> (i64, Html) {
        let bytes = std::fs::read(fixture(name)).unwrap();
        self.import_bytes(name, bytes, segment_id, options).await
    }

    pub async fn import_bytes(
        &self,
        name: &str,
        bytes: Vec<u8>,
        segment_id: i64,
        options: &[&str],
    ) -> (i64, Html) {
        let segment = segment_id.to_string();
        let mut fields = vec![
            ("descricao", "Campanha de teste"),
            ("segmento", segment.as_str()),
            ("autorizacao", "consentimento"),
            ("acao", "importar"),
        ];
        for option in options {
            fields.push((option, "on"));
        }
        let response = self.post_import(name, bytes, &fields).await;
        let target = location(&response);
        let id: i64 = target
            .trim_start_matches("/engajar/publicos/")
            .parse()
            .unwrap_or_else(|_| panic!("redirected to {target}"));
        let html = self.wait_for_audience(id).await;
        self.assert_no_orphans();
        (id, html)
    }

    /// A connection holding audience `id`'s job lock (PostgreSQL), as a server running its
    /// import would, so no worker takes a test's staged "processing" for abandoned. Drop
    /// it to let go.
    pub fn hold_import_lock(&self, id: i64) -> DbConnection {
        use diesel::prelude::*;
        let mut holder = self.db();
        if self.backend() == Backend::Postgres {
            diesel::sql_query(format!(
                "SELECT pg_advisory_lock({})",
                engajar::models::audience::job_key(id)
            ))
            .execute(&mut holder)
            .unwrap();
        }
        holder
    }

    /// Polls the audience page until its import has finished.
    pub async fn wait_for_audience(&self, id: i64) -> Html {
        let started = std::time::Instant::now();
        loop {
            let html = self.get_html(&format!("/engajar/publicos/{id}")).await;
            let status = texts(&html, "#status").join("");
            if !status.is_empty() && status != "Na fila" && status != "Processando" {
                return html;
            }
            assert!(
                started.elapsed() < std::time::Duration::from_secs(60),
                "audience {id} still {status:?}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }
}

pub fn location(response: &reqwest::Response) -> String {
    assert!(
        response.status().is_redirection(),
        "expected a redirect, got {}",
        response.status()
    );
    response
        .headers()
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

pub fn field_value(html: &Html, selector: &str) -> Option<String> {
    let selector = Selector::parse(selector).unwrap();
    html.select(&selector)
        .next()
        .and_then(|e| e.value().attr("value"))
        .map(str::to_string)
}

/// The values of attribute `name` of the elements `selector` finds.
pub fn attrs(html: &Html, selector: &str, name: &str) -> Vec<String> {
    let selector = Selector::parse(selector).unwrap();
    html.select(&selector)
        .filter_map(|e| e.value().attr(name).map(str::to_string))
        .collect()
}

pub fn texts(html: &Html, selector: &str) -> Vec<String> {
    let selector = Selector::parse(selector).unwrap();
    html.select(&selector)
        .map(|e| {
            e.text()
                .collect::<String>()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

/// A layout file as a spreadsheet exports it: the 13 columns, `;`-separated.
pub fn layout_csv(rows: &[[&str; 13]]) -> Vec<u8> {
    let mut w = csv::WriterBuilder::new()
        .delimiter(b';')
        .from_writer(Vec::new());
    w.write_record(engajar::layout::COLUMNS).unwrap();
    for row in rows {
        w.write_record(row).unwrap();
    }
    w.into_inner().unwrap()
}

/// A layout row from its usual cells; the coringas and message left empty.
pub fn person<'a>(
    kind: &'a str,
    value: &'a str,
    name: &'a str,
    document: &'a str,
    code: &'a str,
    tag: &'a str,
    priority: &'a str,
) -> [&'a str; 13] {
    [
        kind, value, "", name, document, code, tag, "", "", "", "", "", priority,
    ]
}

impl TestApp {
    /// Another browser: its own cookies, logged in as `email`.
    pub async fn other_browser(&self, email: &str, password: &str) -> reqwest::Client {
        let client = new_client();
        let page = client.get(self.url("/login")).send().await.unwrap();
        let html = Html::parse_document(&page.text().await.unwrap());
        let token = field_value(&html, "input[name=csrf_token]").unwrap();
        let response = client
            .post(self.url("/login"))
            .form(&[
                ("csrf_token", token.as_str()),
                ("email", email),
                ("password", password),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(location(&response), "/engajar", "{email} logs in");
        client
    }

    /// Logs the current browser out.
    pub async fn logout(&self) {
        let token = self.csrf_token("/conta").await;
        let response = self.post_form("/logout", &[("csrf_token", &token)]).await;
        assert!(response.status().is_redirection());
    }

    /// Waits until the audit log holds `n` entries with this action: logins are audited
    /// off the request path, a moment after the answer.
    pub async fn wait_for_audit(&self, action: &str, n: usize) {
        let started = std::time::Instant::now();
        while self.audit_actions().iter().filter(|a| *a == action).count() < n {
            assert!(
                started.elapsed() < std::time::Duration::from_secs(10),
                "no {n} {action} audit entries: {:?}",
                self.audit_actions()
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    /// The audit log's actions, oldest first.
    pub fn audit_actions(&self) -> Vec<String> {
        use engajar::schema::audit_log;
        audit_log::table
            .order(audit_log::id.asc())
            .select(audit_log::action)
            .load(&mut self.db())
            .unwrap()
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A server process of the real binary, killed (SIGKILL) when dropped.
pub struct ServerProcess(pub std::process::Child);

impl ServerProcess {
    /// Kills the server the hard way, as a power cut would.
    pub fn kill(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Starts `engajar serve` on `port` and waits until `/healthz` answers.
pub async fn start_binary(url: &str, port: u16, env: &[(&str, &str)]) -> ServerProcess {
    start_binary_logging(url, port, env, None).await
}

/// [`start_binary`], its log (stderr) written to `log`.
pub async fn start_binary_logging(
    url: &str,
    port: u16,
    env: &[(&str, &str)],
    log: Option<&std::path::Path>,
) -> ServerProcess {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_engajar"));
    command
        .arg("--database-url")
        .arg(url)
        .env("ENGAJAR_BIND", format!("127.0.0.1:{port}"))
        .env_remove("ENGAJAR_SESSION_KEY")
        .env_remove("DATABASE_URL")
        // The key file beside the database (or the working folder's) rules.
        .env_remove("ENGAJAR_SECRET_KEY")
        .env("ENGAJAR_ALLOW_PRIVATE_PROVIDERS", "1")
        .stdout(std::process::Stdio::null())
        .stderr(match log {
            Some(path) => std::process::Stdio::from(std::fs::File::create(path).unwrap()),
            None => std::process::Stdio::null(),
        });
    for (key, value) in env {
        command.env(key, value);
    }
    let child = ServerProcess(command.spawn().unwrap());
    let health = format!("http://127.0.0.1:{port}/healthz");
    let started = std::time::Instant::now();
    loop {
        if let Ok(r) = reqwest::get(&health).await
            && r.status() == 200
        {
            return child;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(30),
            "server did not start"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// Logs a fresh client in at `address` (a server started apart from [`TestApp`]).
pub async fn login_at(address: &str, email: &str, password: &str) -> reqwest::Client {
    let client = new_client();
    let page = client.get(format!("{address}/login")).send().await.unwrap();
    let html = Html::parse_document(&page.text().await.unwrap());
    let token = field_value(&html, "input[name=csrf_token]").unwrap();
    let response = client
        .post(format!("{address}/login"))
        .form(&[
            ("csrf_token", token.as_str()),
            ("email", email),
            ("password", password),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        location(&response),
        "/engajar",
        "{email} logs in at {address}"
    );
    client
}

/// A layout file of `rows` new contacts, each with its own phone.
pub fn generated_layout(rows: usize) -> Vec<u8> {
    let mut out = engajar::layout::COLUMNS.join(";").into_bytes();
    out.extend_from_slice(b"\r\n");
    for i in 0..rows {
        out.extend_from_slice(
            format!(
                "TELEFONE;119{:08};;Cliente {i};;C-{i};Loja;;;;;;MEDIA\r\n",
                10_000_000 + i
            )
            .as_bytes(),
        );
    }
    out
}

/// The staff user (`STAFF_EMAIL`), straight into a database no app has opened yet.
pub fn seed_staff(conn: &mut engajar::db::DbConnection) {
    let hash = engajar::credentials::hash_password(
        &engajar::domain::NewPassword::parse(STAFF_PASSWORD, STAFF_EMAIL).unwrap(),
    );
    engajar::models::NewUser {
        email: STAFF_EMAIL,
        name: "Caio da Equipe",
        role: "staff",
        password_hash: &hash,
        disabled: 0,
        created_at: 1,
        updated_at: 1,
    }
    .insert(conn)
    .unwrap();
}

/// L1 (phone X, CPF A), L2 (e-mail, CPF A), L3 (phone X, CPF B) and an unrelated L4: the
/// first three are one linked group carrying two CPFs.
pub fn two_cpf_group() -> [[&'static str; 13]; 4] {
    [
        person(
            "TELEFONE",
            "11911114001",
            "Rui",
            "111.444.777-35",
            "",
            "",
            "",
        ),
        person(
            "EMAIL",
            "rui@exemplo.com.br",
            "Rui",
            "111.444.777-35",
            "",
            "",
            "",
        ),
        person(
            "TELEFONE",
            "11911114001",
            "Eva",
            "123.456.789-09",
            "",
            "",
            "",
        ),
        person("TELEFONE", "11911114002", "Ivo", "", "", "", ""),
    ]
}
