//! From a pull request event and what is already recorded to the desired state (pure).
//!
//! GitHub does not promise delivery order, so an event older than the recorded one (by the PR's
//! `updated_at`) changes nothing. A destroyed preview stays destroyed until its reason is cleared
//! by the matching counter-event: a reopen clears a close or a merge.

use chrono::{DateTime, Utc};

use super::crd::{Desired, DestroyReason, PendingCommand, PreviewEnvironmentSpec, Repository};
use crate::github::webhook::{CommandEvent, PullAction, PullRequestEvent};

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
        (PullAction::Opened | PullAction::Reopened, _) if event.open => Desired::Deployed,
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
    // A redelivery (same `updated_at`, same head) is not new activity.
    let pushed = matches!(
        event.action,
        PullAction::Opened | PullAction::Reopened | PullAction::Synchronize
    ) && existing
        .is_none_or(|r| r.pr_updated_at != event.updated_at || r.head_sha != event.head_sha);
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
            draft: false,
            labels: Vec::new(),
            label: None,
        }
    }

    fn record(
        existing: Option<&PreviewEnvironmentSpec>,
        e: &PullRequestEvent,
    ) -> PreviewEnvironmentSpec {
        match decide(existing, e, None, e.updated_at.unwrap()) {
            Decision::Record(spec) => *spec,
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
            decide(
                Some(&pushed),
                &event(PullAction::Synchronize, "old", 4),
                None,
                at(0).unwrap()
            ),
            Decision::Ignore(_)
        ));
        let closed = record(
            Some(&pushed),
            &event(PullAction::Closed { merged: false }, "new", 6),
        );
        assert!(matches!(
            decide(
                Some(&closed),
                &event(PullAction::Opened, "new", 1),
                None,
                at(0).unwrap()
            ),
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
    fn fork_pull_requests_are_recorded_and_keep_their_approval() {
        let mut opened = event(PullAction::Opened, "a", 1);
        opened.fork = true;
        let mut recorded = record(None, &opened);
        assert!(recorded.fork && recorded.approved_sha.is_none());
        recorded.approved_sha = Some("a".into());
        let mut pushed = event(PullAction::Synchronize, "b", 2);
        pushed.fork = true;
        let pushed = record(Some(&recorded), &pushed);
        assert_eq!(
            (pushed.head_sha.as_str(), pushed.approved_sha.as_deref()),
            ("b", Some("a"))
        );
    }

    fn labelled(action: PullAction, label: &str, second: u32) -> PullRequestEvent {
        PullRequestEvent {
            label: Some(label.into()),
            ..event(action, "a", second)
        }
    }

    #[test]
    fn the_mode_label_destroys_and_restores() {
        let opened = record(None, &event(PullAction::Opened, "a", 1));
        let removed = match decide(
            Some(&opened),
            &labelled(PullAction::Unlabeled, "preview", 2),
            Some("preview"),
            at(0).unwrap(),
        ) {
            Decision::Record(spec) => *spec,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            removed.desired,
            Desired::Destroyed(DestroyReason::LabelRemoved)
        );
        let pushed = record(Some(&removed), &event(PullAction::Synchronize, "b", 3));
        assert_eq!(pushed.desired, removed.desired, "a push clears nothing");
        let other = decide(
            Some(&pushed),
            &labelled(PullAction::Labeled, "bug", 4),
            Some("preview"),
            at(0).unwrap(),
        );
        assert!(matches!(other, Decision::Record(s) if s.desired == removed.desired));
        let Decision::Record(added) = decide(
            Some(&pushed),
            &labelled(PullAction::Labeled, "preview", 5),
            Some("preview"),
            at(0).unwrap(),
        ) else {
            panic!()
        };
        assert_eq!(added.desired, Desired::Deployed);
        let Decision::Record(ignored) = decide(
            Some(&opened),
            &labelled(PullAction::Unlabeled, "preview", 2),
            None,
            at(0).unwrap(),
        ) else {
            panic!()
        };
        assert_eq!(ignored.desired, Desired::Deployed, "no label mode");
    }

    #[test]
    fn pushes_move_the_activity_time_and_edits_do_not() {
        let opened = record(None, &event(PullAction::Opened, "a", 1));
        assert_eq!(opened.last_activity_at, at(1));
        let edited = record(Some(&opened), &event(PullAction::Edited, "a", 5));
        assert_eq!(edited.last_activity_at, at(1));
        let pushed = record(Some(&edited), &event(PullAction::Synchronize, "b", 9));
        assert_eq!(pushed.last_activity_at, at(9));
        let mut again = event(PullAction::Synchronize, "b", 9);
        let redelivered = match decide(Some(&pushed), &again, None, at(30).unwrap()) {
            Decision::Record(spec) => *spec,
            other => panic!("{other:?}"),
        };
        assert_eq!(redelivered, pushed, "a redelivery is not activity");
        again.action = PullAction::Opened;
        assert!(matches!(
            decide(Some(&pushed), &again, None, at(30).unwrap()),
            Decision::Record(spec) if spec.last_activity_at == at(9)
        ));
    }

    fn command(id: u64, open: bool) -> CommandEvent {
        CommandEvent {
            repository_id: 1,
            full_name: "o/r".into(),
            number: 3,
            open,
            title: "t".into(),
            author: "a".into(),
            html_url: String::new(),
            comment_id: id,
            login: "maintainer".into(),
            command: crate::github::command::Command::Pin,
        }
    }

    #[test]
    fn a_command_is_recorded_once() {
        let Decision::Record(fresh) = with_command(None, &[], &command(7, true)) else {
            panic!()
        };
        assert!(fresh.confirm_with_github, "unknown PR: ask GitHub first");
        assert_eq!(fresh.commands.len(), 1);
        assert!(matches!(
            with_command(Some(&fresh), &[], &command(7, true)),
            Decision::Ignore(_)
        ));
        let opened = record(None, &event(PullAction::Opened, "a", 1));
        assert!(matches!(
            with_command(Some(&opened), &[7], &command(7, true)),
            Decision::Ignore(_)
        ));
        assert!(matches!(
            with_command(None, &[], &command(8, false)),
            Decision::Ignore(_)
        ));
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
            fork: false,
            draft: false,
            labels: Vec::new(),
            author: "a".into(),
            html_url: String::new(),
        };
        let settled = settle(&late, &now, at(9).unwrap());
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
            settle(&late, &closed, at(9).unwrap()).desired,
            Desired::Destroyed(DestroyReason::Merged)
        );
    }

    #[test]
    fn closing_an_unknown_pull_request_records_nothing() {
        assert!(matches!(
            decide(
                None,
                &event(PullAction::Closed { merged: true }, "a", 1),
                None,
                at(0).unwrap()
            ),
            Decision::Ignore(_)
        ));
    }
}
