//! A pull request as a test sets it, with a builder for the cases previewd's policies tell
//! apart: drafts, labels, base branches, forks, authors, closed and merged.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::objects;
use super::state::now;

/// A pull request, as a test sets it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Pull {
    /// Base repository owner.
    pub(crate) owner: String,
    /// Base repository name (a fork keeps the same name).
    pub(crate) repo: String,
    /// Number.
    pub(crate) number: u64,
    /// Title.
    pub title: String,
    /// Description.
    pub(crate) body: Option<String>,
    /// Head commit.
    pub head_sha: String,
    /// Head branch.
    pub(crate) branch: String,
    /// Base branch.
    pub base_branch: String,
    /// Base commit.
    pub base_sha: String,
    /// `state: open` (else closed).
    pub open: bool,
    /// Closed by a merge.
    pub(crate) merged: bool,
    /// Draft.
    pub draft: bool,
    /// Owner of the fork the head lives in; `None` for a same-repository PR.
    pub(crate) fork_owner: Option<String>,
    /// Author login.
    pub(crate) author: String,
    /// Label names, in the order added, each once.
    pub(crate) labels: Vec<String>,
    /// Creation time.
    pub(crate) created_at: DateTime<Utc>,
    /// Last update; `GitHub::update_pull` moves it to now.
    pub updated_at: DateTime<Utc>,
}

impl Pull {
    /// An open same-repository PR by `octocat` from branch `feature-<n>` into `main`, with
    /// stable SHAs derived from the repository and number.
    pub fn new(owner: &str, repo: &str, number: u64) -> Self {
        let now = now();
        let key = format!("{owner}/{repo}#{number}");
        Pull {
            owner: owner.to_owned(),
            repo: repo.to_owned(),
            number,
            title: format!("Change number {number}"),
            body: Some("Please pull these awesome changes".to_owned()),
            head_sha: objects::fake_sha(&format!("head:{key}")),
            branch: format!("feature-{number}"),
            base_branch: "main".to_owned(),
            base_sha: objects::fake_sha(&format!("base:{key}")),
            open: true,
            merged: false,
            draft: false,
            fork_owner: None,
            author: "octocat".to_owned(),
            labels: Vec::new(),
            created_at: now,
            updated_at: now,
        }
    }

    /// Sets the title.
    pub fn title(mut self, title: &str) -> Self {
        self.title = title.to_owned();
        self
    }

    /// Sets the head commit and branch.
    pub fn head(mut self, sha: &str, branch: &str) -> Self {
        self.head_sha = sha.to_owned();
        self.branch = branch.to_owned();
        self
    }

    /// Targets base branch `branch` (its commit derived from the branch name).
    pub fn base(mut self, branch: &str) -> Self {
        self.base_sha = objects::fake_sha(&format!("base:{}/{}@{branch}", self.owner, self.repo));
        self.base_branch = branch.to_owned();
        self
    }

    /// Closed without a merge.
    pub fn closed(mut self) -> Self {
        self.open = false;
        self.merged = false;
        self
    }

    /// Closed by a merge.
    pub fn merged(mut self) -> Self {
        self.open = false;
        self.merged = true;
        self
    }

    /// From a fork owned by `owner` (who also becomes the author).
    pub fn fork(mut self, owner: &str) -> Self {
        self.fork_owner = Some(owner.to_owned());
        self.author = owner.to_owned();
        self
    }

    /// Written by `login`.
    pub fn author(mut self, login: &str) -> Self {
        self.author = login.to_owned();
        self
    }

    /// A draft.
    pub fn draft(mut self) -> Self {
        self.draft = true;
        self
    }

    /// Not a draft (any more).
    pub fn ready_for_review(mut self) -> Self {
        self.draft = false;
        self
    }

    /// Adds a label; a label already there stays once, in its place.
    pub fn label(mut self, name: &str) -> Self {
        if !self.labels.iter().any(|l| l == name) {
            self.labels.push(name.to_owned());
        }
        self
    }

    /// Removes a label, if there.
    pub fn without_label(mut self, name: &str) -> Self {
        self.labels.retain(|l| l != name);
        self
    }

    /// The logins this PR names: base owner, author and fork owner.
    pub(super) fn logins(&self) -> Vec<&str> {
        let mut logins = vec![self.owner.as_str(), self.author.as_str()];
        logins.extend(self.fork_owner.as_deref());
        logins
    }
}
