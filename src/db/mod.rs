//! The database: one connection type over PostgreSQL and SQLite, its pool and migrations.

use std::path::PathBuf;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::r2d2::{self, ManageConnection, R2D2Connection};
use diesel::{PgConnection, SqliteConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// Serialises migrations when several app servers start against one PostgreSQL.
const MIGRATION_LOCK_KEY: i64 = 0x656e_67616a6172;

/// How long SQLite waits for a competing writer before giving up.
const SQLITE_BUSY_TIMEOUT_MS: u32 = 120_000;

/// Runs a query on the concrete connection inside a [`DbConnection`], for what the
/// multi-backend wrapper cannot express (such as `INSERT … RETURNING`).
#[macro_export]
macro_rules! on_backend {
    ($conn:expr, $query:expr) => {
        match $conn {
            $crate::db::DbConnection::Pg(c) => $query.get_result(c),
            $crate::db::DbConnection::Sqlite(c) => $query.get_result(c),
        }
    };
}

/// Like [`on_backend!`], for statements that return a row count (batch inserts).
#[macro_export]
macro_rules! execute_on_backend {
    ($conn:expr, $query:expr) => {
        match $conn {
            $crate::db::DbConnection::Pg(c) => $query.execute(c),
            $crate::db::DbConnection::Sqlite(c) => $query.execute(c),
        }
    };
}

/// A multi-row insert that skips rows already there (by the given unique columns).
#[macro_export]
macro_rules! insert_ignoring_duplicates {
    ($conn:expr, $table:expr, $values:expr, $conflict:expr) => {
        match $conn {
            $crate::db::DbConnection::Pg(c) => diesel::insert_into($table)
                .values($values)
                .on_conflict($conflict)
                .do_nothing()
                .execute(c),
            $crate::db::DbConnection::Sqlite(c) => diesel::insert_or_ignore_into($table)
                .values($values)
                .execute(c),
        }
    };
}

/// Rows per statement in [`insert_all!`]: fixed, so the statement is prepared once per
/// connection and reused (diesel caches statements whose shape cannot change).
pub const INSERT_CHUNK: usize = 100;

/// Inserts a slice of rows. On PostgreSQL in one `COPY … FROM STDIN` (binary); on SQLite
/// whole chunks of [`INSERT_CHUNK`] through one cached prepared statement, the remainder
/// in one more. Returns the rows inserted.
#[macro_export]
macro_rules! insert_all {
    ($conn:expr, $table:expr, $rows:expr) => {{
        let rows = $rows;
        if let $crate::db::DbConnection::Pg(pg) = &mut *$conn {
            diesel::prelude::ExecuteCopyFromDsl::execute(
                diesel::copy_from($table).from_insertable(rows),
                pg,
            )?
        } else {
            let mut chunks = rows.chunks_exact($crate::db::INSERT_CHUNK);
            let mut inserted = 0usize;
            for chunk in &mut chunks {
                let fixed: &[_; $crate::db::INSERT_CHUNK] =
                    chunk.try_into().expect("chunks_exact yields whole chunks");
                inserted += $crate::execute_on_backend!(
                    &mut *$conn,
                    diesel::insert_into($table).values(fixed)
                )?;
            }
            let rest = chunks.remainder();
            if !rest.is_empty() {
                inserted += $crate::execute_on_backend!(
                    &mut *$conn,
                    diesel::insert_into($table).values(rest)
                )?;
            }
            inserted
        }
    }};
}

/// [`insert_all!`] for rows that may already be there (by the given unique columns).
#[macro_export]
macro_rules! insert_all_ignoring_duplicates {
    ($conn:expr, $table:expr, $rows:expr, $conflict:expr) => {{
        let rows = $rows;
        let mut chunks = rows.chunks_exact($crate::db::INSERT_CHUNK);
        let mut inserted = 0usize;
        for chunk in &mut chunks {
            let fixed: &[_; $crate::db::INSERT_CHUNK] =
                chunk.try_into().expect("chunks_exact yields whole chunks");
            inserted += $crate::insert_ignoring_duplicates!(&mut *$conn, $table, fixed, $conflict)?;
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            inserted += $crate::insert_ignoring_duplicates!(&mut *$conn, $table, rest, $conflict)?;
        }
        inserted
    }};
}

/// A transaction that will write. On SQLite it starts with `BEGIN IMMEDIATE`, taking the
/// write lock first: a deferred transaction that reads and then writes while an import
/// holds the lock fails at once with "database is locked" (SQLite cannot wait there
/// without risking a deadlock), whereas waiting for the lock up front honours the busy
/// timeout. On PostgreSQL it is an ordinary transaction.
pub fn write_transaction<T, E, F>(conn: &mut DbConnection, work: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    use diesel::connection::{AnsiTransactionManager, TransactionManager};
    let DbConnection::Sqlite(sqlite) = conn else {
        return conn.transaction(work);
    };
    // Inside a transaction already (which holds the write lock): a savepoint.
    let depth =
        AnsiTransactionManager::transaction_manager_status_mut(sqlite).transaction_depth()?;
    if depth.is_some() {
        return conn.transaction(work);
    }
    AnsiTransactionManager::begin_transaction_sql(sqlite, "BEGIN IMMEDIATE")?;
    type Manager = <DbConnection as Connection>::TransactionManager;
    match work(conn) {
        Ok(value) => match Manager::commit_transaction(conn) {
            Ok(()) => Ok(value),
            Err(commit_error) => {
                let _ = Manager::rollback_transaction(conn);
                Err(commit_error.into())
            }
        },
        Err(error) => {
            Manager::rollback_transaction(conn)?;
            Err(error)
        }
    }
}

/// After an elimination is committed: on SQLite, what it deleted must not stay readable
/// in the files. `secure_delete` (set on every connection) zeroed the freed space; the
/// name index is merged so no segment keeps a deleted entry, and the WAL — which still
/// holds the pages as they were before — is copied back and truncated. Nothing to do on
/// PostgreSQL (its files are not the application's to read).
pub fn forget_erased(conn: &mut DbConnection) -> QueryResult<()> {
    if let DbConnection::Sqlite(sqlite) = conn {
        sqlite.batch_execute(
            "INSERT INTO contact_names (contact_names) VALUES ('optimize');
             PRAGMA wal_checkpoint(TRUNCATE);",
        )?;
    }
    Ok(())
}

#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Pg(PgConnection),
    Sqlite(SqliteConnection),
}

