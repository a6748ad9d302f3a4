//! Reporting a preview's state: the sticky PR comment first (so its id is known), then the
//! status subresource, each written only when what it says changed.

use chrono::{DateTime, Utc};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use kube::api::{Patch, PatchParams};
use kube::{Api, ResourceExt};
use serde_json::json;

use super::controller::{Ctx, Error};
use super::crd::{Phase, PreviewEnvironment, PreviewEnvironmentStatus};
use super::labels::FIELD_MANAGER;
use crate::github::comment::{self, CommentView};

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
    let sha = seen.deployed_sha.as_deref().unwrap_or(&pe.spec.head_sha);
    let view = CommentView {
        phase: seen.phase,
        url: seen.url.as_deref(),
        sha,
        namespace: &name,
        // Progress while deploying changes often; the comment shows it only in its phase.
        message: seen
            .message
            .as_deref()
            .filter(|_| seen.phase != Phase::Deploying),
    };
    let fingerprint = view.fingerprint();
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
    if commented.as_deref() != Some(fingerprint.as_str()) {
        let body = comment::render(&view, &ctx.settings.instance, Utc::now());
        match upsert_comment(pe, ctx, current.comment_id, &body).await {
            Ok(id) => {
                comment_id = Some(id);
                commented = Some(fingerprint);
            }
            // The status still tells the truth; the comment follows on a later attempt.
            Err(e) => github_failure = Some(e),
        }
    }
    let next = next_status(
        &current,
        pe.metadata.generation,
        seen,
        comment_id,
        commented,
        Utc::now(),
    );
    if next != current {
        let patch = json!({
            "apiVersion": "previewd.dev/v1alpha1",
            "kind": "PreviewEnvironment",
            "status": next,
        });
        api.patch_status(
            &name,
            &PatchParams::apply(FIELD_MANAGER).force(),
            &Patch::Apply(&patch),
        )
        .await?;
    }
    match github_failure {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// Edits the known comment, or finds this installation's comment by its marker, or creates it.
async fn upsert_comment(
    pe: &PreviewEnvironment,
    ctx: &Ctx,
    known: Option<u64>,
    body: &str,
) -> Result<u64, Error> {
    let repo = &pe.spec.repository.full_name;
    if let Some(id) = known {
        match ctx.github.update_comment(repo, id, body).await {
            Ok(()) => return Ok(id),
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
        .list_comments(repo, pe.spec.number)
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
        ctx.github.update_comment(repo, existing.id, body).await?;
        return Ok(existing.id);
    }
    let id = ctx
        .github
        .create_comment(repo, pe.spec.number, body)
        .await?;
    if ctx.settings.failpoint.as_deref() == Some("after-comment-create") {
        tracing::error!(comment = id, "failpoint after-comment-create: aborting");
        std::process::abort();
    }
    Ok(id)
}

/// The status to write: `seen`, with transition times kept while the phase stays.
fn next_status(
    current: &PreviewEnvironmentStatus,
    generation: Option<i64>,
    seen: Observation,
    comment_id: Option<u64>,
    commented: Option<String>,
    now: DateTime<Utc>,
) -> PreviewEnvironmentStatus {
    let phase_changed = current.phase != seen.phase || current.last_transition_at.is_none();
    let ready = seen.phase == Phase::Ready;
    let condition = Condition {
        type_: "Ready".into(),
        status: if ready { "True" } else { "False" }.into(),
        reason: seen.phase.as_str().into(),
        message: seen.message.clone().unwrap_or_default(),
        observed_generation: generation,
        last_transition_time: if phase_changed {
            k8s_time(now)
        } else {
            current
                .conditions
                .first()
                .map(|c| c.last_transition_time.clone())
                .unwrap_or(k8s_time(now))
        },
    };
    PreviewEnvironmentStatus {
        phase: seen.phase,
        namespace: seen.namespace,
        url: seen.url,
        deployed_sha: seen.deployed_sha,
        message: seen.message,
        conditions: vec![condition],
        comment_id,
        commented,
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
    }
}

/// Kubernetes' own time type, converted at the edge (second precision, as the API stores it).
fn k8s_time(at: DateTime<Utc>) -> Time {
    Time(k8s_openapi::jiff::Timestamp::from_second(at.timestamp()).unwrap_or_default())
}
