use super::*;
use crate::config::repository::Checks;
use crate::model::checks::{CheckState, ChecksOutcome, ChecksReport, GatedCheck};
use crate::model::crd::PendingCommand;
use crate::model::pull::{PullFacts, Repository};
use chrono::TimeZone;

const HEAD: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
const OLD: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const NAME: &str = "o-r-pr-3";
const READY_TIMEOUT: Duration = Duration::from_secs(600);
const TERMINATE_TIMEOUT: Duration = Duration::from_secs(300);
const CHECKS_RECHECK: Duration = Duration::from_secs(30);
const KEEP_DESTROYED: Duration = Duration::from_secs(7 * 24 * 3600);

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0).unwrap()
}

fn minutes_ago(n: i64) -> DateTime<Utc> {
    now() - chrono::Duration::minutes(n)
}

/// Everything a plan is asked about, owned, with one preview that should be deployed.
struct Fixture {
    spec: PreviewEnvironmentSpec,
    status: PreviewEnvironmentStatus,
    repository: RepositoryConfig,
    generation_changed: bool,
    deleting: bool,
    paused: bool,
    namespace: Option<NamespaceState>,
    slot: Option<Slot>,
    applied: Option<ApplyOutcome>,
    checks: Option<Verdict>,
}

impl Fixture {
    fn new() -> Self {
        Fixture {
            spec: PreviewEnvironmentSpec {
                pull: PullFacts {
                    repository: Repository {
                        id: 1,
                        full_name: "o/r".into(),
                    },
                    number: 3,
                    head_sha: HEAD.into(),
                    branch: "feature".into(),
                    base_branch: "main".into(),
                    ..PullFacts::default()
                },
                desired: Desired::Deployed,
                confirm_with_github: false,
                requested: false,
                approved_sha: None,
                forced_sha: None,
                last_activity_at: Some(minutes_ago(1)),
                extended_until: None,
                pinned: false,
                redeploys: 0,
                commands: Vec::new(),
            },
            status: PreviewEnvironmentStatus::default(),
            repository: RepositoryConfig::named("o/r"),
            generation_changed: false,
            deleting: false,
            paused: false,
            namespace: Some(NamespaceState::Absent),
            slot: Some(Slot::Free),
            applied: None,
            checks: None,
        }
    }

    /// A preview Ready at `sha` since a minute ago.
    fn running(mut self, sha: &str) -> Self {
        self.status.phase = Phase::Ready;
        self.status.deployed_sha = Some(sha.into());
        self.status.url = Some("https://o-r-pr-3.preview.test".into());
        self.status.deploy_started_at = Some(minutes_ago(1));
        self.namespace = Some(ours());
        self
    }

    fn destroyed(mut self, reason: DestroyReason) -> Self {
        self.spec.desired = Desired::Destroyed(reason);
        self
    }

    fn plan(&self) -> Step {
        plan(&Facts {
            name: NAME,
            spec: &self.spec,
            status: &self.status,
            generation_changed: self.generation_changed,
            deleting: self.deleting,
            repository: &self.repository,
            paused: self.paused,
            ready_timeout: READY_TIMEOUT,
            terminate_timeout: TERMINATE_TIMEOUT,
            keep_destroyed_for: KEEP_DESTROYED,
            now: now(),
            namespace: self.namespace.clone(),
            slot: self.slot.clone(),
            applied: self.applied.clone(),
            checks: self.checks.clone(),
            checks_recheck: CHECKS_RECHECK,
        })
    }

    /// The report the plan makes; panics on any other step.
    fn report(&self) -> (Observation, Then) {
        match self.plan() {
            Step::Report { seen, then } => (seen, then),
            other => panic!("expected a report, got {other:?}"),
        }
    }
}

fn ours() -> NamespaceState {
    NamespaceState::Ours {
        terminating_since: None,
    }
}

fn terminating_since(at: DateTime<Utc>) -> NamespaceState {
    NamespaceState::Ours {
        terminating_since: Some(at),
    }
}

fn applied(readiness: Readiness) -> Option<ApplyOutcome> {
    Some(ApplyOutcome::Applied {
        url: "https://o-r-pr-3.preview.test".into(),
        kinds: vec!["apps/v1/Deployment".into()],
        readiness,
    })
}

