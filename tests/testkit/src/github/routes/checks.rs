//! Check runs (create, update, list the latest of each name for a ref), check suites (one per
//! App for a ref), commit statuses
//! (create, combined for a ref) and what a branch requires (`branches/{branch}` with its
//! protection, `rules/branches/{branch}`).

use axum::body::Bytes;
use axum::extract::{Extension, Path, State};
use axum::http::{StatusCode, Uri};
use serde_json::{Value, json};

use super::super::GitHub;
use super::super::checks::{CI_APP_ID, CI_APP_SLUG, CONCLUSIONS, RUN_STATUSES, STATUS_STATES};
use super::super::objects;
use super::super::state::State as Standin;
use super::deployments::resolve;
use super::{
    ApiError, ApiResult, Caller, InstallationCaller, counted_page, created, json_body, page_of,
    query_param,
};

const DOC_RUNS: &str = "https://docs.github.com/rest/checks/runs";
const DOC_STATUSES: &str = "https://docs.github.com/rest/commits/statuses";
const DOC_BRANCHES: &str = "https://docs.github.com/rest/branches/branches";

/// A field of `body` that must be one of `allowed`, if given.
fn one_of(
    body: &Value,
    field: &'static str,
    allowed: &[&str],
    resource: &str,
    doc: &'static str,
) -> Result<Option<String>, ApiError> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(v)) if allowed.contains(&v.as_str()) => Ok(Some(v.clone())),
        Some(_) => Err(ApiError::invalid_field(resource, field, doc)),
    }
}

fn run_json(s: &mut Standin, run: &super::super::CheckRun) -> Value {
    let owner = s.user("github");
    objects::check_run(&s.urls, run, &owner)
}

/// `POST /repos/{owner}/{repo}/check-runs`: by the calling App's installation, else as
/// GitHub Actions.
pub(super) async fn create_run(
    State(gh): State<GitHub>,
    installation: Option<Extension<InstallationCaller>>,
    Path((owner, repo)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult {
    let body = json_body(&body, DOC_RUNS)?;
    let text = |field: &'static str| {
        body[field]
            .as_str()
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
            .ok_or(ApiError::invalid_field("CheckRun", field, DOC_RUNS))
    };
    let (name, head_sha) = (text("name")?, text("head_sha")?);
    let status = one_of(&body, "status", &RUN_STATUSES, "CheckRun", DOC_RUNS)?;
    let conclusion = one_of(&body, "conclusion", &CONCLUSIONS, "CheckRun", DOC_RUNS)?;
    gh.with(|s| {
        let app = match (installation, &s.apps.app) {
            (Some(_), Some(app)) => (app.id, app.slug.clone()),
            _ => (CI_APP_ID, CI_APP_SLUG.to_owned()),
        };
        let status = status.as_deref().unwrap_or("queued");
        let run = s.add_check_run(
            (&owner, &repo),
            &head_sha,
            &name,
            (status, conclusion.as_deref()),
            (app.0, &app.1),
        );
        Ok(created(&run_json(s, &run)))
    })
}

/// `PATCH /repos/{owner}/{repo}/check-runs/{id}`.
pub(super) async fn update_run(
    State(gh): State<GitHub>,
    Path((owner, repo, id)): Path<(String, String, u64)>,
    body: Bytes,
) -> ApiResult {
    let body = json_body(&body, DOC_RUNS)?;
    let status = one_of(&body, "status", &RUN_STATUSES, "CheckRun", DOC_RUNS)?;
    let conclusion = one_of(&body, "conclusion", &CONCLUSIONS, "CheckRun", DOC_RUNS)?;
    gh.with(|s| {
        let known = s
            .check_runs
            .get(&id)
            .is_some_and(|r| r.owner == owner && r.repo == repo);
        if !known {
            return Err(ApiError::not_found(DOC_RUNS));
        }
        let run = s
            .update_check_run(id, status.as_deref(), conclusion.as_deref())
            .ok_or(ApiError::not_found(DOC_RUNS))?;
        Ok(objects::json_response(StatusCode::OK, &run_json(s, &run)))
    })
}

/// The commit `git_ref` names, for the checks of a commit; 422 as GitHub answers otherwise.
fn checked_commit(s: &Standin, owner: &str, repo: &str, git_ref: &str) -> Result<String, ApiError> {
    resolve(s, owner, repo, git_ref).ok_or(ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        &format!("No commit found for SHA: {git_ref}"),
        DOC_RUNS,
    ))
}

/// `GET /repos/{owner}/{repo}/commits/{ref}/check-runs` (`filter=latest`, the default).
pub(super) async fn runs_for_ref(
    State(gh): State<GitHub>,
    Path((owner, repo, git_ref)): Path<(String, String, String)>,
    uri: Uri,
) -> ApiResult {
    let name = query_param(&uri, "check_name");
    gh.with(|s| {
        let sha = checked_commit(s, &owner, &repo, &git_ref)?;
        let runs: Vec<_> = s
            .latest_check_runs(&owner, &repo, &sha)
            .into_iter()
            .filter(|r| name.as_ref().is_none_or(|n| &r.name == n))
            .collect();
        let all: Vec<Value> = runs.iter().map(|r| run_json(s, r)).collect();
        Ok(counted_page("check_runs", all, &uri))
    })
}

