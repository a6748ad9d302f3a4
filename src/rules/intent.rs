//! From a pull request event and what is already recorded to the desired state (pure).
//!
//! GitHub does not promise delivery order, so an event older than the recorded one (by the PR's
//! `updated_at`) changes nothing. A destroyed preview stays destroyed until its reason is cleared
//! by the matching counter-event: a reopen clears a close or a merge.

use chrono::{DateTime, Utc};

use crate::model::crd::{Desired, DestroyReason, PendingCommand, PreviewEnvironmentSpec};
use crate::model::event::{CommandEvent, PullAction, PullRequestEvent};
use crate::model::pull::{PullFacts, PullState};
use crate::model::time::age;
use crate::rules::command_limits;
use crate::timing::FRESH_EVENT;

/// What to do with an event.
#[derive(Clone, Debug, PartialEq)]
pub enum Decision {
    /// Record this spec (it may equal the existing one: recording is idempotent).
    Record(Box<PreviewEnvironmentSpec>),
    /// Change nothing, for this reason.
    Ignore(&'static str),
}

/// Why an event older than the recorded state is ignored.
const OLDER: &str = "older than the recorded state of this pull request";
/// Why a command already taken or already waiting is ignored.
const ALREADY_TAKEN: &str = "command already taken";

/// Whether an event ignored for `why` would be ignored over every later record of the pull
/// request too: records only move to newer times, and a command once taken stays taken.
pub(crate) fn ignored_for_good(why: &str) -> bool {
    why == OLDER || why == ALREADY_TAKEN
}

/// Decides the desired state after `event`, received `now`, given the recorded spec, if any,
/// and the label of the repository's label mode, if it has one. A push's time is when previewd
/// learned of it (the payload's timestamps can be old or skewed).
pub(crate) fn decide(
    existing: Option<&PreviewEnvironmentSpec>,
    event: &PullRequestEvent,
    mode_label: Option<&str>,
    now: DateTime<Utc>,
) -> Decision {
    if let Some(recorded) = existing
        && let (Some(then), Some(now)) = (recorded.pull.pr_updated_at, event.pull.pr_updated_at)
        && now < then
    {
        return Decision::Ignore(OLDER);
    }
    let is_mode_label = mode_label.is_some() && event.label.as_deref() == mode_label;
    let recorded = existing.map(|s| &s.desired);
    let desired = match (event.action, recorded) {
        (PullAction::Closed { .. }, None) => {
            return Decision::Ignore("closed pull request without a preview");
        }
        (PullAction::Closed { merged: true }, _) => Desired::Destroyed(DestroyReason::Merged),
        (PullAction::Closed { merged: false }, _) => Desired::Destroyed(DestroyReason::Closed),
        (PullAction::MovedOut, None) => {
            return Decision::Ignore("pull request of a repository moved out, without a preview");
        }
        (PullAction::MovedOut, Some(Desired::Deployed)) => {
            Desired::Destroyed(DestroyReason::Transferred)
        }
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
        PullAction::Opened | PullAction::Reopened | PullAction::Synchronize => {
            existing.is_none_or(|r| {
                r.pull.pr_updated_at != event.pull.pr_updated_at
                    || r.pull.head_sha != event.pull.head_sha
            })
        }
        PullAction::Resynced => existing.is_none_or(|r| r.pull.head_sha != event.pull.head_sha),
        _ => false,
    };
    let last_activity_at = match existing.and_then(|s| s.last_activity_at) {
        Some(then) if !pushed => Some(then),
        _ => Some(now),
    };
    let facts = PreviewEnvironmentSpec {
        pull: PullFacts {
            pr_updated_at: event
                .pull
                .pr_updated_at
                .or(existing.and_then(|s| s.pull.pr_updated_at)),
            ..event.pull.clone()
        },
        desired,
        last_activity_at,
        ..existing.cloned().unwrap_or_else(blank)
    };
    let mut spec = facts;
    if let Some(recorded) = existing
        && event.action != PullAction::MovedOut
        && recorded.pull.pr_updated_at.is_some()
        && recorded.pull.pr_updated_at == event.pull.pr_updated_at
        && (recorded.pull.head_sha != spec.pull.head_sha || recorded.desired != spec.desired)
    {
        // Same second, different story: only GitHub knows which came last.
        spec.confirm_with_github = true;
    }
    if existing.is_none() && event.action != PullAction::Resynced && !fresh(&event.pull, now) {
        // An old event for a pull request without a record: its record may have been removed
        // after it closed (`keepDestroyedFor`), so GitHub says whether it is open.
        spec.confirm_with_github = true;
    }
    Decision::Record(Box::new(spec))
}

/// Whether the event's state of the pull request is recent enough to act on without asking.
fn fresh(pull: &PullFacts, now: DateTime<Utc>) -> bool {
    pull.pr_updated_at
        .is_some_and(|at| age(at, now) <= FRESH_EVENT)
}

/// Records a command for the controller to run. A comment already taken or already waiting
/// changes nothing, nor does one past the bounds of `command_limits`; a pull request previewd
/// has not seen is recorded with what the comment's payload tells, and the controller asks
/// GitHub for the rest before anything else.
pub(crate) fn with_command(
    existing: Option<&PreviewEnvironmentSpec>,
    taken: impl Fn(u64) -> bool,
    event: &CommandEvent,
    now: DateTime<Utc>,
) -> Decision {
    let waiting = existing.map(|s| s.commands.as_slice()).unwrap_or_default();
    if taken(event.comment_id) || waiting.iter().any(|c| c.comment_id == event.comment_id) {
        return Decision::Ignore(ALREADY_TAKEN);
    }
    if let Some(why) = command_limits::not_recorded(waiting, event, now) {
        return Decision::Ignore(why);
    }
    let mut spec = match existing {
        Some(spec) => spec.clone(),
        None if !event.open => {
            return Decision::Ignore("command on a closed pull request without a preview");
        }
        None => PreviewEnvironmentSpec {
            pull: event.pull.clone(),
            confirm_with_github: true,
            ..blank()
        },
    };
    spec.commands.push(PendingCommand {
        comment_id: event.comment_id,
        login: event.login.clone(),
        command: event.command.clone(),
        created_at: event.created_at,
    });
    Decision::Record(Box::new(spec))
}

/// A spec that knows nothing yet (the caller fills in the pull request).
fn blank() -> PreviewEnvironmentSpec {
    PreviewEnvironmentSpec::deployed(PullFacts::default())
}

/// The recorded spec settled by what GitHub reports `now`. A close GitHub reports destroys; an
/// open PR clears only a close or a merge (the reasons a reopen clears).
pub(crate) fn settle(
    recorded: &PreviewEnvironmentSpec,
    pull: &PullFacts,
    state: PullState,
    now: DateTime<Utc>,
) -> PreviewEnvironmentSpec {
    let desired = match (&recorded.desired, state.open) {
        (_, false) if state.merged => Desired::Destroyed(DestroyReason::Merged),
        (_, false) => Desired::Destroyed(DestroyReason::Closed),
        (Desired::Destroyed(DestroyReason::Closed | DestroyReason::Merged), true) => {
            Desired::Deployed
        }
        (other, true) => other.clone(),
    };
    let first_look = recorded.pull.head_sha.is_empty();
    PreviewEnvironmentSpec {
        pull: PullFacts {
            // The recorded repository stays: GitHub may report it under a new name.
            repository: recorded.pull.repository.clone(),
            number: recorded.pull.number,
            pr_updated_at: pull.pr_updated_at.or(recorded.pull.pr_updated_at),
            ..pull.clone()
        },
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
