//! The dashboard: a read-only web page of an installation's previews, served by every replica on
//! its own address (`--dashboard-listen`). Pages are rendered on the server from a watch of the
//! PreviewEnvironments; a small script asks for the same cards as JSON every few seconds. No
//! external resources, and a Content-Security-Policy that allows only this origin's script and
//! style.

mod html;
mod page;

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Json, Response};
use axum::routing::get;
use kube::{Client, ResourceExt};

use crate::config::FileConfig;
use crate::model::crd::PreviewEnvironment;
use crate::ops;
use crate::records::Records;
use crate::timing::DASHBOARD_LIST_WAIT;
use page::{Card, Filters};

const SCRIPT: &str = include_str!("assets/dashboard.js");
const STYLE: &str = include_str!("assets/dashboard.css");
const ICON: &str = include_str!("assets/icon.svg");

/// What every page is made from.
#[derive(Clone)]
pub struct Dashboard {
    records: Records,
    client: Client,
    events_namespace: Arc<str>,
    config: Arc<FileConfig>,
}

impl Dashboard {
    /// Pages made from `records` (the replica's cache of its installation's previews); Events
    /// are read from `events_namespace`, previewd's own.
    pub fn new(
        records: Records,
        client: Client,
        events_namespace: &str,
        config: FileConfig,
    ) -> Self {
        Dashboard {
            records,
            client,
            events_namespace: events_namespace.into(),
            config: Arc::new(config),
        }
    }

    /// The cards of every preview, or `None` while the watch has not listed them yet.
    async fn cards(&self) -> Option<Vec<(Arc<PreviewEnvironment>, Card)>> {
        let previews = self.records.all(DASHBOARD_LIST_WAIT).await?;
        let rows = ops::list::rows(&previews, &self.config);
        let by_name: HashMap<String, &Arc<PreviewEnvironment>> =
            previews.iter().map(|pe| (pe.name_any(), pe)).collect();
        let now = chrono::Utc::now();
        Some(
            rows.iter()
                .filter_map(|row| Some((Arc::clone(by_name.get(&row.name)?), page::card(row, now))))
                .collect(),
        )
    }
}

/// The dashboard's routes, each answer with the security headers.
pub fn router(dashboard: Dashboard) -> Router {
    Router::new()
        .route("/", get(list_page))
        .route("/api/previews", get(list_json))
        .route("/previews/{name}", get(preview_page))
        .route("/api/previews/{name}", get(preview_json))
        .route(
            "/static/dashboard.js",
            get(|| async { asset(SCRIPT, "text/javascript; charset=utf-8") }),
        )
        .route(
            "/static/dashboard.css",
            get(|| async { asset(STYLE, "text/css; charset=utf-8") }),
        )
        // Browsers ask for an icon; without one the console shows a 404.
        .route(
            "/static/icon.svg",
            get(|| async { asset(ICON, "image/svg+xml") }),
        )
        .route(
            "/favicon.ico",
            get(|| async { asset(ICON, "image/svg+xml") }),
        )
        .fallback(|| async { (StatusCode::NOT_FOUND, "not found\n") })
        .layer(middleware::from_fn(security_headers))
        .with_state(dashboard)
}

fn asset(body: &'static str, content_type: &'static str) -> Response {
    ([(header::CONTENT_TYPE, content_type)], body).into_response()
}

fn unavailable() -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        "previews not listed yet; try again\n",
    )
        .into_response()
}

async fn list_page(State(d): State<Dashboard>, Query(filters): Query<Filters>) -> Response {
    let Some(cards) = d.cards().await else {
        return unavailable();
    };
    let cards: Vec<Card> = cards.into_iter().map(|(_, c)| c).collect();
    Html(page::list(&cards, &filters, chrono::Utc::now())).into_response()
}

async fn list_json(State(d): State<Dashboard>, Query(filters): Query<Filters>) -> Response {
    let Some(cards) = d.cards().await else {
        return unavailable();
    };
    let shown: Vec<Card> = cards
        .into_iter()
        .map(|(_, c)| c)
        .filter(|c| filters.keep(c))
        .collect();
    Json(shown).into_response()
}

async fn preview_page(State(d): State<Dashboard>, Path(name): Path<String>) -> Response {
    let Some(cards) = d.cards().await else {
        return unavailable();
    };
    let Some((pe, card)) = cards.into_iter().find(|(_, c)| c.name == name) else {
        return (StatusCode::NOT_FOUND, "no such preview\n").into_response();
    };
    let events = ops::status::events_of(&d.client, &d.events_namespace, &pe)
        .await
        .unwrap_or_else(|error| {
            tracing::warn!(%error, "dashboard: Events not read");
            Vec::new()
        });
    Html(page::detail(&pe, &card, &events)).into_response()
}

async fn preview_json(State(d): State<Dashboard>, Path(name): Path<String>) -> Response {
    let Some(cards) = d.cards().await else {
        return unavailable();
    };
    match cards.into_iter().find(|(_, c)| c.name == name) {
        Some((_, card)) => Json(card).into_response(),
        None => (StatusCode::NOT_FOUND, "no such preview\n").into_response(),
    }
}

/// The Content-Security-Policy: this origin's script, style and requests only; no frames, no
/// plugins, no inline script or style.
pub(crate) const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'self'; \
     frame-ancestors 'none'";

async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    for (name, value) in [
        ("content-security-policy", CONTENT_SECURITY_POLICY),
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "no-referrer"),
        ("x-frame-options", "DENY"),
        ("cache-control", "no-store"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}