pub type Pool = r2d2::Pool<Manager>;
pub type PooledConnection = r2d2::PooledConnection<Manager>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

impl DbConnection {
    pub fn backend(&self) -> Backend {
        match self {
            DbConnection::Pg(_) => Backend::Postgres,
            DbConnection::Sqlite(_) => Backend::Sqlite,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error(
        "unsupported DATABASE_URL {0:?}: use sqlite://PATH (e.g. sqlite://engajar.db) or postgres://USER@HOST:PORT/DB"
    )]
    UnsupportedScheme(String),
    #[error("DATABASE_URL {0:?} names no SQLite file: write sqlite://PATH")]
    EmptySqlitePath(String),
    #[error("cannot open the SQLite database at {path}: {source}")]
    Sqlite {
        path: String,
        source: diesel::ConnectionError,
    },
    #[error("cannot connect to PostgreSQL at {url}: {source}")]
    Postgres {
        url: String,
        source: diesel::ConnectionError,
    },
    #[error("cannot prepare the database connection: {0}")]
    Setup(diesel::result::Error),
    #[error("database migrations failed: {0}")]
    Migrations(String),
    #[error("cannot create the connection pool: {0}")]
    Pool(String),
}

/// Where the data lives, decided by the URL scheme alone: SQLite accepts any string as a
/// path, so letting diesel guess would turn a mistyped PostgreSQL URL into a new file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Sqlite(PathBuf),
    Postgres(String),
}

