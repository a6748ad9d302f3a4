//! Verifying and parsing GitHub webhook deliveries (pure: bytes in, values out).

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;

use super::command;
use super::pull::{Label, Login, PullRequest, RepositoryRef};
use crate::model::event::{ChecksEvent, CommandEvent, PullAction, PullRequestEvent, PushEvent};
use crate::model::pull::PullFacts;

type HmacSha256 = Hmac<Sha256>;

/// The `X-Hub-Signature-256` value GitHub sends for `body` signed with `secret`.
pub fn signature_header(secret: &[u8], body: &[u8]) -> String {
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC accepts keys of any length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Whether `header` is a valid `X-Hub-Signature-256` of `body`, compared in constant time. An
/// empty secret validates nothing (anyone can sign with it).
pub fn signature_is_valid(secret: &[u8], body: &[u8], header: &str) -> bool {
    if secret.is_empty() {
        return false;
    }
    let Some(hex_digest) = header.strip_prefix("sha256=") else {
        return false;
    };
    let Ok(digest) = hex::decode(hex_digest) else {
        return false;
    };
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC accepts keys of any length");
    mac.update(body);
    mac.verify_slice(&digest).is_ok()
}

/// A delivery previewd understood.
#[derive(Clone, Debug, PartialEq)]
pub enum WebhookEvent {
    /// GitHub checking the hook.
    Ping,
    /// Something happened to a pull request.
    PullRequest(PullRequestEvent),
    /// A comment on a pull request that carries a `/preview` command.
    Command(CommandEvent),
    /// A commit's CI checks changed.
    Checks(ChecksEvent),
    /// Commits were pushed to a branch.
    Push(PushEvent),
    /// An event or action previewd does not act on (answered 2xx, nothing recorded).
    Ignored {
        /// `X-GitHub-Event`.
        event: String,
        /// The payload's `action`, if any.
        action: Option<String>,
    },
}

/// Why a signed delivery could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    /// The body is not the JSON this event should carry.
    #[error("malformed {event} payload: {source}")]
    Malformed {
        /// `X-GitHub-Event`.
        event: String,
        /// What serde said, with the path of the field it stopped at.
        source: serde_path_to_error::Error<serde_json::Error>,
    },
    /// A field holds a value previewd cannot record (a number out of range, say): sending it
    /// again cannot help.
    #[error("invalid {event} payload: {field}: {why}")]
    Invalid {
        /// `X-GitHub-Event`.
        event: String,
        /// The field, as GitHub names it.
        field: &'static str,
        /// What is wrong with it.
        why: String,
    },
}

/// Deserializes `body`, naming the field where it fails.
fn from_body<'a, T: Deserialize<'a>>(
    body: &'a [u8],
) -> Result<T, serde_path_to_error::Error<serde_json::Error>> {
    let mut json = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut json)?;
    json.end().map_err(|trailing| {
        serde_path_to_error::Error::new(serde_path_to_error::Track::new().path(), trailing)
    })?;
    Ok(value)
}

#[derive(Deserialize)]
struct ActionOnly {
    action: Option<String>,
}

#[derive(Deserialize)]
struct PullRequestPayload {
    number: u64,
    pull_request: PullRequest,
    repository: RepositoryRef,
    #[serde(default)]
    label: Option<Label>,
}

#[derive(Deserialize)]
struct CommentPayload {
    issue: IssueBody,
    comment: CommentBody,
    repository: RepositoryRef,
}

