//! GitHub's pull-request JSON: webhook deliveries and the REST API carry the same shape, read
//! here once and turned into previewd's `PullFacts`.

use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::model::pull::{PullFacts, PullState, Repository};

/// A pull request as GitHub sends it (only the fields previewd reads).
#[derive(Clone, Debug, Deserialize)]
pub(crate) struct PullRequest {
    /// Number.
    #[serde(default)]
    pub number: u64,
    /// Web address.
    #[serde(default)]
    pub html_url: String,
    /// Draft.
    #[serde(default)]
    pub draft: bool,
    /// Labels.
    #[serde(default)]
    pub labels: Vec<Label>,
    /// Author (`None` for a deleted account).
    pub user: Option<Login>,
    /// `open` or `closed`.
    pub state: String,
    /// Closed by a merge (webhooks may send `null`).
    #[serde(default)]
    pub merged: Option<bool>,
    /// Title.
    pub title: String,
    /// Last update.
    pub updated_at: Option<DateTime<Utc>>,
    /// Head branch and commit.
    pub head: BranchRef,
    /// Base branch.
    pub base: BranchRef,
}

impl PullRequest {
    /// The facts previewd records, for this pull request of `repository`. The head counts as a
    /// fork when it lives in another repository, or in one that was deleted.
    pub(crate) fn facts(&self, repository: Repository) -> PullFacts {
        let fork = self
            .head
            .repo
            .as_ref()
            .is_none_or(|head| head.id != repository.id);
        PullFacts {
            repository,
            number: self.number,
            head_sha: self.head.sha.clone(),
            branch: self.head.name.clone(),
            base_branch: self.base.name.clone(),
            title: self.title.clone(),
            author: self
                .user
                .as_ref()
                .map(|u| u.login.clone())
                .unwrap_or_default(),
            pull_request_url: self.html_url.clone(),
            fork,
            pr_updated_at: self.updated_at,
            draft: self.draft,
            labels: self.labels.iter().map(|l| l.name.clone()).collect(),
        }
    }

    /// Open or closed, and merged.
    pub(crate) fn state(&self) -> PullState {
        PullState {
            open: self.state == "open",
            merged: self.merged.unwrap_or(false),
        }
    }
}

/// A branch and its commit.
#[derive(Clone, Debug, Deserialize)]
pub(crate) struct BranchRef {
    /// Branch name.
    #[serde(rename = "ref")]
    pub name: String,
    /// Commit.
    pub sha: String,
    /// The repository the branch lives in (`None` when it was deleted).
    pub repo: Option<RepositoryRef>,
}

/// A repository as GitHub sends it.
#[derive(Clone, Debug, Deserialize)]
pub(crate) struct RepositoryRef {
    /// GitHub's numeric id.
    pub id: u64,
    /// `owner/name`.
    pub full_name: String,
}

impl RepositoryRef {
    /// previewd's view of it.
    pub(crate) fn repository(&self) -> Repository {
        Repository {
            id: self.id,
            full_name: self.full_name.clone(),
        }
    }
}

/// A label.
#[derive(Clone, Debug, Deserialize)]
pub(crate) struct Label {
    /// Its name.
    pub name: String,
}

/// A user reference.
#[derive(Clone, Debug, Deserialize)]
pub(crate) struct Login {
    /// The user's login.
    pub login: String,
}
