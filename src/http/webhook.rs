//! `POST /webhooks/github`: verify, parse, record intent, answer fast. Never does slow work:
//! the controller acts on what is recorded.

use axum::Extension;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use tracing::Instrument;

use super::AppState;
use super::body::{self, BodyError, BodyLimits};
use super::deliveries::Result as Delivered;
use super::wakes;
use crate::config::Serving;
use crate::github::webhook::{ParseError, WebhookEvent, parse, signature_is_valid};
use crate::intake::record::{Delivery, Outcome, record};

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// What a delivery gets back: the status, the result counted in the metrics, and a line for
/// GitHub's delivery log.
pub(super) type Answer = (StatusCode, Extension<Delivered>, String);

pub(super) fn reply(status: StatusCode, result: &'static str, body: impl Into<String>) -> Answer {
    (status, Extension(Delivered(result)), body.into())
}

/// Handles one delivery: admitted if there is room, its body read within the limits and
/// verified, then parsed and recorded.
pub(crate) async fn receive(State(app): State<AppState>, request: Request) -> Answer {
    let (parts, body) = request.into_parts();
    let headers = parts.headers;
    let delivery = header(&headers, "x-github-delivery")
        .unwrap_or("-")
        .to_owned();
    let event = header(&headers, "x-github-event").unwrap_or("").to_owned();
    let span = tracing::info_span!("webhook", delivery = %delivery, event = %event);
    async move {
        // Refused at once when full: GitHub waits 10 s for an answer and does not send again.
        let Ok(_admitted) = app.in_flight.clone().try_acquire_owned() else {
            tracing::warn!("refused delivery: too many in flight");
            return reply(
                StatusCode::SERVICE_UNAVAILABLE,
                "busy",
                "too many deliveries in flight\n",
            );
        };
        let declared = header(&headers, "content-length").and_then(|v| v.parse().ok());
        let body = match body::read(body, declared, app.body_limits).await {
            Ok(body) => body,
            Err(refused) => return refused_body(refused, app.body_limits),
        };
        let Some(secret) = &app.secret else {
            return reply(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "no webhook secret is set (polling mode): deliveries are not taken\n",
            );
        };
        let signature = header(&headers, "x-hub-signature-256").unwrap_or("");
        if !signature_is_valid(secret, &body, signature) {
            tracing::warn!("rejected delivery: X-Hub-Signature-256 missing or invalid");
            return reply(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "X-Hub-Signature-256 missing or invalid\n",
            );
        }
        if event.is_empty() {
            return reply(
                StatusCode::BAD_REQUEST,
                "malformed",
                "X-GitHub-Event missing\n",
            );
        }
        act(&app, &event, &body).await
    }
    .instrument(span)
    .await
}

fn refused_body(refused: BodyError, limits: BodyLimits) -> Answer {
    tracing::warn!(?refused, "refused delivery body");
    match refused {
        BodyError::TooLarge => reply(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!("body over {} bytes\n", limits.max_bytes),
        ),
        BodyError::TooSlow => reply(
            StatusCode::REQUEST_TIMEOUT,
            "too_slow",
            format!("body not received within {:?}\n", limits.deadline),
        ),
        BodyError::Broken => reply(StatusCode::BAD_REQUEST, "malformed", "body broken off\n"),
    }
}

/// Parses a verified delivery and records what it means.
async fn act(app: &AppState, event: &str, body: &[u8]) -> Answer {
    let parsed = match parse(event, body) {
        Ok(parsed) => parsed,
        Err(e) => {
            tracing::warn!(error = %e, "refused payload");
            let status = match e {
                ParseError::Malformed { .. } => StatusCode::BAD_REQUEST,
                ParseError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            };
            return reply(status, "malformed", format!("{e}\n"));
        }
    };
    match parsed {
        WebhookEvent::Ping => reply(StatusCode::OK, "pong", "pong\n"),
        WebhookEvent::Ignored { action, .. } => {
            tracing::debug!(action = action.as_deref().unwrap_or(""), "ignored event");
            reply(
                StatusCode::ACCEPTED,
                "ignored",
                format!("ignored: {event} {}\n", action.unwrap_or_default()),
            )
        }
        WebhookEvent::PullRequest(pr) => {
            let span = tracing::info_span!("pull_request", repository = %pr.pull.repository.full_name, pr = pr.pull.number, action = ?pr.action);
            let repo = match app.config.serving(&app.allowlist, &pr.pull.repository) {
                Serving::Served(repo) => repo,
                other => return not_served(&other),
            };
            let delivery = Delivery::Pull {
                event: &pr,
                mode_label: repo.label.as_deref(),
            };
            let recorded = record(&app.client, &app.records, &app.instance, delivery);
            answer(recorded.instrument(span).await)
        }
        WebhookEvent::Checks(checks) => wakes::checks(app, &checks).await,
        WebhookEvent::Push(push) => wakes::push(app, &push).await,
        WebhookEvent::Command(command) => {
            let span = tracing::info_span!("command", repository = %command.pull.repository.full_name, pr = command.pull.number, comment = command.comment_id, login = %command.login);
            let serving = app.config.serving(&app.allowlist, &command.pull.repository);
            if !matches!(serving, Serving::Served(_)) {
                return not_served(&serving);
            }
            let recorded = record(
                &app.client,
                &app.records,
                &app.instance,
                Delivery::Command(&command),
            );
            answer(recorded.instrument(span).await)
        }
    }
}

pub(super) fn not_served(serving: &Serving<'_>) -> Answer {
    let why = match serving {
        Serving::MovedOut(entry) => format!(
            "repository not served: it moved away from {} to an owner previewd does not serve",
            entry.name
        ),
        _ => "repository not served".to_owned(),
    };
    tracing::info!("{why}; ignored");
    reply(StatusCode::ACCEPTED, "ignored", format!("ignored: {why}\n"))
}

/// The answer to a delivery once recording was tried: 202; 422 when the API server refuses its
/// values; or 503 so that GitHub's redelivery (or the resync) brings it back.
pub(super) fn answer(recorded: Result<Outcome, kube::Error>) -> Answer {
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
        Err(kube::Error::Api(refused)) if matches!(refused.code, 400 | 422) => {
            // The API server refuses the values themselves: sending them again cannot help.
            tracing::warn!(error = %refused.message, "the API server refused the delivery's values");
            reply(
                StatusCode::UNPROCESSABLE_ENTITY,
                "malformed",
                format!("cannot be recorded: {}\n", refused.message),
            )
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
