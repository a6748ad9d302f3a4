//! Whether a commit's CI lets it deploy (pure): each gated check is found among the commit's
//! check runs and commit statuses by name, and the commit passes when every one has concluded
//! `success`, `neutral` or `skipped`. A gated check that does not exist yet is waited for, so a
//! fresh push never deploys before its CI has started.

use crate::model::checks::{CheckState, ChecksOutcome, GatedCheck};
use crate::model::crd::{Desired, PreviewEnvironmentSpec, PreviewEnvironmentStatus};

/// A check the repository gates on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Gated {
    /// The check run's name or the commit status's context.
    pub name: String,
    /// Only check runs of this GitHub App count (a required check pinned to its source).
    pub app_id: Option<u64>,
}

impl Gated {
    /// A check gated by name, from any source.
    pub(crate) fn named(name: &str) -> Self {
        Gated {
            name: name.to_owned(),
            app_id: None,
        }
    }
}

/// A check run of the commit, as GitHub lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Run {
    /// Its name.
    pub name: String,
    /// The GitHub App that created it.
    pub app_id: Option<u64>,
    /// `queued`, `in_progress`, `completed` (or `waiting`, `requested`, `pending`).
    pub status: String,
    /// Once completed: `success`, `failure`, `neutral`, `cancelled`, `skipped`, `timed_out`...
    pub conclusion: Option<String>,
    /// Its page.
    pub url: Option<String>,
    /// Its id (a re-run has a higher one).
    pub id: u64,
}

/// A commit status, the latest of its context.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Status {
    /// Its context.
    pub context: String,
    /// `error`, `failure`, `pending` or `success`.
    pub state: String,
    /// Its page, if it gave one.
    pub url: Option<String>,
}

/// What the commit's checks say.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Every gated check passed (or nothing is gated).
    Passed,
    /// GitHub would not say (a permission missing, say): waited on like a check not created.
    Unreadable(String),
    /// Not yet: these gated checks have not passed (`outcome` says whether one failed).
    NotYet {
        /// `Waiting` or `Failed`.
        outcome: ChecksOutcome,
        /// The gated checks that have not passed, in gated order.
        checks: Vec<GatedCheck>,
    },
}

/// Conclusions of a completed check run that let a commit deploy.
const PASSING: [&str; 3] = ["success", "neutral", "skipped"];

/// Judges the commit whose check runs are `runs` and statuses `statuses` by the `gated` checks.
pub(crate) fn judge(gated: &[Gated], runs: &[Run], statuses: &[Status]) -> Verdict {
    let mut seen_names = Vec::new();
    let mut not_passed = Vec::new();
    let pinned = |name: &str| gated.iter().any(|g| g.name == name && g.app_id.is_some());
    for gate in gated {
        // A name pinned to an App anywhere is judged pinned (an unpinned duplicate would let
        // anyone's run or status pass it).
        if seen_names.contains(&gate.name) || (gate.app_id.is_none() && pinned(&gate.name)) {
            continue;
        }
        seen_names.push(gate.name.clone());
        if let Some(check) = judge_one(gate, runs, statuses) {
            not_passed.push(check);
        }
    }
    if not_passed.is_empty() {
        return Verdict::Passed;
    }
    let failed = not_passed.iter().any(|c| c.state == CheckState::Failed);
    Verdict::NotYet {
        outcome: if failed {
            ChecksOutcome::Failed
        } else {
            ChecksOutcome::Waiting
        },
        checks: not_passed,
    }
}