#[test]
fn teardown_branches() {
    let closed = || Fixture::new().destroyed(DestroyReason::Closed);
    let because = "destroyed because the pull request was closed";
    let left_alone =
        format!("{because}; namespace {NAME} was never this preview's and was left alone");
    let stuck = format!(
        "namespace {NAME} is still terminating after 300s; check its remaining objects and finalizers"
    );
    // (case, namespace, deleting, expected phase, message, then)
    type Case = (
        &'static str,
        NamespaceState,
        bool,
        Phase,
        Option<String>,
        Then,
    );
    let cases: Vec<Case> = vec![
        (
            "gone",
            NamespaceState::Absent,
            false,
            Phase::Destroyed,
            Some(because.into()),
            Then::After(KEEP_DESTROYED),
        ),
        (
            "someone else's",
            NamespaceState::Foreign { terminating: false },
            false,
            Phase::Destroyed,
            Some(left_alone.clone()),
            Then::After(KEEP_DESTROYED),
        ),
        (
            "someone else's, going",
            NamespaceState::Foreign { terminating: true },
            false,
            Phase::Destroyed,
            Some(left_alone),
            Then::After(KEEP_DESTROYED),
        ),
        (
            "terminating",
            terminating_since(minutes_ago(1)),
            false,
            Phase::Terminating,
            None,
            Then::After(timing::TERMINATING_POLL),
        ),
        (
            "terminating, finalizer",
            terminating_since(minutes_ago(1)),
            true,
            Phase::Terminating,
            None,
            Then::StillTerminating,
        ),
        (
            "stuck",
            terminating_since(minutes_ago(6)),
            false,
            Phase::Terminating,
            Some(stuck),
            Then::After(timing::TERMINATING_POLL),
        ),
    ];
    for (case, namespace, deleting, phase, message, then) in cases {
        let mut f = closed().running(OLD);
        f.namespace = Some(namespace);
        f.deleting = deleting;
        let (seen, got) = f.report();
        assert_eq!(
            (seen.phase, seen.message, got),
            (phase, message, then),
            "{case}"
        );
        assert_eq!(
            seen.deployed_sha.as_deref(),
            Some(OLD),
            "{case}: the SHA is carried over"
        );
        assert_eq!(seen.namespace.as_deref(), Some(NAME), "{case}");
    }
    let mut f = closed();
    f.namespace = None;
    assert_eq!(f.plan(), Step::LookAtNamespace);
    f.namespace = Some(ours());
    assert_eq!(f.plan(), Step::DeleteNamespace);
}

#[test]
fn a_deleted_record_tears_down_whatever_it_asked() {
    let mut f = Fixture::new().running(HEAD);
    f.deleting = true;
    // Deletion wins over everything recorded.
    f.spec.confirm_with_github = true;
    assert_eq!(f.plan(), Step::DeleteNamespace);
    f.namespace = Some(NamespaceState::Absent);
    let (seen, then) = f.report();
    assert_eq!(
        (seen.phase, seen.message.as_deref(), then),
        (
            Phase::Destroyed,
            Some("destroyed because its PreviewEnvironment was deleted"),
            Then::AwaitChange
        )
    );
}

#[test]
fn confirming_then_commands_then_expiry_come_first() {
    let mut f = Fixture::new().running(HEAD);
    f.spec.last_activity_at = Some(minutes_ago(4 * 24 * 60));
    f.status.deploy_started_at = f.spec.last_activity_at;
    f.spec.commands.push(PendingCommand {
        comment_id: 1,
        login: "maintainer".into(),
        command: crate::model::command::Command::Pin,
        created_at: None,
    });
    f.spec.confirm_with_github = true;
    assert_eq!(f.plan(), Step::Confirm);
    f.spec.confirm_with_github = false;
    assert_eq!(f.plan(), Step::RunCommands);
    f.spec.commands.clear();
    assert_eq!(
        f.plan(),
        Step::Expire,
        "idle for four days, the time to live is three"
    );
    f.spec.pinned = true;
    assert_eq!(f.plan(), Step::Apply, "a pinned preview never expires");
    f.spec.pinned = false;
    f.status.phase = Phase::Pending;
    assert_ne!(
        f.plan(),
        Step::Expire,
        "what holds no deployment does not expire"
    );
}

