//! The next step of a reconcile (pure). The controller gathers what it knows about a preview
//! into `Facts`, asks `plan` for the one step to take, and executes it. A step that learns
//! something (the namespace, a queue slot, how applying went, that the namespace is being
//! deleted) adds it to the facts and the controller plans again; the last step is always a
//! `Report`: the observation to publish (status and PR comment, written once) and when to look
//! again.

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::admission::{self, Admission, admit, needs_slot};
use super::checks::{self, Verdict};
use super::expiry::expires_at;
use super::gate::{Gate, gate};
use super::queue::Slot;
use super::readiness::Readiness;
use super::status::{Observation, holds_deployment};
use crate::config::RepositoryConfig;
use crate::config::repository::Checks;
use crate::model::checks::{CheckState, ChecksOutcome, ChecksReport, GatedCheck};
use crate::model::crd::{
    Desired, DestroyReason, Phase, PreviewEnvironmentSpec, PreviewEnvironmentStatus,
};
use crate::model::time::age;
use crate::timing;

/// What the controller knows about a preview when it plans.
#[derive(Clone, Debug)]
pub(crate) struct Facts<'a> {
    /// The preview's name, which is also its namespace's.
    pub name: &'a str,
    /// What should be.
    pub spec: &'a PreviewEnvironmentSpec,
    /// What was last reported.
    pub status: &'a PreviewEnvironmentStatus,
    /// The spec changed since the status was written: a new deployment attempt starts.
    pub generation_changed: bool,
    /// The PreviewEnvironment itself is being deleted (its finalizer runs).
    pub deleting: bool,
    /// The repository's settings.
    pub repository: &'a RepositoryConfig,
    /// previewd is paused: nothing new deploys.
    pub paused: bool,
    /// How long workloads may take to become ready.
    pub ready_timeout: Duration,
    /// How long a namespace may take to go before it is reported stuck.
    pub terminate_timeout: Duration,
    /// How long the record of a destroyed preview is kept.
    pub keep_destroyed_for: Duration,
    /// When these facts hold.
    pub now: DateTime<Utc>,
    /// The preview's namespace, once looked at.
    pub namespace: Option<NamespaceState>,
    /// The queue's verdict, once asked.
    pub slot: Option<Slot>,
    /// How applying went, once done.
    pub applied: Option<ApplyOutcome>,
    /// What the head SHA's CI checks say, once read (only when the repository gates on them).
    pub checks: Option<Verdict>,
    /// How often checks are read again while the head waits for them.
    pub checks_recheck: Duration,
}

/// The namespace of the preview's name, as the API server showed it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum NamespaceState {
    /// There is none.
    Absent,
    /// It carries this preview's ownership labels and uid.
    Ours {
        /// Since when it is being deleted, if it is.
        terminating_since: Option<DateTime<Utc>>,
    },
    /// Someone else's (or another preview's, or another installation's).
    Foreign {
        /// It is being deleted.
        terminating: bool,
    },
}

/// How applying the preview's objects went.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum ApplyOutcome {
    /// Rendering or resolving the kinds refused the set; nothing was applied.
    Invalid(String),
    /// The API server refused an object (the message names it); what came before it may run.
    Refused {
        /// The file, kind, name and the API server's reason.
        why: String,
        /// Kinds applied now or before (for pruning).
        kinds: Vec<String>,
    },
    /// The fences are applied but the quota controller has not counted the ResourceQuota yet,
    /// so no templated object was applied.
    QuotaUncounted {
        /// What is awaited.
        what: String,
        /// Where the fences come from (named in a failure).
        source: String,
        /// Kinds applied now or before (for pruning).
        kinds: Vec<String>,
    },
    /// Everything was applied.
    Applied {
        /// The preview's URL.
        url: String,
        /// The kinds applied.
        kinds: Vec<String>,
        /// The workloads' readiness, from what the API server returned.
        readiness: Readiness,
    },
}

