//! Every GitHub call of the process goes through here, so that one policy holds for all: each
//! call is counted by endpoint and status; the rate-limit headers are read; a rate limit pauses
//! every call until it lifts (calls meanwhile fail at once, without reaching GitHub); calls that
//! create content go out one at a time, at least a second apart, as GitHub asks of integrations.
//! Nothing is retried here: a failed call is returned and the caller's requeue decides when to
//! try again (a comment POST that timed out is found again by its marker first).

use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use http::HeaderMap;
use serde::de::DeserializeOwned;
use tokio::time::Instant;

use super::auth::{Acting, Authorization};
use super::client::{GitHub, GitHubError};
use super::ratelimit::{Limits, Verdict, judge};
use crate::metrics::{self, GitHubCall};
use crate::model::pull::Repository;

pub(crate) use crate::timing::CREATION_SPACING;

/// HTTP methods previewd uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Method {
    /// Reads.
    Get,
    /// Creates content (comments, reactions).
    Post,
    /// Edits content.
    Patch,
}

impl Method {
    fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Patch => "PATCH",
        }
    }

    fn as_http(self) -> http::Method {
        match self {
            Method::Get => http::Method::GET,
            Method::Post => http::Method::POST,
            Method::Patch => http::Method::PATCH,
        }
    }
}

/// One call.
#[derive(Clone)]
pub(crate) struct Call {
    /// What previewd is doing (for errors).
    pub operation: &'static str,
    /// Method.
    pub method: Method,
    /// The route with its variables as names, for the metrics: `/repos/{owner}/{repo}/pulls`.
    pub endpoint: &'static str,
    /// The path and query actually asked; within a repository, what follows
    /// `/repos/{owner}/{repo}`.
    pub path: String,
    /// The repository the call is made in: it is addressed by its current name, and asked again
    /// under its new name when GitHub answers that it moved.
    pub repository: Option<Repository>,
    /// JSON body.
    pub body: Option<serde_json::Value>,
    /// Extra headers (GET only: `If-None-Match`).
    pub headers: Option<HeaderMap>,
    /// Whose access the call uses.
    pub acting: Acting,
    /// Whether it waits its turn among the calls that create content (POSTs do, but for
    /// previewd's own credentials).
    pub paced: bool,
}

impl Call {
    /// A GET.
    pub(crate) fn get(operation: &'static str, endpoint: &'static str, path: String) -> Self {
        Call {
            operation,
            method: Method::Get,
            endpoint,
            path,
            repository: None,
            body: None,
            headers: None,
            acting: Acting::Plain,
            paced: false,
        }
    }

    /// The same call made in `repository`, its path taken as what follows
    /// `/repos/{owner}/{repo}`.
    pub(crate) fn within(mut self, repository: &Repository) -> Self {
        self.repository = Some(repository.clone());
        self.acting = Acting::In(repository.clone());
        self
    }

    /// The same call made with `acting`'s access.
    pub(crate) fn acting(mut self, acting: Acting) -> Self {
        self.acting = acting;
        self
    }

    /// The same call, not waiting its turn among content creations.
    pub(crate) fn unpaced(mut self) -> Self {
        self.paced = false;
        self
    }

    /// A call with a JSON body.
    pub(crate) fn with_body(
        operation: &'static str,
        method: Method,
        endpoint: &'static str,
        path: String,
        body: serde_json::Value,
    ) -> Self {
        Call {
            operation,
            method,
            endpoint,
            path,
            repository: None,
            body: Some(body),
            headers: None,
            acting: Acting::Plain,
            paced: method == Method::Post,
        }
    }
}

/// An answer, whatever its status.
pub(crate) struct Answer {
    /// HTTP status.
    pub status: u16,
    /// Headers.
    pub headers: HeaderMap,
    /// Body.
    pub body: String,
}

/// The shared state of the policy.
#[derive(Default)]
pub(crate) struct Pacing {
    /// No call before this moment (a rate limit is in force).
    paused_until: Mutex<Option<Instant>>,
    /// Rate-limited answers in a row (for the backoff).
    limited_in_a_row: AtomicU32,
    /// When the last content-creating call went out; held while one is in flight.
    last_creation: tokio::sync::Mutex<Option<Instant>>,
}

impl Pacing {
    fn paused_for(&self) -> Option<Duration> {
        let until = (*self.paused_until.lock().unwrap_or_else(|p| p.into_inner()))?;
        until
            .checked_duration_since(Instant::now())
            .filter(|d| !d.is_zero())
    }