#[test]
fn a_closed_gate_waits_holds_or_tears_down() {
    // A draft that never ran waits, and says why.
    let mut draft = Fixture::new();
    draft.spec.pull.draft = true;
    let (seen, then) = draft.report();
    assert_eq!(
        (seen.phase, seen.quiet, then),
        (Phase::Pending, false, Then::AwaitChange)
    );
    assert!(seen.message.unwrap().starts_with("draft pull request"));

    // Label mode waits without announcing itself.
    let mut unlabelled = Fixture::new();
    unlabelled.repository.label = Some("preview".into());
    let (seen, _) = unlabelled.report();
    assert!(seen.quiet);

    // A fork's new push keeps the approved commit running.
    let mut fork = Fixture::new().running(OLD);
    fork.spec.pull.fork = true;
    fork.spec.approved_sha = Some(OLD.into());
    let (seen, then) = fork.report();
    assert_eq!(
        (seen.phase, then),
        (Phase::Ready, Then::After(timing::HOLD_RECHECK))
    );
    assert_eq!(seen.url, fork.status.url);
    assert_eq!(seen.deployed_sha.as_deref(), Some(OLD));

    // A preview that ran and may no longer is taken down, saying why.
    let mut drafted = Fixture::new().running(HEAD);
    drafted.spec.pull.draft = true;
    assert_eq!(drafted.plan(), Step::DeleteNamespace);
    drafted.namespace = Some(NamespaceState::Absent);
    let (seen, _) = drafted.report();
    assert_eq!(seen.phase, Phase::Destroyed);
    assert!(
        seen.message
            .unwrap()
            .starts_with("not deployed: draft pull request")
    );
}

#[test]
fn the_namespace_decides_before_the_queue() {
    let cases = [
        (
            terminating_since(minutes_ago(1)),
            Phase::Pending,
            timing::PREVIOUS_NAMESPACE_POLL,
            "waiting for the previous namespace o-r-pr-3 to finish terminating",
        ),
        (
            NamespaceState::Foreign { terminating: true },
            Phase::Pending,
            timing::PREVIOUS_NAMESPACE_POLL,
            "waiting for the previous namespace o-r-pr-3 to finish terminating",
        ),
        (
            NamespaceState::Foreign { terminating: false },
            Phase::Failed,
            timing::FOREIGN_NAMESPACE_RECHECK,
            "namespace o-r-pr-3 already exists and does not belong to this preview; previewd will not touch it",
        ),
    ];
    for (namespace, phase, after, message) in cases {
        let mut f = Fixture::new();
        f.namespace = Some(namespace.clone());
        f.slot = None;
        let (seen, then) = f.report();
        assert_eq!(
            (seen.phase, seen.message.as_deref(), then),
            (phase, Some(message), Then::After(after)),
            "{namespace:?}"
        );
    }
    let mut f = Fixture::new();
    f.namespace = None;
    assert_eq!(f.plan(), Step::LookAtNamespace);
}

#[test]
fn admission_branches() {
    let mut new = Fixture::new();
    new.slot = None;
    assert_eq!(new.plan(), Step::ClaimSlot { since: now() });
    new.status.queued_at = Some(minutes_ago(5));
    assert_eq!(
        new.plan(),
        Step::ClaimSlot {
            since: minutes_ago(5)
        },
        "the place in the queue counts from when it started waiting"
    );

    new.slot = Some(Slot::Queued {
        place: 2,
        full: "1 of 1 previews of o/r are deployed".into(),
    });
    let (seen, then) = new.report();
    assert_eq!(
        (seen.phase, seen.queued_at, then),
        (
            Phase::Pending,
            Some(minutes_ago(5)),
            Then::After(timing::QUEUE_BACKSTOP)
        )
    );
    assert!(seen.message.unwrap().starts_with("queued: 2nd in line"));

    new.slot = Some(Slot::Free);
    assert_eq!(new.plan(), Step::Apply);

    // A running preview needs no slot to move to a new SHA.
    let mut pushed = Fixture::new().running(OLD);
    pushed.slot = None;
    assert_eq!(pushed.plan(), Step::Apply);
}

