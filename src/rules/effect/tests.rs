use super::*;
use crate::model::crd::DestroyReason;
use chrono::TimeZone;

const DAY: Option<Duration> = Some(Duration::from_secs(86_400));

fn at(hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, hour, 0, 0).unwrap()
}

fn facts() -> Facts<'static> {
    Facts {
        login: "maintainer",
        ttl: DAY,
        now: at(10),
        deployed_since: None,
        gated: false,
    }
}

fn spec() -> PreviewEnvironmentSpec {
    serde_json::from_value(serde_json::json!({
        "repository": {"id": 1, "fullName": "o/r"}, "number": 1,
        "headSha": "abcdef0123456789", "branch": "f", "baseBranch": "main", "title": "t",
        "author": "a", "desired": {"state": "Deployed"}, "lastActivityAt": "2026-01-01T00:00:00Z"
    }))
    .unwrap()
}

fn run(spec: &mut PreviewEnvironmentSpec, command: Command) -> Effect {
    apply(spec, &command, facts())
}

#[test]
fn deploy_clears_what_a_command_may_clear_and_awaits_ready() {
    for reason in [
        DestroyReason::Requested,
        DestroyReason::Expired,
        DestroyReason::LabelRemoved,
    ] {
        let mut s = spec();
        s.desired = Desired::Destroyed(reason);
        let effect = run(
            &mut s,
            Command::Deploy {
                sha: None,
                force: false,
            },
        );
        assert_eq!(effect.done, Done::When(Phase::Ready), "{reason:?}");
        assert_eq!(s.desired, Desired::Deployed);
        assert!(s.requested);
        assert_eq!(s.last_activity_at, Some(at(10)), "the TTL restarts");
        assert_eq!(
            effect.notice,
            "@maintainer `/preview deploy`: deploying `abcdef0`"
        );
    }
}

#[test]
fn a_closed_pull_request_is_not_deployed() {
    for reason in [DestroyReason::Closed, DestroyReason::Merged] {
        let mut s = spec();
        s.desired = Desired::Destroyed(reason);
        let before = s.clone();
        for command in [
            Command::Deploy {
                sha: None,
                force: false,
            },
            Command::Redeploy,
        ] {
            let effect = run(&mut s, command);
            assert_eq!(effect.done, Done::Failed);
            assert!(effect.notice.contains("closed"), "{}", effect.notice);
            assert_eq!(s, before);
        }
    }
}

#[test]
fn a_named_sha_must_be_the_head_and_forks_must_name_one() {
    let mut s = spec();
    let effect = run(
        &mut s,
        Command::Deploy {
            sha: Some("1234567".into()),
            force: false,
        },
    );
    assert_eq!(effect.done, Done::Failed);
    assert!(effect.notice.contains("`1234567` is not the head"));
    let mut fork = spec();
    fork.pull.fork = true;
    let effect = run(
        &mut fork,
        Command::Deploy {
            sha: None,
            force: false,
        },
    );
    assert_eq!(effect.done, Done::Failed);
    assert!(effect.notice.contains("`/preview deploy abcdef0123456789`"));
    assert_eq!(fork.approved_sha, None);
    let effect = run(
        &mut fork,
        Command::Deploy {
            sha: Some("abcdef0".into()),
            force: false,
        },
    );
    assert_eq!(
        effect.done,
        Done::Failed,
        "a prefix does not approve a fork"
    );
    assert!(
        effect.notice.contains("full commit SHA"),
        "{}",
        effect.notice
    );
    assert_eq!(fork.approved_sha, None);
    let effect = run(
        &mut fork,
        Command::Deploy {
            sha: Some("abcdef0123456789".into()),
            force: false,
        },
    );
    assert_eq!(effect.done, Done::When(Phase::Ready));
    assert_eq!(fork.approved_sha.as_deref(), Some("abcdef0123456789"));
}

#[test]
fn redeploy_restarts_and_needs_an_approved_fork_head() {
    let mut s = spec();
    run(&mut s, Command::Redeploy);
    run(&mut s, Command::Redeploy);
    assert_eq!(s.redeploys, 2);
    let mut fork = spec();
    fork.pull.fork = true;
    fork.approved_sha = Some("0000000".into());
    assert_eq!(run(&mut fork, Command::Redeploy).done, Done::Failed);
    assert_eq!(fork.redeploys, 0);
}

