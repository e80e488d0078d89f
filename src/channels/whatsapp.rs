//! WhatsApp Business Cloud API (Meta Graph API): template messages, the approved
//! templates list, and the error codes that matter to a sender. Every call goes to the
//! configured base URL (`https://graph.facebook.com/v23.0` unless set otherwise).

use std::time::Duration;

use serde_json::{Value, json};

use super::{Outgoing, SendError};
use crate::models::provider_settings::WhatsAppSettings;
use crate::models::whatsapp_template::TemplateInput;

const TIMEOUT: Duration = Duration::from_secs(30);

/// Cloud API errors that mean "not now": throughput reached (130429), too many messages
/// to one recipient (131056), rate limits of the app or account (4, 80007), and the
/// service's own temporary failures (1, 2, 131000, 131016, 133004).
const TEMPORARY_CODES: [i64; 9] = [130429, 131056, 4, 80007, 1, 2, 131000, 131016, 133004];

/// Failures that mean the number cannot receive WhatsApp messages: 131026 "Message
/// undeliverable" (not on WhatsApp, an app too old, terms not accepted — Meta's Cloud API
/// error codes page) and 1013 "User is not valid", the same verdict as the On-Premises API
/// gave it. These mark a phone sem WhatsApp.
pub const NO_WHATSAPP_CODES: [i64; 2] = [131026, 1013];

/// Meta's refusal of a MARKETING template to a user who stopped marketing messages inside
/// WhatsApp; utility templates still reach them.
pub const MARKETING_STOPPED_CODE: &str = "131050";

pub struct WhatsAppChannel {
    client: reqwest::Client,
    settings: WhatsAppSettings,
}

/// The E.164 number without its `+`, as the Cloud API takes it.
pub fn to_field(phone: &str) -> String {
    phone.trim_start_matches('+').to_string()
}

/// A phone as WhatsApp gives it (`wa_id`, `from`: digits without `+`) in the form the
/// contact base keeps. Brazilian mobiles registered before the ninth digit often come as
/// 55 + DDD + 8 digits: the 9 is put back so the number matches the one imported.
pub fn phone_from_wa(raw: &str) -> Option<String> {
    let digits: String = raw.chars().filter(char::is_ascii_digit).collect();
    if digits.is_empty() {
        return None;
    }
    if let Some(national) = digits.strip_prefix("55")
        && national.len() == 10
        && matches!(national.as_bytes()[2], b'6'..=b'9')
    {
        let with_nine = format!("+55{}9{}", &national[..2], &national[2..]);
        if let Ok(p) = crate::domain::Phone::parse(&with_nine) {
            return Some(p.into_inner());
        }
    }
    crate::domain::Phone::parse(&format!("+{digits}"))
        .ok()
        .map(crate::domain::Phone::into_inner)
}

/// An error answer of the Graph API: `{"error":{"code","message","error_data":{"details"}}}`.
fn api_error(status: reqwest::StatusCode, body: &str) -> SendError {
    let parsed: Option<Value> = serde_json::from_str(body).ok();
    let error = parsed.as_ref().and_then(|v| v.get("error"));
    let code = error.and_then(|e| e.get("code")).and_then(Value::as_i64);
    // The provider's own words may be anything (and from a misconfigured base URL,
    // anything at all): logged, never shown or recorded.
    tracing::warn!(
        status = status.as_u16(),
        body = %body.chars().take(500).collect::<String>(),
        "WhatsApp Cloud API refused a request"
    );
    let code_text = code
        .map(|c| c.to_string())
        .unwrap_or_else(|| status.as_u16().to_string());
    let message = crate::messages::channels::provider_refusal(&code_text, status.as_u16());
    let temporary = status.as_u16() == 429
        || status.is_server_error()
        || code.is_some_and(|c| TEMPORARY_CODES.contains(&c));
    SendError {
        temporary,
        code: code_text,
        message,
    }
}

impl WhatsAppChannel {
    pub fn new(
        settings: &WhatsAppSettings,
        policy: super::net::NetPolicy,
    ) -> Result<WhatsAppChannel, String> {
        if !settings.is_configured() {
            return Err(crate::messages::whatsapp::NOT_CONFIGURED.into());
        }
        Ok(WhatsAppChannel {
            client: super::net::provider_client(&settings.base_url, TIMEOUT, policy)?,
            settings: settings.clone(),
        })
    }

    fn url(&self, path: &str) -> String {
        format!("{}/{}", self.settings.base_url.trim_end_matches('/'), path)
    }

    /// The request body of a template message.
    pub fn payload(message: &Outgoing<'_>) -> Value {
        let (name, language) = message.template.unwrap_or_default();
        let parameters: Vec<Value> = message
            .parameters
            .iter()
            .map(|p| json!({"type": "text", "text": p}))
            .collect();
        let mut template = json!({"name": name, "language": {"code": language}});
        if !parameters.is_empty() {
            template["components"] = json!([{"type": "body", "parameters": parameters}]);
        }
        json!({
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": to_field(message.to),
            "type": "template",
            "template": template,
        })
    }

