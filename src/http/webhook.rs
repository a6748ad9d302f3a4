//! `POST /webhooks/github`: verify, parse, record intent, answer fast. Never does slow work:
//! the controller acts on what is recorded.

use axum::Extension;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use tracing::Instrument;

use super::AppState;
use super::deliveries::Result as Delivered;
use crate::github::webhook::{WebhookEvent, parse, signature_is_valid};
use crate::intake::record::{Delivery, Outcome, record};

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// What a delivery gets back: the status, the result counted in the metrics, and a line for
/// GitHub's delivery log.
type Answer = (StatusCode, Extension<Delivered>, String);

fn reply(status: StatusCode, result: &'static str, body: impl Into<String>) -> Answer {
    (status, Extension(Delivered(result)), body.into())
}

/// Handles one delivery.
pub(crate) async fn receive(
    State(app): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Answer {
    let delivery = header(&headers, "x-github-delivery")
        .unwrap_or("-")
        .to_owned();
    let event = header(&headers, "x-github-event").unwrap_or("").to_owned();
    let span = tracing::info_span!("webhook", delivery = %delivery, event = %event);
    async move {
        let signature = header(&headers, "x-hub-signature-256").unwrap_or("");
        if !signature_is_valid(&app.secret, &body, signature) {
            tracing::warn!("rejected delivery: X-Hub-Signature-256 missing or invalid");
            return reply(StatusCode::UNAUTHORIZED, "unauthorized", "X-Hub-Signature-256 missing or invalid\n");
        }
        if event.is_empty() {
            return reply(StatusCode::BAD_REQUEST, "malformed", "X-GitHub-Event missing\n");
        }
        let parsed = match parse(&event, &body) {
            Ok(parsed) => parsed,
            Err(e) => {
                tracing::warn!(error = %e, "malformed payload");
                return reply(StatusCode::BAD_REQUEST, "malformed", format!("{e}\n"));
            }
        };
        match parsed {
            WebhookEvent::Ping => reply(StatusCode::OK, "pong", "pong\n"),
            WebhookEvent::Ignored { action, .. } => {
                tracing::debug!(action = action.as_deref().unwrap_or(""), "ignored event");
                reply(StatusCode::ACCEPTED, "ignored", format!("ignored: {event} {}\n", action.unwrap_or_default()))
            }
            WebhookEvent::PullRequest(pr) => {
                let span = tracing::info_span!("pull_request", repository = %pr.pull.repository.full_name, pr = pr.pull.number, action = ?pr.action);
                let Some(repo) = app.config.repository(&pr.pull.repository.full_name) else {
                    return not_served();
                };
                let delivery = Delivery::Pull { event: &pr, mode_label: repo.label.as_deref() };
                let recorded = record(&app.client, &app.instance, delivery);
                answer(recorded.instrument(span).await)
            }
            WebhookEvent::Command(command) => {
                let span = tracing::info_span!("command", repository = %command.pull.repository.full_name, pr = command.pull.number, comment = command.comment_id, login = %command.login);
                if app.config.repository(&command.pull.repository.full_name).is_none() {
                    return not_served();
                }
                let recorded = record(&app.client, &app.instance, Delivery::Command(&command));
                answer(recorded.instrument(span).await)
            }
        }
    }
    .instrument(span)
    .await
}

fn not_served() -> Answer {
    tracing::info!("repository not served; ignored");
    reply(
        StatusCode::ACCEPTED,
        "ignored",
        "ignored: repository not served\n",
    )
}

/// The answer to a delivery once recording was tried: 202, or 503 so that GitHub's redelivery
/// (or the resync) brings it back.
fn answer(recorded: Result<Outcome, kube::Error>) -> Answer {
    match recorded {
        Ok(Outcome::Recorded { name, changed }) => {
            tracing::info!(preview = %name, changed, "recorded");
            reply(
                StatusCode::ACCEPTED,
                "recorded",
                format!("recorded: {name}\n"),
            )
        }
        Ok(Outcome::Ignored(why)) => {
            tracing::info!(why, "nothing to record");
            reply(StatusCode::ACCEPTED, "ignored", format!("ignored: {why}\n"))
        }
        Err(e) => {
            tracing::error!(error = %e, "could not record the delivery");
            reply(
                StatusCode::SERVICE_UNAVAILABLE,
                "unrecorded",
                "could not record the delivery; redeliver it\n",
            )
        }
    }
}
