//! What previewd observed about a pull request: a webhook delivery it understood, or what the
//! resync found. The intake turns these into desired state (see `rules::intent`).

use super::command::Command;
use super::pull::{PullFacts, Repository};

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
    /// Not a webhook: the resync found the repository transferred to an owner previewd does
    /// not serve.
    MovedOut,
}

/// Something happened to a pull request, and this is how it stood afterwards.
#[derive(Clone, Debug, PartialEq)]
pub struct PullRequestEvent {
    /// What happened.
    pub action: PullAction,
    /// The pull request after the event.
    pub pull: PullFacts,
    /// Whether the pull request is open.
    pub open: bool,
    /// The label added or removed (`labeled`, `unlabeled`).
    pub label: Option<String>,
}

/// A `/preview` command in a new comment on a pull request.
#[derive(Clone, Debug, PartialEq)]
pub struct CommandEvent {
    /// The pull request, as far as a comment tells it: repository, number, title, author and
    /// web address (the head and branches are left empty; the controller asks GitHub).
    pub pull: PullFacts,
    /// Whether the pull request is open.
    pub open: bool,
    /// The comment's id.
    pub comment_id: u64,
    /// When the comment was written.
    pub created_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Who wrote the comment (the payload's `author_association` is not trusted).
    pub login: String,
    /// The command.
    pub command: Command,
}

/// A commit's CI changed: a check run or check suite was created or concluded, or a commit
/// status was set (`check_run`, `check_suite`, `status`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChecksEvent {
    /// The repository.
    pub repository: Repository,
    /// The commit whose checks changed.
    pub sha: String,
    /// What changed, e.g. `check_run 128620228 completed success` (the same text for a
    /// redelivery).
    pub change: String,
}

/// Commits were pushed to a branch (`push`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PushEvent {
    /// The repository.
    pub repository: Repository,
    /// The branch (`refs/heads/` left out).
    pub branch: String,
    /// The commit it points at now.
    pub after: String,
}
