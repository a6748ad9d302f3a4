//! A pull request's story told once: each step changes the PR in the stand-in (the truth the
//! resync lists and previewd asks about) and returns the webhook GitHub sends for that change,
//! carrying the same head, branches, title, labels and `updated_at`. The caller decides whether
//! the delivery arrives, so webhooks can be lost while GitHub stays right.

use chrono::SecondsFormat;

use super::github::{Pull, fake_sha};
use super::plan::Step;
use super::scenario::Scenario;
use super::webhooks::{Payload, variant};

impl Scenario {
    /// Makes `step` happen to PR `number` in the stand-in; returns its delivery.
    pub fn tell(&self, number: u64, step: Step) -> Payload {
        match step {
            Step::Open => self.open_pr(number),
            Step::Push(push) => self.push_pr(number, push),
            Step::Close { merged } => self.close_pr(number, merged),
        }
    }

    /// Opens PR `number` in the stand-in; returns its `opened` delivery.
    pub fn open_pr(&self, number: u64) -> Payload {
        let opened = self.variant_for("pr-opened", number);
        let author = opened
            .str("/pull_request/user/login")
            .expect("an opened payload names its author");
        let pull = Pull::new(&self.owner, &self.repo, number).author(&author);
        self.github.set_pull(pull.clone());
        told(opened, &pull)
    }

    /// Pushes a new head to PR `number` (the SHA derived from `push`, so each push differs);
    /// returns its `synchronize` delivery.
    pub(crate) fn push_pr(&self, number: u64, push: u32) -> Payload {
        let sha = fake_sha(&format!("push {push}:{}#{number}", self.full_name()));
        let pull = self
            .github
            .update_pull(&self.owner, &self.repo, number, |p| {
                p.head_sha = sha;
            });
        told(self.variant_for("pr-synchronize-new-sha", number), &pull)
    }

    /// Closes PR `number`, by a merge or not; returns its `closed` delivery.
    pub fn close_pr(&self, number: u64, merged: bool) -> Payload {
        let pull = self
            .github
            .update_pull(&self.owner, &self.repo, number, |p| {
                *p = match merged {
                    true => p.clone().merged(),
                    false => p.clone().closed(),
                }
            });
        let name = match merged {
            true => "pr-closed-merged",
            false => "pr-closed-unmerged",
        };
        told(self.variant_for(name, number), &pull)
    }

    /// The stand-in's PR `number`; panics if the story never opened it.
    pub fn truth(&self, number: u64) -> Pull {
        self.github
            .pull(&self.owner, &self.repo, number)
            .unwrap_or_else(|| panic!("PR {number} was never opened in the stand-in"))
    }

    fn variant_for(&self, name: &str, number: u64) -> Payload {
        variant(name).repo(&self.owner, &self.repo).number(number)
    }
}

/// `payload` saying what `pull` is now.
fn told(payload: Payload, pull: &Pull) -> Payload {
    let labels: Vec<&str> = pull.labels.iter().map(String::as_str).collect();
    payload
        .head_sha(&pull.head_sha)
        .branch(&pull.branch)
        .base_branch(&pull.base_branch)
        .title(&pull.title)
        .labels(&labels)
        .draft(pull.draft)
        .updated_at(&pull.updated_at.to_rfc3339_opts(SecondsFormat::Secs, true))
}