impl DatabaseUrl {
    pub fn parse(raw: &str) -> Result<Self, SetupError> {
        let raw = raw.trim();
        if let Some(path) = raw.strip_prefix("sqlite://") {
            if path.is_empty() {
                return Err(SetupError::EmptySqlitePath(raw.to_string()));
            }
            return Ok(DatabaseUrl::Sqlite(PathBuf::from(path)));
        }
        if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            return Ok(DatabaseUrl::Postgres(raw.to_string()));
        }
        Err(SetupError::UnsupportedScheme(redact(raw)))
    }

    pub fn backend(&self) -> Backend {
        match self {
            DatabaseUrl::Sqlite(_) => Backend::Sqlite,
            DatabaseUrl::Postgres(_) => Backend::Postgres,
        }
    }

    /// The URL as it may appear in logs and error messages: without a password.
    pub fn display(&self) -> String {
        match self {
            DatabaseUrl::Sqlite(path) => format!("sqlite://{}", path.display()),
            DatabaseUrl::Postgres(url) => redact(url),
        }
    }

    pub fn establish(&self) -> Result<DbConnection, SetupError> {
        match self {
            DatabaseUrl::Sqlite(path) => {
                let text = path.to_string_lossy();
                let mut conn =
                    SqliteConnection::establish(&text).map_err(|source| SetupError::Sqlite {
                        path: text.to_string(),
                        source,
                    })?;
                conn.batch_execute(&format!(
                    "PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS};
                     PRAGMA journal_mode = WAL;
                     PRAGMA synchronous = NORMAL;
                     PRAGMA foreign_keys = ON;
                     PRAGMA secure_delete = ON;"
                ))
                .map_err(SetupError::Setup)?;
                Ok(DbConnection::Sqlite(conn))
            }
            DatabaseUrl::Postgres(url) => {
                keep_openssl_alive_at_exit();
                let conn =
                    PgConnection::establish(&with_connect_timeout(url)).map_err(|source| {
                        SetupError::Postgres {
                            url: redact(url),
                            source,
                        }
                    })?;
                Ok(DbConnection::Pg(conn))
            }
        }
    }
}

/// Tells OpenSSL (which libpq uses for TLS) not to free its state from an `atexit`
/// handler. The pool opens connections from background threads; one that was opening a
/// TLS connection while the process exited used OpenSSL's locks after that handler had
/// freed them, and the process died with SIGSEGV after a clean run. Must run before
/// OpenSSL's first initialisation, i.e. before the first PostgreSQL connection, which is
/// why every connection goes through here; the process's exit frees the memory anyway.
pub fn keep_openssl_alive_at_exit() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        use std::ffi::{c_char, c_int, c_void};
        const OPENSSL_INIT_NO_ATEXIT: u64 = 0x0008_0000;
        unsafe extern "C" {
            fn dlsym(handle: *mut c_void, symbol: *const c_char) -> *mut c_void;
        }
        // libcrypto is loaded with libpq; looked up rather than linked so the build needs
        // no OpenSSL headers or link flags of its own. RTLD_DEFAULT is the null handle.
        // SAFETY: dlsym with RTLD_DEFAULT and a NUL-terminated name only reads the loaded
        // objects' symbol tables; the pointer, when found, is OpenSSL's
        // `int OPENSSL_init_crypto(uint64_t opts, const OPENSSL_INIT_SETTINGS *settings)`.
        unsafe {
            let symbol = dlsym(std::ptr::null_mut(), c"OPENSSL_init_crypto".as_ptr());
            if symbol.is_null() {
                tracing::debug!("OpenSSL not loaded: nothing to keep alive at exit");
                return;
            }
            let init: extern "C" fn(u64, *const c_void) -> c_int = std::mem::transmute(symbol);
            if init(OPENSSL_INIT_NO_ATEXIT, std::ptr::null()) != 1 {
                tracing::warn!("OpenSSL refused OPENSSL_INIT_NO_ATEXIT");
            }
        }
    });
}

