//! A commit's CI as GitHub reports it: its check runs, its commit statuses, and the status
//! checks its base branch requires (from the branch's rulesets and its branch protection). Every
//! read is conditional, so asking again while nothing changed costs no rate limit.

use serde::Deserialize;

use super::branches::{Branches, segment};
use super::client::{GitHub, GitHubError};
use super::conditional::{PER_PAGE, Remembered};
use super::transport::Call;
use crate::model::pull::Repository;
use crate::rules::checks::{Gated, Run, Status};
use crate::timing::CHECKS_REMEMBERED;

#[derive(Clone, Deserialize)]
pub(crate) struct RunsPage {
    #[serde(default)]
    check_runs: Vec<RunBody>,
}

#[derive(Clone, Deserialize)]
struct RunBody {
    id: u64,
    name: String,
    status: String,
    #[serde(default)]
    conclusion: Option<String>,
    #[serde(default)]
    html_url: Option<String>,
    #[serde(default)]
    app: Option<AppBody>,
}

#[derive(Clone, Deserialize)]
struct AppBody {
    id: u64,
}

#[derive(Clone, Deserialize)]
pub(crate) struct CombinedStatus {
    #[serde(default)]
    statuses: Vec<StatusBody>,
}

#[derive(Clone, Deserialize)]
struct StatusBody {
    context: String,
    state: String,
    #[serde(default)]
    target_url: Option<String>,
}

#[derive(Clone, Deserialize)]
pub(crate) struct Rule {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    parameters: Option<RuleParameters>,
}

#[derive(Clone, Deserialize)]
struct RuleParameters {
    #[serde(default)]
    required_status_checks: Vec<RuleCheck>,
}

#[derive(Clone, Deserialize)]
struct RuleCheck {
    context: String,
    #[serde(default)]
    integration_id: Option<u64>,
}

/// The last answers to the reads of checks, bounded (their keys change with every commit).
pub struct ChecksMemory {
    runs: Remembered<RunsPage>,
    statuses: Remembered<CombinedStatus>,
    rules: Remembered<Vec<Rule>>,
}

impl Default for ChecksMemory {
    fn default() -> Self {
        ChecksMemory {
            runs: Remembered::bounded(CHECKS_REMEMBERED),
            statuses: Remembered::bounded(CHECKS_REMEMBERED),
            rules: Remembered::bounded(CHECKS_REMEMBERED),
        }
    }
}

impl GitHub {
    /// The latest check run of each name for commit `sha`.
    pub(crate) async fn check_runs(
        &self,
        repository: &Repository,
        sha: &str,
        memory: &ChecksMemory,
    ) -> Result<Vec<Run>, GitHubError> {
        let page = |n: u32| {
            Call::get(
                "list check runs",
                "/repos/{owner}/{repo}/commits/{ref}/check-runs",
                format!(
                    "/commits/{}/check-runs?filter=latest&per_page={PER_PAGE}&page={n}",
                    segment(sha)
                ),
            )
            .within(repository)
        };
        let items = |p: RunsPage| {
            p.check_runs
                .into_iter()
                .map(|r| Run {
                    name: r.name,
                    app_id: r.app.map(|a| a.id),
                    status: r.status,
                    conclusion: r.conclusion,
                    url: r.html_url,
                    id: r.id,
                })
                .collect()
        };
        let key = format!("{}/runs/{sha}", repository.id);
        let (runs, _) = self.read_all_pages(page, items, &key, &memory.runs).await?;
        Ok(runs)
    }

    /// The latest commit status of each context for commit `sha`.
    pub(crate) async fn commit_statuses(
        &self,
        repository: &Repository,
        sha: &str,
        memory: &ChecksMemory,
    ) -> Result<Vec<Status>, GitHubError> {
        let page = |n: u32| {
            Call::get(
                "get combined status",
                "/repos/{owner}/{repo}/commits/{ref}/status",
                format!(
                    "/commits/{}/status?per_page={PER_PAGE}&page={n}",
                    segment(sha)
                ),
            )
            .within(repository)
        };
        let items = |c: CombinedStatus| {
            c.statuses
                .into_iter()
                .map(|s| Status {
                    context: s.context,
                    state: s.state,
                    url: s.target_url,
                })
                .collect()
        };
        let key = format!("{}/statuses/{sha}", repository.id);
        let (statuses, _) = self
            .read_all_pages(page, items, &key, &memory.statuses)
            .await?;
        Ok(statuses)
    }

    /// The status checks a pull request into `branch` must pass: those of the rulesets that
    /// apply to it (Metadata read) and of its branch protection (Contents read; a branch that
    /// is not protected, or is unknown, requires none).
    pub(crate) async fn required_checks(
        &self,
        repository: &Repository,
        branch: &str,
        (memory, branches): (&ChecksMemory, &Branches),
    ) -> Result<Vec<Gated>, GitHubError> {
        let rules_page = |n: u32| {
            Call::get(
                "get rules for a branch",
                "/repos/{owner}/{repo}/rules/branches/{branch}",
                format!(
                    "/rules/branches/{}?per_page={PER_PAGE}&page={n}",
                    segment(branch)
                ),
            )
            .within(repository)
        };
        let key = format!("{}/rules/{branch}", repository.id);
        // An Enterprise Server without rulesets does not know the route.
        let rules = match self
            .read_all_pages(rules_page, |page: Vec<Rule>| page, &key, &memory.rules)
            .await
        {
            Ok((rules, _)) => rules,
            Err(e) if e.is_not_found() => Vec::new(),
            Err(e) => return Err(e),
        };
        let mut gated: Vec<Gated> = rules
            .into_iter()
            .filter(|r| r.kind == "required_status_checks")
            .flat_map(|r| r.parameters.map(|p| p.required_status_checks))
            .flatten()
            .map(|c| Gated {
                name: c.context,
                app_id: c.integration_id,
            })
            .collect();
        let found = self.branch(repository, branch, branches).await?;
        gated.extend(found.map(|b| b.required_checks()).unwrap_or_default());
        Ok(gated)
    }
}
