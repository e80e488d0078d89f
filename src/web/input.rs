//! Text arrives clean or not at all: a query string holding control characters (NUL,
//! ESC…) is refused before any handler reads it. Forms are checked as they are parsed
//! ([`crate::web::csrf`], [`crate::web::upload`]) and the API checks its JSON fields.

use actix_web::ResponseError;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;

use crate::domain::text::has_control_chars;
use crate::web::AppError;

/// The first query field (by name) whose name or value holds a control character.
pub fn dirty_query_field(query: &str) -> Option<String> {
    if query.is_empty() {
        return None;
    }
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).unwrap_or_default();
    pairs
        .into_iter()
        .find(|(name, value)| has_control_chars(name, false) || has_control_chars(value, false))
        .map(|(name, _)| name.chars().filter(|c| !c.is_control()).collect())
}

pub async fn refuse_control_chars(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    if let Some(field) = dirty_query_field(req.query_string()) {
        let response = if req.path().starts_with("/api/") {
            crate::routes::api::invalid_text(&field).response()
        } else {
            AppError::InvalidText(field).error_response()
        };
        return Ok(req.into_response(response));
    }
    Ok(next.call(req).await?.map_into_boxed_body())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_field_with_control_characters() {
        assert_eq!(dirty_query_field("q=Ana%00&page=2"), Some("q".into()));
        assert_eq!(dirty_query_field("q=%1B%5B31m"), Some("q".into()));
        assert_eq!(dirty_query_field("q=Jo%C3%A3o+da+Silva&page=2"), None);
        assert_eq!(dirty_query_field(""), None);
    }
}
