//! Settling a same-second disagreement between deliveries by asking GitHub for the pull request.
//! A GitHub error changes nothing (and never deletes anything): the reconcile is retried.

use kube::runtime::controller::Action;

use crate::controller::spec_write::replace_spec;
use crate::controller::{Ctx, Error};
use crate::model::crd::PreviewEnvironment;
use crate::rules::intent::settle;

/// Rewrites `pe`'s spec from GitHub's current view of the PR; the write wakes the controller.
pub(crate) async fn run(pe: &PreviewEnvironment, ctx: &Ctx) -> Result<Action, Error> {
    let pull = ctx
        .github
        .get_pull(&pe.spec.pull.repository.full_name, pe.spec.pull.number)
        .await?;
    let facts = pull.facts(pe.spec.pull.repository.clone());
    let settled = settle(&pe.spec, &facts, pull.state(), chrono::Utc::now());
    tracing::info!(sha = %settled.pull.head_sha, desired = ?settled.desired, "settled by GitHub's current state");
    replace_spec(ctx, pe, settled).await?;
    Ok(Action::await_change())
}
