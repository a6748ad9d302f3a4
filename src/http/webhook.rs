//! `POST /webhooks/github`: verify, parse, record intent, answer fast. Never does slow work:
//! the controller acts on what is recorded.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use tracing::Instrument;

use super::AppState;
use crate::github::webhook::{WebhookEvent, parse, signature_is_valid};
use crate::preview::store::{Outcome, record_command, record_pull_request};

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
                let span = tracing::info_span!("pull_request", repository = %pr.full_name, pr = pr.number, action = ?pr.action);
                let Some(repo) = app.config.repository(&pr.full_name) else {
                    return not_served();
                };
                let recorded = record_pull_request(&app.client, &app.instance, &pr, repo.label.as_deref());
                answer(recorded.instrument(span).await)
            }
            WebhookEvent::Command(command) => {
                let span = tracing::info_span!("command", repository = %command.full_name, pr = command.number, comment = command.comment_id, login = %command.login);
                if app.config.repository(&command.full_name).is_none() {
                    return not_served();
                }
                let recorded = record_command(&app.client, &app.instance, &command);
                answer(recorded.instrument(span).await)
            }
        }
    }
    .instrument(span)
    .await
}

fn not_served() -> (StatusCode, String) {
    tracing::info!("repository not served; ignored");
    (
        StatusCode::ACCEPTED,
        "ignored: repository not served\n".into(),
    )
}

/// The answer to a delivery once recording was tried: 202, or 503 so that GitHub's redelivery
/// (or the resync) brings it back.
fn answer(recorded: Result<Outcome, kube::Error>) -> (StatusCode, String) {
    match recorded {
        Ok(Outcome::Recorded { name, changed }) => {
            tracing::info!(preview = %name, changed, "recorded");
            (StatusCode::ACCEPTED, format!("recorded: {name}\n"))
        }
        Ok(Outcome::Ignored(why)) => {
            tracing::info!(why, "nothing to record");
            (StatusCode::ACCEPTED, format!("ignored: {why}\n"))
        }
        Err(e) => {
            tracing::error!(error = %e, "could not record the delivery");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "could not record the delivery; redeliver it\n".into(),
            )
        }
    }
}
