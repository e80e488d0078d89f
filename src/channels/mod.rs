//! Providers that carry a campaign's messages. Each sends one rendered message and says
//! either the provider's id for it or an error that tells whether trying again may help.

pub mod email;
pub mod net;
pub mod sms;
pub mod whatsapp;

/// A rendered message on its way out.
#[derive(Debug, Clone)]
pub struct Outgoing<'a> {
    pub to: &'a str,
    pub subject: &'a str,
    pub body: &'a str,
    /// The one-click opt-out address (RFC 8058), for bulk messages.
    pub unsubscribe_url: Option<&'a str>,
    /// A WhatsApp template's name and language.
    pub template: Option<(&'a str, &'a str)>,
    /// A WhatsApp template's body parameters, `{{1}}` first.
    pub parameters: &'a [String],
}

/// Why a provider did not take a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendError {
    /// Connection refused, a timeout, an SMTP 4xx, an HTTP 429 or 5xx, a provider's
    /// "slow down": worth another try.
    pub temporary: bool,
    /// The provider's code ("421", "550", "130429"…) or a short word for what failed.
    pub code: String,
    pub message: String,
}

/// Codes that mean "too fast, try later": WhatsApp's throughput (130429) and pair rate
/// (131056) limits, the app/account rate limits (4, 80007), HTTP 429.
const THROTTLE_CODES: [&str; 5] = ["130429", "131056", "4", "80007", "429"];

/// Codes that refuse one recipient and say nothing about the provider's health: the
/// person stopped marketing templates (131050), the number has no WhatsApp or cannot take
/// the message (131026, 1013, 131021), an invalid or unreachable SMS destination (21211,
/// 21614, 21612), a person who texted STOP (21610).
const RECIPIENT_CODES: [&str; 8] = [
    "131050", "131026", "1013", "131021", "21211", "21614", "21612", "21610",
];

impl SendError {
    /// An HTTP provider that could not be reached or did not answer in time: temporary.
    pub fn transport(e: &reqwest::Error) -> SendError {
        SendError {
            temporary: true,
            code: if e.is_timeout() {
                "timeout"
            } else {
                "connection"
            }
            .into(),
            message: e.to_string(),
        }
    }

    /// The provider asked us to slow down.
    pub fn is_throttle(&self) -> bool {
        self.temporary && THROTTLE_CODES.contains(&self.code.as_str())
    }

    /// The provider refused this recipient only: not a sign of a failing provider, so it
    /// never counts towards the failures in a row that pause a run.
    pub fn is_recipient_refusal(&self) -> bool {
        !self.temporary && RECIPIENT_CODES.contains(&self.code.as_str())
    }

    /// As the ledger and the pages show it.
    pub fn describe(&self) -> String {
        format!("{} {}", self.code, self.message)
    }
}

/// One configured provider of a campaign channel.
pub enum Provider {
    Email(email::EmailChannel),
    WhatsApp(whatsapp::WhatsAppChannel),
    Sms(sms::SmsChannel),
}

/// How the ledger names who took a message, so a receipt is matched by its provider as
/// well as by the provider's id (two providers may well use the same id).
pub mod provider_code {
    pub const SMTP: &str = "smtp";
    pub const WHATSAPP: &str = "whatsapp";
    pub const ZENVIA: &str = "zenvia";
    pub const TWILIO: &str = "twilio";
}

impl Provider {
    /// One of [`provider_code`].
    pub fn code(&self) -> &'static str {
        match self {
            Provider::Email(_) => provider_code::SMTP,
            Provider::WhatsApp(_) => provider_code::WHATSAPP,
            Provider::Sms(c) => c.provider().code(),
        }
    }

    pub async fn send(&self, message: &Outgoing<'_>) -> Result<String, SendError> {
        match self {
            Provider::Email(c) => c.send(message).await,
            Provider::WhatsApp(c) => c.send(message).await,
            Provider::Sms(c) => c.send(message).await,
        }
    }
}
