//! The web app: state, assembly of routes and middleware, and the server.

pub mod audit_sink;
pub mod auth;
pub mod csrf;
pub mod error;
pub mod input;
pub mod page;
pub mod paging;
pub mod session;
pub mod throttle;
pub mod upload;

use std::net::TcpListener;

use actix_session::SessionMiddleware;
use actix_session::storage::CookieSessionStore;
use actix_web::cookie::{Key, SameSite};
use actix_web::dev::Server;
use actix_web::middleware::{DefaultHeaders, from_fn};
use actix_web::{App, HttpServer, web};
use tracing_actix_web::TracingLogger;

use crate::config::Config;
use crate::db::{DbConnection, Pool};
pub use error::AppError;

pub struct AppState {
    pub pool: Pool,
    pub config: Config,
    pub jobs: std::sync::Arc<crate::import::jobs::Jobs>,
    pub audit: audit_sink::AuditSink,
    pub throttle: throttle::LoginThrottle,
}

impl AppState {
    /// Runs database work on the blocking pool, never on an async worker.
    pub async fn db<T, F>(&self, work: F) -> Result<T, AppError>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConnection) -> Result<T, AppError> + Send + 'static,
    {
        let pool = self.pool.clone();
        web::block(move || {
            let mut conn = pool.get()?;
            work(&mut conn)
        })
        .await?
    }

    /// The admin-editable settings, over the environment's defaults.
    pub async fn settings(&self) -> Result<crate::models::Settings, AppError> {
        let config = self.config.clone();
        self.db(move |conn| Ok(crate::models::Settings::load(conn, &config)?))
            .await
    }
}

pub const SESSION_COOKIE: &str = "engajar_session";

/// The answer to a form that worked: go look at the result (303, so the browser GETs it).
pub fn see_other(location: &str) -> actix_web::HttpResponse {
    actix_web::HttpResponse::SeeOther()
        .insert_header((actix_web::http::header::LOCATION, location))
        .finish()
}

/// The client's address, for the audit log.
pub fn client_ip(req: &actix_web::HttpRequest) -> Option<String> {
    req.peer_addr().map(|addr| addr.ip().to_string())
}

/// Binds the listener's routes and middleware into a server, not yet awaited.
pub fn server(
    config: Config,
    pool: Pool,
    key: Key,
    listener: TcpListener,
) -> std::io::Result<Server> {
    let workers = config.workers;
    let secure = config.secure_cookies;
    let jobs = crate::import::jobs::Jobs::start(pool.clone(), config.limits());
    let audit = audit_sink::AuditSink::start(pool.clone());
    let state = web::Data::new(AppState {
        pool,
        config,
        jobs,
        audit,
        throttle: throttle::LoginThrottle::default(),
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
                .wrap(security_headers())
                .wrap(TracingLogger::default())
        })
        .listen(listener)?;
    if let Some(n) = workers {
        server = server.workers(n);
    }
    Ok(server.run())
}

fn security_headers() -> DefaultHeaders {
    DefaultHeaders::new()
        .add((
            "Content-Security-Policy",
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
             form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ))
        .add(("X-Frame-Options", "DENY"))
        .add(("X-Content-Type-Options", "nosniff"))
        .add(("Referrer-Policy", "same-origin"))
}

/// A server bound to its port, ready to be awaited.
pub struct Application {
    pub server: Server,
    pub port: u16,
}

/// Connects to the database (migrating it), loads the session key and binds the port.
pub fn build(config: Config) -> anyhow::Result<Application> {
    use anyhow::Context;
    let pool = crate::db::connect(&config.database_url, config.pool_size)?;
    let key = config.session_key()?;
    std::fs::create_dir_all(&config.spool_dir).with_context(|| {
        format!(
            "cannot create the upload folder {}",
            config.spool_dir.display()
        )
    })?;
    let listener = TcpListener::bind(&config.bind)
        .with_context(|| format!("cannot listen on {}", config.bind))?;
    let port = listener.local_addr()?.port();
    let server = server(config, pool, key, listener)?;
    Ok(Application { server, port })
}