/// `GET /repos/{owner}/{repo}/commits/{ref}/check-suites`: one suite per App that checked the
/// commit, made of its latest runs.
pub(super) async fn suites_for_ref(
    State(gh): State<GitHub>,
    Path((owner, repo, git_ref)): Path<(String, String, String)>,
    uri: Uri,
) -> ApiResult {
    gh.with(|s| {
        let sha = checked_commit(s, &owner, &repo, &git_ref)?;
        let runs = s.latest_check_runs(&owner, &repo, &sha);
        let mut apps: Vec<u64> = runs.iter().map(|r| r.app_id).collect();
        apps.sort_unstable();
        apps.dedup();
        let app_owner = s.user("github");
        let repository = s.repository_json(&owner, &repo);
        let suites: Vec<Value> = apps
            .iter()
            .map(|app| {
                let of_app: Vec<_> = runs.iter().filter(|r| r.app_id == *app).cloned().collect();
                objects::check_suite(&s.urls, &of_app, &app_owner, repository.clone())
            })
            .collect();
        Ok(counted_page("check_suites", suites, &uri))
    })
}

/// `POST /repos/{owner}/{repo}/statuses/{sha}`.
pub(super) async fn create_status(
    State(gh): State<GitHub>,
    Extension(Caller(user)): Extension<Caller>,
    Path((owner, repo, sha)): Path<(String, String, String)>,
    body: Bytes,
) -> ApiResult {
    let body = json_body(&body, DOC_STATUSES)?;
    let state = one_of(&body, "state", &STATUS_STATES, "Status", DOC_STATUSES)?
        .ok_or(ApiError::invalid_field("Status", "state", DOC_STATUSES))?;
    let text = |field: &str| body[field].as_str().map(str::to_owned);
    let context = text("context").unwrap_or_else(|| "default".to_owned());
    gh.with(|s| {
        let sha = resolve(s, &owner, &repo, &sha).ok_or(ApiError::invalid_field(
            "Status",
            "sha",
            DOC_STATUSES,
        ))?;
        let status = s.add_commit_status(
            (&owner, &repo),
            &sha,
            &context,
            &state,
            (text("target_url"), text("description")),
            &user.login,
        );
        Ok(created(&objects::commit_status(
            &s.urls,
            &status,
            Some(&user),
        )))
    })
}

/// `GET /repos/{owner}/{repo}/commits/{ref}/status`: the latest status of each context.
pub(super) async fn combined_status(
    State(gh): State<GitHub>,
    Path((owner, repo, git_ref)): Path<(String, String, String)>,
    uri: Uri,
) -> ApiResult {
    gh.with(|s| {
        let sha = resolve(s, &owner, &repo, &git_ref).ok_or(ApiError::not_found(DOC_STATUSES))?;
        let latest = s.latest_statuses(&owner, &repo, &sha);
        let listed: Vec<Value> = latest
            .iter()
            .map(|st| objects::commit_status(&s.urls, st, None))
            .collect();
        let repository = s.repository_json(&owner, &repo);
        let api = format!("{}/repos/{owner}/{repo}", s.urls.api);
        let body = json!({
            "state": objects::combined_state(&latest),
            "sha": sha,
            "total_count": latest.len(),
            "statuses": page_of(listed, &uri),
            "repository": repository,
            "commit_url": format!("{api}/commits/{sha}"),
            "url": format!("{api}/commits/{sha}/status"),
        });
        Ok(objects::json_response(StatusCode::OK, &body))
    })
}

/// The commit branch `branch` points at: a pull request's base or head, or the default
/// branch; `None` for a branch the stand-in does not know.
fn branch_head(s: &Standin, owner: &str, repo: &str, branch: &str) -> Option<String> {
    if let Some(files) = s.branch_files_of(owner, repo, branch) {
        return Some(files.commit_sha());
    }
    let of_repo = || {
        s.pulls
            .values()
            .filter(|p| p.owner == owner && p.repo == repo)
    };
    if let Some(pull) = of_repo().find(|p| p.base_branch == branch) {
        return Some(pull.base_sha.clone());
    }
    if let Some(pull) = of_repo().find(|p| p.branch == branch) {
        return Some(pull.head_sha.clone());
    }
    let required =
        s.required_checks
            .contains_key(&(owner.to_owned(), repo.to_owned(), branch.to_owned()));
    (branch == "main" || required).then(|| objects::fake_sha(&format!("{owner}/{repo}@{branch}")))
}

/// `GET /repos/{owner}/{repo}/branches/{branch}`, with its protection's required checks.
pub(super) async fn get_branch(
    State(gh): State<GitHub>,
    Path((owner, repo, branch)): Path<(String, String, String)>,
) -> ApiResult {
    gh.with(|s| {
        let sha = branch_head(s, &owner, &repo, &branch).ok_or(ApiError::new(
            StatusCode::NOT_FOUND,
            "Branch not found",
            DOC_BRANCHES,
        ))?;
        let key = (owner.clone(), repo.clone(), branch.clone());
        let required = s.required_checks.get(&key).cloned();
        let author = s.user(&owner);
        let tree = s
            .branch_files_of(&owner, &repo, &branch)
            .map_or_else(|| sha.clone(), |files| files.tree_sha(""));
        let body = objects::branch(
            &s.urls,
            (&owner, &repo, &branch),
            (&sha, &tree),
            required.as_ref(),
            &author,
        );
        Ok(objects::json_response(StatusCode::OK, &body))
    })
}

/// `GET /repos/{owner}/{repo}/rules/branches/{branch}` (the branch need not exist).
pub(super) async fn branch_rules(
    State(gh): State<GitHub>,
    Path((owner, repo, branch)): Path<(String, String, String)>,
    uri: Uri,
) -> ApiResult {
    gh.with(|s| {
        let key = (owner.clone(), repo.clone(), branch);
        let rules = objects::branch_rules(&owner, &repo, s.required_checks.get(&key));
        let items = rules.as_array().cloned().unwrap_or_default();
        let body = Value::Array(page_of(items, &uri));
        Ok(objects::json_response(StatusCode::OK, &body))
    })
}
