//! SMS through Zenvia (API v2) or Twilio (Programmable Messaging), each at its
//! configured base URL, in each provider's documented wire format.

use std::time::Duration;

use serde_json::{Value, json};

use super::{Outgoing, SendError};
use crate::models::provider_settings::{SmsProvider, SmsSettings};

const TIMEOUT: Duration = Duration::from_secs(30);

pub struct SmsChannel {
    client: reqwest::Client,
    settings: SmsSettings,
    /// Where Twilio posts status callbacks (`{public}/webhooks/twilio`).
    status_callback: String,
}

/// A refusal: 429 and 5xx are worth another try, other 4xx are not. The provider's own
/// code and message when the body has them (Twilio `code`/`message`; Zenvia
/// `code`/`message`).
fn http_error(status: reqwest::StatusCode, body: &str) -> SendError {
    let parsed: Option<Value> = serde_json::from_str(body).ok();
    let field = |k: &str| {
        parsed.as_ref().and_then(|v| v.get(k)).and_then(|c| {
            c.as_str()
                .map(str::to_string)
                .or_else(|| c.as_i64().map(|n| n.to_string()))
        })
    };
    // The provider's own words may be anything (and from a misconfigured base URL,
    // anything at all): logged, never shown or recorded.
    tracing::warn!(
        status = status.as_u16(),
        body = %body.chars().take(500).collect::<String>(),
        "SMS provider refused a request"
    );
    let code = field("code").unwrap_or_else(|| status.as_u16().to_string());
    SendError {
        temporary: status.as_u16() == 429 || status.is_server_error(),
        message: crate::messages::channels::provider_refusal(&code, status.as_u16()),
        code,
    }
}

impl SmsChannel {
    pub fn new(
        settings: &SmsSettings,
        public_url: &str,
        policy: super::net::NetPolicy,
    ) -> Result<SmsChannel, String> {
        if !settings.is_configured() {
            return Err(crate::messages::sms::NOT_CONFIGURED.into());
        }
        Ok(SmsChannel {
            client: super::net::provider_client(&settings.base_url, TIMEOUT, policy)?,
            settings: settings.clone(),
            status_callback: format!("{}/webhooks/twilio", public_url.trim_end_matches('/')),
        })
    }

    pub fn provider(&self) -> SmsProvider {
        self.settings.provider
    }

    fn base(&self) -> &str {
        self.settings.base_url.trim_end_matches('/')
    }

    /// Zenvia's body: `{"from","to","contents":[{"type":"text","text"}]}`, `to` in E.164
    /// digits without `+`.
    pub fn zenvia_payload(from: &str, message: &Outgoing<'_>) -> Value {
        json!({
            "from": from,
            "to": message.to.trim_start_matches('+'),
            "contents": [{"type": "text", "text": message.body}],
        })
    }

    /// Twilio's form: `To` in E.164 with `+`, `From` (or `MessagingServiceSid` for an
    /// `MG…` sender), `Body`, `StatusCallback`.
    pub fn twilio_form(&self, message: &Outgoing<'_>) -> Vec<(&'static str, String)> {
        let to = if message.to.starts_with('+') {
            message.to.to_string()
        } else {
            format!("+{}", message.to)
        };
        let from = self.settings.from.trim();
        let sender = if from.starts_with("MG") {
            ("MessagingServiceSid", from.to_string())
        } else {
            ("From", from.to_string())
        };
        vec![
            ("To", to),
            sender,
            ("Body", message.body.to_string()),
            ("StatusCallback", self.status_callback.clone()),
        ]
    }