#[test]
fn paused_deploys_nothing_new_and_takes_no_slot() {
    let mut idle = Fixture::new();
    idle.paused = true;
    idle.slot = None;
    let (seen, then) = idle.report();
    assert_eq!(
        (seen.phase, seen.message.as_deref(), then),
        (
            Phase::Pending,
            Some("previewd is paused: nothing new is deployed"),
            Then::After(timing::PAUSED_RECHECK)
        )
    );

    let mut pushed = Fixture::new().running(OLD);
    pushed.paused = true;
    let (seen, then) = pushed.report();
    assert_eq!(
        (seen.phase, then),
        (Phase::Ready, Then::After(timing::HOLD_RECHECK))
    );
    assert!(
        seen.message
            .unwrap()
            .starts_with("previewd is paused: bbbbbbb is not deployed")
    );

    let mut current = Fixture::new().running(HEAD);
    current.paused = true;
    assert_eq!(
        current.plan(),
        Step::Apply,
        "what runs keeps being reconciled"
    );
}

#[test]
fn readiness_after_applying() {
    let mut f = Fixture::new();
    f.applied = applied(Readiness::Ready);
    let (seen, then) = f.report();
    assert_eq!(seen.phase, Phase::Ready);
    assert_eq!(seen.deployed_sha.as_deref(), Some(HEAD));
    assert_eq!(seen.url.as_deref(), Some("https://o-r-pr-3.preview.test"));
    assert_eq!(seen.applied_kinds, ["apps/v1/Deployment"]);
    assert_eq!(
        seen.deploy_started_at,
        Some(now()),
        "a first attempt starts now"
    );
    assert_eq!(then, Then::After(timing::READY_RECHECK));
    assert!(seen.expires_at.is_some());

    f.applied = applied(Readiness::Waiting("1 of 2 replicas".into()));
    let (seen, then) = f.report();
    assert_eq!(
        (seen.phase, seen.message.as_deref(), then),
        (
            Phase::Deploying,
            Some("waiting for 1 of 2 replicas"),
            Then::After(timing::DEPLOYING_POLL)
        )
    );

    f.applied = applied(Readiness::Failed("Deployment web: crash".into()));
    let (seen, then) = f.report();
    assert_eq!(
        (seen.phase, seen.message.as_deref(), then),
        (
            Phase::Failed,
            Some("Deployment web: crash"),
            Then::After(timing::FAILED_RETRY)
        )
    );
}

#[test]
fn waiting_is_bounded_by_the_ready_timeout_of_the_same_attempt() {
    let mut f = Fixture::new();
    f.status.deploy_started_at = Some(minutes_ago(9));
    f.applied = applied(Readiness::Waiting("1 of 2 replicas".into()));
    let (seen, then) = f.report();
    assert_eq!(seen.deploy_started_at, Some(minutes_ago(9)));
    assert_eq!(then, Then::After(timing::DEPLOYING_POLL));
    f.status.deploy_started_at = Some(minutes_ago(10) + chrono::Duration::seconds(10));
    let (_, then) = f.report();
    assert_eq!(
        then,
        Then::After(Duration::from_secs(10)),
        "never past the timeout"
    );
    f.status.deploy_started_at = Some(minutes_ago(11));
    let (seen, then) = f.report();
    assert_eq!(
        (seen.phase, seen.message.as_deref(), then),
        (
            Phase::Failed,
            Some("not ready after 600s: 1 of 2 replicas"),
            Then::After(timing::FAILED_RETRY)
        )
    );
    f.generation_changed = true;
    let (seen, _) = f.report();
    assert_eq!(
        (seen.phase, seen.deploy_started_at),
        (Phase::Deploying, Some(now())),
        "a new spec is a new attempt"
    );
}

#[test]
fn a_requeue_comes_in_time_to_expire() {
    let mut f = Fixture::new();
    f.spec.last_activity_at = Some(minutes_ago(3 * 24 * 60 - 5));
    f.status.deploy_started_at = f.spec.last_activity_at;
    f.applied = applied(Readiness::Ready);
    assert_eq!(f.report().1, Then::After(Duration::from_secs(300)));
    f.spec.last_activity_at = Some(minutes_ago(3 * 24 * 60 + 5));
    f.status.deploy_started_at = f.spec.last_activity_at;
    assert_eq!(
        f.report().1,
        Then::After(timing::MIN_REQUEUE),
        "no hot loop"
    );
}