/// The one thing to do now.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Step {
    /// Ask GitHub for the pull request and record what it says (deliveries disagreed, or a
    /// command came for a pull request previewd had not seen).
    Confirm,
    /// Authorize and run the commands recorded from PR comments.
    RunCommands,
    /// Record that the preview expired (the write wakes the controller for the teardown).
    Expire,
    /// Read the namespace of the preview's name.
    LookAtNamespace,
    /// Read the head SHA's CI checks (and the required ones, if the repository gates on those).
    ReadChecks,
    /// Ask the queue for a slot, waiting since `since`.
    ClaimSlot {
        /// Since when the preview waits.
        since: DateTime<Utc>,
    },
    /// Render and apply the preview's objects.
    Apply,
    /// Delete the preview's namespace.
    DeleteNamespace,
    /// Remove the record of a preview destroyed longer ago than it is kept.
    Forget,
    /// Publish `seen` (status and PR comment), then `then`.
    Report {
        /// What the reconcile found.
        seen: Observation,
        /// When to look again.
        then: Then,
    },
}

/// When the controller looks at the preview again after a report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Then {
    /// When something about it changes (its spec, its namespace, its workloads).
    AwaitChange,
    /// After this long (or sooner, when something changes).
    After(Duration),
    /// The finalizer waits for the namespace to be gone: a retry, not a result.
    StillTerminating,
}

/// The next step for the preview the facts describe.
pub(crate) fn plan(f: &Facts<'_>) -> Step {
    if f.deleting {
        let reason = match f.spec.desired {
            Desired::Destroyed(reason) => reason,
            Desired::Deployed => DestroyReason::Deleted,
        };
        return teardown(f, &destroyed(reason));
    }
    if f.spec.confirm_with_github {
        return Step::Confirm;
    }
    if !f.spec.commands.is_empty() {
        return Step::RunCommands;
    }
    if expired(f) {
        return Step::Expire;
    }
    match f.spec.desired {
        Desired::Destroyed(reason) => teardown(f, &destroyed(reason)),
        Desired::Deployed => deploy(f),
    }
}

/// The status message of a preview destroyed for `reason`.
fn destroyed(reason: DestroyReason) -> String {
    format!("destroyed because {}", reason.describe())
}

/// When the preview expires, counting from its current deployment's start as well.
fn expires(f: &Facts<'_>) -> Option<DateTime<Utc>> {
    expires_at(f.spec, f.repository.ttl.0, f.status.deploy_started_at)
}

/// Whether a deployed preview is idle past its time to live.
fn expired(f: &Facts<'_>) -> bool {
    holds_deployment(f.status)
        && f.spec.desired == Desired::Deployed
        && expires(f).is_some_and(|at| at <= f.now)
}

/// What every report starts from: the namespace and the SHA last deployed.
fn carried_over(f: &Facts<'_>) -> Observation {
    Observation {
        namespace: Some(f.name.to_owned()),
        deployed_sha: f.status.deployed_sha.clone(),
        ..Observation::default()
    }
}

fn report(seen: Observation, then: Then) -> Step {
    Step::Report { seen, then }
}

/// Towards Destroyed: delete the namespace if it is this preview's, report Terminating until it
/// is gone, then Destroyed with `because`.
fn teardown(f: &Facts<'_>, because: &str) -> Step {
    let Some(namespace) = &f.namespace else {
        return Step::LookAtNamespace;
    };
    let base = carried_over(f);
    match namespace {
        NamespaceState::Ours {
            terminating_since: None,
        } => Step::DeleteNamespace,
        NamespaceState::Ours {
            terminating_since: Some(since),
        } => {
            let waited = (f.now - *since).to_std().unwrap_or_default();
            let stuck = (waited > f.terminate_timeout).then(|| {
                format!(
                    "namespace {} is still terminating after {}s; check its remaining objects and finalizers",
                    f.name,
                    f.terminate_timeout.as_secs()
                )
            });
            let then = match f.deleting {
                true => Then::StillTerminating,
                // The namespace watch wakes the controller when it is gone; this bounds the wait.
                false => Then::After(timing::TERMINATING_POLL),
            };
            let terminating = Observation {
                phase: Phase::Terminating,
                message: stuck,
                ..base
            };
            report(terminating, then)
        }
        NamespaceState::Foreign { .. } => {
            let message = format!(
                "{because}; namespace {} was never this preview's and was left alone",
                f.name
            );
            gone(
                f,
                Observation {
                    phase: Phase::Destroyed,
                    message: Some(message),
                    ..base
                },
            )
        }
        NamespaceState::Absent => gone(
            f,
            Observation {
                phase: Phase::Destroyed,
                message: Some(because.to_owned()),
                ..base
            },
        ),
    }
}

