//! WhatsApp (Meta Cloud API) and SMS (Zenvia or Twilio) settings, on Configurações →
//! Canais. The environment gives the first values (`ENGAJAR_WHATSAPP_*`, `ENGAJAR_SMS_*`,
//! `ENGAJAR_ZENVIA_*`, `ENGAJAR_TWILIO_*`); once an admin saves a section, the database
//! rules for it. Tokens and secrets are stored for use and never shown back or logged.

use diesel::prelude::*;

use crate::db::DbConnection;

pub const WHATSAPP_DEFAULT_BASE: &str = "https://graph.facebook.com/v23.0";
pub const ZENVIA_DEFAULT_BASE: &str = "https://api.zenvia.com";
pub const TWILIO_DEFAULT_BASE: &str = "https://api.twilio.com";
/// Meta's default throughput per business phone number.
pub const WHATSAPP_DEFAULT_PER_SECOND: i64 = 80;
pub const SMS_DEFAULT_PER_SECOND: i64 = 30;
pub const PER_SECOND_RANGE: std::ops::RangeInclusive<i64> = 1..=1_000;

/// Replies that put the sender's phone on Não Perturbe, until an admin changes them.
pub const DEFAULT_STOP_WORDS: &str = "SAIR, PARAR, PARE, STOP, CANCELAR, DESCADASTRAR";

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_default().trim().to_string()
}

fn masked(secret: &str) -> &'static str {
    if secret.is_empty() { "" } else { "***" }
}

#[derive(Clone, PartialEq, Eq)]
pub struct WhatsAppSettings {
    pub base_url: String,
    pub phone_number_id: String,
    pub waba_id: String,
    pub token: String,
    pub app_secret: String,
    pub verify_token: String,
    pub per_second: i64,
}

impl Default for WhatsAppSettings {
    fn default() -> Self {
        WhatsAppSettings {
            base_url: WHATSAPP_DEFAULT_BASE.into(),
            phone_number_id: String::new(),
            waba_id: String::new(),
            token: String::new(),
            app_secret: String::new(),
            verify_token: String::new(),
            per_second: WHATSAPP_DEFAULT_PER_SECOND,
        }
    }
}

impl std::fmt::Debug for WhatsAppSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WhatsAppSettings")
            .field("base_url", &self.base_url)
            .field("phone_number_id", &self.phone_number_id)
            .field("waba_id", &self.waba_id)
            .field("token", &masked(&self.token))
            .field("app_secret", &masked(&self.app_secret))
            .field("verify_token", &masked(&self.verify_token))
            .field("per_second", &self.per_second)
            .finish()
    }
}

const WHATSAPP_KEYS: [&str; 7] = [
    "wa_base_url",
    "wa_phone_number_id",
    "wa_waba_id",
    "wa_token",
    "wa_app_secret",
    "wa_verify_token",
    "wa_per_second",
];

impl WhatsAppSettings {
    /// The first values, from the environment.
    pub fn from_env() -> WhatsAppSettings {
        let base = env("ENGAJAR_WHATSAPP_BASE_URL");
        WhatsAppSettings {
            base_url: if base.is_empty() {
                WHATSAPP_DEFAULT_BASE.into()
            } else {
                base.trim_end_matches('/').to_string()
            },
            phone_number_id: env("ENGAJAR_WHATSAPP_PHONE_NUMBER_ID"),
            waba_id: env("ENGAJAR_WHATSAPP_WABA_ID"),
            token: env("ENGAJAR_WHATSAPP_TOKEN"),
            app_secret: env("ENGAJAR_WHATSAPP_APP_SECRET"),
            verify_token: env("ENGAJAR_WHATSAPP_VERIFY_TOKEN"),
            per_second: WHATSAPP_DEFAULT_PER_SECOND,
        }
    }

    /// Enough to send.
    pub fn is_configured(&self) -> bool {
        !self.base_url.is_empty() && !self.phone_number_id.is_empty() && !self.token.is_empty()
    }

    /// The saved settings, or `initial` (the environment's) until an admin saves.
    pub fn load(
        conn: &mut DbConnection,
        initial: &WhatsAppSettings,
    ) -> QueryResult<WhatsAppSettings> {
        let saved = super::settings::all(conn)?;
        if !saved.iter().any(|(k, _)| k == WHATSAPP_KEYS[0]) {
            return Ok(initial.clone());
        }
        let mut s = WhatsAppSettings::default();
        for (key, value) in saved {
            match key.as_str() {
                "wa_base_url" => s.base_url = value,
                "wa_phone_number_id" => s.phone_number_id = value,
                "wa_waba_id" => s.waba_id = value,
                "wa_token" => s.token = value,
                "wa_app_secret" => s.app_secret = value,
                "wa_verify_token" => s.verify_token = value,
                "wa_per_second" => s.per_second = value.parse().unwrap_or(s.per_second),
                _ => {}
            }
        }
        Ok(s)
    }

