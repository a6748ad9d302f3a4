//! Check run, commit status and branch objects.

use serde_json::{Value, json};

use super::super::checks::{CheckRun, CommitStatus, Required};
use super::super::state::User;
use super::{Urls, simple_user, stable_id, timestamp};

/// The GitHub App a check run names as its creator (`nullable-integration`).
fn check_app(urls: &Urls, owner: &User, id: u64, slug: &str) -> Value {
    let since = "2018-07-30T09:30:17Z";
    json!({
        "id": id, "slug": slug, "node_id": format!("MDM6QXBw{id}"), "name": slug,
        "owner": simple_user(urls, owner), "description": "Automate your workflow",
        "external_url": format!("https://{slug}.example"),
        "html_url": format!("{}/apps/{slug}", urls.web),
        "created_at": since, "updated_at": since,
        "permissions": {"checks": "write", "statuses": "write", "metadata": "read"},
        "events": ["check_run", "check_suite"],
    })
}

/// A `check-run`.
pub(crate) fn check_run(urls: &Urls, run: &CheckRun, app_owner: &User) -> Value {
    let repo_api = format!("{}/repos/{}/{}", urls.api, run.owner, run.repo);
    json!({
        "id": run.id,
        "node_id": format!("CR_{:x}", run.id),
        "head_sha": run.head_sha,
        "external_id": "",
        "url": format!("{repo_api}/check-runs/{}", run.id),
        "html_url": format!("{}/{}/{}/runs/{}", urls.web, run.owner, run.repo, run.id),
        "details_url": format!("{}/{}/{}/runs/{}", urls.web, run.owner, run.repo, run.id),
        "status": run.status,
        "conclusion": run.conclusion,
        "started_at": timestamp(run.started_at),
        "completed_at": run.completed_at.map(timestamp),
        "output": {
            "title": null, "summary": null, "text": null, "annotations_count": 0,
            "annotations_url": format!("{repo_api}/check-runs/{}/annotations", run.id),
        },
        "name": run.name,
        "check_suite": {"id": suite_id(run)},
        "app": check_app(urls, app_owner, run.app_id, &run.app_slug),
        "pull_requests": [],
    })
}

/// The id of the check suite `run` belongs to: one per App and commit.
pub(crate) fn suite_id(run: &CheckRun) -> u64 {
    stable_id(&format!(
        "suite:{}/{}:{}:{}",
        run.owner, run.repo, run.head_sha, run.app_id
    ))
}

/// A `check-suite` holding `runs` (the latest of each name, of one App, for one commit).
pub(crate) fn check_suite(
    urls: &Urls,
    runs: &[CheckRun],
    app_owner: &User,
    repository: Value,
) -> Value {
    let first = &runs[0];
    let repo_api = format!("{}/repos/{}/{}", urls.api, first.owner, first.repo);
    let id = suite_id(first);
    let done = runs.iter().all(|r| r.status == "completed");
    let running = runs.iter().any(|r| r.status == "in_progress");
    let failed = runs
        .iter()
        .filter_map(|r| r.conclusion.as_deref())
        .find(|c| !matches!(*c, "success" | "neutral" | "skipped"));
    let status = match (done, running) {
        (true, _) => "completed",
        (false, true) => "in_progress",
        (false, false) => "queued",
    };
    let conclusion = done.then(|| failed.unwrap_or("success"));
    let started = runs.iter().map(|r| r.started_at).min().unwrap_or_default();
    let updated = runs
        .iter()
        .map(|r| r.completed_at.unwrap_or(r.started_at))
        .max()
        .unwrap_or(started);
    let git_user = json!({"name": "CI", "email": "ci@example.com"});
    json!({
        "id": id,
        "node_id": format!("CS_{id:x}"),
        "head_branch": null,
        "head_sha": first.head_sha,
        "status": status,
        "conclusion": conclusion,
        "url": format!("{repo_api}/check-suites/{id}"),
        "before": null,
        "after": first.head_sha,
        "created_at": timestamp(started),
        "updated_at": timestamp(updated),
        "app": check_app(urls, app_owner, first.app_id, &first.app_slug),
        "head_commit": {
            "id": first.head_sha, "tree_id": first.head_sha, "message": "Change",
            "timestamp": timestamp(started), "author": git_user, "committer": git_user,
        },
        "repository": repository,
        "latest_check_runs_count": runs.len(),
        "check_runs_url": format!("{repo_api}/check-suites/{id}/check-runs"),
        "pull_requests": [],
    })
}

