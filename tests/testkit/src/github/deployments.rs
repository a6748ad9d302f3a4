//! Deployments and their statuses, as GitHub keeps them: a deployment of a ref (its SHA) to an
//! environment, and the states reported for it, newest last. GitHub's `auto_inactive` (on by
//! default) marks earlier deployments of the same environment inactive when a `success` status
//! is created, but not those of transient or production environments.

use chrono::{DateTime, Utc};
use serde::Serialize;

/// One deployment.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Deployment {
    /// Id (increases with every deployment created).
    pub id: u64,
    pub(crate) owner: String,
    pub(crate) repo: String,
    /// The commit deployed.
    pub sha: String,
    /// The ref asked for (a branch, or the SHA itself).
    pub git_ref: String,
    /// The environment, e.g. `preview/pr-7`.
    pub environment: String,
    /// `transient_environment`.
    pub transient: bool,
    /// `production_environment`.
    pub production: bool,
    /// Free text.
    pub description: String,
    /// Who created it.
    pub creator: String,
    pub(crate) payload: serde_json::Value,
    pub(crate) created_at: DateTime<Utc>,
}

/// One status of a deployment.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DeploymentStatus {
    /// Id.
    pub id: u64,
    /// The deployment it is about.
    pub deployment_id: u64,
    /// `error`, `failure`, `inactive`, `in_progress`, `queued`, `pending` or `success`.
    pub state: String,
    /// The environment's address (shown as "View deployment").
    pub environment_url: String,
    /// Where its log is.
    pub log_url: String,
    /// Free text.
    pub description: String,
    /// Who created it.
    pub creator: String,
    pub(crate) created_at: DateTime<Utc>,
}

/// The states GitHub accepts for a deployment status.
pub(crate) const STATES: [&str; 7] = [
    "error",
    "failure",
    "inactive",
    "in_progress",
    "queued",
    "pending",
    "success",
];
