//! Assembles the server: connects to the database, starts the background workers,
//! mounts the routes and middleware, binds the port.

use std::net::TcpListener;

use actix_session::SessionMiddleware;
use actix_session::storage::CookieSessionStore;
use actix_web::cookie::{Key, SameSite};
use actix_web::dev::Server;
use actix_web::middleware::{DefaultHeaders, from_fn};
use actix_web::{App, HttpServer, web};
use tracing_actix_web::TracingLogger;

use crate::config::Config;
use crate::db::Pool;
use crate::web::{
    AppError, AppState, SESSION_COOKIE, audit_sink, auth, csrf, input, rate, request_log,
    session_touch,
};

/// Binds the listener's routes and middleware into a server, not yet awaited.
pub fn server(
    config: Config,
    pool: Pool,
    key: Key,
    listener: TcpListener,
) -> std::io::Result<Server> {
    let workers = config.workers;
    let secure = config.secure_cookies;
    let jobs =
        crate::import::jobs::Jobs::start(pool.clone(), config.limits(), config.spool_dir.clone());
    let audit = audit_sink::AuditSink::start(pool.clone());
    let sessions = session_touch::SessionToucher::start(pool.clone());
    let api_rate = rate::ApiRate::new(config.api_rate.0, config.api_rate.1);
    let dispatcher = crate::campaigns::dispatcher::start(pool.clone(), config.clone());
    let state = web::Data::new(AppState {
        pool,
        config,
        jobs,
        audit,
        sessions,
        throttle: Default::default(),
        webhook_throttle: Default::default(),
        uploads: Default::default(),
        api_rate,
        dispatcher,
    });
    let mut server =
        HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .app_data(web::PayloadConfig::new(csrf::FORM_LIMIT_BYTES))
                .app_data(web::QueryConfig::default().error_handler(|err, _req| {
                    AppError::BadRequest(format!("query: {err}")).into()
                }))
                .configure(crate::routes::configure)
                .wrap(from_fn(auth::require_login))
                .wrap(from_fn(input::refuse_control_chars))
                .wrap(
                    SessionMiddleware::builder(CookieSessionStore::default(), key.clone())
                        .cookie_name(SESSION_COOKIE.to_string())
                        .cookie_http_only(true)
                        .cookie_same_site(SameSite::Lax)
                        .cookie_secure(secure)
                        .build(),
                )
                .wrap(security_headers(secure))
                .wrap(TracingLogger::<request_log::RequestSpan>::new())
        })
        .listen(listener)?;
    if let Some(n) = workers {
        server = server.workers(n);
    }
    Ok(server.run())
}

/// Headers every answer carries unless it sets its own. Pages and CSV files hold
/// personal data and contact centers share computers: nothing is kept in a cache (the
/// stylesheet sets its own). Behind HTTPS, browsers are told to never use plain HTTP.
fn security_headers(secure: bool) -> DefaultHeaders {
    let headers = DefaultHeaders::new()
        .add(("Cache-Control", "no-store"))
        .add((
            "Content-Security-Policy",
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
             form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ))
        .add(("X-Frame-Options", "DENY"))
        .add(("X-Content-Type-Options", "nosniff"))
        .add(("Referrer-Policy", "same-origin"));
    if secure {
        headers.add(("Strict-Transport-Security", "max-age=31536000"))
    } else {
        headers
    }
}

/// Checks the server's secret key against the database (migrating an older database
/// once), before anything reads a secret or a suppressed hash.
pub fn open_with_secret_key(config: &Config, pool: &Pool) -> anyhow::Result<()> {
    let secret = config.secret_key()?;
    let mut conn = pool.get()?;
    crate::models::secret::open_with(&mut conn, &secret, crate::time::now())
}

/// A server bound to its port, ready to be awaited.
pub struct Application {
    pub server: Server,
    pub port: u16,
}

/// Connects to the database (migrating it), loads the session key and binds the port.
pub fn build(config: Config) -> anyhow::Result<Application> {
    use anyhow::Context;
    crate::files::restrict_new_files();
    let pool = crate::db::connect(&config.database_url, config.pool_size)?;
    let key = config.session_key()?;
    open_with_secret_key(&config, &pool)?;
    std::fs::create_dir_all(&config.spool_dir).with_context(|| {
        format!(
            "cannot create the upload folder {}",
            config.spool_dir.display()
        )
    })?;
    let mut private = vec![config.spool_dir.clone()];
    if let crate::db::DatabaseUrl::Sqlite(db) = &config.database_url {
        for suffix in ["", "-wal", "-shm"] {
            let mut name = db.as_os_str().to_os_string();
            name.push(suffix);
            private.push(name.into());
        }
    }
    crate::files::restrict_existing(&private.iter().map(|p| p.as_path()).collect::<Vec<_>>());
    let listener = TcpListener::bind(&config.bind)
        .with_context(|| format!("cannot listen on {}", config.bind))?;
    let port = listener.local_addr()?.port();
    let server = server(config, pool, key, listener)?;
    Ok(Application { server, port })
}
