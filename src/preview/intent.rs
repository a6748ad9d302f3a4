//! From a pull request event and what is already recorded to the desired state (pure).
//!
//! GitHub does not promise delivery order, so an event older than the recorded one (by the PR's
//! `updated_at`) changes nothing. A destroyed preview stays destroyed until its reason is cleared
//! by the matching counter-event: a reopen clears a close or a merge.

use chrono::{DateTime, Utc};

use super::crd::{Desired, DestroyReason, PreviewEnvironmentSpec, Repository};
use crate::github::webhook::{PullAction, PullRequestEvent};

/// What to do with an event.
#[derive(Clone, Debug, PartialEq)]
pub enum Decision {
    /// Record this spec (it may equal the existing one: recording is idempotent).
    Record(PreviewEnvironmentSpec),
    /// Change nothing, for this reason.
    Ignore(&'static str),
}

/// Decides the desired state after `event`, given the recorded spec, if any.
pub fn decide(existing: Option<&PreviewEnvironmentSpec>, event: &PullRequestEvent) -> Decision {
    if let Some(recorded) = existing
        && let (Some(then), Some(now)) = (recorded.pr_updated_at, event.updated_at)
        && now < then
    {
        return Decision::Ignore("older than the recorded state of this pull request");
    }
    if event.fork && !matches!(event.action, PullAction::Closed { .. }) {
        // Code from a fork never runs by itself: a maintainer approves an exact SHA.
        return Decision::Ignore(
            "pull request from a fork: it deploys only when a maintainer approves its SHA",
        );
    }
    let desired = match (event.action, existing.map(|s| &s.desired)) {
        (PullAction::Closed { .. }, None) => {
            return Decision::Ignore("closed pull request without a preview");
        }
        (PullAction::Closed { merged: true }, _) => Desired::Destroyed(DestroyReason::Merged),
        (PullAction::Closed { merged: false }, _) => Desired::Destroyed(DestroyReason::Closed),
        (PullAction::Opened | PullAction::Reopened, _) if event.open => Desired::Deployed,
        (_, Some(recorded)) => recorded.clone(),
        (_, None) if event.open => Desired::Deployed,
        (_, None) => return Decision::Ignore("pull request is not open"),
    };
    let mut spec = PreviewEnvironmentSpec {
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
        pr_updated_at: event.updated_at.or(existing.and_then(|s| s.pr_updated_at)),
        desired,
        confirm_with_github: existing.is_some_and(|s| s.confirm_with_github),
    };
    if let Some(recorded) = existing
        && recorded.pr_updated_at.is_some()
        && recorded.pr_updated_at == event.updated_at
        && (recorded.head_sha != spec.head_sha || recorded.desired != spec.desired)
    {
        // Same second, different story: only GitHub knows which came last.
        spec.confirm_with_github = true;
    }
    Decision::Record(spec)
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
}

/// The recorded spec settled by what GitHub reports now. A close GitHub reports destroys; an open
/// PR clears only a close or a merge (the reasons a reopen clears).
pub fn settle(recorded: &PreviewEnvironmentSpec, pull: &CurrentPull) -> PreviewEnvironmentSpec {
    let desired = match (&recorded.desired, pull.open) {
        (_, false) if pull.merged => Desired::Destroyed(DestroyReason::Merged),
        (_, false) => Desired::Destroyed(DestroyReason::Closed),
        (Desired::Destroyed(DestroyReason::Closed | DestroyReason::Merged), true) => {
            Desired::Deployed
        }
        (other, true) => other.clone(),
    };
    PreviewEnvironmentSpec {
        head_sha: pull.head_sha.clone(),
        branch: pull.branch.clone(),
        base_branch: pull.base_branch.clone(),
        title: pull.title.clone(),
        pr_updated_at: pull.updated_at.or(recorded.pr_updated_at),
        desired,
        confirm_with_github: false,
        ..recorded.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(second: u32) -> Option<DateTime<Utc>> {
        Some(Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, second).unwrap())
    }

    fn event(action: PullAction, sha: &str, second: u32) -> PullRequestEvent {
        PullRequestEvent {
            action,
            repository_id: 1,
            full_name: "o/r".into(),
            number: 3,
            head_sha: sha.into(),
            branch: "b".into(),
            base_branch: "main".into(),
            title: "t".into(),
            author: "a".into(),
            fork: false,
            open: !matches!(action, PullAction::Closed { .. }),
            updated_at: at(second),
            html_url: String::new(),
        }
    }

    fn record(
        existing: Option<&PreviewEnvironmentSpec>,
        e: &PullRequestEvent,
    ) -> PreviewEnvironmentSpec {
        match decide(existing, e) {
            Decision::Record(spec) => spec,
            Decision::Ignore(why) => panic!("ignored: {why}"),
        }
    }

    #[test]
    fn open_push_close_reopen() {
        let opened = record(None, &event(PullAction::Opened, "a", 1));
        assert_eq!(opened.desired, Desired::Deployed);
        let pushed = record(Some(&opened), &event(PullAction::Synchronize, "b", 2));
        assert_eq!(
            (pushed.head_sha.as_str(), &pushed.desired),
            ("b", &Desired::Deployed)
        );
        let merged = record(
            Some(&pushed),
            &event(PullAction::Closed { merged: true }, "b", 3),
        );
        assert_eq!(merged.desired, Desired::Destroyed(DestroyReason::Merged));
        let reopened = record(Some(&merged), &event(PullAction::Reopened, "b", 4));
        assert_eq!(reopened.desired, Desired::Deployed);
    }

    #[test]
    fn late_events_never_roll_back() {
        let pushed = record(None, &event(PullAction::Synchronize, "new", 5));
        assert!(matches!(
            decide(Some(&pushed), &event(PullAction::Synchronize, "old", 4)),
            Decision::Ignore(_)
        ));
        let closed = record(
            Some(&pushed),
            &event(PullAction::Closed { merged: false }, "new", 6),
        );
        assert!(matches!(
            decide(Some(&closed), &event(PullAction::Opened, "new", 1)),
            Decision::Ignore(_)
        ));
    }

    #[test]
    fn tombstones_survive_other_events() {
        let opened = record(None, &event(PullAction::Opened, "a", 1));
        let closed = record(
            Some(&opened),
            &event(PullAction::Closed { merged: false }, "a", 2),
        );
        let mut edited = event(PullAction::Edited, "a", 3);
        edited.open = false;
        assert_eq!(
            record(Some(&closed), &edited).desired,
            Desired::Destroyed(DestroyReason::Closed)
        );
    }

    #[test]
    fn repeats_record_the_same_spec() {
        let e = event(PullAction::Opened, "a", 1);
        let first = record(None, &e);
        assert_eq!(record(Some(&first), &e), first);
    }

    #[test]
    fn fork_pull_requests_never_deploy_by_themselves() {
        let mut opened = event(PullAction::Opened, "a", 1);
        opened.fork = true;
        assert!(matches!(decide(None, &opened), Decision::Ignore(_)));
        let mut pushed = event(PullAction::Synchronize, "b", 2);
        pushed.fork = true;
        let recorded = record(None, &event(PullAction::Opened, "a", 1));
        assert!(matches!(
            decide(Some(&recorded), &pushed),
            Decision::Ignore(_)
        ));
        let mut closed = event(PullAction::Closed { merged: false }, "b", 3);
        closed.fork = true;
        assert_eq!(
            record(Some(&recorded), &closed).desired,
            Desired::Destroyed(DestroyReason::Closed)
        );
    }

    #[test]
    fn same_second_disagreements_are_settled_by_github() {
        let pushed = record(None, &event(PullAction::Synchronize, "new", 5));
        let late = record(Some(&pushed), &event(PullAction::Synchronize, "old", 5));
        assert!(late.confirm_with_github);
        let repeat = record(Some(&pushed), &event(PullAction::Synchronize, "new", 5));
        assert!(!repeat.confirm_with_github);
        let now = CurrentPull {
            open: true,
            merged: false,
            head_sha: "new".into(),
            branch: "b".into(),
            base_branch: "main".into(),
            title: "t".into(),
            updated_at: at(5),
        };
        let settled = settle(&late, &now);
        assert_eq!(
            (settled.head_sha.as_str(), settled.confirm_with_github),
            ("new", false)
        );
        assert_eq!(settled.desired, Desired::Deployed);
        let closed = CurrentPull {
            open: false,
            merged: true,
            ..now
        };
        assert_eq!(
            settle(&late, &closed).desired,
            Desired::Destroyed(DestroyReason::Merged)
        );
    }

    #[test]
    fn closing_an_unknown_pull_request_records_nothing() {
        assert!(matches!(
            decide(None, &event(PullAction::Closed { merged: true }, "a", 1)),
            Decision::Ignore(_)
        ));
    }
}
