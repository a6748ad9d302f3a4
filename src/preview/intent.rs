//! From a pull request event and what is already recorded to the desired state (pure).
//!
//! GitHub does not promise delivery order, so an event older than the recorded one (by the PR's
//! `updated_at`) changes nothing. A destroyed preview stays destroyed until its reason is cleared
//! by the matching counter-event: a reopen clears a close or a merge.

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
    Decision::Record(PreviewEnvironmentSpec {
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
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, TimeZone, Utc};

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
    fn closing_an_unknown_pull_request_records_nothing() {
        assert!(matches!(
            decide(None, &event(PullAction::Closed { merged: true }, "a", 1)),
            Decision::Ignore(_)
        ));
    }
}