/// Without a timeout libpq waits on an unreachable host for as long as the OS lets it.
/// libpq options Engajar sets unless the URL says otherwise: give up connecting after 5 s,
/// and skip GSSAPI encryption, whose Kerberos probe on every connect can abort the process
/// when a connection is opened while it exits.
fn with_connect_timeout(url: &str) -> String {
    let mut url = url.to_string();
    for (key, value) in [("connect_timeout", "5"), ("gssencmode", "disable")] {
        if !url.contains(&format!("{key}=")) {
            let separator = if url.contains('?') { '&' } else { '?' };
            url = format!("{url}{separator}{key}={value}");
        }
    }
    url
}

/// The URL without any password: in the user part (`user:secret@`) or as a libpq option
/// (`?password=secret`, in any case).
fn redact(url: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let base = match base.split_once("://") {
        Some((scheme, rest)) => match rest.rsplit_once('@') {
            Some((userinfo, host)) => match userinfo.split_once(':') {
                Some((user, _password)) => format!("{scheme}://{user}:***@{host}"),
                None => base.to_string(),
            },
            None => base.to_string(),
        },
        None => base.to_string(),
    };
    let Some(query) = query else {
        return base;
    };
    let query: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((key, _)) if key.eq_ignore_ascii_case("password") => format!("{key}=***"),
            _ => pair.to_string(),
        })
        .collect();
    format!("{base}?{}", query.join("&"))
}

/// Opens connections by the URL's scheme and sets SQLite's pragmas on each one.
#[derive(Debug)]
pub struct Manager {
    url: DatabaseUrl,
}

impl ManageConnection for Manager {
    type Connection = DbConnection;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<DbConnection, r2d2::Error> {
        self.url.establish().map_err(|e| match e {
            SetupError::Sqlite { source, .. } | SetupError::Postgres { source, .. } => {
                r2d2::Error::ConnectionError(source)
            }
            SetupError::Setup(e) => r2d2::Error::QueryError(e),
            other => r2d2::Error::ConnectionError(diesel::ConnectionError::BadConnection(
                other.to_string(),
            )),
        })
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), r2d2::Error> {
        conn.ping().map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut DbConnection) -> bool {
        std::thread::panicking() || conn.is_broken()
    }
}

/// Connects once (so a bad URL fails now, with its reason), migrates, then builds the pool.
pub fn connect(url: &DatabaseUrl, max_size: u32) -> Result<Pool, SetupError> {
    let mut conn = url.establish()?;
    run_migrations(&mut conn)?;
    drop(conn);
    r2d2::Pool::builder()
        .max_size(max_size)
        .min_idle(Some(1))
        // A request waits at most this long for a connection before its 503 page.
        .connection_timeout(Duration::from_secs(5))
        // A connection the server dropped (PostgreSQL restarted) is noticed and replaced
        // at checkout, so the app recovers by itself; the check is one round trip.
        .test_on_check_out(true)
        .build(Manager { url: url.clone() })
        .map_err(|e| SetupError::Pool(e.to_string()))
}

/// A connection for the command line: established and migrated.
pub fn open(url: &DatabaseUrl) -> anyhow::Result<DbConnection> {
    let mut conn = url.establish()?;
    run_migrations(&mut conn)?;
    Ok(conn)
}

pub fn run_migrations(conn: &mut DbConnection) -> Result<(), SetupError> {
    migrate(conn)?;
    crate::models::Audience::fill_description_search(conn).map_err(SetupError::Setup)
}

fn migrate(conn: &mut DbConnection) -> Result<(), SetupError> {
    match conn {
        DbConnection::Sqlite(c) => c
            .run_pending_migrations(SQLITE_MIGRATIONS)
            .map(|_| ())
            .map_err(|e| SetupError::Migrations(e.to_string())),
        DbConnection::Pg(c) => {
            diesel::sql_query(format!("SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})"))
                .execute(c)
                .map_err(SetupError::Setup)?;
            let result = c
                .run_pending_migrations(POSTGRES_MIGRATIONS)
                .map(|_| ())
                .map_err(|e| SetupError::Migrations(e.to_string()));
            diesel::sql_query(format!("SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})"))
                .execute(c)
                .map_err(SetupError::Setup)?;
            result
        }
    }
}

