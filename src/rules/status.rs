//! The status a reconcile writes (pure): what it found (an `Observation`), the state of the PR
//! comment, and the conditions, with transition times kept while nothing changes.

use chrono::{DateTime, Utc};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;

use crate::model::checks::ChecksReport;
use crate::model::crd::{Phase, PhaseChange, PreviewEnvironmentStatus, WantedComment};
use crate::model::markdown::clip;
use crate::model::outbox::unsent;
use crate::model::time::to_k8s;

/// What a reconcile found; turned into status and comment.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Observation {
    /// Phase.
    pub phase: Phase,
    /// Why (failure, what is awaited, destroy reason).
    pub message: Option<String>,
    /// Preview namespace.
    pub namespace: Option<String>,
    /// Preview URL.
    pub url: Option<String>,
    /// SHA of the objects the API server accepted.
    pub deployed_sha: Option<String>,
    /// Kinds applied (for pruning).
    pub applied_kinds: Vec<String>,
    /// Start of the current deployment attempt.
    pub deploy_started_at: Option<DateTime<Utc>>,
    /// When the preview expires, if it does.
    pub expires_at: Option<DateTime<Utc>>,
    /// Since when it waits in the queue, if it does.
    pub queued_at: Option<DateTime<Utc>>,
    /// Post no new PR comment for this (an existing one is still edited).
    pub quiet: bool,
    /// The head SHA's wait for its CI checks, if it waits (boxed: most reports have none).
    pub checks: Option<Box<ChecksReport>>,
}

/// Whether a preview has objects applied (it counts against the caps until its namespace is
/// gone).
pub(crate) fn holds_deployment(status: &PreviewEnvironmentStatus) -> bool {
    status.deployed_sha.is_some() && holds_phase(status.phase)
}

pub(crate) fn holds_phase(phase: Phase) -> bool {
    matches!(
        phase,
        Phase::Deploying | Phase::Ready | Phase::Failed | Phase::Terminating
    )
}

/// Phase changes kept in the status.
pub(crate) const HISTORY_KEPT: usize = 20;

/// Longest message kept with a phase change.
const HISTORY_MESSAGE: usize = 300;

/// `history` with `seen`'s phase entered `now`, the oldest dropped past `HISTORY_KEPT`.
fn with_change(
    history: &[PhaseChange],
    seen: &Observation,
    now: DateTime<Utc>,
) -> Vec<PhaseChange> {
    let mut kept = history.to_vec();
    kept.push(PhaseChange {
        phase: seen.phase,
        at: now,
        sha: seen.deployed_sha.clone(),
        message: seen.message.as_deref().map(|m| clip(m, HISTORY_MESSAGE)),
    });
    let excess = kept.len().saturating_sub(HISTORY_KEPT);
    kept.drain(..excess);
    kept
}

/// Type of the condition saying whether the PR comment shows the current state.
const COMMENT_CONDITION: &str = "CommentUpToDate";

/// The status to write: `seen`, with transition times kept while the phase stays, and the
/// comment `wanted` in the outbox (what the publisher reported is kept as it was).
pub(crate) fn next_status(
    current: &PreviewEnvironmentStatus,
    generation: Option<i64>,
    seen: Observation,
    wanted: Option<WantedComment>,
    now: DateTime<Utc>,
) -> PreviewEnvironmentStatus {
    let failure = current.comment_failure.clone();
    let phase_changed = current.phase != seen.phase || current.last_transition_at.is_none();
    let ready = seen.phase == Phase::Ready;
    let since = |type_: &str, changed: bool| {
        current
            .conditions
            .iter()
            .find(|c| c.type_ == type_)
            .filter(|_| !changed)
            .map_or_else(|| to_k8s(now), |c| c.last_transition_time.clone())
    };
    let condition = Condition {
        type_: "Ready".into(),
        status: if ready { "True" } else { "False" }.into(),
        reason: seen.phase.as_str().into(),
        message: seen.message.clone().unwrap_or_default(),
        observed_generation: generation,
        last_transition_time: since("Ready", phase_changed),
    };
    let comment_status = if failure.is_some() { "False" } else { "True" };
    let comment_changed = !current
        .conditions
        .iter()
        .any(|c| c.type_ == COMMENT_CONDITION && c.status == comment_status);
    let comment_condition = Condition {
        type_: COMMENT_CONDITION.into(),
        status: comment_status.into(),
        reason: if failure.is_some() {
            "GitHubError"
        } else {
            "Published"
        }
        .into(),
        message: failure.unwrap_or_default(),
        observed_generation: generation,
        last_transition_time: since(COMMENT_CONDITION, comment_changed),
    };
    let history = if phase_changed {
        with_change(&current.history, &seen, now)
    } else {
        current.history.clone()
    };
    PreviewEnvironmentStatus {
        phase: seen.phase,
        namespace: seen.namespace,
        url: seen.url,
        deployed_sha: seen.deployed_sha,
        message: seen.message,
        conditions: vec![condition, comment_condition],
        comment_id: current.comment_id,
        commented: current.commented.clone(),
        comment_failure: current.comment_failure.clone(),
        comment_wanted: wanted,
        deployment: current.deployment.clone(),
        checks: seen.checks.map(|c| *c),
        reactions: unsent(&current.reactions, current.reacted_up_to)
            .cloned()
            .collect(),
        reacted_up_to: current.reacted_up_to,
        applied_kinds: seen.applied_kinds,
        deploy_started_at: seen.deploy_started_at,
        ready_at: if ready && phase_changed {
            Some(now)
        } else {
            current.ready_at.filter(|_| ready)
        },
        last_transition_at: if phase_changed {
            Some(now)
        } else {
            current.last_transition_at
        },
        observed_generation: generation,
        processed_commands: current.processed_commands.clone(),
        processed_up_to: current.processed_up_to,
        refusals: current.refusals.clone(),
        notice: current.notice.clone(),
        awaiting: current.awaiting.clone(),
        history,
        queued_at: seen.queued_at,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(second: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, second).unwrap()
    }

    fn seen(phase: Phase) -> Observation {
        Observation {
            phase,
            deployed_sha: Some("a".repeat(40)),
            message: Some("m".repeat(1000)),
            ..Observation::default()
        }
    }

    #[test]
    fn each_phase_change_is_kept_and_the_history_stays_bounded() {
        let mut status = PreviewEnvironmentStatus::default();
        for (second, phase) in [(1, Phase::Deploying), (2, Phase::Ready), (3, Phase::Ready)] {
            status = next_status(&status, Some(1), seen(phase), None, at(second));
        }
        let phases: Vec<(Phase, DateTime<Utc>)> =
            status.history.iter().map(|c| (c.phase, c.at)).collect();
        assert_eq!(phases, [(Phase::Deploying, at(1)), (Phase::Ready, at(2))]);
        let message = status.history[0].message.clone().unwrap();
        assert_eq!(
            message,
            format!("{}… (700 more characters)", "m".repeat(300))
        );
        for second in 0..50 {
            let phase = [Phase::Deploying, Phase::Ready][second as usize % 2];
            status = next_status(&status, Some(1), seen(phase), None, at(second));
        }
        assert_eq!(status.history.len(), HISTORY_KEPT);
        assert_eq!(status.history.last().unwrap().at, at(49));
    }
}
