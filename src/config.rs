//! Settings from flags and the environment, and the session signing key.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};

use actix_web::cookie::Key;
use anyhow::{Context, bail};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;

use crate::db::DatabaseUrl;

pub const DEFAULT_DATABASE_URL: &str = "sqlite://engajar.db";
pub const DEFAULT_BIND: &str = "127.0.0.1:8080";
/// actix's cookie `Key` needs 64 bytes: 32 to sign, 32 to encrypt.
const SESSION_KEY_BYTES: usize = 64;

#[derive(Debug, Clone)]
pub struct Config {
    pub database_url: DatabaseUrl,
    pub bind: String,
    /// Marks cookies `Secure`; for deployments behind HTTPS (`ENGAJAR_SECURE_COOKIES=1`).
    pub secure_cookies: bool,
    /// Base64 of 64 random bytes (`ENGAJAR_SESSION_KEY`); servers sharing sessions share it.
    pub session_key: Option<String>,
    /// Base64 of at least 32 random bytes (`ENGAJAR_SECRET_KEY`): the server's secret,
    /// kept outside the database; servers sharing a database share it.
    pub secret_key: Option<String>,
    /// Whether WhatsApp/SMS base URLs may lead to loopback or private addresses
    /// (`ENGAJAR_ALLOW_PRIVATE_PROVIDERS=1`, for local fakes and tests).
    pub allow_private_providers: bool,
    pub pool_size: u32,
    /// HTTP worker threads; `None` means one per core.
    pub workers: Option<usize>,
    /// Where uploads wait for the import worker. Servers sharing a database must share it.
    pub spool_dir: PathBuf,
    /// Largest upload accepted, in bytes (`ENGAJAR_MAX_UPLOAD_MB`).
    pub max_upload_bytes: u64,
    /// Whether the Verify add-on is offered on the import form (`ENGAJAR_VERIFY=1`).
    pub verify_enabled: bool,
    /// Spreadsheets over this many cells are refused (`ENGAJAR_MAX_SHEET_CELLS`).
    pub max_sheet_cells: u64,
    /// A session unused this long ends (`ENGAJAR_SESSION_IDLE_MINUTES`, default 8 h).
    pub session_idle_secs: u64,
    /// A session ends this long after login, used or not (`ENGAJAR_SESSION_MAX_HOURS`,
    /// default 12 h).
    pub session_max_secs: u64,
    /// Load balancers and proxies whose `X-Forwarded-For` is believed
    /// (`ENGAJAR_TRUSTED_PROXIES`, CIDR list); from anyone else the header is ignored.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Uploads are refused while the spool folder holds this much (`ENGAJAR_SPOOL_MAX_MB`).
    pub spool_max_bytes: u64,
    /// API requests per second per token, and the burst allowed (`ENGAJAR_API_RATE`,
    /// `ENGAJAR_API_BURST`).
    pub api_rate: (u32, u32),
    /// The first e-mail settings (`ENGAJAR_SMTP_URL`), until an admin saves the page.
    pub smtp: Option<crate::models::channel_settings::EmailSettings>,
    /// Where people reach this app from outside, for the links in messages
    /// (`ENGAJAR_PUBLIC_URL`, e.g. `https://engajar.empresa.com.br`).
    pub public_url: String,
    /// The first wait before a temporary sending failure is tried again, doubled each
    /// time (`ENGAJAR_RETRY_BASE_MS`, default 30 s).
    pub retry_base_ms: u64,
    /// The first WhatsApp settings (`ENGAJAR_WHATSAPP_*`), until an admin saves them.
    pub whatsapp: crate::models::provider_settings::WhatsAppSettings,
    /// The first SMS settings (`ENGAJAR_SMS_*`, `ENGAJAR_ZENVIA_*`, `ENGAJAR_TWILIO_*`).
    pub sms: crate::models::provider_settings::SmsSettings,
    /// The time campaign schedules follow (the system's, except in tests).
    pub clock: crate::time::Clock,
}

