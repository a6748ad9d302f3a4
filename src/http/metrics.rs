//! `GET /metrics`: the Prometheus text exposition.

use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;

/// The content type of the OpenMetrics text format, which Prometheus reads.
const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Every metric of the process.
pub(crate) async fn scrape() -> impl IntoResponse {
    (
        [(CONTENT_TYPE, OPENMETRICS)],
        crate::metrics::get().encode(),
    )
}
