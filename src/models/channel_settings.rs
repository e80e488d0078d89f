//! Channel and campaign settings (Configurações → Canais): the SMTP server for e-mail and
//! the dispatcher's limits. `ENGAJAR_SMTP_URL` gives the first e-mail settings; once an
//! admin saves the page, the database rules. The password is stored for sending and
//! never shown back or logged.

use diesel::prelude::*;

use crate::config::Config;
use crate::db::DbConnection;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TlsMode {
    None,
    #[default]
    Starttls,
    Tls,
}

impl TlsMode {
    pub fn code(self) -> &'static str {
        match self {
            TlsMode::None => "none",
            TlsMode::Starttls => "starttls",
            TlsMode::Tls => "tls",
        }
    }

    pub fn from_code(code: &str) -> Option<TlsMode> {
        match code.trim().to_ascii_lowercase().as_str() {
            "none" => Some(TlsMode::None),
            "starttls" => Some(TlsMode::Starttls),
            "tls" => Some(TlsMode::Tls),
            _ => None,
        }
    }
}

#[derive(Clone, Default, PartialEq, Eq)]
pub struct EmailSettings {
    pub host: String,
    pub port: u16,
    pub tls: TlsMode,
    pub user: String,
    pub password: String,
    pub from_name: String,
    pub from_address: String,
    pub reply_to: String,
}

// The password stays out of every log line that prints settings.
impl std::fmt::Debug for EmailSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmailSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("user", &self.user)
            .field(
                "password",
                &if self.password.is_empty() { "" } else { "***" },
            )
            .field("from_address", &self.from_address)
            .finish()
    }
}

impl EmailSettings {
    pub fn is_configured(&self) -> bool {
        !self.host.trim().is_empty() && self.port != 0 && self.from_mailbox().is_some()
    }

    pub fn from_mailbox(&self) -> Option<lettre::message::Mailbox> {
        let address = self.from_address.trim().parse().ok()?;
        let name = Some(self.from_name.trim().to_string()).filter(|n| !n.is_empty());
        Some(lettre::message::Mailbox::new(name, address))
    }

    /// `smtp://USER:PASS@HOST:PORT?tls=none|starttls|tls&from=Nome%20<a@b.com>&reply_to=…`
    pub fn from_url(raw: &str) -> Result<EmailSettings, String> {
        let url = url::Url::parse(raw.trim()).map_err(|e| format!("ENGAJAR_SMTP_URL: {e}"))?;
        if url.scheme() != "smtp" && url.scheme() != "smtps" {
            return Err("ENGAJAR_SMTP_URL must start with smtp://".into());
        }
        let decode = |s: &str| {
            urlencoding::decode(s)
                .map(|c| c.into_owned())
                .unwrap_or_else(|_| s.to_string())
        };
        let mut s = EmailSettings {
            host: url.host_str().unwrap_or_default().to_string(),
            user: decode(url.username()),
            password: url.password().map(decode).unwrap_or_default(),
            tls: if url.scheme() == "smtps" {
                TlsMode::Tls
            } else {
                TlsMode::Starttls
            },
            ..Default::default()
        };
        for (key, value) in url.query_pairs() {
            match key.as_ref() {
                "tls" => {
                    s.tls = TlsMode::from_code(&value).ok_or_else(|| {
                        format!("ENGAJAR_SMTP_URL: tls={value} (none, starttls or tls)")
                    })?
                }
                "from" => {
                    let mailbox: lettre::message::Mailbox = value
                        .parse()
                        .map_err(|e| format!("ENGAJAR_SMTP_URL: from: {e}"))?;
                    s.from_name = mailbox.name.unwrap_or_default();
                    s.from_address = mailbox.email.to_string();
                }
                "reply_to" => s.reply_to = value.into_owned(),
                _ => {}
            }
        }
        s.port = url.port().unwrap_or(match s.tls {
            TlsMode::Tls => 465,
            TlsMode::Starttls => 587,
            TlsMode::None => 25,
        });
        Ok(s)
    }
}

/// The dispatcher's limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CampaignSettings {
    /// A run whose time passed while no server was up still starts within this many
    /// minutes; later it is recorded as missed.
    pub grace_minutes: i64,
    /// E-mails per second, across every server together.
    pub email_per_second: i64,
    /// SMTP connections each server keeps at most.
    pub email_connections: i64,
    /// Attempts per message before a temporary failure counts as final.
    pub max_attempts: i64,
    /// Consecutive failures that pause a run.
    pub pause_after_failures: i64,
}

impl Default for CampaignSettings {
    fn default() -> Self {
        CampaignSettings {
            grace_minutes: 60,
            email_per_second: 20,
            email_connections: 4,
            max_attempts: 4,
            pause_after_failures: 20,
        }
    }
}