    fn pause(&self, wait: Duration) {
        let until = Instant::now() + wait;
        let mut paused = self.paused_until.lock().unwrap_or_else(|p| p.into_inner());
        if paused.is_none_or(|current| current < until) {
            *paused = Some(until);
        }
    }
}

impl GitHub {
    /// Sends `call` under the policy and returns the answer, whatever its status; an error only
    /// when no answer came, or GitHub (now or earlier) said to slow down. A call made in a
    /// repository that GitHub says moved (renamed or transferred: 301 to reads, 307 to writes),
    /// or that GitHub does not find there (the name may now be another repository's), is sent
    /// once more under the name GitHub gives for the repository's id, if that is another.
    pub(crate) async fn send(&self, call: Call) -> Result<Answer, GitHubError> {
        let Some(repository) = call.repository.clone() else {
            return self.send_once(&call, call.path.clone()).await;
        };
        let name = self.names.current(&repository);
        let answer = self
            .send_once(&call, format!("/repos/{name}{}", call.path))
            .await?;
        if !(moved(answer.status) || answer.status == 404) || repository.id == 0 {
            return Ok(answer);
        }
        // Boxed: `follow` sends through here too (outside any repository).
        let now = match Box::pin(self.follow(repository.id, &name)).await {
            Ok(now) if !now.full_name.eq_ignore_ascii_case(&name) => now,
            Ok(_) => return Ok(answer),
            // A 404 stays the answer; a moved repository GitHub will not name is an error.
            Err(_) if answer.status == 404 => return Ok(answer),
            Err(e) => return Err(e),
        };
        tracing::info!(
            repository_id = repository.id,
            from = %name,
            to = %now.full_name,
            "the repository moved; asking under its new name"
        );
        self.send_once(&call, format!("/repos/{}{}", now.full_name, call.path))
            .await
    }

    /// Sends `call` to `path` under the policy; an installation token GitHub refuses (401) is
    /// replaced and the call sent once more.
    async fn send_once(&self, call: &Call, path: String) -> Result<Answer, GitHubError> {
        let authorization = self.authorization(&call.acting).await?;
        let installation = authorization.installation.clone();
        let answer = self.send_as(call, &path, authorization).await?;
        match installation {
            Some((id, token)) if answer.status == 401 => {
                self.retire_token(id, &token).await;
                let authorization = self.authorization(&call.acting).await?;
                self.send_as(call, &path, authorization).await
            }
            _ => Ok(answer),
        }
    }

    /// Sends `call` to `path` with `authorization`, under the policy.
    async fn send_as(
        &self,
        call: &Call,
        path: &str,
        authorization: Authorization,
    ) -> Result<Answer, GitHubError> {
        let operation = call.operation;
        let started = std::time::Instant::now();
        if let Some(retry_in) = self.pacing.paused_for() {
            return Err(GitHubError::RateLimited {
                operation,
                retry_in,
            });
        }
        let mut creation_turn = None;
        if call.paced {
            let turn = self.pacing.last_creation.lock().await;
            if let Some(last) = *turn {
                tokio::time::sleep_until(last + CREATION_SPACING).await;
            }
            creation_turn = Some(turn);
        }
        let endpoint = format!("{} {}", call.method.as_str(), call.endpoint);
        let count = |status: String| {
            metrics::get()
                .github_calls
                .get_or_create(&GitHubCall {
                    endpoint: endpoint.clone(),
                    status,
                })
                .inc();
        };
        let sent = match self.request(call, path, authorization.header) {
            Ok(request) => self.octo.execute(request).await,
            Err(e) => Err(e),
        };
        if let Some(mut turn) = creation_turn {
            *turn = Some(Instant::now());
        }
        metrics::get()
            .github_seconds
            .get_or_create(&metrics::Endpoint {
                endpoint: endpoint.clone(),
            })
            .observe(started.elapsed().as_secs_f64());
        let response = match sent {
            Ok(response) => response,
            Err(error) => {
                let message = error.to_string();
                count(transport_failure(&message).to_owned());
                return Err(GitHubError::Transport { operation, message });
            }
        };
        let status = response.status().as_u16();
        count(status.to_string());
        let headers = response.headers().clone();
        let limits = Limits::read(&headers);
        if let Some(remaining) = limits.remaining {
            metrics::get()
                .github_rate_limit_remaining
                .set(i64::try_from(remaining).unwrap_or(i64::MAX));
        }
        let body = self
            .octo
            .body_to_string(response)
            .await
            .map_err(|e| GitHubError::from_octocrab(operation, e))?;
        let message = if (200..300).contains(&status) {
            String::new()
        } else {
            error_message(&body)
        };
        let in_a_row = self.pacing.limited_in_a_row.load(Ordering::Relaxed);
        let now = chrono::Utc::now().timestamp();
        match judge(status, &limits, &message, now, in_a_row) {
            Verdict::Limited(retry_in) => {
                self.pacing.limited_in_a_row.fetch_add(1, Ordering::Relaxed);
                self.pacing.pause(retry_in);
                tracing::warn!(operation, status, %message, seconds = retry_in.as_secs(), "GitHub rate limit: no GitHub call until it lifts");
                return Err(GitHubError::RateLimited {
                    operation,
                    retry_in,
                });
            }
            Verdict::Exhausted(wait) => {
                self.pacing.limited_in_a_row.store(0, Ordering::Relaxed);
                self.pacing.pause(wait);
                tracing::warn!(
                    operation,
                    seconds = wait.as_secs(),
                    "GitHub rate limit used up: no GitHub call until it resets"
                );
            }
            Verdict::Proceed => self.pacing.limited_in_a_row.store(0, Ordering::Relaxed),
        }
        Ok(Answer {
            status,
            headers,
            body,
        })
    }

