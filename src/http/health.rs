//! Liveness and readiness.

use std::sync::atomic::Ordering;

use axum::extract::State;
use axum::http::StatusCode;

use super::AppState;

/// The process is alive.
pub async fn alive() -> &'static str {
    "ok"
}

/// Ready to take webhooks: not shutting down and the API server answers.
pub async fn ready(State(app): State<AppState>) -> (StatusCode, &'static str) {
    if !app.accepting.load(Ordering::Relaxed) {
        return (StatusCode::SERVICE_UNAVAILABLE, "shutting down");
    }
    match app.client.apiserver_version().await {
        Ok(_) => (StatusCode::OK, "ok"),
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "Kubernetes API server unreachable",
        ),
    }
}
