//! Providers that carry a campaign's messages. Each sends one rendered message and says
//! either the provider's id for it or an error that tells whether trying again may help.

pub mod email;

/// A rendered message on its way out.
#[derive(Debug, Clone)]
pub struct Outgoing<'a> {
    pub to: &'a str,
    pub subject: &'a str,
    pub body: &'a str,
    /// The one-click opt-out address (RFC 8058), for bulk messages.
    pub unsubscribe_url: Option<&'a str>,
}

/// Why a provider did not take a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendError {
    /// Connection refused, a timeout, an SMTP 4xx, an HTTP 429 or 5xx: worth another try.
    pub temporary: bool,
    /// The provider's code ("421", "550"…) or a short word for what failed.
    pub code: String,
    pub message: String,
}

impl SendError {
    /// As the ledger and the pages show it.
    pub fn describe(&self) -> String {
        format!("{} {}", self.code, self.message)
    }
}