/// Reverts the migrations newer than `version` (a migration folder's date and number,
/// e.g. `2026-11-27-000002`), so a test can put data of the older schema in and watch a
/// migration deal with it.
pub fn revert_migrations_after(conn: &mut DbConnection, version: &str) -> Result<(), SetupError> {
    let digits = |v: &str| v.chars().filter(char::is_ascii_digit).collect::<String>();
    let keep = digits(version);
    loop {
        let newest = match conn {
            DbConnection::Sqlite(c) => c.applied_migrations(),
            DbConnection::Pg(c) => c.applied_migrations(),
        }
        .map_err(|e| SetupError::Migrations(e.to_string()))?
        .into_iter()
        .map(|v| digits(&v.to_string()))
        .max();
        if newest.is_none_or(|v| v <= keep) {
            return Ok(());
        }
        match conn {
            DbConnection::Sqlite(c) => c.revert_last_migration(SQLITE_MIGRATIONS).map(|_| ()),
            DbConnection::Pg(c) => c.revert_last_migration(POSTGRES_MIGRATIONS).map(|_| ()),
        }
        .map_err(|e| SetupError::Migrations(e.to_string()))?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scheme_decides_the_backend() {
        assert_eq!(
            DatabaseUrl::parse("sqlite://engajar.db").unwrap(),
            DatabaseUrl::Sqlite(PathBuf::from("engajar.db"))
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite:///var/lib/engajar.db").unwrap(),
            DatabaseUrl::Sqlite(PathBuf::from("/var/lib/engajar.db"))
        );
        assert_eq!(
            DatabaseUrl::parse("postgres://u@h/db").unwrap().backend(),
            Backend::Postgres
        );
        assert!(matches!(
            DatabaseUrl::parse("mysql://root@localhost/x"),
            Err(SetupError::UnsupportedScheme(_))
        ));
        assert!(matches!(
            DatabaseUrl::parse("engajar.db"),
            Err(SetupError::UnsupportedScheme(_))
        ));
        assert!(matches!(
            DatabaseUrl::parse("sqlite://"),
            Err(SetupError::EmptySqlitePath(_))
        ));
    }

    #[test]
    fn passwords_never_reach_messages() {
        let err = DatabaseUrl::parse("mysql://root:s3cret@db/x").unwrap_err();
        assert!(!err.to_string().contains("s3cret"));
        let url = DatabaseUrl::parse("postgres://app:s3cret@db:5432/engajar").unwrap();
        assert_eq!(url.display(), "postgres://app:***@db:5432/engajar");
        let url = DatabaseUrl::parse("postgres://app@db/engajar?sslmode=require&PASSWORD=s3cret")
            .unwrap();
        assert_eq!(
            url.display(),
            "postgres://app@db/engajar?sslmode=require&PASSWORD=***"
        );
        let err = DatabaseUrl::parse("postgres://app@127.0.0.1:1/x?password=s3cret")
            .unwrap()
            .establish()
            .err()
            .unwrap();
        assert!(!err.to_string().contains("s3cret"), "{err}");
    }

    #[test]
    fn libpq_options_are_added_once() {
        assert_eq!(
            with_connect_timeout("postgres://h/db"),
            "postgres://h/db?connect_timeout=5&gssencmode=disable"
        );
        assert_eq!(
            with_connect_timeout("postgres://h/db?sslmode=disable"),
            "postgres://h/db?sslmode=disable&connect_timeout=5&gssencmode=disable"
        );
        assert_eq!(
            with_connect_timeout("postgres://h/db?connect_timeout=2&gssencmode=prefer"),
            "postgres://h/db?connect_timeout=2&gssencmode=prefer"
        );
    }
}
