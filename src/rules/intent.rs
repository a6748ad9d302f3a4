//! From a pull request event and what is already recorded to the desired state (pure).
//!
//! GitHub does not promise delivery order, so an event older than the recorded one (by the PR's
//! `updated_at`) changes nothing. A destroyed preview stays destroyed until its reason is cleared
//! by the matching counter-event: a reopen clears a close or a merge.

use chrono::{DateTime, Utc};

use crate::github::webhook::{CommandEvent, PullAction, PullRequestEvent};
use crate::model::crd::{
    Desired, DestroyReason, PendingCommand, PreviewEnvironmentSpec, Repository,
};

/// What to do with an event.
#[derive(Clone, Debug, PartialEq)]
pub enum Decision {
    /// Record this spec (it may equal the existing one: recording is idempotent).
    Record(Box<PreviewEnvironmentSpec>),
    /// Change nothing, for this reason.
    Ignore(&'static str),
}

/// Decides the desired state after `event`, received `now`, given the recorded spec, if any,
/// and the label of the repository's label mode, if it has one. A push's time is when previewd
/// learned of it (the payload's timestamps can be old or skewed).
pub fn decide(
    existing: Option<&PreviewEnvironmentSpec>,
    event: &PullRequestEvent,
    mode_label: Option<&str>,
    now: DateTime<Utc>,
) -> Decision {
    if let Some(recorded) = existing
        && let (Some(then), Some(now)) = (recorded.pr_updated_at, event.updated_at)
        && now < then
    {
        return Decision::Ignore("older than the recorded state of this pull request");
    }
    let is_mode_label = mode_label.is_some() && event.label.as_deref() == mode_label;
    let recorded = existing.map(|s| &s.desired);
    let desired = match (event.action, recorded) {
        (PullAction::Closed { .. }, None) => {
            return Decision::Ignore("closed pull request without a preview");
        }
        (PullAction::Closed { merged: true }, _) => Desired::Destroyed(DestroyReason::Merged),
        (PullAction::Closed { merged: false }, _) => Desired::Destroyed(DestroyReason::Closed),
        // A (re)open clears a close or a merge, never a maintainer's destroy, an expiry or a
        // removed label (a redelivered `opened` must not undo them).
        (
            PullAction::Opened | PullAction::Reopened,
            None | Some(Desired::Destroyed(DestroyReason::Closed | DestroyReason::Merged)),
        ) if event.open => Desired::Deployed,
        (PullAction::Unlabeled, None) if is_mode_label => {
            return Decision::Ignore("label removed from a pull request without a preview");
        }
        (PullAction::Unlabeled, Some(Desired::Deployed)) if is_mode_label => {
            Desired::Destroyed(DestroyReason::LabelRemoved)
        }
        (PullAction::Labeled, Some(Desired::Destroyed(DestroyReason::LabelRemoved)))
            if is_mode_label && event.open =>
        {
            Desired::Deployed
        }
        (_, Some(recorded)) => recorded.clone(),
        (_, None) if event.open => Desired::Deployed,
        (_, None) => return Decision::Ignore("pull request is not open"),
    };
    // A redelivery (same `updated_at`, same head) is not new activity; a resync is when it
    // finds a preview missing or a head the webhooks did not bring.
    let pushed = match event.action {
        PullAction::Opened | PullAction::Reopened | PullAction::Synchronize => existing
            .is_none_or(|r| r.pr_updated_at != event.updated_at || r.head_sha != event.head_sha),
        PullAction::Resynced => existing.is_none_or(|r| r.head_sha != event.head_sha),
        _ => false,
    };
    let last_activity_at = match existing.and_then(|s| s.last_activity_at) {
        Some(then) if !pushed => Some(then),
        _ => Some(now),
    };
    let facts = PreviewEnvironmentSpec {
        repository: Repository {
            id: event.repository_id,
            full_name: event.full_name.clone(),
        },
        number: event.number,
        head_sha: event.head_sha.clone(),
        branch: event.branch.clone(),
        base_branch: event.base_branch.clone(),
        title: event.title.clone(),
        author: event.author.clone(),
        pull_request_url: event.html_url.clone(),
        fork: event.fork,
        draft: event.draft,
        labels: event.labels.clone(),
        pr_updated_at: event.updated_at.or(existing.and_then(|s| s.pr_updated_at)),
        desired,
        last_activity_at,
        ..existing
            .cloned()
            .unwrap_or_else(|| blank(event.repository_id, &event.full_name))
    };
    let mut spec = facts;
    if let Some(recorded) = existing
        && recorded.pr_updated_at.is_some()
        && recorded.pr_updated_at == event.updated_at
        && (recorded.head_sha != spec.head_sha || recorded.desired != spec.desired)
    {
        // Same second, different story: only GitHub knows which came last.
        spec.confirm_with_github = true;
    }
    Decision::Record(Box::new(spec))
}

/// Records a command for the controller to run. A comment already taken or already waiting
/// changes nothing; a pull request previewd has not seen is recorded with what the comment's
/// payload tells, and the controller asks GitHub for the rest before anything else.
pub fn with_command(
    existing: Option<&PreviewEnvironmentSpec>,
    processed: &[u64],
    event: &CommandEvent,
) -> Decision {
    let known = processed.contains(&event.comment_id)
        || existing.is_some_and(|s| s.commands.iter().any(|c| c.comment_id == event.comment_id));
    if known {
        return Decision::Ignore("command already taken");
    }
    let mut spec = match existing {
        Some(spec) => spec.clone(),
        None if !event.open => {
            return Decision::Ignore("command on a closed pull request without a preview");
        }
        None => PreviewEnvironmentSpec {
            number: event.number,
            title: event.title.clone(),
            author: event.author.clone(),
            pull_request_url: event.html_url.clone(),
            confirm_with_github: true,
            ..blank(event.repository_id, &event.full_name)
        },
    };
    spec.commands.push(PendingCommand {
        comment_id: event.comment_id,
        login: event.login.clone(),
        command: event.command.clone(),
    });
    Decision::Record(Box::new(spec))
}

/// A spec that knows only its repository (the rest is filled in by the caller or by GitHub).
fn blank(repository_id: u64, full_name: &str) -> PreviewEnvironmentSpec {
    PreviewEnvironmentSpec {
        repository: Repository {
            id: repository_id,
            full_name: full_name.to_owned(),
        },
        number: 0,
        head_sha: String::new(),
        branch: String::new(),
        base_branch: String::new(),
        title: String::new(),
        author: String::new(),
        pull_request_url: String::new(),
        fork: false,
        pr_updated_at: None,
        desired: Desired::Deployed,
        confirm_with_github: false,
        draft: false,
        labels: Vec::new(),
        requested: false,
        approved_sha: None,
        last_activity_at: None,
        extended_until: None,
        pinned: false,
        redeploys: 0,
        commands: Vec::new(),
    }
}

/// A pull request as GitHub reports it now.
#[derive(Clone, Debug, PartialEq)]
pub struct CurrentPull {
    /// Open, or closed.
    pub open: bool,
    /// Closed by a merge.
    pub merged: bool,
    /// Head commit.
    pub head_sha: String,
    /// Head branch.
    pub branch: String,
    /// Base branch.
    pub base_branch: String,
    /// Title.
    pub title: String,
    /// `updated_at`.
    pub updated_at: Option<DateTime<Utc>>,
    /// Whether the head lives in a fork.
    pub fork: bool,
    /// Draft.
    pub draft: bool,
    /// Labels.
    pub labels: Vec<String>,
    /// Author login.
    pub author: String,
    /// Web address.
    pub html_url: String,
}

/// The recorded spec settled by what GitHub reports `now`. A close GitHub reports destroys; an
/// open PR clears only a close or a merge (the reasons a reopen clears).
pub fn settle(
    recorded: &PreviewEnvironmentSpec,
    pull: &CurrentPull,
    now: DateTime<Utc>,
) -> PreviewEnvironmentSpec {
    let desired = match (&recorded.desired, pull.open) {
        (_, false) if pull.merged => Desired::Destroyed(DestroyReason::Merged),
        (_, false) => Desired::Destroyed(DestroyReason::Closed),
        (Desired::Destroyed(DestroyReason::Closed | DestroyReason::Merged), true) => {
            Desired::Deployed
        }
        (other, true) => other.clone(),
    };
    let first_look = recorded.head_sha.is_empty();
    PreviewEnvironmentSpec {
        head_sha: pull.head_sha.clone(),
        branch: pull.branch.clone(),
        base_branch: pull.base_branch.clone(),
        title: pull.title.clone(),
        author: pull.author.clone(),
        pull_request_url: pull.html_url.clone(),
        fork: pull.fork,
        draft: pull.draft,
        labels: pull.labels.clone(),
        pr_updated_at: pull.updated_at.or(recorded.pr_updated_at),
        last_activity_at: match recorded.last_activity_at {
            Some(then) if !first_look => Some(then),
            _ => Some(now),
        },
        desired,
        confirm_with_github: false,
        ..recorded.clone()
    }
}

#[cfg(test)]
mod tests;