    /// Sends one SMS; the provider's message id (Zenvia `id`, Twilio `sid`) is returned.
    pub async fn send(&self, message: &Outgoing<'_>) -> Result<String, SendError> {
        let (request, id_field) = match self.settings.provider {
            SmsProvider::Zenvia => (
                self.client
                    .post(format!("{}/v2/channels/sms/messages", self.base()))
                    .header("X-API-TOKEN", &self.settings.zenvia_token)
                    .json(&Self::zenvia_payload(self.settings.from.trim(), message)),
                "id",
            ),
            SmsProvider::Twilio => (
                self.client
                    .post(format!(
                        "{}/2010-04-01/Accounts/{}/Messages.json",
                        self.base(),
                        self.settings.twilio_account_sid
                    ))
                    .basic_auth(
                        &self.settings.twilio_account_sid,
                        Some(&self.settings.twilio_auth_token),
                    )
                    .form(&self.twilio_form(message)),
                "sid",
            ),
            SmsProvider::None => {
                return Err(SendError {
                    temporary: false,
                    code: "config".into(),
                    message: crate::messages::sms::NOT_CONFIGURED.into(),
                });
            }
        };
        let response = request.send().await.map_err(|e| SendError::transport(&e))?;
        let status = response.status();
        let body = response
            .text()
            .await
            .map_err(|e| SendError::transport(&e))?;
        if !status.is_success() {
            return Err(http_error(status, &body));
        }
        serde_json::from_str::<Value>(&body)
            .ok()
            .and_then(|v| v.get(id_field).and_then(Value::as_str).map(str::to_string))
            .filter(|id| !id.is_empty() && id.len() <= 256)
            .ok_or_else(|| SendError {
                temporary: false,
                code: "response".into(),
                message: format!("a resposta não trouxe o campo {id_field}"),
            })
    }

    /// Testar: Twilio's account record, or Zenvia's subscriptions list — both need the
    /// credentials and send nothing.
    pub async fn test(&self) -> Result<(), String> {
        let request = match self.settings.provider {
            SmsProvider::Twilio => self
                .client
                .get(format!(
                    "{}/2010-04-01/Accounts/{}.json",
                    self.base(),
                    self.settings.twilio_account_sid
                ))
                .basic_auth(
                    &self.settings.twilio_account_sid,
                    Some(&self.settings.twilio_auth_token),
                ),
            _ => self
                .client
                .get(format!("{}/v2/subscriptions", self.base()))
                .header("X-API-TOKEN", &self.settings.zenvia_token),
        };
        let response = request
            .send()
            .await
            .map_err(|e| SendError::transport(&e).describe())?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let body = response.text().await.unwrap_or_default();
        Err(http_error(status, &body).describe())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outgoing(body: &str) -> Outgoing<'_> {
        Outgoing {
            to: "+5511987654321",
            subject: "",
            body,
            unsubscribe_url: None,
            template: None,
            parameters: &[],
        }
    }

    #[test]
    fn zenvia_gets_digits_and_a_text_content() {
        let v = SmsChannel::zenvia_payload("loja", &outgoing("Oi"));
        assert_eq!(
            v,
            json!({"from":"loja","to":"5511987654321","contents":[{"type":"text","text":"Oi"}]})
        );
    }

    #[test]
    fn twilio_gets_e164_with_plus_and_a_messaging_service_when_the_sender_is_one() {
        let settings = SmsSettings {
            provider: SmsProvider::Twilio,
            base_url: "http://127.0.0.1:1".into(),
            from: "MG0123".into(),
            twilio_account_sid: "AC1".into(),
            twilio_auth_token: "t".into(),
            ..Default::default()
        };
        let channel = SmsChannel::new(
            &settings,
            "https://engajar.example/",
            crate::channels::net::NetPolicy {
                allow_private: true,
            },
        )
        .unwrap();
        let form = channel.twilio_form(&outgoing("Oi"));
        assert_eq!(form[0], ("To", "+5511987654321".to_string()));
        assert_eq!(form[1], ("MessagingServiceSid", "MG0123".to_string()));
        assert_eq!(
            form[3],
            (
                "StatusCallback",
                "https://engajar.example/webhooks/twilio".to_string()
            )
        );
        assert!(http_error(reqwest::StatusCode::TOO_MANY_REQUESTS, "").temporary);
        assert!(
            !http_error(
                reqwest::StatusCode::BAD_REQUEST,
                r#"{"code":21211,"message":"Invalid 'To'"}"#
            )
            .temporary
        );
    }
}
