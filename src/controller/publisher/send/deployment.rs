//! The preview's GitHub deployment, once its comment says what is wanted: found again or
//! created for the SHA the comment is about, given the state its phase stands for, the earlier
//! one made inactive (`rules::deployment` decides which). Only for repositories with
//! `deployments` on. What GitHub took is noted step by step in `known`, which the publisher
//! writes into the status, so a failure or a restart resumes where it stopped.

use kube::ResourceExt;
use tokio::time::Instant;

use super::Next;
use crate::controller::{Ctx, github_retry};
use crate::github::client::GitHubError;
use crate::github::deployments::StatusDetails;
use crate::metrics;
use crate::model::crd::{DeploymentReport, PreviewEnvironment, PreviewEnvironmentStatus};
use crate::rules::deployment::{self, Steps};

/// Brings the deployment to what `status`'s comment (`comment_id`, as GitHub has it now) says.
pub(super) async fn publish(
    ctx: &Ctx,
    pe: &PreviewEnvironment,
    status: &PreviewEnvironmentStatus,
    comment_id: Option<u64>,
    known: &mut Option<DeploymentReport>,
) -> Next {
    let settings = &ctx.settings;
    let repository = &pe.spec.pull.repository;
    let on = settings
        .config
        .repository_settings(&settings.allowlist, repository)
        .deployments;
    let Some(wanted) = status.comment_wanted.as_ref().filter(|_| on) else {
        return Next::Idle;
    };
    let steps = deployment::steps(known.as_ref(), wanted);
    if steps.is_empty() {
        return Next::Idle;
    }
    match send(ctx, pe, status, comment_id, steps, known).await {
        Ok(()) => Next::Idle,
        Err(e) => {
            tracing::warn!(preview = %pe.name_any(), error = %e, "the GitHub deployment was not updated");
            metrics::get().error("github");
            Next::At(Instant::now() + github_retry(&e))
        }
    }
}

async fn send(
    ctx: &Ctx,
    pe: &PreviewEnvironment,
    status: &PreviewEnvironmentStatus,
    comment_id: Option<u64>,
    steps: Steps,
    known: &mut Option<DeploymentReport>,
) -> Result<(), GitHubError> {
    let github = &ctx.github;
    let repository = &pe.spec.pull.repository;
    let environment = deployment::environment(pe.spec.pull.number);
    if let Some(sha) = steps.deploy {
        let id = match github
            .find_deployment(repository, &sha, &environment)
            .await?
        {
            Some(id) => id,
            None => {
                let id = github
                    .create_deployment(repository, &sha, &environment)
                    .await?;
                if ctx.settings.failpoint.as_deref() == Some("after-deployment-create") {
                    tracing::error!(
                        deployment = id,
                        "failpoint after-deployment-create: aborting"
                    );
                    std::process::abort();
                }
                id
            }
        };
        *known = Some(DeploymentReport {
            sha,
            id,
            state: None,
            retiring: steps.retire.clone(),
        });
    }
    if let (Some(state), Some(current)) = (steps.report, known.as_mut()) {
        let log_url =
            comment_id.map(|id| format!("{}#issuecomment-{id}", pe.spec.pull.pull_request_url));
        let details = StatusDetails {
            environment_url: status.url.as_deref().filter(|_| state == "success"),
            log_url: log_url.as_deref(),
            description: status.message.as_deref().filter(|_| state == "failure"),
        };
        github
            .report_deployment(repository, current.id, state, details)
            .await?;
        current.state = Some(state.to_owned());
    }
    for id in steps.retire {
        github
            .report_deployment(repository, id, "inactive", StatusDetails::default())
            .await?;
        if let Some(current) = known.as_mut() {
            current.retiring.retain(|r| *r != id);
            if current.id == id {
                current.state = Some("inactive".to_owned());
            }
        }
    }
    Ok(())
}