    /// The request of `call` to `path`, for octocrab's HTTP client.
    fn request(
        &self,
        call: &Call,
        path: &str,
        authorization: http::HeaderValue,
    ) -> octocrab::Result<http::Request<octocrab::OctoBody>> {
        let mut request = http::Request::builder()
            .method(call.method.as_http())
            .uri(format!("{}{path}", self.api_url))
            .header(http::header::AUTHORIZATION, authorization);
        for (name, value) in call.headers.iter().flatten() {
            request = request.header(name, value);
        }
        self.octo.build_request(request, call.body.as_ref())
    }

    /// Sends `call` and reads a 2xx answer as `T`; any other status is an error with GitHub's
    /// message.
    pub(crate) async fn call<T: DeserializeOwned>(&self, call: Call) -> Result<T, GitHubError> {
        let operation = call.operation;
        self.send(call).await?.json(operation)
    }
}

impl Answer {
    /// A 2xx answer's body read as `T`; any other status is an error with GitHub's message.
    pub(crate) fn json<T: DeserializeOwned>(
        &self,
        operation: &'static str,
    ) -> Result<T, GitHubError> {
        if !(200..300).contains(&self.status) {
            return Err(GitHubError::Status {
                operation,
                status: self.status,
                message: error_message(&self.body),
            });
        }
        serde_json::from_str(&self.body).map_err(|e| GitHubError::Transport {
            operation,
            message: format!("unreadable answer: {e}"),
        })
    }
}

/// Whether an answer says the repository lives elsewhere now.
fn moved(status: u16) -> bool {
    matches!(status, 301 | 302 | 307 | 308)
}

/// The status label of a call that got no answer.
fn transport_failure(message: &str) -> &'static str {
    let lower = message.to_ascii_lowercase();
    if ["timed out", "timeout", "elapsed", "deadline"]
        .iter()
        .any(|word| lower.contains(word))
    {
        "timeout"
    } else {
        "error"
    }
}

/// GitHub's `message` of an error body, or the start of whatever came instead (an HTML page).
fn error_message(body: &str) -> String {
    #[derive(serde::Deserialize)]
    struct Message {
        message: String,
    }
    match serde_json::from_str::<Message>(body) {
        Ok(m) => m.message,
        Err(_) => body.chars().take(120).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_is_read_from_json_or_cut_from_anything_else() {
        assert_eq!(
            error_message(r#"{"message":"Not Found","documentation_url":"x"}"#),
            "Not Found"
        );
        let html = format!("<html>{}</html>", "x".repeat(500));
        assert_eq!(error_message(&html).chars().count(), 120);
    }

    #[test]
    fn a_timeout_is_told_from_other_transport_failures() {
        assert_eq!(transport_failure("operation timed out"), "timeout");
        assert_eq!(transport_failure("connection refused"), "error");
    }
}