impl Config {
    /// Reads the settings that have no CLI flag from the environment.
    pub fn from_env(database_url: DatabaseUrl, bind: String) -> anyhow::Result<Self> {
        let pool_size = match std::env::var("ENGAJAR_POOL_SIZE") {
            Ok(v) => v.parse::<u32>().ok().filter(|n| *n > 0).with_context(|| {
                format!("ENGAJAR_POOL_SIZE must be a positive number, not {v:?}")
            })?,
            Err(_) => 10,
        };
        let workers = match std::env::var("ENGAJAR_WORKERS") {
            Ok(v) => Some(
                v.parse::<usize>()
                    .ok()
                    .filter(|n| *n > 0)
                    .with_context(|| {
                        format!("ENGAJAR_WORKERS must be a positive number, not {v:?}")
                    })?,
            ),
            Err(_) => None,
        };
        let spool_dir = match std::env::var("ENGAJAR_SPOOL_DIR") {
            Ok(dir) if !dir.trim().is_empty() => PathBuf::from(dir),
            _ => default_spool_dir(&database_url),
        };
        Ok(Config {
            spool_dir,
            max_upload_bytes: positive_env("ENGAJAR_MAX_UPLOAD_MB", 256)? * 1024 * 1024,
            verify_enabled: env_flag("ENGAJAR_VERIFY"),
            max_sheet_cells: positive_env("ENGAJAR_MAX_SHEET_CELLS", 2_000_000)?,
            session_idle_secs: positive_env("ENGAJAR_SESSION_IDLE_MINUTES", 8 * 60)? * 60,
            session_max_secs: positive_env("ENGAJAR_SESSION_MAX_HOURS", 12)? * 3600,
            api_rate: (
                u32::try_from(positive_env(
                    "ENGAJAR_API_RATE",
                    u64::from(crate::web::rate::PER_SECOND),
                )?)
                .context("ENGAJAR_API_RATE is too large")?,
                u32::try_from(positive_env(
                    "ENGAJAR_API_BURST",
                    u64::from(crate::web::rate::BURST),
                )?)
                .context("ENGAJAR_API_BURST is too large")?,
            ),
            spool_max_bytes: positive_env("ENGAJAR_SPOOL_MAX_MB", 10 * 1024)? * 1024 * 1024,
            trusted_proxies: parse_proxies(
                &std::env::var("ENGAJAR_TRUSTED_PROXIES").unwrap_or_default(),
            )?,
            smtp: match std::env::var("ENGAJAR_SMTP_URL") {
                Ok(url) if !url.trim().is_empty() => Some(
                    crate::models::channel_settings::EmailSettings::from_url(&url)
                        .map_err(anyhow::Error::msg)?,
                ),
                _ => None,
            },
            public_url: match std::env::var("ENGAJAR_PUBLIC_URL") {
                Ok(url) if !url.trim().is_empty() => url.trim().trim_end_matches('/').to_string(),
                _ => format!("http://{bind}"),
            },
            retry_base_ms: positive_env("ENGAJAR_RETRY_BASE_MS", 30_000)?,
            clock: crate::time::Clock::system(),
            whatsapp: crate::models::provider_settings::WhatsAppSettings::from_env(),
            sms: crate::models::provider_settings::SmsSettings::from_env()?,
            database_url,
            bind,
            secure_cookies: env_flag("ENGAJAR_SECURE_COOKIES"),
            session_key: std::env::var("ENGAJAR_SESSION_KEY")
                .ok()
                .filter(|s| !s.trim().is_empty()),
            secret_key: std::env::var("ENGAJAR_SECRET_KEY")
                .ok()
                .filter(|s| !s.trim().is_empty()),
            allow_private_providers: env_flag("ENGAJAR_ALLOW_PRIVATE_PROVIDERS"),
            pool_size,
            workers,
        })
    }

    /// Where a generated session key is kept: beside the SQLite file, or in the working
    /// directory for PostgreSQL (where several servers should set `ENGAJAR_SESSION_KEY`).
    pub fn session_key_path(&self) -> PathBuf {
        beside_database(&self.database_url, ".session-key", "engajar.session-key")
    }

    /// Where a generated secret key is kept: beside the SQLite file, or in the working
    /// directory for PostgreSQL (where several servers should set `ENGAJAR_SECRET_KEY`).
    pub fn secret_key_path(&self) -> PathBuf {
        secret_key_path(&self.database_url)
    }

    /// The server's secret key: `ENGAJAR_SECRET_KEY`, or the key file (created once).
    pub fn secret_key(&self) -> anyhow::Result<crate::models::secret::ServerKey> {
        load_secret_key(self.secret_key.as_deref(), &self.database_url)
    }

    /// Where providers may be reached.
    pub fn net_policy(&self) -> crate::channels::net::NetPolicy {
        crate::channels::net::NetPolicy {
            allow_private: self.allow_private_providers,
        }
    }

    pub fn session_limits(&self) -> crate::models::SessionLimits {
        crate::models::SessionLimits {
            idle_secs: self.session_idle_secs as i64,
            max_secs: self.session_max_secs as i64,
        }
    }

    pub fn session_key(&self) -> anyhow::Result<Key> {
        match &self.session_key {
            Some(encoded) => decode_key(encoded).context("ENGAJAR_SESSION_KEY"),
            None => load_or_create_key(&self.session_key_path()),
        }
    }
}

/// See [`Config::secret_key_path`].
pub fn secret_key_path(url: &DatabaseUrl) -> PathBuf {
    beside_database(url, ".secret-key", "engajar.secret-key")
}

/// A file of this server's beside the SQLite file (its name plus `suffix`), or `name` in
/// the working directory for PostgreSQL.
fn beside_database(url: &DatabaseUrl, suffix: &str, name: &str) -> PathBuf {
    match url {
        DatabaseUrl::Sqlite(db) => {
            let mut file = db.file_name().map(|n| n.to_os_string()).unwrap_or_default();
            file.push(suffix);
            db.with_file_name(file)
        }
        DatabaseUrl::Postgres(_) => PathBuf::from(name),
    }
}