/// Bounds an admin may set: (key, min, max).
pub const CAMPAIGN_LIMITS: [(&str, i64, i64); 5] = [
    ("grace_minutes", 0, 7 * 24 * 60),
    ("email_per_second", 1, 10_000),
    ("email_connections", 1, 64),
    ("max_attempts", 1, 20),
    ("pause_after_failures", 1, 100_000),
];

const EMAIL_KEYS: [&str; 8] = [
    "smtp_host",
    "smtp_port",
    "smtp_tls",
    "smtp_user",
    "smtp_password",
    "smtp_from_name",
    "smtp_from_address",
    "smtp_reply_to",
];

impl EmailSettings {
    /// The saved settings, or the environment's until an admin saves.
    pub fn load(conn: &mut DbConnection, config: &Config) -> QueryResult<EmailSettings> {
        let saved = super::settings::all(conn)?;
        if !saved.iter().any(|(k, _)| k == "smtp_host") {
            return Ok(config.smtp.clone().unwrap_or_default());
        }
        let mut s = EmailSettings::default();
        for (key, value) in saved {
            match key.as_str() {
                "smtp_host" => s.host = value,
                "smtp_port" => s.port = value.parse().unwrap_or(0),
                "smtp_tls" => s.tls = TlsMode::from_code(&value).unwrap_or_default(),
                "smtp_user" => s.user = value,
                "smtp_password" => s.password = value,
                "smtp_from_name" => s.from_name = value,
                "smtp_from_address" => s.from_address = value,
                "smtp_reply_to" => s.reply_to = value,
                _ => {}
            }
        }
        Ok(s)
    }

    pub fn save(&self, conn: &mut DbConnection, now: i64) -> QueryResult<()> {
        let values = [
            self.host.clone(),
            self.port.to_string(),
            self.tls.code().to_string(),
            self.user.clone(),
            self.password.clone(),
            self.from_name.clone(),
            self.from_address.clone(),
            self.reply_to.clone(),
        ];
        let pairs: Vec<(&str, String)> = EMAIL_KEYS.into_iter().zip(values).collect();
        super::settings::store(conn, &pairs, now)
    }
}

impl CampaignSettings {
    pub fn load(conn: &mut DbConnection) -> QueryResult<CampaignSettings> {
        let mut s = CampaignSettings::default();
        for (key, value) in super::settings::all(conn)? {
            let Ok(n) = value.parse::<i64>() else {
                continue;
            };
            match key.as_str() {
                "grace_minutes" => s.grace_minutes = n,
                "email_per_second" => s.email_per_second = n,
                "email_connections" => s.email_connections = n,
                "max_attempts" => s.max_attempts = n,
                "pause_after_failures" => s.pause_after_failures = n,
                _ => {}
            }
        }
        Ok(s)
    }

    pub fn values(&self) -> [i64; 5] {
        [
            self.grace_minutes,
            self.email_per_second,
            self.email_connections,
            self.max_attempts,
            self.pause_after_failures,
        ]
    }

    pub fn from_values(v: [i64; 5]) -> CampaignSettings {
        CampaignSettings {
            grace_minutes: v[0],
            email_per_second: v[1],
            email_connections: v[2],
            max_attempts: v[3],
            pause_after_failures: v[4],
        }
    }

    pub fn save(&self, conn: &mut DbConnection, now: i64) -> QueryResult<()> {
        let pairs: Vec<(&str, String)> = CAMPAIGN_LIMITS
            .iter()
            .zip(self.values())
            .map(|((k, _, _), v)| (*k, v.to_string()))
            .collect();
        super::settings::store(conn, &pairs, now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_smtp_url_gives_every_setting() {
        let s = EmailSettings::from_url(
            "smtp://envio%40empresa.com:s%3Fcreta@mail.empresa.com:2525?tls=none&from=Loja%20Centro%20%3Centrega@empresa.com%3E",
        )
        .unwrap();
        assert_eq!(s.host, "mail.empresa.com");
        assert_eq!(s.port, 2525);
        assert_eq!(s.tls, TlsMode::None);
        assert_eq!(s.user, "envio@empresa.com");
        assert_eq!(s.password, "s?creta");
        assert_eq!(s.from_name, "Loja Centro");
        assert_eq!(s.from_address, "entrega@empresa.com");
        assert!(!format!("{s:?}").contains("creta"));
        assert!(EmailSettings::from_url("smtp://h:25?tls=maybe").is_err());
        assert_eq!(
            EmailSettings::from_url("smtp://h?tls=tls").unwrap().port,
            465
        );
    }
}
