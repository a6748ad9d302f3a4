//! GitHub deployments: found again by SHA and environment (so a restart never creates one
//! twice), created for a commit, and given statuses.

use serde::Deserialize;

use super::client::{GitHub, GitHubError};
use super::transport::{Call, Method};
use crate::model::pull::Repository;

/// GitHub cuts a status description at 140 characters.
const DESCRIPTION_LIMIT: usize = 140;

#[derive(Deserialize)]
struct Created {
    id: u64,
}

/// What a deployment status says besides its state.
#[derive(Debug, Default)]
pub(crate) struct StatusDetails<'a> {
    /// The preview's address ("View deployment").
    pub environment_url: Option<&'a str>,
    /// The PR comment.
    pub log_url: Option<&'a str>,
    /// Why (a failure's reason).
    pub description: Option<&'a str>,
}

impl GitHub {
    /// The newest deployment of `sha` to `environment`, if there is one.
    pub(crate) async fn find_deployment(
        &self,
        repository: &Repository,
        sha: &str,
        environment: &str,
    ) -> Result<Option<u64>, GitHubError> {
        let call = Call::get(
            "list deployments",
            "/repos/{owner}/{repo}/deployments",
            format!("/deployments?sha={sha}&environment={environment}&per_page=1"),
        )
        .within(repository);
        let found: Vec<Created> = self.call(call).await?;
        Ok(found.first().map(|d| d.id))
    }

    /// Creates a deployment of `sha` to the transient, non-production `environment`, with no
    /// merge of the base and no required contexts (previewd deploys the head as it is).
    pub(crate) async fn create_deployment(
        &self,
        repository: &Repository,
        sha: &str,
        environment: &str,
    ) -> Result<u64, GitHubError> {
        let body = serde_json::json!({
            "ref": sha,
            "environment": environment,
            "transient_environment": true,
            "production_environment": false,
            "auto_merge": false,
            "required_contexts": [],
            "description": "preview",
        });
        let call = Call::with_body(
            "create deployment",
            Method::Post,
            "/repos/{owner}/{repo}/deployments",
            "/deployments".to_owned(),
            body,
        )
        .within(repository);
        let created: Created = self.call(call).await?;
        Ok(created.id)
    }

    /// Gives deployment `id` a status of `state`.
    pub(crate) async fn report_deployment(
        &self,
        repository: &Repository,
        id: u64,
        state: &str,
        details: StatusDetails<'_>,
    ) -> Result<(), GitHubError> {
        let mut body = serde_json::json!({ "state": state, "auto_inactive": false });
        if let Some(url) = details.environment_url {
            body["environment_url"] = url.into();
        }
        if let Some(url) = details.log_url {
            body["log_url"] = url.into();
        }
        if let Some(text) = details.description {
            let cut: String = text.chars().take(DESCRIPTION_LIMIT).collect();
            body["description"] = cut.into();
        }
        let call = Call::with_body(
            "create deployment status",
            Method::Post,
            "/repos/{owner}/{repo}/deployments/{deployment_id}/statuses",
            format!("/deployments/{id}/statuses"),
            body,
        )
        .within(repository);
        let _: Created = self.call(call).await?;
        Ok(())
    }
}
