//! Settling a same-second disagreement between deliveries by asking GitHub for the pull request.
//! A GitHub error changes nothing (and never deletes anything): the reconcile is retried.

use kube::api::PostParams;
use kube::runtime::controller::Action;
use kube::{Api, ResourceExt};

use super::controller::{Ctx, Error};
use super::crd::PreviewEnvironment;
use super::intent::{CurrentPull, settle};
use super::labels::FIELD_MANAGER;

/// Rewrites `pe`'s spec from GitHub's current view of the PR; the write wakes the controller.
pub async fn run(pe: &PreviewEnvironment, ctx: &Ctx) -> Result<Action, Error> {
    let pull = ctx
        .github
        .get_pull(&pe.spec.repository.full_name, pe.spec.number)
        .await?;
    let current = CurrentPull {
        open: pull.state == "open",
        merged: pull.merged,
        head_sha: pull.head.sha,
        branch: pull.head.name,
        base_branch: pull.base.name,
        title: pull.title,
        updated_at: pull.updated_at,
    };
    let mut settled = pe.clone();
    settled.spec = settle(&pe.spec, &current);
    settled.metadata.managed_fields = None;
    tracing::info!(sha = %settled.spec.head_sha, desired = ?settled.spec.desired, "settled by GitHub's current state");
    let params = PostParams {
        field_manager: Some(FIELD_MANAGER.into()),
        ..Default::default()
    };
    Api::<PreviewEnvironment>::all(ctx.client.clone())
        .replace(&pe.name_any(), &params, &settled)
        .await?;
    Ok(Action::await_change())
}
