//! What a request leaves in the log: method, path without its query (searches carry
//! phones, e-mails and CPFs), the client address the throttle uses, status and error.

use actix_web::Error;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use tracing::Span;
use tracing_actix_web::RootSpanBuilder;

pub struct RequestSpan;

impl RootSpanBuilder for RequestSpan {
    fn on_request_start(request: &ServiceRequest) -> Span {
        let client = super::client_ip(request.request()).unwrap_or_default();
        tracing::info_span!(
            "request",
            method = %request.method(),
            path = %request.path(),
            client = %client,
            status = tracing::field::Empty,
            error = tracing::field::Empty,
        )
    }

    fn on_request_end<B: MessageBody>(span: Span, outcome: &Result<ServiceResponse<B>, Error>) {
        match outcome {
            Ok(response) => {
                span.record("status", response.status().as_u16());
                if let Some(error) = response.response().error() {
                    span.record("error", tracing::field::display(error));
                }
            }
            Err(error) => {
                span.record("status", error.as_response_error().status_code().as_u16());
                span.record("error", tracing::field::display(error));
            }
        }
    }
}
