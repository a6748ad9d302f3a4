//! A commit's CI as GitHub keeps it: check runs (created by a GitHub App, re-run with a new id),
//! commit statuses (the latest per context counts), and the status checks a branch requires
//! through its branch protection or the rulesets that apply to it.

use chrono::{DateTime, Utc};

use super::GitHub;
use super::state::{State, now};

/// The GitHub App CI check runs come from when no App's token created them (GitHub Actions).
pub const CI_APP_ID: u64 = 15368;
/// Its slug.
pub(crate) const CI_APP_SLUG: &str = "github-actions";

/// One check run.
#[derive(Clone, Debug, PartialEq)]
pub struct CheckRun {
    /// Id (increases with every run created).
    pub id: u64,
    pub(crate) owner: String,
    pub(crate) repo: String,
    /// The commit it checks.
    pub head_sha: String,
    /// Its name.
    pub name: String,
    /// `queued`, `in_progress` or `completed`.
    pub status: String,
    /// Once completed: `success`, `failure`, `neutral`, `cancelled`, `skipped`, `timed_out`,
    /// `action_required`.
    pub conclusion: Option<String>,
    /// The App that created it.
    pub app_id: u64,
    pub(crate) app_slug: String,
    pub(crate) started_at: DateTime<Utc>,
    pub(crate) completed_at: Option<DateTime<Utc>>,
}

/// One commit status.
#[derive(Clone, Debug, PartialEq)]
pub struct CommitStatus {
    /// Id.
    pub id: u64,
    pub(crate) owner: String,
    pub(crate) repo: String,
    /// The commit.
    pub sha: String,
    /// Its context (`default` when none is given).
    pub context: String,
    /// `error`, `failure`, `pending` or `success`.
    pub state: String,
    pub(crate) target_url: Option<String>,
    pub(crate) description: Option<String>,
    pub(crate) creator: String,
    pub(crate) created_at: DateTime<Utc>,
}

/// A required status check: its name, and the App it must come from, if pinned.
pub(crate) type RequiredCheck = (String, Option<u64>);

/// The status checks a branch requires.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Required {
    /// Through its branch protection (`required_status_checks.checks`).
    pub protection: Vec<RequiredCheck>,
    /// Through a ruleset that applies to it (`required_status_checks` rule).
    pub rules: Vec<RequiredCheck>,
}

/// Check run states GitHub accepts.
pub(crate) const RUN_STATUSES: [&str; 3] = ["queued", "in_progress", "completed"];
/// Check run conclusions GitHub accepts.
pub(crate) const CONCLUSIONS: [&str; 7] = [
    "action_required",
    "cancelled",
    "failure",
    "neutral",
    "success",
    "skipped",
    "timed_out",
];
/// Commit status states GitHub accepts.
pub(crate) const STATUS_STATES: [&str; 4] = ["error", "failure", "pending", "success"];

impl State {
    /// Adds a check run; a conclusion completes it.
    pub(crate) fn add_check_run(
        &mut self,
        (owner, repo): (&str, &str),
        head_sha: &str,
        name: &str,
        (status, conclusion): (&str, Option<&str>),
        (app_id, app_slug): (u64, &str),
    ) -> CheckRun {
        self.last_check_id += 1;
        let status = if conclusion.is_some() {
            "completed"
        } else {
            status
        };
        let run = CheckRun {
            id: self.last_check_id,
            owner: owner.to_owned(),
            repo: repo.to_owned(),
            head_sha: head_sha.to_ascii_lowercase(),
            name: name.to_owned(),
            status: status.to_owned(),
            conclusion: conclusion.map(str::to_owned),
            app_id,
            app_slug: app_slug.to_owned(),
            started_at: now(),
            completed_at: conclusion.map(|_| now()),
        };
        self.check_runs.insert(run.id, run.clone());
        run
    }

