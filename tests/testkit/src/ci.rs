//! CI and pushes in a scenario: check runs and commit statuses set on the stand-in as CI would,
//! and a branch's files pushed, each followed by the delivery GitHub sends for it (`check_run`,
//! `status`, `push`), built from GitHub's example payloads re-targeted at the scenario's
//! repository.

use super::github::{CI_APP_ID, GitFile};
use super::scenario::Scenario;
use super::webhooks::{Payload, Sent, example_at};

impl Scenario {
    /// The `check_run` delivery of run `id` (`name` on `sha`) with `action`, as concluded.
    fn check_run_payload(
        &self,
        action: &str,
        (id, name, sha): (u64, &str, &str),
        conclusion: Option<&str>,
    ) -> Payload {
        let status = if conclusion.is_some() {
            "completed"
        } else {
            "in_progress"
        };
        Payload::example("check_run", action)
            .repo(&self.owner, &self.repo)
            .repository_id(self.github.repository_id(&self.owner, &self.repo))
            .set("/check_run/id", id)
            .set("/check_run/name", name)
            .set("/check_run/head_sha", sha)
            .set("/check_run/check_suite/head_sha", sha)
            .set("/check_run/status", status)
            .set("/check_run/conclusion", conclusion)
            .set("/check_run/app/id", CI_APP_ID)
    }

    /// CI starts check `name` on `sha`, quietly (no delivery, as if it were lost or the cluster
    /// got no webhooks); returns the run's id.
    pub fn start_check_quietly(&self, sha: &str, name: &str) -> u64 {
        self.github
            .start_check_run(&self.owner, &self.repo, sha, name)
    }

    /// CI starts check `name` on `sha` and GitHub delivers `check_run` `created`.
    pub async fn start_check(&self, sha: &str, name: &str) -> (u64, Sent) {
        let id = self.start_check_quietly(sha, name);
        let payload = self.check_run_payload("created", (id, name, sha), None);
        (id, self.deliver(&payload).await)
    }

    /// CI concludes run `id` (`name` on `sha`) and GitHub delivers `check_run` `completed`.
    pub async fn conclude_check(
        &self,
        (id, name, sha): (u64, &str, &str),
        conclusion: &str,
    ) -> Sent {
        self.github.conclude_check_run(id, conclusion);
        let payload = self.check_run_payload("completed", (id, name, sha), Some(conclusion));
        self.deliver(&payload).await
    }

    /// CI sets commit status `context` of `sha` to `state` and GitHub delivers `status`.
    pub async fn set_status(&self, sha: &str, context: &str, state: &str) -> Sent {
        self.github
            .set_commit_status(&self.owner, &self.repo, sha, context, state);
        let payload = Payload::new("status", example_at("status", 0))
            .repo(&self.owner, &self.repo)
            .repository_id(self.github.repository_id(&self.owner, &self.repo))
            .set("/sha", sha)
            .set("/context", context)
            .set("/state", state);
        self.deliver(&payload).await
    }
}

impl Scenario {
    /// Branch `branch` now holds `files` (a new commit), and GitHub delivers its `push`.
    pub async fn push_files(&self, branch: &str, files: Vec<GitFile>) -> Sent {
        self.github
            .set_branch_files(&self.owner, &self.repo, branch, files);
        let after = self
            .github
            .branch_commit(&self.owner, &self.repo, branch)
            .expect("the branch was just set");
        let payload = Payload::new("push", example_at("push", 0))
            .repo(&self.owner, &self.repo)
            .repository_id(self.github.repository_id(&self.owner, &self.repo))
            .set("/ref", format!("refs/heads/{branch}"))
            .set("/after", after);
        self.deliver(&payload).await
    }
}
