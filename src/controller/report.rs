//! Reporting a preview's state: the sticky PR comment first (so its id is known), then the
//! status subresource, each written only when what it says changed.

use chrono::{DateTime, Utc};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use kube::api::{Patch, PatchParams};
use kube::{Api, ResourceExt};
use serde_json::json;

use crate::controller::commands::settle_awaiting;
use crate::controller::events::Severity;
use crate::controller::{Ctx, Error};
use crate::github::comment::{self, CommentView};
use crate::model::crd::{Phase, PreviewEnvironment, PreviewEnvironmentStatus};
use crate::model::labels::FIELD_MANAGER;

/// What a reconcile found; turned into status and comment.
#[derive(Clone, Debug, Default)]
pub struct Observation {
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

impl Observation {
    /// What a reconcile starts from: the preview's namespace and the SHA it last deployed.
    pub fn carried_over(pe: &PreviewEnvironment) -> Self {
        Observation {
            namespace: Some(pe.name_any()),
            deployed_sha: pe.status.as_ref().and_then(|s| s.deployed_sha.clone()),
            ..Observation::default()
        }
    }
}

/// Publishes `seen` for `pe`: edits (or creates) the PR comment if its content changed, then
/// writes the status if it changed.
pub async fn publish(pe: &PreviewEnvironment, ctx: &Ctx, seen: Observation) -> Result<(), Error> {
    let name = pe.name_any();
    let api = Api::<PreviewEnvironment>::all(ctx.client.clone());
    let mut current = pe.status.clone().unwrap_or_default();
    let fingerprint = view_of(pe, &seen, &current).fingerprint();
    if current.commented.as_deref() != Some(fingerprint.as_str()) {
        // The watch cache can lag behind our own last status write: ask the API server before
        // saying the same thing on GitHub twice.
        if let Some(fresh) = api.get_opt(&name).await? {
            current = fresh.status.unwrap_or_default();
        }
    }
    let mut comment_id = current.comment_id;
    let mut commented = current.commented.clone();
    let mut github_failure = None;
    let silent = seen.quiet && comment_id.is_none() && current.notice.is_none();
    if commented.as_deref() != Some(fingerprint.as_str()) && !silent {
        let view = view_of(pe, &seen, &current);
        let body = comment::render(&view, &ctx.settings.instance, Utc::now());
        match upsert_comment(pe, ctx, current.comment_id, &body).await {
            Ok(Upserted { id, sent }) => {
                comment_id = Some(id);
                // An edit overtaken by a newer one is not on GitHub: the fingerprint stays, so
                // the next reconcile looks again rather than believe the comment current.
                if sent {
                    commented = Some(fingerprint);
                }
            }
            // The status still tells the truth; the comment follows on a later attempt.
            Err(e) => github_failure = Some(e),
        }
    }
    let at_head = seen.deployed_sha.as_deref() == Some(pe.spec.pull.head_sha.as_str());
    let awaiting = settle_awaiting(pe, ctx, &current.awaiting, seen.phase, at_head).await;
    let released = holds_deployment(&current) && !holds_phase(seen.phase);
    let mut next = next_status(
        &current,
        pe.metadata.generation,
        seen,
        Comment {
            id: comment_id,
            fingerprint: commented,
            failure: github_failure.as_ref().map(ToString::to_string),
        },
        Utc::now(),
    );
    next.awaiting = awaiting;
    if next != current {
        write_status(ctx, &name, &next).await?;
    }
    if next.phase != current.phase {
        let severity = match next.phase {
            Phase::Failed => Severity::Warning,
            _ => Severity::Normal,
        };
        let note = next.message.as_deref().unwrap_or(next.phase.as_str());
        ctx.events
            .phase_changed(pe, next.phase.as_str(), severity, note)
            .await;
    }
    if released {
        // A slot is free: the first in the queue may take it.
        ctx.queue.wake();
    }
    match github_failure {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// Writes the whole status under previewd's one field manager (server-side apply), so a field
/// left out is a field removed; returns the object as the API server stored it.
pub async fn write_status(
    ctx: &Ctx,
    name: &str,
    status: &PreviewEnvironmentStatus,
) -> Result<PreviewEnvironment, Error> {
    let patch = json!({
        "apiVersion": "previewd.dev/v1alpha1",
        "kind": "PreviewEnvironment",
        "status": status,
    });
    Ok(Api::<PreviewEnvironment>::all(ctx.client.clone())
        .patch_status(
            name,
            &PatchParams::apply(FIELD_MANAGER).force(),
            &Patch::Apply(&patch),
        )
        .await?)
}

/// What the comment shows for `seen`.
fn view_of<'a>(
    pe: &'a PreviewEnvironment,
    seen: &'a Observation,
    current: &'a PreviewEnvironmentStatus,
) -> CommentView<'a> {
    CommentView {
        phase: seen.phase,
        url: seen.url.as_deref(),
        sha: seen
            .deployed_sha
            .as_deref()
            .unwrap_or(&pe.spec.pull.head_sha),
        namespace: pe.metadata.name.as_deref().unwrap_or_default(),
        // Progress while deploying changes often; the comment shows it only in its phase.
        message: seen
            .message
            .as_deref()
            .filter(|_| seen.phase != Phase::Deploying),
        expires_at: seen.expires_at.filter(|_| holds_phase(seen.phase)),
        notice: current.notice.as_deref(),
    }
}

/// Whether a preview has objects applied (it counts against the caps until its namespace is
/// gone).
pub fn holds_deployment(status: &PreviewEnvironmentStatus) -> bool {
    status.deployed_sha.is_some() && holds_phase(status.phase)
}

fn holds_phase(phase: Phase) -> bool {
    matches!(
        phase,
        Phase::Deploying | Phase::Ready | Phase::Failed | Phase::Terminating
    )
}

/// The comment an upsert left: its id, and whether this body went out.
struct Upserted {
    id: u64,
    sent: bool,
}

/// Edits the known comment, or finds this installation's comment by its marker, or creates it.
async fn upsert_comment(
    pe: &PreviewEnvironment,
    ctx: &Ctx,
    known: Option<u64>,
    body: &str,
) -> Result<Upserted, Error> {
    let repo = &pe.spec.pull.repository.full_name;
    if let Some(id) = known {
        match ctx.github.update_comment(repo, id, body).await {
            Ok(sent) => return Ok(Upserted { id, sent }),
            Err(e) if e.is_not_found() => {
                tracing::info!(comment = id, "comment gone; looking for it again")
            }
            Err(e) => return Err(e.into()),
        }
    }
    let login = ctx.github.login().await?.to_owned();
    let marker = comment::marker(&ctx.settings.instance);
    let found = ctx
        .github
        .list_comments(repo, pe.spec.pull.number)
        .await?
        .into_iter()
        .find(|c| {
            comment::is_own(
                c.body.as_deref(),
                c.user.as_ref().map(|u| u.login.as_str()),
                &login,
                &marker,
            )
        });
    if let Some(existing) = found {
        let sent = ctx.github.update_comment(repo, existing.id, body).await?;
        return Ok(Upserted {
            id: existing.id,
            sent,
        });
    }
    let id = ctx
        .github
        .create_comment(repo, pe.spec.pull.number, body)
        .await?;
    if ctx.settings.failpoint.as_deref() == Some("after-comment-create") {
        tracing::error!(comment = id, "failpoint after-comment-create: aborting");
        std::process::abort();
    }
    Ok(Upserted { id, sent: true })
}

/// The PR comment as this reconcile left it.
struct Comment {
    /// Its id, once known.
    id: Option<u64>,
    /// Fingerprint of what it shows.
    fingerprint: Option<String>,
    /// Why GitHub did not take the latest edit, if it did not.
    failure: Option<String>,
}

/// Type of the condition saying whether the PR comment shows the current state.
const COMMENT_CONDITION: &str = "CommentUpToDate";

/// The status to write: `seen`, with transition times kept while the phase stays.
fn next_status(
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
            .map_or_else(|| k8s_time(now), |c| c.last_transition_time.clone())
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
        notice: current.notice.clone(),
        awaiting: current.awaiting.clone(),
        queued_at: seen.queued_at,
    }
}

/// Kubernetes' own time type, converted at the edge (second precision, as the API stores it).
fn k8s_time(at: DateTime<Utc>) -> Time {
    Time(k8s_openapi::jiff::Timestamp::from_second(at.timestamp()).unwrap_or_default())
}
