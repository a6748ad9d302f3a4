//! Settling a same-second disagreement between deliveries by asking GitHub for the pull request.
//! A GitHub error changes nothing (and never deletes anything): the reconcile is retried.

use kube::runtime::controller::Action;

use crate::controller::spec_write::replace_spec;
use crate::controller::{Ctx, Error};
use crate::model::crd::PreviewEnvironment;
use crate::rules::intent::{CurrentPull, settle};

/// Rewrites `pe`'s spec from GitHub's current view of the PR; the write wakes the controller.
pub async fn run(pe: &PreviewEnvironment, ctx: &Ctx) -> Result<Action, Error> {
    let pull = ctx
        .github
        .get_pull(&pe.spec.repository.full_name, pe.spec.number)
        .await?;
    let current = CurrentPull {
        open: pull.state == "open",
        merged: pull.merged,
        fork: pull.is_fork_of(pe.spec.repository.id),
        labels: pull.label_names(),
        author: pull.author(),
        head_sha: pull.head.sha,
        branch: pull.head.name,
        base_branch: pull.base.name,
        title: pull.title,
        updated_at: pull.updated_at,
        draft: pull.draft,
        html_url: pull.html_url,
    };
    let settled = settle(&pe.spec, &current, chrono::Utc::now());
    tracing::info!(sha = %settled.head_sha, desired = ?settled.desired, "settled by GitHub's current state");
    replace_spec(ctx, pe, settled).await?;
    Ok(Action::await_change())
}