/// See [`Config::secret_key`]; the command line has no `Config`, only the URL.
pub fn load_secret_key(
    value: Option<&str>,
    url: &DatabaseUrl,
) -> anyhow::Result<crate::models::secret::ServerKey> {
    use crate::models::secret::ServerKey;
    let decode = |text: &str| -> anyhow::Result<ServerKey> {
        let bytes = BASE64.decode(text.trim()).context(
            "the secret key must be base64 (e.g. `head -c 32 /dev/urandom | base64 -w0`)",
        )?;
        ServerKey::from_bytes(&bytes).map_err(anyhow::Error::msg)
    };
    if let Some(value) = value {
        return decode(value).context("ENGAJAR_SECRET_KEY");
    }
    let path = secret_key_path(url);
    if let Ok(text) = std::fs::read_to_string(&path) {
        return decode(&text).with_context(|| format!("secret key file {}", path.display()));
    }
    let key = ServerKey::generate();
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(&path) {
        Ok(mut file) => {
            file.write_all(BASE64.encode(key.bytes()).as_bytes())
                .with_context(|| format!("cannot write the secret key to {}", path.display()))?;
            tracing::info!(path = %path.display(), "generated a new secret key; back it up");
            Ok(key)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let text = std::fs::read_to_string(&path)?;
            decode(&text).with_context(|| format!("secret key file {}", path.display()))
        }
        Err(e) => {
            Err(e).with_context(|| format!("cannot create the secret key file {}", path.display()))
        }
    }
}

/// `10.0.0.0/8, 192.168.1.10` (an address alone is one host).
pub fn parse_proxies(list: &str) -> anyhow::Result<Vec<ipnet::IpNet>> {
    list.split([',', ' ', '\n'])
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(|item| {
            item.parse::<ipnet::IpNet>()
                .or_else(|_| item.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .with_context(|| {
                    format!("ENGAJAR_TRUSTED_PROXIES: {item:?} is not an address or CIDR range")
                })
        })
        .collect()
}

fn positive_env(name: &str, default: u64) -> anyhow::Result<u64> {
    match std::env::var(name) {
        Ok(v) => v
            .trim()
            .parse::<u64>()
            .ok()
            .filter(|n| *n > 0)
            .with_context(|| format!("{name} must be a positive number, not {v:?}")),
        Err(_) => Ok(default),
    }
}

/// Beside the SQLite file, or in the working directory for PostgreSQL.
fn default_spool_dir(url: &DatabaseUrl) -> PathBuf {
    beside_database(url, ".spool", "engajar-spool")
}

impl Config {
    pub fn limits(&self) -> crate::layout::Limits {
        crate::layout::Limits {
            max_sheet_cells: self.max_sheet_cells,
            ..crate::layout::Limits::default()
        }
    }
}

pub fn env_flag(name: &str) -> bool {
    matches!(
        std::env::var(name).as_deref().map(str::trim),
        Ok("1") | Ok("true") | Ok("yes") | Ok("on")
    )
}

fn decode_key(encoded: &str) -> anyhow::Result<Key> {
    let bytes = BASE64
        .decode(encoded.trim())
        .context("the session key must be base64 (e.g. `head -c 64 /dev/urandom | base64 -w0`)")?;
    if bytes.len() < SESSION_KEY_BYTES {
        bail!(
            "the session key must hold at least {SESSION_KEY_BYTES} bytes, it holds {}",
            bytes.len()
        );
    }
    Ok(Key::from(&bytes))
}

/// Generated once, so a restart does not log everyone out.
fn load_or_create_key(path: &Path) -> anyhow::Result<Key> {
    if let Ok(text) = std::fs::read_to_string(path) {
        return decode_key(&text).with_context(|| format!("session key file {}", path.display()));
    }
    let mut bytes = [0u8; SESSION_KEY_BYTES];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut bytes);
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(mut file) => {
            file.write_all(BASE64.encode(bytes).as_bytes())
                .with_context(|| format!("cannot write the session key to {}", path.display()))?;
            tracing::info!(path = %path.display(), "generated a new session key");
            Ok(Key::from(&bytes))
        }
        // Another server process created it first: use theirs.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let text = std::fs::read_to_string(path)?;
            decode_key(&text).with_context(|| format!("session key file {}", path.display()))
        }
        Err(e) => {
            Err(e).with_context(|| format!("cannot create the session key file {}", path.display()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_or_garbled_keys_are_refused() {
        assert!(decode_key("not base64!").is_err());
        assert!(decode_key(&BASE64.encode([7u8; 32])).is_err());
        assert!(decode_key(&BASE64.encode([7u8; 64])).is_ok());
    }

    #[test]
    fn key_file_sits_beside_the_sqlite_database() {
        let config = Config::from_env(
            DatabaseUrl::parse("sqlite:///srv/data/engajar.db").unwrap(),
            DEFAULT_BIND.into(),
        )
        .unwrap();
        assert_eq!(
            config.session_key_path(),
            PathBuf::from("/srv/data/engajar.db.session-key")
        );
    }

    #[test]
    fn a_generated_key_is_reused() {
        let dir = std::env::temp_dir().join(format!("engajar-key-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("k");
        let _ = std::fs::remove_file(&path);
        let first = load_or_create_key(&path).unwrap();
        let second = load_or_create_key(&path).unwrap();
        assert_eq!(first.master(), second.master());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
