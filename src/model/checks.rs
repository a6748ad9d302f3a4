//! What previewd reports while a commit waits for its CI checks before it deploys: which gated
//! checks have not passed yet, and how the wait stands. Kept in the PreviewEnvironment's status
//! and shown in the PR comment.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A commit's wait for its gated checks.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChecksReport {
    /// The commit whose checks are awaited.
    pub sha: String,
    /// Since when (the wait's timeout counts from here).
    pub since: DateTime<Utc>,
    /// How the wait stands.
    pub outcome: ChecksOutcome,
    /// The gated checks that have not passed, in the order they are gated.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<GatedCheck>,
}

/// How a wait for checks stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum ChecksOutcome {
    /// Some gated check has not concluded (or not been created) yet.
    Waiting,
    /// A gated check concluded in failure: the commit is not deployed.
    Failed,
    /// The checks did not finish within the repository's timeout: previewd stopped waiting.
    TimedOut,
}

/// One gated check that has not passed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GatedCheck {
    /// The check run's name or the commit status's context.
    pub name: String,
    /// Where it stands.
    pub state: CheckState,
    /// How it concluded, when it failed (`failure`, `cancelled`, `timed_out`, `error`...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conclusion: Option<String>,
    /// Its page on GitHub (a check run's `html_url`, a status's `target_url`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// Where a gated check stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum CheckState {
    /// No check run or status of that name exists for the commit yet.
    NotCreated,
    /// Queued or running.
    Running,
    /// Concluded other than success, neutral or skipped.
    Failed,
}

impl GatedCheck {
    /// Where it stands, in words: `not created yet`, `running`, or how it concluded.
    pub(crate) fn state_words(&self) -> &str {
        match self.state {
            CheckState::NotCreated => "not created yet",
            CheckState::Running => "running",
            CheckState::Failed => self.conclusion.as_deref().unwrap_or("failed"),
        }
    }

    /// `name (state)`, as a status message lists it.
    pub(crate) fn describe(&self) -> String {
        format!("{} ({})", self.name, self.state_words())
    }
}