/// Where one gated check stands; `None` when it passed. A failed source outweighs a running
/// one, which outweighs one that passed (a check run and a status of the same name both count).
fn judge_one(gate: &Gated, runs: &[Run], statuses: &[Status]) -> Option<GatedCheck> {
    let latest_run = runs
        .iter()
        .filter(|r| r.name == gate.name)
        .filter(|r| gate.app_id.is_none() || r.app_id == gate.app_id)
        .max_by_key(|r| r.id);
    // A commit status names no App: it cannot pass a check pinned to one.
    let status = statuses
        .iter()
        .filter(|_| gate.app_id.is_none())
        .find(|s| s.context == gate.name);
    let from_run = latest_run.map(|run| match (run.status.as_str(), &run.conclusion) {
        ("completed", Some(c)) if PASSING.contains(&c.as_str()) => (None, run.url.clone()),
        ("completed", conclusion) => (
            Some((
                CheckState::Failed,
                Some(conclusion.clone().unwrap_or_else(|| "failed".into())),
            )),
            run.url.clone(),
        ),
        _ => (Some((CheckState::Running, None)), run.url.clone()),
    });
    let from_status = status.map(|s| match s.state.as_str() {
        "success" => (None, s.url.clone()),
        "pending" => (Some((CheckState::Running, None)), s.url.clone()),
        other => (
            Some((CheckState::Failed, Some(other.to_owned()))),
            s.url.clone(),
        ),
    });
    let found: Vec<_> = from_run.into_iter().chain(from_status).collect();
    if found.is_empty() {
        return Some(GatedCheck {
            name: gate.name.clone(),
            state: CheckState::NotCreated,
            conclusion: None,
            url: None,
        });
    }
    let rank = |state: &Option<(CheckState, Option<String>)>| match state {
        Some((CheckState::Failed, _)) => 2,
        Some(_) => 1,
        None => 0,
    };
    let (worst, url) = found.into_iter().max_by_key(|(state, _)| rank(state))?;
    let (state, conclusion) = worst?;
    Some(GatedCheck {
        name: gate.name.clone(),
        state,
        conclusion,
        url,
    })
}

/// The status message of a commit waiting for `checks` (`outcome`), e.g. `waiting for checks:
/// build (running), lint (not created yet)`.
pub(crate) fn message(outcome: ChecksOutcome, checks: &[GatedCheck], timeout: &str) -> String {
    let listed = |state: Option<CheckState>| {
        checks
            .iter()
            .filter(|c| state.is_none_or(|s| c.state == s))
            .map(GatedCheck::describe)
            .collect::<Vec<_>>()
            .join(", ")
    };
    match outcome {
        ChecksOutcome::Waiting => format!("waiting for checks: {}", listed(None)),
        ChecksOutcome::Failed => format!(
            "not deployed: check failed: {}; a new push or a re-run that passes deploys it",
            listed(Some(CheckState::Failed))
        ),
        ChecksOutcome::TimedOut => format!(
            "checks did not finish within {timeout}: {}; nothing was deployed (push again, comment `/preview deploy` to wait again, or `/preview deploy --force`)",
            listed(None)
        ),
    }
}