    /// Moves check run `id` on; a conclusion completes it.
    pub(crate) fn update_check_run(
        &mut self,
        id: u64,
        status: Option<&str>,
        conclusion: Option<&str>,
    ) -> Option<CheckRun> {
        let run = self.check_runs.get_mut(&id)?;
        if let Some(status) = status {
            run.status = status.to_owned();
        }
        if let Some(conclusion) = conclusion {
            run.status = "completed".to_owned();
            run.conclusion = Some(conclusion.to_owned());
            run.completed_at = Some(now());
        }
        Some(run.clone())
    }

    /// Sets a commit status (a new one: the latest of its context counts).
    pub(crate) fn add_commit_status(
        &mut self,
        (owner, repo): (&str, &str),
        sha: &str,
        context: &str,
        state: &str,
        (target_url, description): (Option<String>, Option<String>),
        creator: &str,
    ) -> CommitStatus {
        self.last_check_id += 1;
        let status = CommitStatus {
            id: self.last_check_id,
            owner: owner.to_owned(),
            repo: repo.to_owned(),
            sha: sha.to_ascii_lowercase(),
            context: context.to_owned(),
            state: state.to_owned(),
            target_url,
            description,
            creator: creator.to_owned(),
            created_at: now(),
        };
        self.commit_statuses.push(status.clone());
        status
    }

    /// The latest check run of each name for `sha`, newest first.
    pub(crate) fn latest_check_runs(&self, owner: &str, repo: &str, sha: &str) -> Vec<CheckRun> {
        let of_commit = |r: &&CheckRun| r.owner == owner && r.repo == repo && r.head_sha == sha;
        latest_of(self.check_runs.values().filter(of_commit), |r| &r.name)
    }

    /// The latest commit status of each context for `sha`, newest first.
    pub(crate) fn latest_statuses(&self, owner: &str, repo: &str, sha: &str) -> Vec<CommitStatus> {
        let of_commit = |s: &&CommitStatus| s.owner == owner && s.repo == repo && s.sha == sha;
        latest_of(self.commit_statuses.iter().filter(of_commit), |s| {
            &s.context
        })
    }
}

/// The last of `items` (oldest first) for each `name`, newest first.
fn latest_of<'a, T: Clone + 'a>(
    items: impl DoubleEndedIterator<Item = &'a T>,
    name: impl Fn(&T) -> &String,
) -> Vec<T> {
    let mut latest: Vec<T> = Vec::new();
    for item in items.rev() {
        if !latest.iter().any(|kept| name(kept) == name(item)) {
            latest.push(item.clone());
        }
    }
    latest
}

impl GitHub {
    /// CI creates a check run of `name` for `sha` (as GitHub Actions); returns its id.
    pub fn start_check_run(&self, owner: &str, repo: &str, sha: &str, name: &str) -> u64 {
        self.with(|s| {
            let app = (CI_APP_ID, CI_APP_SLUG);
            s.add_check_run((owner, repo), sha, name, ("in_progress", None), app)
                .id
        })
    }

    /// CI concludes check run `id` (`success`, `failure`...).
    pub fn conclude_check_run(&self, id: u64, conclusion: &str) {
        self.with(|s| s.update_check_run(id, None, Some(conclusion)))
            .unwrap_or_else(|| panic!("no check run {id}"));
    }

    /// A commit status of `context` for `sha`.
    pub fn set_commit_status(
        &self,
        owner: &str,
        repo: &str,
        sha: &str,
        context: &str,
        state: &str,
    ) {
        self.with(|s| {
            let url = Some(format!("https://ci.example/{context}/{sha}"));
            s.add_commit_status((owner, repo), sha, context, state, (url, None), "ci-bot")
        });
    }

    /// The check runs of `owner/repo`, oldest first.
    pub fn check_runs(&self, owner: &str, repo: &str) -> Vec<CheckRun> {
        self.with(|s| {
            s.check_runs
                .values()
                .filter(|r| r.owner == owner && r.repo == repo)
                .cloned()
                .collect()
        })
    }

    /// Branch `branch` of `owner/repo` requires these status checks.
    pub fn require_checks(&self, owner: &str, repo: &str, branch: &str, required: Required) {
        self.with(|s| {
            let key = (owner.to_owned(), repo.to_owned(), branch.to_owned());
            s.required_checks.insert(key, required)
        });
    }
}
