use super::*;
use chrono::TimeZone;

fn at(second: u32) -> Option<DateTime<Utc>> {
    Some(Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, second).unwrap())
}

fn event(action: PullAction, sha: &str, second: u32) -> PullRequestEvent {
    PullRequestEvent {
        action,
        pull: PullFacts {
            repository: repository(),
            number: 3,
            head_sha: sha.into(),
            branch: "b".into(),
            base_branch: "main".into(),
            title: "t".into(),
            author: "a".into(),
            pr_updated_at: at(second),
            ..PullFacts::default()
        },
        open: !matches!(action, PullAction::Closed { .. }),
        label: None,
    }
}

fn repository() -> crate::model::pull::Repository {
    crate::model::pull::Repository {
        id: 1,
        full_name: "o/r".into(),
    }
}

fn record(
    existing: Option<&PreviewEnvironmentSpec>,
    e: &PullRequestEvent,
) -> PreviewEnvironmentSpec {
    match decide(existing, e, None, e.pull.pr_updated_at.unwrap()) {
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
        (pushed.pull.head_sha.as_str(), &pushed.desired),
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
fn a_repository_moved_out_destroys_a_running_preview_and_keeps_other_tombstones() {
    let opened = record(None, &event(PullAction::Opened, "a", 1));
    let mut moved = event(PullAction::MovedOut, "a", 1);
    moved.pull.repository.full_name = "elsewhere/r".into();
    let ended = record(Some(&opened), &moved);
    assert_eq!(
        ended.desired,
        Desired::Destroyed(DestroyReason::Transferred)
    );
    assert_eq!(ended.pull.repository.full_name, "elsewhere/r");
    // Same `updated_at`, another desired state: not a race to settle with GitHub.
    assert!(!ended.confirm_with_github);
    assert_eq!(ended.last_activity_at, opened.last_activity_at);
    let closed = record(
        Some(&opened),
        &event(PullAction::Closed { merged: false }, "a", 2),
    );
    let still = record(Some(&closed), &event(PullAction::MovedOut, "a", 2));
    assert_eq!(still.desired, Desired::Destroyed(DestroyReason::Closed));
    assert!(matches!(
        decide(None, &moved, None, at(1).unwrap()),
        Decision::Ignore(_)
    ));
    // Served again and deployed by a maintainer: the tombstone clears.
    assert!(DestroyReason::Transferred.cleared_by_deploy_command());
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
    opened.pull.fork = true;
    let mut recorded = record(None, &opened);
    assert!(recorded.pull.fork && recorded.approved_sha.is_none());
    recorded.approved_sha = Some("a".into());
    let mut pushed = event(PullAction::Synchronize, "b", 2);
    pushed.pull.fork = true;
    let pushed = record(Some(&recorded), &pushed);
    assert_eq!(
        (
            pushed.pull.head_sha.as_str(),
            pushed.approved_sha.as_deref()
        ),
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
        pull: PullFacts {
            repository: repository(),
            number: 3,
            title: "t".into(),
            author: "a".into(),
            ..PullFacts::default()
        },
        open,
        comment_id: id,
        created_at: at(0),
        login: "maintainer".into(),
        command: crate::model::command::Command::Pin,
    }
}

fn none_taken(_: u64) -> bool {
    false
}

#[test]
fn a_command_is_recorded_once() {
    let now = at(1).unwrap();
    let Decision::Record(fresh) = with_command(None, none_taken, &command(7, true), now) else {
        panic!()
    };
    assert!(fresh.confirm_with_github, "unknown PR: ask GitHub first");
    assert_eq!(fresh.commands.len(), 1);
    assert!(matches!(
        with_command(Some(&fresh), none_taken, &command(7, true), now),
        Decision::Ignore(_)
    ));
    let opened = record(None, &event(PullAction::Opened, "a", 1));
    assert!(matches!(
        with_command(Some(&opened), |id| id == 7, &command(7, true), now),
        Decision::Ignore(_)
    ));
    assert!(matches!(
        with_command(None, none_taken, &command(8, false), now),
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
    let now = event(PullAction::Synchronize, "new", 5).pull;
    let open = PullState {
        open: true,
        merged: false,
    };
    let settled = settle(&late, &now, open, at(9).unwrap());
    assert_eq!(
        (settled.pull.head_sha.as_str(), settled.confirm_with_github),
        ("new", false)
    );
    assert_eq!(settled.desired, Desired::Deployed);
    let merged = PullState {
        open: false,
        merged: true,
    };
    assert_eq!(
        settle(&late, &now, merged, at(9).unwrap()).desired,
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

#[test]
fn a_redelivered_open_does_not_undo_a_destroy() {
    let opened = record(None, &event(PullAction::Opened, "a", 1));
    for reason in [
        DestroyReason::Requested,
        DestroyReason::Expired,
        DestroyReason::LabelRemoved,
    ] {
        let mut destroyed = opened.clone();
        destroyed.desired = Desired::Destroyed(reason);
        let again = record(Some(&destroyed), &event(PullAction::Opened, "a", 1));
        assert_eq!(again.desired, destroyed.desired, "{reason:?}");
    }
}

#[test]
fn an_old_event_without_a_record_is_confirmed_with_github() {
    let opened = event(PullAction::Opened, "a", 1);
    let updated = opened.pull.pr_updated_at.unwrap();
    let decided_at = |age: chrono::Duration| match decide(None, &opened, None, updated + age) {
        Decision::Record(spec) => spec.confirm_with_github,
        Decision::Ignore(why) => panic!("ignored: {why}"),
    };
    assert!(!decided_at(chrono::Duration::seconds(5)));
    assert!(!decided_at(chrono::Duration::minutes(60)));
    // A record removed after `keepDestroyedFor` may have said the pull request is closed.
    assert!(decided_at(chrono::Duration::minutes(61)));
    assert!(decided_at(chrono::Duration::days(8)));
    // The resync's facts come from GitHub: nothing to confirm.
    let resynced = event(PullAction::Resynced, "a", 1);
    let late = updated + chrono::Duration::days(8);
    let Decision::Record(spec) = decide(None, &resynced, None, late) else {
        panic!("ignored")
    };
    assert!(!spec.confirm_with_github);
    // With a record, the record decides.
    let recorded = record(None, &opened);
    let pushed = event(PullAction::Synchronize, "b", 2);
    let Decision::Record(spec) = decide(Some(&recorded), &pushed, None, late) else {
        panic!("ignored")
    };
    assert!(!spec.confirm_with_github);
}
