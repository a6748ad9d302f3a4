//! Settling a same-second disagreement between deliveries (or a command for a pull request
//! previewd had not seen) by asking GitHub for the pull request. A GitHub error changes nothing
//! (and never deletes anything): the reconcile is retried.

use chrono::{DateTime, Utc};
use kube::runtime::controller::Action;

use super::spec_write::replace_spec;
use super::{Ctx, Error};
use crate::github::client::{GitHub, GitHubError};
use crate::model::crd::{PreviewEnvironment, PreviewEnvironmentSpec};
use crate::rules::intent::settle;

/// Rewrites `pe`'s spec from GitHub's current view of the PR; the write wakes the controller.
pub(crate) async fn run(pe: &PreviewEnvironment, ctx: &Ctx) -> Result<Action, Error> {
    let settled = settled_spec(&ctx.github, &pe.spec, Utc::now()).await?;
    tracing::info!(sha = %settled.pull.head_sha, desired = ?settled.desired, "settled by GitHub's current state");
    replace_spec(ctx, pe, settled).await?;
    Ok(Action::await_change())
}

/// The recorded `spec` settled by what GitHub reports about its pull request `now`.
pub async fn settled_spec(
    github: &GitHub,
    spec: &PreviewEnvironmentSpec,
    now: DateTime<Utc>,
) -> Result<PreviewEnvironmentSpec, GitHubError> {
    let repository = &spec.pull.repository;
    let pull = github.get_pull(repository, spec.pull.number).await?;
    let facts = pull.facts(repository.clone());
    Ok(settle(spec, &facts, pull.state(), now))
}