#[test]
fn failures_while_applying() {
    let mut f = Fixture::new().running(OLD);
    f.status.applied_kinds = vec!["v1/Service".into()];
    f.applied = Some(ApplyOutcome::Invalid(
        "deployment.yaml:3:1: template error".into(),
    ));
    let (seen, then) = f.report();
    assert_eq!(
        (seen.phase, seen.message.as_deref(), then),
        (
            Phase::Failed,
            Some("deployment.yaml:3:1: template error"),
            Then::AwaitChange
        )
    );
    assert_eq!(
        seen.deployed_sha.as_deref(),
        Some(OLD),
        "nothing new was applied"
    );
    assert_eq!(seen.applied_kinds, ["v1/Service"]);

    let kinds = vec!["apps/v1/Deployment".to_owned(), "v1/Service".to_owned()];
    f.applied = Some(ApplyOutcome::Refused {
        why: "deployment.yaml: Deployment web: denied".into(),
        kinds: kinds.clone(),
    });
    let (seen, then) = f.report();
    assert_eq!(
        (seen.phase, then),
        (Phase::Failed, Then::After(timing::REFUSED_RETRY))
    );
    assert_eq!(
        seen.deployed_sha.as_deref(),
        Some(HEAD),
        "part of the new SHA may run"
    );
    assert_eq!(seen.applied_kinds, kinds);

    let quota = |started: DateTime<Utc>| {
        let mut f = Fixture::new();
        f.status.deploy_started_at = Some(started);
        f.applied = Some(ApplyOutcome::QuotaUncounted {
            what: "ResourceQuota q: not yet counted".into(),
            source: "fences".into(),
            kinds: kinds.clone(),
        });
        f.report()
    };
    let (seen, then) = quota(minutes_ago(1));
    assert_eq!(
        (
            seen.phase,
            seen.message.as_deref(),
            seen.deploy_started_at,
            then
        ),
        (
            Phase::Deploying,
            Some("waiting for ResourceQuota q: not yet counted"),
            Some(minutes_ago(1)),
            Then::After(timing::QUOTA_POLL)
        )
    );
    let (seen, then) = quota(minutes_ago(11));
    assert_eq!(
        (seen.phase, seen.message.as_deref(), then),
        (
            Phase::Failed,
            Some("fences: ResourceQuota q: not yet counted"),
            Then::After(timing::REFUSED_RETRY)
        )
    );
}

#[test]
fn a_destroyed_preview_is_forgotten_once_kept_long_enough() {
    let mut f = Fixture::new().destroyed(DestroyReason::Closed);
    f.status.phase = Phase::Destroyed;
    f.status.last_transition_at = Some(now() - chrono::Duration::days(6));
    let (seen, then) = f.report();
    assert_eq!(seen.phase, Phase::Destroyed);
    assert_eq!(then, Then::After(Duration::from_secs(24 * 3600)));
    f.status.last_transition_at = Some(now() - chrono::Duration::days(7));
    assert_eq!(f.plan(), Step::Forget);
    // Its finalizer, when the record is removed, only reports.
    f.deleting = true;
    assert!(matches!(f.plan(), Step::Report { .. }));
    // A preview still terminating is not forgotten, however long ago it was closed.
    f.deleting = false;
    f.namespace = Some(terminating_since(now() - chrono::Duration::days(8)));
    assert!(matches!(f.plan(), Step::Report { .. }));
    // Reopened and closed again meanwhile: kept from the last change of the pull request.
    f.namespace = Some(NamespaceState::Absent);
    f.spec.pull.pr_updated_at = Some(now() - chrono::Duration::hours(1));
    let (_, then) = f.report();
    assert_eq!(
        then,
        Then::After(KEEP_DESTROYED - Duration::from_secs(3600))
    );
}