/// Destroyed: reported; the record is removed once `retention` says its time is up.
fn gone(f: &Facts<'_>, destroyed: Observation) -> Step {
    if f.deleting {
        return report(destroyed, Then::AwaitChange);
    }
    match retention(f.spec, f.status, f.keep_destroyed_for, f.now) {
        None => report(destroyed, Then::AwaitChange),
        Some(left) if !left.is_zero() => report(destroyed, Then::After(left)),
        Some(_) => Step::Forget,
    }
}

/// How long the record of a destroyed preview whose namespace is gone is still kept: `None` for
/// ever (until its reason changes), zero when it may be removed now (pure). Records of closed or
/// merged pull requests, and of repositories transferred away, are kept for `keep` since the
/// preview was destroyed and since the pull request last changed. Other reasons (a maintainer's
/// destroy, an expiry, a removed label) concern an open pull request of a served repository,
/// and must keep holding against the resync and later pushes: those records stay until it
/// closes.
pub(crate) fn retention(
    spec: &PreviewEnvironmentSpec,
    status: &PreviewEnvironmentStatus,
    keep: Duration,
    now: DateTime<Utc>,
) -> Option<Duration> {
    let ended = matches!(
        spec.desired,
        Desired::Destroyed(
            DestroyReason::Closed | DestroyReason::Merged | DestroyReason::Transferred
        )
    );
    if !ended {
        return None;
    }
    let destroyed_at = match (status.phase, status.last_transition_at) {
        (Phase::Destroyed, Some(at)) => at,
        _ => now,
    };
    let since = destroyed_at.max(spec.pull.pr_updated_at.unwrap_or(destroyed_at));
    Some(keep.saturating_sub(age(since, now)))
}

/// Towards the head SHA running: the repository's policy, the namespace, the pause switch and
/// the queue decide whether it may deploy now; then apply and judge readiness.
fn deploy(f: &Facts<'_>) -> Step {
    let Some(namespace) = &f.namespace else {
        return Step::LookAtNamespace;
    };
    let expires = expires(f);
    let base = Observation {
        expires_at: expires,
        applied_kinds: f.status.applied_kinds.clone(),
        ..carried_over(f)
    };
    let with = |phase: Phase, message: String| Observation {
        phase,
        message: Some(message),
        ..base.clone()
    };
    let running_sha = Some(f.status)
        .filter(|s| holds_deployment(s))
        .and_then(|s| s.deployed_sha.as_deref());
    let ours = matches!(namespace, NamespaceState::Ours { .. });

    if let Gate::Closed(closed) = gate(f.spec, f.repository) {
        if running_sha.is_some() && closed.keep_running {
            return hold(f, &base, closed.reason);
        }
        let was_deployed = ours || holds_deployment(f.status) || f.status.phase == Phase::Destroyed;
        if was_deployed {
            return teardown(f, &format!("not deployed: {}", closed.reason));
        }
        let waiting = Observation {
            quiet: !closed.announce,
            ..with(Phase::Pending, closed.reason)
        };
        return report(waiting, Then::AwaitChange);
    }
    match namespace {
        NamespaceState::Ours {
            terminating_since: Some(_),
        }
        | NamespaceState::Foreign { terminating: true } => {
            let why = format!(
                "waiting for the previous namespace {} to finish terminating",
                f.name
            );
            return report(
                with(Phase::Pending, why),
                Then::After(timing::PREVIOUS_NAMESPACE_POLL),
            );
        }
        NamespaceState::Foreign { terminating: false } => {
            let why = format!(
                "namespace {} already exists and does not belong to this preview; previewd will not touch it",
                f.name
            );
            return report(
                with(Phase::Failed, why),
                Then::After(timing::FOREIGN_NAMESPACE_RECHECK),
            );
        }
        NamespaceState::Absent
        | NamespaceState::Ours {
            terminating_since: None,
        } => {}
    }

    if let Some(waiting) = wait_for_checks(f, &base, running_sha) {
        return waiting;
    }

    let queued_since = f.status.queued_at.unwrap_or(f.now);
    // A paused previewd admits nothing new, so it takes no slot either.
    if needs_slot(running_sha) && !f.paused && f.slot.is_none() {
        return Step::ClaimSlot {
            since: queued_since,
        };
    }
    let admission = admit(&admission::Facts {
        paused: f.paused,
        head_sha: &f.spec.pull.head_sha,
        running_sha,
        slot: f.slot.clone(),
    });
    match admission {
        Admission::Proceed => {}
        Admission::Wait(why) => {
            return report(
                with(Phase::Pending, why),
                Then::After(timing::PAUSED_RECHECK),
            );
        }
        Admission::Queue(why) => {
            let queued = Observation {
                queued_at: Some(queued_since),
                ..with(Phase::Pending, why)
            };
            // Woken when a slot frees; the requeue is a backstop.
            return report(queued, Then::After(timing::QUEUE_BACKSTOP));
        }
        Admission::Hold(why) => return hold(f, &base, why),
    }

    let Some(applied) = &f.applied else {
        return Step::Apply;
    };
    judge(f, base, expires, applied)
}

