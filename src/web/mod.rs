//! The web app: state, assembly of routes and middleware, and the server.

pub mod audit_sink;
pub mod auth;
pub mod csrf;
pub mod error;
pub mod input;
pub mod page;
pub mod paging;
pub mod rate;
pub mod request_log;
pub mod session;
pub mod session_touch;
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
    pub sessions: session_touch::SessionToucher,
    pub throttle: std::sync::Arc<throttle::LoginThrottle>,
    pub uploads: std::sync::Arc<upload::UploadGate>,
    pub api_rate: rate::ApiRate,
}

impl AppState {
    /// Where the import form's uploads wait for the worker: PostgreSQL itself, shared by
    /// every app server; SQLite's one server keeps them in its spool folder.
    pub fn upload_store(&self) -> upload::UploadStore {
        match self.config.database_url {
            crate::db::DatabaseUrl::Postgres(_) => upload::UploadStore::Database {
                pool: self.pool.clone(),
                work_dir: self.config.spool_dir.clone(),
            },
            crate::db::DatabaseUrl::Sqlite(_) => {
                upload::UploadStore::Folder(self.config.spool_dir.clone())
            }
        }
    }

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

/// The client's address, for the audit log, login throttling and the request log:
/// the peer, unless the peer is a trusted proxy, in which case the nearest address in
/// `X-Forwarded-For` that is not one of the trusted proxies.
pub fn client_ip(req: &actix_web::HttpRequest) -> Option<String> {
    let trusted = req
        .app_data::<web::Data<AppState>>()
        .map(|state| state.config.trusted_proxies.as_slice())
        .unwrap_or_default();
    let forwarded: Vec<&str> = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .collect();
    resolve_client(req.peer_addr().map(|a| a.ip()), &forwarded, trusted).map(|ip| ip.to_string())
}

fn resolve_client(
    peer: Option<std::net::IpAddr>,
    forwarded: &[&str],
    trusted: &[ipnet::IpNet],
) -> Option<std::net::IpAddr> {
    let is_trusted = |ip: &std::net::IpAddr| trusted.iter().any(|net| net.contains(ip));
    let mut client = peer?;
    if !is_trusted(&client) {
        return Some(client);
    }
    // Right to left: each hop appended the address it saw; stop at the first one that
    // is not ours. A hop that cannot be read ends the walk where it is.
    let hops = forwarded.iter().flat_map(|h| h.split(',')).map(str::trim);
    for hop in hops.collect::<Vec<_>>().into_iter().rev() {
        match hop.parse::<std::net::IpAddr>() {
            Ok(ip) => {
                client = ip;
                if !is_trusted(&ip) {
                    break;
                }
            }
            Err(_) => break,
        }
    }
    Some(client)
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
    let jobs =
        crate::import::jobs::Jobs::start(pool.clone(), config.limits(), config.spool_dir.clone());
    let audit = audit_sink::AuditSink::start(pool.clone());
    let sessions = session_touch::SessionToucher::start(pool.clone());
    let api_rate = rate::ApiRate::new(config.api_rate.0, config.api_rate.1);
    let state = web::Data::new(AppState {
        pool,
        config,
        jobs,
        audit,
        sessions,
        throttle: Default::default(),
        uploads: Default::default(),
        api_rate,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwarded_addresses_count_only_from_trusted_proxies() {
        let trusted = crate::config::parse_proxies("10.0.0.0/8, 192.168.1.10").unwrap();
        let ip = |s: &str| s.parse::<std::net::IpAddr>().unwrap();
        // A stranger's header is ignored.
        assert_eq!(
            resolve_client(Some(ip("203.0.113.5")), &["1.2.3.4"], &trusted),
            Some(ip("203.0.113.5"))
        );
        // Through the balancer: the address it saw.
        assert_eq!(
            resolve_client(Some(ip("10.0.0.2")), &["198.51.100.7"], &trusted),
            Some(ip("198.51.100.7"))
        );
        // A client's own forged entry on the left is not believed.
        assert_eq!(
            resolve_client(
                Some(ip("10.0.0.2")),
                &["6.6.6.6, 198.51.100.7, 192.168.1.10"],
                &trusted
            ),
            Some(ip("198.51.100.7"))
        );
        // Without a header the balancer itself is the client.
        assert_eq!(
            resolve_client(Some(ip("10.0.0.2")), &[], &trusted),
            Some(ip("10.0.0.2"))
        );
        assert!(crate::config::parse_proxies("10.0.0.0/33").is_err());
    }
}
