//! Counts every webhook delivery by event and result, including any a layer answers before the
//! handler runs.

use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::Response;

use crate::metrics::{self, Delivery};

/// The result the handler reports for the metrics (a response extension).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Result(pub &'static str);

/// Middleware around `POST /webhooks/github`.
pub(crate) async fn count(request: Request, next: Next) -> Response {
    // A label from a fixed set: the header arrives before the signature is checked.
    let event = metrics::event_label(
        request
            .headers()
            .get("x-github-event")
            .and_then(|v| v.to_str().ok()),
    );
    let response = next.run(request).await;
    let result = response
        .extensions()
        .get::<Result>()
        .map_or_else(|| unlabelled(response.status()), |r| r.0);
    metrics::get()
        .deliveries
        .get_or_create(&Delivery {
            event: event.to_owned(),
            result: result.to_owned(),
        })
        .inc();
    response
}

/// The result of a delivery the handler did not answer.
fn unlabelled(status: StatusCode) -> &'static str {
    match status {
        StatusCode::PAYLOAD_TOO_LARGE => "too_large",
        s if s.is_client_error() => "malformed",
        _ => "error",
    }
}
