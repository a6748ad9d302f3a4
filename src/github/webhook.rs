//! Verifying and parsing GitHub webhook deliveries (pure: bytes in, values out).

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;

use super::command::{self, Command};

type HmacSha256 = Hmac<Sha256>;

/// The `X-Hub-Signature-256` value GitHub sends for `body` signed with `secret`.
pub fn signature_header(secret: &[u8], body: &[u8]) -> String {
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC accepts keys of any length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Whether `header` is a valid `X-Hub-Signature-256` of `body`, compared in constant time.
pub fn signature_is_valid(secret: &[u8], body: &[u8], header: &str) -> bool {
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
    /// An event or action previewd does not act on (answered 2xx, nothing recorded).
    Ignored {
        /// `X-GitHub-Event`.
        event: String,
        /// The payload's `action`, if any.
        action: Option<String>,
    },
}

/// What happened to a pull request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PullAction {
    /// Opened.
    Opened,
    /// Reopened after a close.
    Reopened,
    /// New commits pushed to the head branch.
    Synchronize,
    /// Closed; `merged` tells whether by a merge.
    Closed {
        /// Whether the close was a merge.
        merged: bool,
    },
    /// Title, body or base branch edited.
    Edited,
    /// A draft became ready for review.
    ReadyForReview,
    /// Turned back into a draft.
    ConvertedToDraft,
    /// A label was added (the event's `label`).
    Labeled,
    /// A label was removed (the event's `label`).
    Unlabeled,
    /// Not a webhook: the resync found the pull request open with these facts.
    Resynced,
}

/// The facts of a `pull_request` delivery that previewd records.
#[derive(Clone, Debug, PartialEq)]
pub struct PullRequestEvent {
    /// What happened.
    pub action: PullAction,
    /// GitHub's repository id.
    pub repository_id: u64,
    /// `owner/name` of the base repository.
    pub full_name: String,
    /// PR number.
    pub number: u64,
    /// Head commit.
    pub head_sha: String,
    /// Head branch.
    pub branch: String,
    /// Base branch.
    pub base_branch: String,
    /// Title.
    pub title: String,
    /// Author login.
    pub author: String,
    /// Whether the head lives in another repository.
    pub fork: bool,
    /// Whether the PR is open.
    pub open: bool,
    /// The PR's `updated_at`: orders deliveries, which GitHub does not.
    pub updated_at: Option<DateTime<Utc>>,
    /// The PR's web address.
    pub html_url: String,
    /// Whether the PR is a draft.
    pub draft: bool,
    /// The PR's labels after the event.
    pub labels: Vec<String>,
    /// The label added or removed (`labeled`, `unlabeled`).
    pub label: Option<String>,
}

/// A `/preview` command in a new comment on a pull request.
#[derive(Clone, Debug, PartialEq)]
pub struct CommandEvent {
    /// GitHub's repository id.
    pub repository_id: u64,
    /// `owner/name`.
    pub full_name: String,
    /// PR number.
    pub number: u64,
    /// Whether the PR is open.
    pub open: bool,
    /// PR title.
    pub title: String,
    /// PR author.
    pub author: String,
    /// The PR's web address.
    pub html_url: String,
    /// The comment's id.
    pub comment_id: u64,
    /// Who wrote the comment (the payload's `author_association` is not trusted).
    pub login: String,
    /// The command.
    pub command: Command,
}

/// Why a signed delivery could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    /// The body is not the JSON this event should carry.
    #[error("malformed {event} payload: {source}")]
    Malformed {
        /// `X-GitHub-Event`.
        event: String,
        /// What serde said.
        source: serde_json::Error,
    },
}

#[derive(Deserialize)]
struct ActionOnly {
    action: Option<String>,
}

#[derive(Deserialize)]
struct PullRequestPayload {
    number: u64,
    pull_request: PullRequestBody,
    repository: RepositoryBody,
    #[serde(default)]
    label: Option<LabelBody>,
}

#[derive(Deserialize)]
struct LabelBody {
    name: String,
}

