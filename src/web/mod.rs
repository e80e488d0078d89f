//! What every route uses: the app's state, errors, sessions, forms and uploads. The
//! server that mounts the routes is assembled in `startup`.

pub mod audit_sink;
pub mod auth;
pub mod csrf;
pub mod display;
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

use actix_web::web;

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
    /// Failed webhook authentications per client address.
    pub webhook_throttle: std::sync::Arc<throttle::AddressThrottle>,
    pub uploads: std::sync::Arc<upload::UploadGate>,
    pub api_rate: rate::ApiRate,
    pub dispatcher: crate::campaigns::dispatcher::Handle,
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