/// A `simple-commit-status` (in a combined status) or, with `creator`, a `status`.
pub(crate) fn commit_status(urls: &Urls, status: &CommitStatus, creator: Option<&User>) -> Value {
    let mut value = json!({
        "url": format!("{}/repos/{}/{}/statuses/{}", urls.api, status.owner, status.repo, status.sha),
        "avatar_url": null,
        "id": status.id,
        "node_id": format!("SC_{:x}", status.id),
        "state": status.state,
        "description": status.description,
        "target_url": status.target_url,
        "context": status.context,
        "created_at": timestamp(status.created_at),
        "updated_at": timestamp(status.created_at),
    });
    if let Some(creator) = creator {
        value["creator"] = simple_user(urls, creator);
        value["avatar_url"] = json!(format!("{}/avatars/{}", urls.web, creator.login));
    }
    value
}

/// The state a commit's statuses combine to: failure if any failed or erred, pending while any
/// is pending (or there is none), else success.
pub(crate) fn combined_state(statuses: &[CommitStatus]) -> &'static str {
    if statuses
        .iter()
        .any(|s| s.state == "failure" || s.state == "error")
    {
        "failure"
    } else if statuses.is_empty() || statuses.iter().any(|s| s.state == "pending") {
        "pending"
    } else {
        "success"
    }
}

/// A `branch-with-protection` for `branch` at `sha`.
pub(crate) fn branch(
    urls: &Urls,
    (owner, repo, branch): (&str, &str, &str),
    (sha, tree): (&str, &str),
    required: Option<&Required>,
    author: &User,
) -> Value {
    let repo_api = format!("{}/repos/{owner}/{repo}", urls.api);
    let web = format!("{}/{owner}/{repo}", urls.web);
    let signature = json!({"name": author.login, "email": format!("{}@users.noreply.github.com", author.login), "date": "2024-01-01T00:00:00Z"});
    let commit = json!({
        "url": format!("{repo_api}/commits/{sha}"),
        "sha": sha,
        "node_id": format!("C_{}", &sha[..12.min(sha.len())]),
        "html_url": format!("{web}/commit/{sha}"),
        "comments_url": format!("{repo_api}/commits/{sha}/comments"),
        "commit": {
            "url": format!("{repo_api}/git/commits/{sha}"),
            "author": signature, "committer": signature,
            "message": "Merge pull request", "comment_count": 0,
            "tree": {"sha": tree, "url": format!("{repo_api}/git/trees/{tree}")},
        },
        "author": simple_user(urls, author),
        "committer": simple_user(urls, author),
        "parents": [],
    });
    let protection_url = format!("{repo_api}/branches/{branch}/protection");
    let checks = required.map(|r| r.protection.clone()).unwrap_or_default();
    let protected = !checks.is_empty();
    let contexts: Vec<&String> = checks.iter().map(|(name, _)| name).collect();
    let listed: Vec<Value> = checks
        .iter()
        .map(|(name, app)| json!({"context": name, "app_id": app}))
        .collect();
    json!({
        "name": branch,
        "commit": commit,
        "_links": {"html": format!("{web}/tree/{branch}"), "self": format!("{repo_api}/branches/{branch}")},
        "protected": protected,
        "protection": {
            "enabled": protected,
            "required_status_checks": {
                "enforcement_level": if protected { "non_admins" } else { "off" },
                "contexts": contexts,
                "checks": listed,
            },
        },
        "protection_url": protection_url,
    })
}

/// The rules that apply to a branch (`repository-rule-detailed`): one `required_status_checks`
/// rule when a ruleset requires checks.
pub(crate) fn branch_rules(owner: &str, repo: &str, required: Option<&Required>) -> Value {
    let checks = required.map(|r| r.rules.clone()).unwrap_or_default();
    if checks.is_empty() {
        return json!([]);
    }
    let listed: Vec<Value> = checks
        .iter()
        .map(|(name, app)| match app {
            Some(id) => json!({"context": name, "integration_id": id}),
            None => json!({"context": name}),
        })
        .collect();
    json!([{
        "type": "required_status_checks",
        "parameters": {
            "strict_required_status_checks_policy": false,
            "required_status_checks": listed,
        },
        "ruleset_source_type": "Repository",
        "ruleset_source": format!("{owner}/{repo}"),
        "ruleset_id": 42,
    }])
}