/// While the head SHA's gated CI checks have not passed: keeps what runs running (or nothing)
/// and says what it waits for; `None` when the head may deploy (nothing gated, the checks
/// passed, the head already runs, or a maintainer forced it).
fn wait_for_checks(f: &Facts<'_>, base: &Observation, running_sha: Option<&str>) -> Option<Step> {
    let head = f.spec.pull.head_sha.as_str();
    let gated = f.repository.checks != Checks::None;
    if !gated || running_sha == Some(head) || f.spec.forced_sha.as_deref() == Some(head) {
        return None;
    }
    // The wait counts from when this SHA was first found waiting, or from the last push or
    // `/preview deploy`, whichever is later.
    let recorded = f.status.checks.as_ref().filter(|c| c.sha == head);
    let since = recorded.map_or(f.now, |c| c.since);
    let since = f
        .spec
        .last_activity_at
        .map_or(since, |at| since.max(at))
        .min(f.now);
    // Given up on, and not asked again since: the checks are not read any more.
    let given_up = recorded.filter(|c| c.outcome == ChecksOutcome::TimedOut && c.since == since);
    let unreadable;
    let (outcome, checks) = match (given_up, &f.checks) {
        (Some(report), _) => (&report.outcome, &report.checks),
        (None, None) => return Some(Step::ReadChecks),
        (None, Some(Verdict::Passed)) => return None,
        (None, Some(Verdict::NotYet { outcome, checks })) => (outcome, checks),
        (None, Some(Verdict::Unreadable(why))) => {
            unreadable = vec![GatedCheck {
                name: format!("(previewd could not read the checks: {why})"),
                state: CheckState::NotCreated,
                conclusion: None,
                url: None,
            }];
            (&ChecksOutcome::Waiting, &unreadable)
        }
    };
    let timeout = f.repository.checks_timeout;
    let elapsed = (f.now - since).to_std().unwrap_or_default();
    let timed_out = elapsed >= timeout;
    // A failed check is waited on too (a re-run may pass), up to the timeout.
    let outcome = match outcome {
        _ if timed_out => ChecksOutcome::TimedOut,
        other => *other,
    };
    let message = checks::message(outcome, checks, &crate::model::duration::format(timeout));
    let then = match (timed_out, running_sha) {
        // What runs is still looked at now and then (its expiry, its drift).
        (true, Some(_)) => Then::After(timing::HOLD_RECHECK),
        (true, None) => Then::AwaitChange,
        (false, _) => Then::After(
            f.checks_recheck
                .min(timeout - elapsed)
                .max(timing::MIN_REQUEUE),
        ),
    };
    let waiting = Box::new(ChecksReport {
        sha: head.to_owned(),
        since,
        outcome,
        checks: checks.clone(),
    });
    let seen = match running_sha {
        Some(_) => held(f, base, message),
        None => Observation {
            phase: Phase::Pending,
            message: Some(message),
            ..base.clone()
        },
    };
    let seen = Observation {
        checks: Some(waiting),
        ..seen
    };
    Some(report(seen, then))
}

