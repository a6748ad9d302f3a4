//! One pull request as previewd knows it, whichever way it learned it: a webhook delivery, the
//! REST API (resync, confirming with GitHub), a `previewd render` invocation. The
//! PreviewEnvironment's spec carries it as recorded; templates are rendered from it.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The facts of a pull request that previewd records and renders from.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PullFacts {
    /// The repository the pull request belongs to.
    pub repository: Repository,
    /// Pull request number.
    pub number: u64,
    /// Head commit to deploy.
    pub head_sha: String,
    /// Head branch name (data only, never structure).
    pub branch: String,
    /// Base branch the pull request targets.
    pub base_branch: String,
    /// Pull request title (data only, never structure).
    pub title: String,
    /// Login of the pull request's author.
    pub author: String,
    /// The pull request's web address.
    #[serde(default)]
    pub pull_request_url: String,
    /// Whether the head lives in a fork.
    #[serde(default)]
    pub fork: bool,
    /// The pull request's `updated_at` at the last recorded event: older events never win.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pr_updated_at: Option<DateTime<Utc>>,
    /// Whether the pull request is a draft.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub draft: bool,
    /// The pull request's labels.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<String>,
}

/// The repository a preview belongs to.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Repository {
    /// GitHub's numeric repository id (stable across renames).
    pub id: u64,
    /// `owner/name`.
    pub full_name: String,
}

impl Repository {
    /// The `(owner, name)` halves of the full name.
    pub(crate) fn owner_and_name(&self) -> (&str, &str) {
        self.full_name
            .split_once('/')
            .unwrap_or((self.full_name.as_str(), ""))
    }
}

/// Whether a pull request is open, and if closed, whether by a merge.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PullState {
    /// Open (not closed).
    pub open: bool,
    /// Closed by a merge.
    pub merged: bool,
}