    pub fn save(&self, conn: &mut DbConnection, now: i64) -> QueryResult<()> {
        let values = [
            self.base_url.clone(),
            self.phone_number_id.clone(),
            self.waba_id.clone(),
            self.token.clone(),
            self.app_secret.clone(),
            self.verify_token.clone(),
            self.per_second.to_string(),
        ];
        let pairs: Vec<(&str, String)> = WHATSAPP_KEYS.into_iter().zip(values).collect();
        super::settings::store(conn, &pairs, now)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SmsProvider {
    #[default]
    None,
    Zenvia,
    Twilio,
}

impl SmsProvider {
    pub fn code(self) -> &'static str {
        match self {
            SmsProvider::None => "",
            SmsProvider::Zenvia => "zenvia",
            SmsProvider::Twilio => "twilio",
        }
    }

    pub fn from_code(code: &str) -> Option<SmsProvider> {
        match code.trim().to_ascii_lowercase().as_str() {
            "" | "nenhum" | "none" => Some(SmsProvider::None),
            "zenvia" => Some(SmsProvider::Zenvia),
            "twilio" => Some(SmsProvider::Twilio),
            _ => None,
        }
    }

    pub fn default_base(self) -> &'static str {
        match self {
            SmsProvider::Twilio => TWILIO_DEFAULT_BASE,
            _ => ZENVIA_DEFAULT_BASE,
        }
    }
}

#[derive(Clone, PartialEq, Eq, Default)]
pub struct SmsSettings {
    pub provider: SmsProvider,
    pub base_url: String,
    /// The sender: Zenvia's sender id, or Twilio's number — or a Messaging Service
    /// (`MG…`), sent as `MessagingServiceSid`.
    pub from: String,
    pub zenvia_token: String,
    pub twilio_account_sid: String,
    pub twilio_auth_token: String,
    /// Zenvia does not sign its callbacks: its subscription sends this secret in the
    /// `X-Engajar-Webhook-Secret` header.
    pub webhook_secret: String,
    pub per_second: i64,
}

impl std::fmt::Debug for SmsSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmsSettings")
            .field("provider", &self.provider)
            .field("base_url", &self.base_url)
            .field("from", &self.from)
            .field("zenvia_token", &masked(&self.zenvia_token))
            .field("twilio_account_sid", &self.twilio_account_sid)
            .field("twilio_auth_token", &masked(&self.twilio_auth_token))
            .field("webhook_secret", &masked(&self.webhook_secret))
            .field("per_second", &self.per_second)
            .finish()
    }
}

const SMS_KEYS: [&str; 8] = [
    "sms_provider",
    "sms_base_url",
    "sms_from",
    "sms_zenvia_token",
    "sms_twilio_account_sid",
    "sms_twilio_auth_token",
    "sms_webhook_secret",
    "sms_per_second",
];

impl SmsSettings {
    /// The first values, from the environment.
    pub fn from_env() -> anyhow::Result<SmsSettings> {
        let raw = env("ENGAJAR_SMS_PROVIDER");
        let provider = SmsProvider::from_code(&raw).ok_or_else(|| {
            anyhow::anyhow!("ENGAJAR_SMS_PROVIDER must be zenvia or twilio, not {raw:?}")
        })?;
        let base = env("ENGAJAR_SMS_BASE_URL");
        Ok(SmsSettings {
            provider,
            base_url: if base.is_empty() {
                provider.default_base().into()
            } else {
                base.trim_end_matches('/').to_string()
            },
            from: env("ENGAJAR_SMS_FROM"),
            zenvia_token: env("ENGAJAR_ZENVIA_TOKEN"),
            twilio_account_sid: env("ENGAJAR_TWILIO_ACCOUNT_SID"),
            twilio_auth_token: env("ENGAJAR_TWILIO_AUTH_TOKEN"),
            webhook_secret: env("ENGAJAR_ZENVIA_WEBHOOK_SECRET"),
            per_second: SMS_DEFAULT_PER_SECOND,
        })
    }

    /// Enough to send.
    pub fn is_configured(&self) -> bool {
        !self.base_url.is_empty()
            && match self.provider {
                SmsProvider::None => false,
                SmsProvider::Zenvia => !self.zenvia_token.is_empty() && !self.from.is_empty(),
                SmsProvider::Twilio => {
                    !self.twilio_account_sid.is_empty()
                        && !self.twilio_auth_token.is_empty()
                        && !self.from.is_empty()
                }
            }
    }