#[derive(Deserialize)]
struct IssueBody {
    number: u64,
    state: String,
    title: String,
    html_url: String,
    user: Option<Login>,
    /// Present only when the issue is a pull request.
    pull_request: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct CommentBody {
    id: u64,
    #[serde(default)]
    created_at: Option<DateTime<Utc>>,
    #[serde(default)]
    body: Option<String>,
    user: Option<Login>,
}

/// Parses a verified delivery. Unknown events and actions are `Ignored`, never an error; an
/// event previewd acts on must carry values it can record.
pub fn parse(event: &str, body: &[u8]) -> Result<WebhookEvent, ParseError> {
    let parsed = parse_shape(event, body)?;
    values::check(event, &parsed)?;
    Ok(parsed)
}

fn parse_shape(event: &str, body: &[u8]) -> Result<WebhookEvent, ParseError> {
    let malformed = |source| ParseError::Malformed {
        event: event.to_owned(),
        source,
    };
    match event {
        "ping" => Ok(WebhookEvent::Ping),
        "pull_request" => {
            let ActionOnly { action } = from_body(body).map_err(malformed)?;
            let Some(action) = action.as_deref().and_then(|a| pull_action(a, body)) else {
                return Ok(WebhookEvent::Ignored {
                    event: event.to_owned(),
                    action,
                });
            };
            let payload: PullRequestPayload = from_body(body).map_err(malformed)?;
            Ok(WebhookEvent::PullRequest(pull_request_event(
                action, payload,
            )))
        }
        "issue_comment" => {
            let ActionOnly { action } = from_body(body).map_err(malformed)?;
            if action.as_deref() != Some("created") {
                // Edited and deleted comments run nothing.
                return Ok(WebhookEvent::Ignored {
                    event: event.to_owned(),
                    action,
                });
            }
            let payload: CommentPayload = from_body(body).map_err(malformed)?;
            Ok(command_event(payload).map_or(
                WebhookEvent::Ignored {
                    event: event.to_owned(),
                    action,
                },
                WebhookEvent::Command,
            ))
        }
        "push" => {
            #[derive(Deserialize)]
            struct PushPayload {
                #[serde(rename = "ref")]
                git_ref: String,
                after: String,
                repository: RepositoryRef,
            }
            let p: PushPayload = from_body(body).map_err(malformed)?;
            let Some(branch) = p.git_ref.strip_prefix("refs/heads/") else {
                // A tag.
                return Ok(WebhookEvent::Ignored {
                    event: event.to_owned(),
                    action: None,
                });
            };
            Ok(WebhookEvent::Push(PushEvent {
                repository: p.repository.repository(),
                branch: branch.to_owned(),
                after: p.after,
            }))
        }
        "check_run" | "check_suite" | "status" => {
            let ActionOnly { action } = from_body(body).map_err(malformed)?;
            if !checks_changed(event, action.as_deref()) {
                return Ok(WebhookEvent::Ignored {
                    event: event.to_owned(),
                    action,
                });
            }
            let checks = checks_event(event, body).map_err(malformed)?;
            Ok(WebhookEvent::Checks(checks))
        }
        _ => {
            let action = serde_json::from_slice::<ActionOnly>(body)
                .ok()
                .and_then(|a| a.action);
            Ok(WebhookEvent::Ignored {
                event: event.to_owned(),
                action,
            })
        }
    }
}

/// Whether a delivery of `event` with `action` may change whether a commit's checks passed: a
/// check run created (a re-run) or completed, a check suite completed, any commit status.
fn checks_changed(event: &str, action: Option<&str>) -> bool {
    match event {
        "check_run" => matches!(action, Some("created" | "completed" | "rerequested")),
        "check_suite" => matches!(action, Some("completed")),
        _ => true,
    }
}

#[derive(Deserialize)]
struct CheckBody {
    id: u64,
    head_sha: String,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    conclusion: Option<String>,
}

#[derive(Deserialize)]
struct CheckRunPayload {
    action: String,
    check_run: CheckBody,
    repository: RepositoryRef,
}

#[derive(Deserialize)]
struct CheckSuitePayload {
    action: String,
    check_suite: CheckBody,
    repository: RepositoryRef,
}

#[derive(Deserialize)]
struct StatusPayload {
    id: u64,
    sha: String,
    state: String,
    context: String,
    repository: RepositoryRef,
}

/// The commit and change a checks delivery reports.
fn checks_event(
    event: &str,
    body: &[u8],
) -> Result<ChecksEvent, serde_path_to_error::Error<serde_json::Error>> {
    let describe = |check: &CheckBody, action: &str| {
        let state = check
            .conclusion
            .as_deref()
            .or(check.status.as_deref())
            .unwrap_or("");
        format!("{event} {} {action} {state}", check.id)
    };
    let (repository, sha, change) = match event {
        "check_run" => {
            let p: CheckRunPayload = from_body(body)?;
            let change = describe(&p.check_run, &p.action);
            (p.repository, p.check_run.head_sha, change)
        }
        "check_suite" => {
            let p: CheckSuitePayload = from_body(body)?;
            let change = describe(&p.check_suite, &p.action);
            (p.repository, p.check_suite.head_sha, change)
        }
        _ => {
            let p: StatusPayload = from_body(body)?;
            let change = format!("status {} {} {}", p.id, p.context, p.state);
            (p.repository, p.sha, change)
        }
    };
    Ok(ChecksEvent {
        repository: repository.repository(),
        sha,
        change,
    })
}

fn pull_action(action: &str, body: &[u8]) -> Option<PullAction> {
    Some(match action {
        "opened" => PullAction::Opened,
        "reopened" => PullAction::Reopened,
        "synchronize" => PullAction::Synchronize,
        "edited" => PullAction::Edited,
        "ready_for_review" => PullAction::ReadyForReview,
        "converted_to_draft" => PullAction::ConvertedToDraft,
        "labeled" => PullAction::Labeled,
        "unlabeled" => PullAction::Unlabeled,
        "closed" => {
            #[derive(Deserialize)]
            struct Merged {
                pull_request: MergedFlag,
            }
            #[derive(Deserialize)]
            struct MergedFlag {
                merged: Option<bool>,
            }
            let merged = serde_json::from_slice::<Merged>(body)
                .ok()
                .and_then(|m| m.pull_request.merged)
                .unwrap_or(false);
            PullAction::Closed { merged }
        }
        _ => return None,
    })
}

fn pull_request_event(action: PullAction, payload: PullRequestPayload) -> PullRequestEvent {
    let pr = payload.pull_request;
    let state = pr.state();
    let action = match action {
        PullAction::Closed { .. } => PullAction::Closed {
            merged: state.merged,
        },
        other => other,
    };
    let mut pull = pr.facts(payload.repository.repository());
    pull.number = payload.number;
    PullRequestEvent {
        action,
        pull,
        open: state.open,
        label: payload.label.map(|l| l.name),
    }
}

/// The command of a comment on a pull request; `None` for plain issues and for comments that
/// carry no command.
fn command_event(payload: CommentPayload) -> Option<CommandEvent> {
    let issue = payload.issue;
    issue.pull_request.as_ref()?;
    let command = command::parse(payload.comment.body.as_deref()?)?;
    Some(CommandEvent {
        pull: PullFacts {
            repository: payload.repository.repository(),
            number: issue.number,
            title: issue.title,
            author: issue.user.map(|u| u.login).unwrap_or_default(),
            pull_request_url: issue.html_url,
            ..PullFacts::default()
        },
        open: issue.state == "open",
        comment_id: payload.comment.id,
        created_at: payload.comment.created_at,
        login: payload.comment.user?.login,
        command,
    })
}

mod values;

#[cfg(test)]
mod properties;

#[cfg(test)]
mod tests;
