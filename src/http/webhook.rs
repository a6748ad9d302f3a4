//! `POST /webhooks/github`: verify, parse, record intent, answer fast. Never does slow work:
//! the controller acts on what is recorded.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use tracing::Instrument;

use super::AppState;
use crate::github::webhook::{WebhookEvent, parse, signature_is_valid};
use crate::preview::store::{Outcome, record_pull_request};

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Handles one delivery.
pub async fn receive(
    State(app): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, String) {
    let delivery = header(&headers, "x-github-delivery")
        .unwrap_or("-")
        .to_owned();
    let event = header(&headers, "x-github-event").unwrap_or("").to_owned();
    let span = tracing::info_span!("webhook", delivery = %delivery, event = %event);
    async move {
        let signature = header(&headers, "x-hub-signature-256").unwrap_or("");
        if !signature_is_valid(&app.secret, &body, signature) {
            tracing::warn!("rejected delivery: X-Hub-Signature-256 missing or invalid");
            return (StatusCode::UNAUTHORIZED, "X-Hub-Signature-256 missing or invalid\n".into());
        }
        if event.is_empty() {
            return (StatusCode::BAD_REQUEST, "X-GitHub-Event missing\n".into());
        }
        let parsed = match parse(&event, &body) {
            Ok(parsed) => parsed,
            Err(e) => {
                tracing::warn!(error = %e, "malformed payload");
                return (StatusCode::BAD_REQUEST, format!("{e}\n"));
            }
        };
        match parsed {
            WebhookEvent::Ping => (StatusCode::OK, "pong\n".into()),
            WebhookEvent::Ignored { action, .. } => {
                tracing::debug!(action = action.as_deref().unwrap_or(""), "ignored event");
                (StatusCode::ACCEPTED, format!("ignored: {event} {}\n", action.unwrap_or_default()))
            }
            WebhookEvent::PullRequest(pr) => {
                let span = tracing::info_span!("pull_request", repository = %pr.full_name, pr = pr.number);
                async {
                    if app.config.repository(&pr.full_name).is_none() {
                        tracing::info!("repository not served; ignored");
                        return (StatusCode::ACCEPTED, "ignored: repository not served\n".into());
                    }
                    match record_pull_request(&app.client, &app.instance, &pr).await {
                        Ok(Outcome::Recorded { name, changed }) => {
                            tracing::info!(preview = %name, changed, action = ?pr.action, "recorded");
                            (StatusCode::ACCEPTED, format!("recorded: {name}\n"))
                        }
                        Ok(Outcome::Ignored(why)) => {
                            tracing::info!(why, "nothing to record");
                            (StatusCode::ACCEPTED, format!("ignored: {why}\n"))
                        }
                        Err(e) => {
                            tracing::error!(error = %e, "could not record the delivery");
                            (StatusCode::SERVICE_UNAVAILABLE, "could not record the delivery; redeliver it\n".into())
                        }
                    }
                }
                .instrument(span)
                .await
            }
        }
    }
    .instrument(span)
    .await
}