#[test]
fn destroy_records_the_reason_once() {
    let mut s = spec();
    s.requested = true;
    let effect = run(&mut s, Command::Destroy);
    assert_eq!(effect.done, Done::When(Phase::Destroyed));
    assert_eq!(s.desired, Desired::Destroyed(DestroyReason::Requested));
    assert!(!s.requested);
    assert_eq!(run(&mut s, Command::Destroy).done, Done::Now);
}

#[test]
fn extend_pin_and_unpin_move_the_expiry() {
    let mut s = spec();
    assert_eq!(
        expires_at(&s, DAY, None),
        Some(at(0) + chrono::Duration::hours(24))
    );
    let effect = run(&mut s, Command::Extend { seconds: 7200 });
    assert_eq!(effect.done, Done::Now);
    assert_eq!(
        effect.notice,
        "@maintainer `/preview extend 2h`: the preview now expires at 2026-01-02T02:00:00Z"
    );
    assert_eq!(
        expires_at(&s, DAY, None),
        Some(at(2) + chrono::Duration::hours(24))
    );
    run(&mut s, Command::Pin);
    assert_eq!(expires_at(&s, DAY, None), None);
    let effect = run(&mut s, Command::Unpin);
    assert!(!s.pinned);
    assert_eq!(
        effect.notice,
        "@maintainer `/preview unpin`: unpinned: the preview expires at 2026-01-02T10:00:00Z"
    );
}

#[test]
fn extend_fails_without_a_ttl_or_a_preview() {
    let mut s = spec();
    let no_ttl = Facts {
        ttl: None,
        ..facts()
    };
    assert_eq!(
        apply(&mut s, &Command::Extend { seconds: 60 }, no_ttl).done,
        Done::Failed
    );
    s.desired = Desired::Destroyed(DestroyReason::Expired);
    assert_eq!(
        run(&mut s, Command::Extend { seconds: 60 }).done,
        Done::Failed
    );
    assert_eq!(s.extended_until, None);
}

#[test]
fn status_and_help_change_nothing() {
    let mut s = spec();
    let before = s.clone();
    assert_eq!(run(&mut s, Command::Status).done, Done::Now);
    let help = run(&mut s, Command::Help { problem: None });
    assert_eq!(help.done, Done::Now);
    assert!(help.notice.contains(HELP));
    let unknown = run(
        &mut s,
        Command::Help {
            problem: Some("unknown command `frobnicate`".into()),
        },
    );
    assert_eq!(unknown.done, Done::Failed);
    assert!(unknown.notice.contains("unknown command `frobnicate`"));
    assert_eq!(s, before);
    assert_eq!(
        refusal("mallory", &Command::Destroy, "o/r"),
        "@mallory `/preview destroy` was refused: commands need write permission on o/r"
    );
}

#[test]
fn a_forced_deploy_skips_the_checks_of_the_head_only() {
    let mut s = spec();
    let gated = Facts {
        gated: true,
        ..facts()
    };
    let waits = apply(
        &mut s,
        &Command::Deploy {
            sha: None,
            force: false,
        },
        gated,
    );
    assert_eq!(
        waits.notice,
        "@maintainer `/preview deploy`: deploying `abcdef0` once its CI checks pass"
    );
    assert_eq!(s.forced_sha, None);
    let forced = apply(
        &mut s,
        &Command::Deploy {
            sha: None,
            force: true,
        },
        gated,
    );
    assert_eq!(
        forced.notice,
        "@maintainer `/preview deploy --force`: deploying `abcdef0` now, without waiting for its CI checks (`--force`)"
    );
    assert_eq!(s.forced_sha.as_deref(), Some(s.pull.head_sha.as_str()));
    // A fork still needs its exact SHA; forcing does not approve anything else.
    let mut fork = spec();
    fork.pull.fork = true;
    let refused = apply(
        &mut fork,
        &Command::Deploy {
            sha: None,
            force: true,
        },
        gated,
    );
    assert_eq!(refused.done, Done::Failed);
    assert_eq!((fork.forced_sha, fork.approved_sha), (None, None));
}