    /// The saved settings, or `initial` (the environment's) until an admin saves.
    pub fn load(conn: &mut DbConnection, initial: &SmsSettings) -> QueryResult<SmsSettings> {
        let saved = super::settings::all(conn)?;
        if !saved.iter().any(|(k, _)| k == SMS_KEYS[0]) {
            return Ok(initial.clone());
        }
        let mut s = SmsSettings {
            per_second: SMS_DEFAULT_PER_SECOND,
            ..Default::default()
        };
        for (key, value) in saved {
            match key.as_str() {
                "sms_provider" => s.provider = SmsProvider::from_code(&value).unwrap_or_default(),
                "sms_base_url" => s.base_url = value,
                "sms_from" => s.from = value,
                "sms_zenvia_token" => s.zenvia_token = value,
                "sms_twilio_account_sid" => s.twilio_account_sid = value,
                "sms_twilio_auth_token" => s.twilio_auth_token = value,
                "sms_webhook_secret" => s.webhook_secret = value,
                "sms_per_second" => s.per_second = value.parse().unwrap_or(s.per_second),
                _ => {}
            }
        }
        Ok(s)
    }

    pub fn save(&self, conn: &mut DbConnection, now: i64) -> QueryResult<()> {
        let values = [
            self.provider.code().to_string(),
            self.base_url.clone(),
            self.from.clone(),
            self.zenvia_token.clone(),
            self.twilio_account_sid.clone(),
            self.twilio_auth_token.clone(),
            self.webhook_secret.clone(),
            self.per_second.to_string(),
        ];
        let pairs: Vec<(&str, String)> = SMS_KEYS.into_iter().zip(values).collect();
        super::settings::store(conn, &pairs, now)
    }
}

/// The words that, replied alone, opt a phone out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StopWords(Vec<String>);

const STOP_WORDS_KEY: &str = "stop_words";

impl StopWords {
    pub fn parse(text: &str) -> StopWords {
        StopWords(
            text.split([',', ';', '\n'])
                .map(crate::domain::text::search_key)
                .filter(|w| !w.is_empty())
                .collect(),
        )
    }

    pub fn load(conn: &mut DbConnection) -> QueryResult<StopWords> {
        let saved = super::settings::all(conn)?;
        Ok(StopWords::parse(
            saved
                .iter()
                .find(|(k, _)| k == STOP_WORDS_KEY)
                .map(|(_, v)| v.as_str())
                .unwrap_or(DEFAULT_STOP_WORDS),
        ))
    }

    pub fn save(&self, conn: &mut DbConnection, now: i64) -> QueryResult<()> {
        super::settings::store(conn, &[(STOP_WORDS_KEY, self.text())], now)
    }

    /// As the settings page shows them.
    pub fn text(&self) -> String {
        self.0
            .iter()
            .map(|w| w.to_uppercase())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Whether a reply is one of the words: alone, ignoring case, accents, spaces and
    /// end punctuation ("Sair", " sair! ", "PARAR." are; "não quero sair" is not).
    pub fn matches(&self, reply: &str) -> bool {
        // Phones add what people do not type as words: an ellipsis for "...", a trailing
        // emoji, "!!!". Only letters and digits at the ends count.
        let cleaned = reply.trim_matches(|c: char| !c.is_alphanumeric());
        let key = crate::domain::text::search_key(cleaned);
        !key.is_empty() && self.0.contains(&key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stop_word_is_the_whole_reply_ignoring_case_accents_and_punctuation() {
        let words = StopWords::parse(DEFAULT_STOP_WORDS);
        for yes in [
            "Sair",
            " sair! ",
            "PARAR.",
            "stop",
            "Descadastrar",
            "cancelar",
            "pare",
            "Sair…",
            "Sair 👍",
            "PARE!!! 🙏🏽",
            "«sair»",
        ] {
            assert!(words.matches(yes), "{yes}");
        }
        for no in [
            "não quero sair",
            "sai",
            "",
            "!!!",
            "parar de novo",
            "Pare de me mandar mensagem",
            "👍",
        ] {
            assert!(!words.matches(no), "{no}");
        }
        let custom = StopWords::parse("Não quero; remover");
        assert!(custom.matches("NAO QUERO"));
        assert!(custom.matches("Remover"));
        assert!(!custom.matches("sair"));
        assert_eq!(custom.text(), "NAO QUERO, REMOVER");
    }

    #[test]
    fn secrets_stay_out_of_debug_output() {
        let s = WhatsAppSettings {
            token: "EAAGtoken".into(),
            app_secret: "appsecret".into(),
            ..Default::default()
        };
        let text = format!("{s:?}");
        assert!(!text.contains("EAAG") && !text.contains("appsecret"));
        let sms = SmsSettings {
            twilio_auth_token: "authtok".into(),
            zenvia_token: "zentok".into(),
            ..Default::default()
        };
        let text = format!("{sms:?}");
        assert!(!text.contains("authtok") && !text.contains("zentok"));
    }
}