/// Keeps what runs running and says why nothing new is deployed.
fn hold(f: &Facts<'_>, base: &Observation, why: String) -> Step {
    report(held(f, base, why), Then::After(timing::HOLD_RECHECK))
}

/// What runs, its phase and address unchanged, with `why` nothing new is deployed.
fn held(f: &Facts<'_>, base: &Observation, why: String) -> Observation {
    Observation {
        phase: f.status.phase,
        message: Some(why),
        url: f.status.url.clone(),
        ..base.clone()
    }
}

/// The report after applying: the phase from what the API server returned, and when to look
/// again (in time to expire the preview, never sooner than a second).
fn judge(
    f: &Facts<'_>,
    base: Observation,
    expires: Option<DateTime<Utc>>,
    applied: &ApplyOutcome,
) -> Step {
    let started = match f.status.deploy_started_at {
        Some(at) if !f.generation_changed => at,
        _ => f.now,
    };
    let elapsed = (f.now - started).to_std().unwrap_or_default();
    let timed_out = elapsed >= f.ready_timeout;
    let until_expiry = |after: Duration| {
        let left = expires.map_or(after, |at| (at - f.now).to_std().unwrap_or_default());
        Then::After(after.min(left).max(timing::MIN_REQUEUE))
    };
    let failed = |message: String| Observation {
        phase: Phase::Failed,
        message: Some(message),
        ..base.clone()
    };
    // Objects may run from here on: the preview holds its slot until torn down.
    let partly = |message: String, kinds: &[String]| Observation {
        deployed_sha: Some(f.spec.pull.head_sha.clone()),
        applied_kinds: kinds.to_vec(),
        ..failed(message)
    };
    match applied {
        ApplyOutcome::Invalid(why) => report(failed(why.clone()), Then::AwaitChange),
        ApplyOutcome::Refused { why, kinds } => report(
            partly(why.clone(), kinds),
            Then::After(timing::REFUSED_RETRY),
        ),
        ApplyOutcome::QuotaUncounted {
            what,
            source,
            kinds,
        } if timed_out => report(
            partly(format!("{source}: {what}"), kinds),
            Then::After(timing::REFUSED_RETRY),
        ),
        ApplyOutcome::QuotaUncounted { what, kinds, .. } => {
            let waiting = Observation {
                phase: Phase::Deploying,
                message: Some(format!("waiting for {what}")),
                deploy_started_at: Some(started),
                ..partly(String::new(), kinds)
            };
            report(waiting, Then::After(timing::QUOTA_POLL))
        }
        ApplyOutcome::Applied {
            url,
            kinds,
            readiness,
        } => {
            let seen = |phase: Phase, message: Option<String>| Observation {
                phase,
                message,
                url: Some(url.clone()),
                deployed_sha: Some(f.spec.pull.head_sha.clone()),
                applied_kinds: kinds.clone(),
                deploy_started_at: Some(started),
                ..base.clone()
            };
            match readiness {
                Readiness::Ready => report(
                    seen(Phase::Ready, None),
                    until_expiry(timing::READY_RECHECK),
                ),
                Readiness::Failed(why) => report(
                    seen(Phase::Failed, Some(why.clone())),
                    until_expiry(timing::FAILED_RETRY),
                ),
                Readiness::Waiting(what) if timed_out => {
                    let why = format!("not ready after {}s: {what}", f.ready_timeout.as_secs());
                    report(
                        seen(Phase::Failed, Some(why)),
                        until_expiry(timing::FAILED_RETRY),
                    )
                }
                Readiness::Waiting(what) => {
                    let left = f.ready_timeout.saturating_sub(elapsed);
                    report(
                        seen(Phase::Deploying, Some(format!("waiting for {what}"))),
                        Then::After(left.min(timing::DEPLOYING_POLL)),
                    )
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