#[derive(Deserialize)]
struct CommentPayload {
    issue: IssueBody,
    comment: CommentBody,
    repository: RepositoryBody,
}

#[derive(Deserialize)]
struct IssueBody {
    number: u64,
    state: String,
    title: String,
    html_url: String,
    user: Option<UserBody>,
    /// Present only when the issue is a pull request.
    pull_request: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct CommentBody {
    id: u64,
    #[serde(default)]
    body: Option<String>,
    user: Option<UserBody>,
}

#[derive(Deserialize)]
struct PullRequestBody {
    state: String,
    title: String,
    html_url: String,
    #[serde(default)]
    merged: Option<bool>,
    #[serde(default)]
    draft: bool,
    #[serde(default)]
    labels: Vec<LabelBody>,
    updated_at: Option<DateTime<Utc>>,
    user: Option<UserBody>,
    head: BranchBody,
    base: BranchBody,
}

#[derive(Deserialize)]
struct BranchBody {
    #[serde(rename = "ref")]
    name: String,
    sha: String,
    repo: Option<RepositoryBody>,
}

#[derive(Deserialize)]
struct RepositoryBody {
    id: u64,
    full_name: String,
}

#[derive(Deserialize)]
struct UserBody {
    login: String,
}

/// Parses a verified delivery. Unknown events and actions are `Ignored`, never an error.
pub fn parse(event: &str, body: &[u8]) -> Result<WebhookEvent, ParseError> {
    let malformed = |source| ParseError::Malformed {
        event: event.to_owned(),
        source,
    };
    match event {
        "ping" => Ok(WebhookEvent::Ping),
        "pull_request" => {
            let ActionOnly { action } = serde_json::from_slice(body).map_err(malformed)?;
            let Some(action) = action.as_deref().and_then(|a| pull_action(a, body)) else {
                return Ok(WebhookEvent::Ignored {
                    event: event.to_owned(),
                    action,
                });
            };
            let payload: PullRequestPayload = serde_json::from_slice(body).map_err(malformed)?;
            Ok(WebhookEvent::PullRequest(pull_request_event(
                action, payload,
            )))
        }
        "issue_comment" => {
            let ActionOnly { action } = serde_json::from_slice(body).map_err(malformed)?;
            if action.as_deref() != Some("created") {
                // Edited and deleted comments run nothing.
                return Ok(WebhookEvent::Ignored {
                    event: event.to_owned(),
                    action,
                });
            }
            let payload: CommentPayload = serde_json::from_slice(body).map_err(malformed)?;
            Ok(command_event(payload).map_or(
                WebhookEvent::Ignored {
                    event: event.to_owned(),
                    action,
                },
                WebhookEvent::Command,
            ))
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
    let fork = pr
        .head
        .repo
        .as_ref()
        .is_none_or(|head| head.id != payload.repository.id);
    let action = match action {
        PullAction::Closed { .. } => PullAction::Closed {
            merged: pr.merged.unwrap_or(false),
        },
        other => other,
    };
    PullRequestEvent {
        action,
        repository_id: payload.repository.id,
        full_name: payload.repository.full_name,
        number: payload.number,
        head_sha: pr.head.sha,
        branch: pr.head.name,
        base_branch: pr.base.name,
        title: pr.title,
        author: pr.user.map(|u| u.login).unwrap_or_default(),
        fork,
        open: pr.state == "open",
        updated_at: pr.updated_at,
        html_url: pr.html_url,
        draft: pr.draft,
        labels: pr.labels.into_iter().map(|l| l.name).collect(),
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
        repository_id: payload.repository.id,
        full_name: payload.repository.full_name,
        number: issue.number,
        open: issue.state == "open",
        title: issue.title,
        author: issue.user.map(|u| u.login).unwrap_or_default(),
        html_url: issue.html_url,
        comment_id: payload.comment.id,
        login: payload.comment.user?.login,
        command,
    })
}

#[cfg(test)]
mod tests;
