//! Re-targeting a payload at another repository, PR, commit or branch: every string that
//! carries the old identity (URLs, labels, ids) follows, one pointer set each.

use serde_json::Value;

use super::{Payload, repo_id};

impl Payload {
    /// Moves the payload to repository `owner/name` (ids from `github::repo_id`, so they match
    /// the stand-in). A fork head keeps its owner and takes the new name.
    pub fn repo(self, owner: &str, name: &str) -> Self {
        let old = self.full_name();
        let new = format!("{owner}/{name}");
        let old_owner = old.split('/').next().unwrap_or_default().to_owned();
        let fork = self
            .get("/pull_request/head/repo/fork")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let old_head = self.str("/pull_request/head/repo/full_name");
        let mut p = self.replace_in_strings("", &old, &new, false);
        if let (true, Some(old_head)) = (fork, old_head) {
            let head_owner = old_head.split('/').next().unwrap_or_default().to_owned();
            let new_head = format!("{head_owner}/{name}");
            p = p
                .replace_in_strings("", &old_head, &new_head, false)
                .set("/pull_request/head/repo/name", name)
                .set("/pull_request/head/repo/id", repo_id(&new_head));
        }
        let mut repos = vec!["/repository", "/pull_request/base/repo"];
        if !fork {
            repos.push("/pull_request/head/repo");
        }
        for root in repos {
            if p.get(root).is_some() {
                p = p
                    .set(&format!("{root}/name"), name)
                    .set(&format!("{root}/full_name"), new.as_str())
                    .set(&format!("{root}/id"), repo_id(&new));
                p = p.user_at(&format!("{root}/owner"), owner);
            }
        }
        if old_owner != owner {
            // The author no longer owns the repository.
            for pointer in [
                "/pull_request/author_association",
                "/comment/author_association",
            ] {
                if p.str(pointer).as_deref() == Some("OWNER") {
                    p = p.set(pointer, "CONTRIBUTOR");
                }
            }
            for root in ["/pull_request/base/user", "/pull_request/head/user"] {
                let is_owner =
                    p.str(&format!("{root}/login")).as_deref() == Some(old_owner.as_str());
                if is_owner && (root.contains("base") || !fork) {
                    p = p.user_at(root, owner);
                }
            }
        }
        p.refresh_labels()
    }

    /// Gives the payload's repository the id `id` (a renamed or transferred repository keeps the
    /// id it had; a fork head keeps its own).
    pub fn repository_id(self, id: u64) -> Self {
        let fork = self
            .get("/pull_request/head/repo/fork")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let mut p = self
            .set_present("/repository/id", id)
            .set_present("/pull_request/base/repo/id", id);
        if !fork {
            p = p.set_present("/pull_request/head/repo/id", id);
        }
        p
    }

    /// Moves the payload to PR (or issue) `number`, URLs included.
    pub fn number(self, number: u64) -> Self {
        let old = self.pr_number();
        let full = self.full_name();
        let mut p = self;
        for kind in ["pull", "pulls", "issues"] {
            p = p.replace_in_strings(
                "",
                &format!("{full}/{kind}/{old}"),
                &format!("{full}/{kind}/{number}"),
                true,
            );
        }
        p.set_present("/number", number)
            .set_present("/pull_request/number", number)
            .set_present("/issue/number", number)
    }

    /// Sets the head commit (and `after`, statuses URLs: every string carrying the old SHA).
    pub fn head_sha(self, sha: &str) -> Self {
        match self.str("/pull_request/head/sha") {
            Some(old) => self.replace_in_strings("", &old, sha, false),
            None => self,
        }
    }

    /// Sets the head branch (and its `owner:branch` label).
    pub fn branch(self, branch: &str) -> Self {
        if self.get("/pull_request/head/ref").is_none() {
            return self;
        }
        self.set("/pull_request/head/ref", branch).refresh_labels()
    }

    /// Sets the base branch (and its `owner:branch` label), where the payload has a PR.
    pub fn base_branch(self, branch: &str) -> Self {
        if self.get("/pull_request/base/ref").is_none() {
            return self;
        }
        self.set("/pull_request/base/ref", branch).refresh_labels()
    }

    /// Sets the PR (or issue) title.
    pub fn title(self, title: &str) -> Self {
        self.set_present("/pull_request/title", title)
            .set_present("/issue/title", title)
    }

    /// Sets `updated_at` of the PR (or issue): previewd orders deliveries by it.
    pub fn updated_at(self, timestamp: &str) -> Self {
        self.set_present("/pull_request/updated_at", timestamp)
            .set_present("/issue/updated_at", timestamp)
    }

    pub(super) fn refresh_labels(self) -> Self {
        let mut p = self;
        for side in ["base", "head"] {
            let owner = p.str(&format!("/pull_request/{side}/repo/owner/login"));
            let branch = p.str(&format!("/pull_request/{side}/ref"));
            if let (Some(owner), Some(branch)) = (owner, branch) {
                let label = format!("{owner}:{branch}");
                if p.str(&format!("/pull_request/{side}/label")).as_deref() != Some(label.as_str())
                {
                    p = p.set(&format!("/pull_request/{side}/label"), label);
                }
            }
        }
        p
    }
}