    /// Sends a template message; the returned wamid is the provider's id.
    pub async fn send(&self, message: &Outgoing<'_>) -> Result<String, SendError> {
        let response = self
            .client
            .post(self.url(&format!("{}/messages", self.settings.phone_number_id)))
            .bearer_auth(&self.settings.token)
            .json(&Self::payload(message))
            .send()
            .await
            .map_err(|e| SendError::transport(&e))?;
        let status = response.status();
        let body = response
            .text()
            .await
            .map_err(|e| SendError::transport(&e))?;
        if !status.is_success() {
            return Err(api_error(status, &body));
        }
        let parsed: Value = serde_json::from_str(&body).map_err(|_| {
            tracing::warn!(
                body = %body.chars().take(500).collect::<String>(),
                "WhatsApp Cloud API answered something unreadable"
            );
            SendError {
                temporary: false,
                code: "response".into(),
                message: crate::messages::channels::PROVIDER_UNEXPECTED.into(),
            }
        })?;
        parsed
            .pointer("/messages/0/id")
            .and_then(Value::as_str)
            .filter(|id| !id.is_empty() && id.len() <= 256)
            .map(str::to_string)
            .ok_or_else(|| SendError {
                temporary: false,
                code: "response".into(),
                message: "a resposta não trouxe messages[0].id".into(),
            })
    }

    /// A Graph API GET with the token: the JSON answer, or the error as people read it.
    async fn get_json(&self, url: &str) -> Result<Value, String> {
        let response = self
            .client
            .get(url)
            .bearer_auth(&self.settings.token)
            .send()
            .await
            .map_err(|e| SendError::transport(&e).describe())?;
        let status = response.status();
        let body = response.text().await.map_err(|e| e.to_string())?;
        if !status.is_success() {
            return Err(api_error(status, &body).describe());
        }
        serde_json::from_str(&body).map_err(|e| {
            tracing::warn!(error = %e, "WhatsApp Cloud API answered something unreadable");
            crate::messages::channels::PROVIDER_UNEXPECTED.to_string()
        })
    }

    /// Testar: reads the phone number's record (`GET {base}/{PHONE_NUMBER_ID}`).
    pub async fn test(&self) -> Result<String, String> {
        let parsed = self
            .get_json(&self.url(&self.settings.phone_number_id))
            .await?;
        Ok(parsed
            .get("display_phone_number")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string())
    }

    /// The account's templates (`GET {base}/{WABA_ID}/message_templates`, every page):
    /// the approved ones, with their body text; and how many others were passed over.
    pub async fn approved_templates(&self) -> Result<(Vec<TemplateInput>, usize), String> {
        if self.settings.waba_id.trim().is_empty() {
            return Err(crate::messages::whatsapp::WABA_MISSING.into());
        }
        let mut url = Some(format!(
            "{}?limit=100",
            self.url(&format!(
                "{}/message_templates",
                self.settings.waba_id.trim()
            ))
        ));
        let mut approved = Vec::new();
        let mut ignored = 0;
        let mut pages = 0;
        while let Some(next) = url.take() {
            pages += 1;
            if pages > 100 {
                break;
            }
            let parsed = self.get_json(&next).await?;
            for t in parsed
                .get("data")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let text = |k: &str| t.get(k).and_then(Value::as_str).unwrap_or_default();
                let body = t
                    .get("components")
                    .and_then(Value::as_array)
                    .and_then(|cs| {
                        cs.iter().find(|c| {
                            c.get("type")
                                .and_then(Value::as_str)
                                .is_some_and(|k| k.eq_ignore_ascii_case("body"))
                        })
                    })
                    .and_then(|c| c.get("text"))
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                if !text("status").eq_ignore_ascii_case("approved") || body.is_empty() {
                    ignored += 1;
                    continue;
                }
                approved.push(TemplateInput {
                    name: text("name").to_string(),
                    language: text("language").to_string(),
                    category: text("category").to_string(),
                    body: body.to_string(),
                });
            }
            url = parsed
                .pointer("/paging/next")
                .and_then(Value::as_str)
                .map(str::to_string);
        }
        Ok((approved, ignored))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_payload_is_a_template_message_with_body_parameters() {
        let params = vec!["Ana".to_string(), "Rua A".to_string()];
        let v = WhatsAppChannel::payload(&Outgoing {
            to: "+5511987654321",
            subject: "",
            body: "",
            unsubscribe_url: None,
            template: Some(("promo", "pt_BR")),
            parameters: &params,
        });
        assert_eq!(v["messaging_product"], "whatsapp");
        assert_eq!(v["to"], "5511987654321");
        assert_eq!(v["type"], "template");
        assert_eq!(v["template"]["name"], "promo");
        assert_eq!(v["template"]["language"]["code"], "pt_BR");
        assert_eq!(v["template"]["components"][0]["type"], "body");
        assert_eq!(
            v["template"]["components"][0]["parameters"][1],
            json!({"type": "text", "text": "Rua A"})
        );
    }

    #[test]
    fn errors_that_mean_later_are_temporary() {
        let e = api_error(
            reqwest::StatusCode::BAD_REQUEST,
            r#"{"error":{"code":130429,"message":"Rate limit hit"}}"#,
        );
        assert!(e.temporary);
        assert_eq!(e.code, "130429");
        let e = api_error(
            reqwest::StatusCode::BAD_REQUEST,
            r#"{"error":{"code":132000,"message":"Number of parameters does not match"}}"#,
        );
        assert!(!e.temporary);
        assert!(api_error(reqwest::StatusCode::BAD_GATEWAY, "<html>").temporary);
    }

    #[test]
    fn brazilian_wa_ids_without_the_ninth_digit_get_it_back() {
        assert_eq!(
            phone_from_wa("558591234567").as_deref(),
            Some("+5585991234567")
        );
        assert_eq!(
            phone_from_wa("5585991234567").as_deref(),
            Some("+5585991234567")
        );
        assert_eq!(
            phone_from_wa("551134567890").as_deref(),
            Some("+551134567890")
        );
        assert_eq!(phone_from_wa("abc"), None);
    }
}
