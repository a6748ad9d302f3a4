//! Deployment and deployment status objects.

use serde_json::{Value, json};

use super::super::deployments::{Deployment, DeploymentStatus};
use super::super::state::User;
use super::{Urls, simple_user, timestamp};

fn deployment_url(urls: &Urls, deployment: &Deployment) -> String {
    format!(
        "{}/repos/{}/{}/deployments/{}",
        urls.api, deployment.owner, deployment.repo, deployment.id
    )
}

/// A `deployment`.
pub(crate) fn deployment(urls: &Urls, deployment: &Deployment, creator: &User) -> Value {
    let url = deployment_url(urls, deployment);
    json!({
        "url": url,
        "id": deployment.id,
        "node_id": format!("DE_{:x}", deployment.id),
        "sha": deployment.sha,
        "ref": deployment.git_ref,
        "task": "deploy",
        "payload": deployment.payload,
        "original_environment": deployment.environment,
        "environment": deployment.environment,
        "description": deployment.description,
        "creator": simple_user(urls, creator),
        "created_at": timestamp(deployment.created_at),
        "updated_at": timestamp(deployment.created_at),
        "statuses_url": format!("{url}/statuses"),
        "repository_url": format!("{}/repos/{}/{}", urls.api, deployment.owner, deployment.repo),
        "transient_environment": deployment.transient,
        "production_environment": deployment.production,
        "performed_via_github_app": null,
    })
}

/// A `deployment-status`.
pub(crate) fn deployment_status(
    urls: &Urls,
    status: &DeploymentStatus,
    deployment: &Deployment,
    creator: &User,
) -> Value {
    let deployment_url = deployment_url(urls, deployment);
    // GitHub's schema wants addresses here: those not given are left out, and `target_url`
    // (required) falls back to the repository's deployments page.
    let target_url = [&status.log_url, &status.environment_url]
        .into_iter()
        .find(|url| !url.is_empty())
        .cloned()
        .unwrap_or_else(|| {
            format!(
                "{}/{}/{}/deployments",
                urls.web, deployment.owner, deployment.repo
            )
        });
    let mut value = json!({
        "url": format!("{deployment_url}/statuses/{}", status.id),
        "id": status.id,
        "node_id": format!("DES_{:x}", status.id),
        "state": status.state,
        "creator": simple_user(urls, creator),
        "description": status.description,
        "environment": deployment.environment,
        "target_url": target_url,
        "created_at": timestamp(status.created_at),
        "updated_at": timestamp(status.created_at),
        "deployment_url": deployment_url,
        "repository_url": format!("{}/repos/{}/{}", urls.api, deployment.owner, deployment.repo),
        "performed_via_github_app": null,
    });
    for (field, url) in [
        ("log_url", &status.log_url),
        ("environment_url", &status.environment_url),
    ] {
        if !url.is_empty() {
            value[field] = json!(url);
        }
    }
    value
}
