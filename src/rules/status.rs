//! The status a reconcile writes (pure): what it found (an `Observation`), the state of the PR
//! comment, and the conditions, with transition times kept while nothing changes.

use chrono::{DateTime, Utc};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;

use crate::model::crd::{Phase, PreviewEnvironmentStatus};
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

/// The PR comment as this reconcile left it.
pub(crate) struct Comment {
    /// Its id, once known.
    pub id: Option<u64>,
    /// Fingerprint of what it shows.
    pub fingerprint: Option<String>,
    /// Why GitHub did not take the latest edit, if it did not.
    pub failure: Option<String>,
}

/// Type of the condition saying whether the PR comment shows the current state.
const COMMENT_CONDITION: &str = "CommentUpToDate";

/// The status to write: `seen`, with transition times kept while the phase stays.
pub(crate) fn next_status(
    current: &PreviewEnvironmentStatus,
    generation: Option<i64>,
    seen: Observation,
    comment: Comment,
    now: DateTime<Utc>,
) -> PreviewEnvironmentStatus {
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
    let comment_status = if comment.failure.is_some() {
        "False"
    } else {
        "True"
    };
    let comment_changed = !current
        .conditions
        .iter()
        .any(|c| c.type_ == COMMENT_CONDITION && c.status == comment_status);
    let comment_condition = Condition {
        type_: COMMENT_CONDITION.into(),
        status: comment_status.into(),
        reason: if comment.failure.is_some() {
            "GitHubError"
        } else {
            "Published"
        }
        .into(),
        message: comment.failure.unwrap_or_default(),
        observed_generation: generation,
        last_transition_time: since(COMMENT_CONDITION, comment_changed),
    };
    PreviewEnvironmentStatus {
        phase: seen.phase,
        namespace: seen.namespace,
        url: seen.url,
        deployed_sha: seen.deployed_sha,
        message: seen.message,
        conditions: vec![condition, comment_condition],
        comment_id: comment.id,
        commented: comment.fingerprint,
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
        queued_at: seen.queued_at,
    }
}
