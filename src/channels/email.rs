//! E-mail over SMTP with lettre: one pooled async transport per settings, UTF-8 plain
//! text, the Message-ID as the provider's id, and the RFC 8058 one-click unsubscribe
//! headers on campaign messages.

use std::time::Duration;

use lettre::message::Mailbox;
use lettre::message::header::{ContentType, Header, HeaderName, HeaderValue};
use lettre::transport::smtp::PoolConfig;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::{Outgoing, SendError};
use crate::models::channel_settings::{EmailSettings, TlsMode};

/// How long one SMTP exchange may take before it counts as a temporary failure.
const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Clone)]
struct ListUnsubscribe(String);

impl Header for ListUnsubscribe {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe")
    }

    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(ListUnsubscribe(s.to_string()))
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), self.0.clone())
    }
}

#[derive(Clone)]
struct ListUnsubscribePost;

impl Header for ListUnsubscribePost {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe-Post")
    }

    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(ListUnsubscribePost)
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "List-Unsubscribe=One-Click".to_string())
    }
}

/// A configured SMTP sender.
pub struct EmailChannel {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    reply_to: Option<Mailbox>,
    domain: String,
}

impl EmailChannel {
    /// Builds the transport; `connections` bounds the pool (and so the concurrent sends).
    pub fn new(settings: &EmailSettings, connections: u32) -> Result<EmailChannel, String> {
        let from = settings
            .from_mailbox()
            .ok_or_else(|| crate::messages::campaign::SMTP_NOT_CONFIGURED.to_string())?;
        let reply_to = match settings.reply_to.trim() {
            "" => None,
            r => Some(r.parse::<Mailbox>().map_err(|e| e.to_string())?),
        };
        let host = settings.host.trim().to_string();
        let tls = match settings.tls {
            TlsMode::None => Tls::None,
            TlsMode::Starttls => {
                Tls::Required(TlsParameters::new(host.clone()).map_err(|e| e.to_string())?)
            }
            TlsMode::Tls => {
                Tls::Wrapper(TlsParameters::new(host.clone()).map_err(|e| e.to_string())?)
            }
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
            .port(settings.port)
            .tls(tls)
            .timeout(Some(SMTP_TIMEOUT))
            .pool_config(PoolConfig::new().max_size(connections.max(1)));
        if !settings.user.is_empty() {
            builder = builder.credentials(Credentials::new(
                settings.user.clone(),
                settings.password.clone(),
            ));
        }
        let domain = from.email.domain().to_string();
        Ok(EmailChannel {
            transport: builder.build(),
            from,
            reply_to,
            domain,
        })
    }

    /// Sends one message; its Message-ID is the provider's id.
    pub async fn send(&self, message: &Outgoing<'_>) -> Result<String, SendError> {
        let to: Mailbox = message
            .to
            .parse()
            .map_err(|e: lettre::address::AddressError| SendError {
                temporary: false,
                code: "address".into(),
                message: e.to_string(),
            })?;
        let id = format!(
            "<{}.{}@{}>",
            crate::time::now_ms(),
            random_part(),
            self.domain
        );
        let mut builder = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(message.subject)
            .message_id(Some(id.clone()));
        if let Some(reply) = &self.reply_to {
            builder = builder.reply_to(reply.clone());
        }
        if let Some(url) = message.unsubscribe_url {
            builder = builder
                .header(ListUnsubscribe(format!("<{url}>")))
                .header(ListUnsubscribePost);
        }
        let email = builder
            .header(ContentType::TEXT_PLAIN)
            .body(message.body.to_string())
            .map_err(|e| SendError {
                temporary: false,
                code: "message".into(),
                message: e.to_string(),
            })?;
        self.transport
            .send(email)
            .await
            .map(|_| id)
            .map_err(|e| classify(&e))
    }

    /// Opens a connection and says hello (Testar conexão).
    pub async fn test_connection(&self) -> Result<(), String> {
        match self.transport.test_connection().await {
            Ok(true) => Ok(()),
            Ok(false) => Err(crate::messages::campaign::SMTP_NO_ANSWER.to_string()),
            Err(e) => Err(classify(&e).describe()),
        }
    }
}

fn random_part() -> String {
    let mut bytes = [0u8; 9];
    rand::RngCore::fill_bytes(&mut rand::thread_rng(), &mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// SMTP 4xx replies, timeouts and connection failures are temporary; 5xx are permanent.
fn classify(e: &lettre::transport::smtp::Error) -> SendError {
    let code = e.status().map(|c| c.to_string()).unwrap_or_else(|| {
        if e.is_timeout() {
            "timeout"
        } else {
            "connection"
        }
        .to_string()
    });
    // The server's own reply text may be anything (a misconfigured host may be any
    // service): logged, never shown or recorded.
    tracing::warn!(error = %e, "SMTP server refused or failed");
    let message = crate::messages::channels::smtp_failure(&code, e.is_permanent());
    SendError {
        temporary: !e.is_permanent(),
        code,
        message,
    }
}
