//! The HTTP side: GitHub webhooks in; health and metrics out.

pub(crate) mod body;
pub mod dashboard;
pub(crate) mod deliveries;
pub(crate) mod health;
pub(crate) mod metrics;
pub(crate) mod wakes;
pub(crate) mod webhook;

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use axum::Router;
use axum::middleware;
use axum::routing::{get, post};
use tokio::sync::Semaphore;

pub use body::BodyLimits;

use crate::config::{Allowlist, FileConfig};
use crate::records::Records;

/// What handlers share.
#[derive(Clone)]
pub struct AppState {
    /// The webhook secret; none in the polling mode without one (no delivery is taken).
    pub secret: Option<Arc<[u8]>>,
    /// Kubernetes client (for recording intent).
    pub client: kube::Client,
    /// This replica's cache of the records, what deliveries are decided on first.
    pub records: Records,
    /// This installation's instance label value.
    pub instance: Arc<str>,
    /// The configuration file.
    pub config: Arc<FileConfig>,
    /// What its repositories' names stand for now (shared with the controller).
    pub allowlist: Arc<Allowlist>,
    /// False once shutdown began.
    pub accepting: Arc<AtomicBool>,
    /// How much of a delivery's body is read, and for how long.
    pub body_limits: BodyLimits,
    /// One permit per delivery being handled; none left means refused at once.
    pub in_flight: Arc<Semaphore>,
}

/// The router: `POST /webhooks/github`, `GET /healthz`, `GET /readyz`, `GET /metrics`.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/webhooks/github", post(webhook::receive))
        .layer(middleware::from_fn(deliveries::count))
        .route("/metrics", get(metrics::scrape))
        .route("/healthz", get(health::alive))
        .route("/readyz", get(health::ready))
        .with_state(state)
}