/// Whether a change to commit `sha`'s checks may let the preview `spec`/`status` go on: it
/// should run `sha`, which does not run yet, and its wait has not been given up.
pub(crate) fn waits_on(
    spec: &PreviewEnvironmentSpec,
    status: Option<&PreviewEnvironmentStatus>,
    sha: &str,
) -> bool {
    let forced = spec.forced_sha.as_deref() == Some(sha);
    let unapproved_fork = spec.pull.fork && spec.approved_sha.as_deref() != Some(sha);
    if spec.desired != Desired::Deployed || spec.pull.head_sha != sha || forced || unapproved_fork {
        return false;
    }
    let Some(status) = status else {
        return true;
    };
    match &status.checks {
        Some(wait) if wait.sha == sha => wait.outcome != ChecksOutcome::TimedOut,
        _ => status.deployed_sha.as_deref() != Some(sha),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(name: &str, id: u64, status: &str, conclusion: Option<&str>) -> Run {
        Run {
            name: name.into(),
            app_id: Some(15368),
            status: status.into(),
            conclusion: conclusion.map(str::to_owned),
            url: Some(format!("https://github.com/o/r/runs/{id}")),
            id,
        }
    }

    fn status(context: &str, state: &str) -> Status {
        Status {
            context: context.into(),
            state: state.into(),
            url: None,
        }
    }

    fn states(verdict: &Verdict) -> Vec<(String, CheckState)> {
        match verdict {
            Verdict::Passed | Verdict::Unreadable(_) => Vec::new(),
            Verdict::NotYet { checks, .. } => {
                checks.iter().map(|c| (c.name.clone(), c.state)).collect()
            }
        }
    }

    #[test]
    fn passing_conclusions_pass_and_nothing_gated_passes() {
        let gated = [
            Gated::named("build"),
            Gated::named("lint"),
            Gated::named("docs"),
        ];
        let runs = [
            run("build", 1, "completed", Some("success")),
            run("lint", 2, "completed", Some("neutral")),
            run("docs", 3, "completed", Some("skipped")),
        ];
        assert_eq!(judge(&gated, &runs, &[]), Verdict::Passed);
        assert_eq!(judge(&[], &[], &[]), Verdict::Passed);
    }

    #[test]
    fn a_check_not_created_yet_is_waited_for() {
        let gated = [Gated::named("build"), Gated::named("test")];
        let runs = [run("build", 1, "completed", Some("success"))];
        let verdict = judge(&gated, &runs, &[]);
        assert_eq!(states(&verdict), [("test".into(), CheckState::NotCreated)]);
        assert!(matches!(
            verdict,
            Verdict::NotYet {
                outcome: ChecksOutcome::Waiting,
                ..
            }
        ));
    }

    #[test]
    fn a_failure_anywhere_fails_and_the_latest_run_counts() {
        let gated = [Gated::named("build"), Gated::named("test")];
        let runs = [
            run("build", 1, "in_progress", None),
            run("test", 2, "completed", Some("timed_out")),
        ];
        let verdict = judge(&gated, &runs, &[]);
        let Verdict::NotYet { outcome, checks } = &verdict else {
            panic!("{verdict:?}")
        };
        assert_eq!(*outcome, ChecksOutcome::Failed);
        assert_eq!(checks[1].conclusion.as_deref(), Some("timed_out"));
        assert_eq!(
            checks[1].url.as_deref(),
            Some("https://github.com/o/r/runs/2")
        );
        // A re-run of the failed check (a higher id) replaces it.
        let rerun = [
            run("build", 1, "completed", Some("success")),
            run("test", 2, "completed", Some("failure")),
            run("test", 3, "queued", None),
        ];
        assert_eq!(
            states(&judge(&gated, &rerun, &[])),
            [("test".into(), CheckState::Running)]
        );
    }

    #[test]
    fn commit_statuses_count_like_check_runs() {
        let gated = [Gated::named("ci/jenkins"), Gated::named("deploy/preflight")];
        let statuses = [
            status("ci/jenkins", "success"),
            status("deploy/preflight", "pending"),
        ];
        assert_eq!(
            states(&judge(&gated, &[], &statuses)),
            [("deploy/preflight".into(), CheckState::Running)]
        );
        let failed = [
            status("ci/jenkins", "error"),
            status("deploy/preflight", "success"),
        ];
        let verdict = judge(&gated, &[], &failed);
        assert!(matches!(
            verdict,
            Verdict::NotYet {
                outcome: ChecksOutcome::Failed,
                ..
            }
        ));
        // A run and a status of one name: the worse counts.
        let both = judge(
            &[Gated::named("build")],
            &[run("build", 1, "completed", Some("success"))],
            &[status("build", "failure")],
        );
        assert_eq!(states(&both), [("build".into(), CheckState::Failed)]);
    }

    #[test]
    fn a_check_pinned_to_an_app_ignores_runs_of_other_apps() {
        let gated = [Gated {
            name: "build".into(),
            app_id: Some(15368),
        }];
        let mut impostor = run("build", 2, "completed", Some("success"));
        impostor.app_id = Some(666);
        assert_eq!(
            states(&judge(&gated, &[impostor], &[])),
            [("build".into(), CheckState::NotCreated)]
        );
        let genuine = run("build", 1, "completed", Some("success"));
        assert_eq!(
            judge(&gated, std::slice::from_ref(&genuine), &[]),
            Verdict::Passed
        );
        // Neither a status nor an unpinned duplicate of the name passes it.
        let status = [status("build", "success")];
        let both = [Gated::named("build"), gated[0].clone()];
        assert_eq!(
            states(&judge(&both, &[], &status)),
            [("build".into(), CheckState::NotCreated)]
        );
        assert_eq!(judge(&both, &[genuine], &status), Verdict::Passed);
    }

    #[test]
    fn names_gated_twice_are_judged_once() {
        let gated = [Gated::named("build"), Gated::named("build")];
        assert_eq!(states(&judge(&gated, &[], &[])).len(), 1);
    }

    #[test]
    fn only_a_head_that_waits_is_woken() {
        use crate::model::checks::ChecksReport;
        let sha = "a".repeat(40);
        let mut spec: PreviewEnvironmentSpec = serde_json::from_value(serde_json::json!({
            "repository": {"id": 1, "fullName": "o/r"}, "number": 1, "headSha": sha,
            "branch": "f", "baseBranch": "main", "title": "t", "author": "a",
            "desired": {"state": "Deployed"}
        }))
        .unwrap();
        assert!(waits_on(&spec, None, &sha), "not judged yet");
        assert!(!waits_on(&spec, None, &"b".repeat(40)), "another commit");
        let mut status = PreviewEnvironmentStatus {
            deployed_sha: Some(sha.clone()),
            ..Default::default()
        };
        assert!(!waits_on(&spec, Some(&status), &sha), "already runs");
        status.deployed_sha = Some("b".repeat(40));
        assert!(waits_on(&spec, Some(&status), &sha));
        status.checks = Some(ChecksReport {
            sha: sha.clone(),
            since: chrono::Utc::now(),
            outcome: ChecksOutcome::Failed,
            checks: Vec::new(),
        });
        assert!(waits_on(&spec, Some(&status), &sha), "a re-run may pass");
        status.checks.as_mut().unwrap().outcome = ChecksOutcome::TimedOut;
        assert!(!waits_on(&spec, Some(&status), &sha), "given up");
        status.checks = None;
        spec.forced_sha = Some(sha.clone());
        assert!(!waits_on(&spec, Some(&status), &sha), "forced: runs anyway");
        spec.forced_sha = None;
        spec.pull.fork = true;
        assert!(!waits_on(&spec, Some(&status), &sha), "a fork not approved");
        spec.approved_sha = Some(sha.clone());
        assert!(waits_on(&spec, Some(&status), &sha), "a fork approved");
        spec.desired = Desired::Destroyed(crate::model::crd::DestroyReason::Closed);
        status.checks = None;
        assert!(!waits_on(&spec, Some(&status), &sha), "not wanted");
    }

    #[test]
    fn messages_name_the_checks() {
        let checks = [
            GatedCheck {
                name: "build".into(),
                state: CheckState::Running,
                conclusion: None,
                url: None,
            },
            GatedCheck {
                name: "test".into(),
                state: CheckState::Failed,
                conclusion: Some("failure".into()),
                url: None,
            },
        ];
        assert_eq!(
            message(ChecksOutcome::Waiting, &checks[..1], "1h"),
            "waiting for checks: build (running)"
        );
        assert!(
            message(ChecksOutcome::Failed, &checks, "1h")
                .starts_with("not deployed: check failed: test (failure);")
        );
        assert!(
            message(ChecksOutcome::TimedOut, &checks[..1], "1h")
                .starts_with("checks did not finish within 1h: build (running);")
        );
    }
}