#[test]
fn the_record_of_a_repository_transferred_away_is_forgotten_like_a_closed_one() {
    let mut f = Fixture::new().destroyed(DestroyReason::Transferred);
    f.status.phase = Phase::Destroyed;
    f.status.last_transition_at = Some(now() - chrono::Duration::days(7));
    assert_eq!(f.plan(), Step::Forget);
}

#[test]
fn a_destroyed_preview_of_an_open_pull_request_is_never_forgotten() {
    for reason in [
        DestroyReason::Requested,
        DestroyReason::Expired,
        DestroyReason::LabelRemoved,
    ] {
        let mut f = Fixture::new().destroyed(reason);
        f.status.phase = Phase::Destroyed;
        f.status.last_transition_at = Some(now() - chrono::Duration::days(30));
        assert_eq!(f.report().1, Then::AwaitChange, "{reason:?}");
    }
}

fn gated(state: CheckState) -> GatedCheck {
    GatedCheck {
        name: "build".into(),
        state,
        conclusion: (state == CheckState::Failed).then(|| "failure".into()),
        url: None,
    }
}

fn not_yet(outcome: ChecksOutcome, state: CheckState) -> Option<Verdict> {
    Some(Verdict::NotYet {
        outcome,
        checks: vec![gated(state)],
    })
}

fn gating() -> Fixture {
    let mut f = Fixture::new();
    f.repository.checks = Checks::Named(vec!["build".into()]);
    f
}

#[test]
fn nothing_gated_reads_no_checks() {
    assert_eq!(Fixture::new().plan(), Step::Apply);
}

#[test]
fn a_first_deploy_waits_for_its_checks_and_says_so() {
    let mut f = gating();
    assert_eq!(f.plan(), Step::ReadChecks);
    f.checks = not_yet(ChecksOutcome::Waiting, CheckState::NotCreated);
    let (seen, then) = f.report();
    assert_eq!(seen.phase, Phase::Pending);
    assert!(!seen.quiet, "the wait is announced");
    assert_eq!(
        seen.message.as_deref(),
        Some("waiting for checks: build (not created yet)")
    );
    let report = seen.checks.expect("the wait is recorded");
    assert_eq!(
        (report.sha.as_str(), report.outcome, report.since),
        (HEAD, ChecksOutcome::Waiting, now())
    );
    assert_eq!(then, Then::After(CHECKS_RECHECK));
    f.checks = Some(Verdict::Passed);
    assert_eq!(f.plan(), Step::Apply);
}

#[test]
fn a_running_preview_keeps_its_sha_while_the_new_one_waits_or_failed() {
    let mut f = gating().running(OLD);
    f.checks = not_yet(ChecksOutcome::Waiting, CheckState::Running);
    let (seen, _) = f.report();
    assert_eq!(
        (seen.phase, seen.deployed_sha.as_deref()),
        (Phase::Ready, Some(OLD))
    );
    assert_eq!(seen.url.as_deref(), Some("https://o-r-pr-3.preview.test"));
    f.checks = not_yet(ChecksOutcome::Failed, CheckState::Failed);
    let (seen, then) = f.report();
    assert_eq!(seen.deployed_sha.as_deref(), Some(OLD));
    assert!(
        seen.message
            .as_deref()
            .unwrap()
            .starts_with("not deployed: check failed: build (failure)")
    );
    assert_eq!(seen.checks.unwrap().outcome, ChecksOutcome::Failed);
    assert_eq!(then, Then::After(CHECKS_RECHECK), "a re-run is noticed");
}

#[test]
fn the_head_already_running_or_forced_is_not_gated() {
    let mut running = gating().running(HEAD);
    running.applied = applied(Readiness::Ready);
    assert!(matches!(running.plan(), Step::Report { .. }));
    let mut forced = gating();
    forced.spec.forced_sha = Some(HEAD.into());
    assert_eq!(forced.plan(), Step::Apply);
    forced.spec.forced_sha = Some(OLD.into());
    assert_eq!(forced.plan(), Step::ReadChecks, "a push waits again");
}

#[test]
fn the_wait_times_out_from_when_it_began_or_the_last_request() {
    let mut f = gating();
    f.repository.checks_timeout = Duration::from_secs(600);
    f.checks = not_yet(ChecksOutcome::Waiting, CheckState::NotCreated);
    f.spec.last_activity_at = Some(minutes_ago(20));
    f.status.checks = Some(ChecksReport {
        sha: HEAD.into(),
        since: minutes_ago(9),
        outcome: ChecksOutcome::Waiting,
        checks: vec![gated(CheckState::NotCreated)],
    });
    let (_, then) = f.report();
    assert_eq!(then, Then::After(CHECKS_RECHECK));
    f.status.checks.as_mut().unwrap().since = minutes_ago(10);
    let (seen, then) = f.report();
    assert_eq!(then, Then::AwaitChange);
    assert_eq!(
        seen.checks.as_ref().unwrap().outcome,
        ChecksOutcome::TimedOut
    );
    assert!(
        seen.message
            .unwrap()
            .starts_with("checks did not finish within 10m: build (not created yet)")
    );
    // Given up: not read again, even when asked to plan (a running preview is still looked at).
    f.status.checks = seen.checks.map(|c| *c);
    f.checks = None;
    let (seen, then) = f.report();
    assert_eq!(seen.checks.unwrap().outcome, ChecksOutcome::TimedOut);
    assert_eq!(then, Then::AwaitChange);
    let mut running = Fixture {
        status: f.status.clone(),
        ..gating().running(OLD)
    };
    running.spec.last_activity_at = f.spec.last_activity_at;
    running.repository.checks_timeout = Duration::from_secs(600);
    running.status.phase = Phase::Ready;
    running.status.deployed_sha = Some(OLD.into());
    let (seen, then) = running.report();
    assert_eq!(seen.deployed_sha.as_deref(), Some(OLD));
    assert_eq!(then, Then::After(timing::HOLD_RECHECK));
    // `/preview deploy` (or a push) starts the wait again: the checks are read again.
    f.spec.last_activity_at = Some(minutes_ago(1));
    assert_eq!(f.plan(), Step::ReadChecks);
    f.checks = not_yet(ChecksOutcome::Waiting, CheckState::NotCreated);
    let (seen, _) = f.report();
    assert_eq!(seen.checks.unwrap().since, minutes_ago(1));
    // Another SHA's wait does not count.
    f.spec.last_activity_at = None;
    f.status.checks.as_mut().unwrap().sha = OLD.into();
    let (seen, _) = f.report();
    assert_eq!(seen.checks.unwrap().since, now());
}

#[test]
fn the_recheck_comes_no_later_than_the_timeout() {
    let mut f = gating();
    f.repository.checks_timeout = Duration::from_secs(600);
    f.checks = not_yet(ChecksOutcome::Waiting, CheckState::Running);
    f.spec.last_activity_at = None;
    f.status.checks = Some(ChecksReport {
        sha: HEAD.into(),
        since: now() - chrono::Duration::seconds(590),
        outcome: ChecksOutcome::Waiting,
        checks: vec![gated(CheckState::Running)],
    });
    let (_, then) = f.report();
    assert_eq!(then, Then::After(Duration::from_secs(10)));
}

#[test]
fn a_failed_check_is_waited_on_up_to_the_timeout_and_an_unreadable_one_is_said() {
    let mut f = gating();
    f.repository.checks_timeout = Duration::from_secs(600);
    f.spec.last_activity_at = None;
    f.checks = not_yet(ChecksOutcome::Failed, CheckState::Failed);
    f.status.checks = Some(ChecksReport {
        sha: HEAD.into(),
        since: minutes_ago(11),
        outcome: ChecksOutcome::Failed,
        checks: vec![gated(CheckState::Failed)],
    });
    let (seen, then) = f.report();
    assert_eq!(seen.checks.unwrap().outcome, ChecksOutcome::TimedOut);
    assert!(seen.message.unwrap().contains("build (failure)"));
    assert_eq!(then, Then::AwaitChange);

    let mut unreadable = gating();
    unreadable.checks = Some(Verdict::Unreadable(
        "HTTP 403: Resource not accessible".into(),
    ));
    let (seen, then) = unreadable.report();
    assert_eq!(seen.phase, Phase::Pending);
    assert!(
        seen.message
            .unwrap()
            .contains("previewd could not read the checks: HTTP 403: Resource not accessible"),
    );
    assert_eq!(then, Then::After(CHECKS_RECHECK));
}
