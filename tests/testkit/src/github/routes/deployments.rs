//! Deployments: create and list (filtered by `sha`, `ref`, `environment`, newest first), and
//! their statuses: create (with GitHub's `auto_inactive`) and list (newest first).

use axum::body::Bytes;
use axum::extract::{Extension, Path, State};
use axum::http::Uri;
use serde_json::Value;

use super::super::GitHub;
use super::super::deployments::{Deployment, DeploymentStatus, STATES};
use super::super::objects;
use super::super::state::{State as Standin, now};
use super::{ApiError, ApiResult, Caller, created, json_body, paginate, query_param};

const DOC_DEPLOYMENTS: &str = "https://docs.github.com/rest/deployments/deployments";
const DOC_STATUSES: &str = "https://docs.github.com/rest/deployments/statuses";

fn is_sha(text: &str) -> bool {
    text.len() == 40 && text.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The commit `git_ref` names: a full SHA, or the head of an open pull request's branch.
pub(super) fn resolve(s: &Standin, owner: &str, repo: &str, git_ref: &str) -> Option<String> {
    if is_sha(git_ref) {
        return Some(git_ref.to_ascii_lowercase());
    }
    s.pulls
        .values()
        .find(|p| p.owner == owner && p.repo == repo && p.branch == git_ref)
        .map(|p| p.head_sha.clone())
}

/// `POST /repos/{owner}/{repo}/deployments`.
pub(super) async fn create(
    State(gh): State<GitHub>,
    Extension(Caller(user)): Extension<Caller>,
    Path((owner, repo)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult {
    let body = json_body(&body, DOC_DEPLOYMENTS)?;
    let git_ref = body["ref"]
        .as_str()
        .filter(|r| !r.is_empty())
        .ok_or(ApiError::invalid_field(
            "Deployment",
            "ref",
            DOC_DEPLOYMENTS,
        ))?
        .to_owned();
    let production_default = body["environment"].as_str().unwrap_or("production") == "production";
    gh.with(|s| {
        let sha = resolve(s, &owner, &repo, &git_ref).ok_or(ApiError::invalid_field(
            "Deployment",
            "ref",
            DOC_DEPLOYMENTS,
        ))?;
        s.last_deployment_id += 1;
        let deployment = Deployment {
            id: s.last_deployment_id,
            owner: owner.clone(),
            repo: repo.clone(),
            sha,
            git_ref,
            environment: body["environment"]
                .as_str()
                .unwrap_or("production")
                .to_owned(),
            transient: body["transient_environment"].as_bool().unwrap_or(false),
            production: body["production_environment"]
                .as_bool()
                .unwrap_or(production_default),
            description: body["description"].as_str().unwrap_or("").to_owned(),
            creator: user.login.clone(),
            payload: body
                .get("payload")
                .cloned()
                .unwrap_or(Value::Object(Default::default())),
            created_at: now(),
        };
        s.deployments.insert(deployment.id, deployment.clone());
        Ok(created(&objects::deployment(&s.urls, &deployment, &user)))
    })
}

/// `GET /repos/{owner}/{repo}/deployments`.
pub(super) async fn list(
    State(gh): State<GitHub>,
    Path((owner, repo)): Path<(String, String)>,
    uri: Uri,
) -> ApiResult {
    let wanted = |name: &str| query_param(&uri, name);
    let (sha, git_ref, environment) = (wanted("sha"), wanted("ref"), wanted("environment"));
    gh.with(|s| {
        let found: Vec<Deployment> = s
            .deployments
            .values()
            .rev()
            .filter(|d| d.owner == owner && d.repo == repo)
            .filter(|d| sha.as_ref().is_none_or(|v| &d.sha == v))
            .filter(|d| git_ref.as_ref().is_none_or(|v| &d.git_ref == v))
            .filter(|d| environment.as_ref().is_none_or(|v| &d.environment == v))
            .cloned()
            .collect();
        let items = found
            .iter()
            .map(|d| {
                let creator = s.user(&d.creator);
                objects::deployment(&s.urls, d, &creator)
            })
            .collect();
        Ok(paginate(items, &uri, &s.urls.api))
    })
}

fn deployment_in(s: &Standin, owner: &str, repo: &str, id: u64) -> Result<Deployment, ApiError> {
    s.deployments
        .get(&id)
        .filter(|d| d.owner == owner && d.repo == repo)
        .cloned()
        .ok_or(ApiError::not_found(DOC_STATUSES))
}

/// `POST /repos/{owner}/{repo}/deployments/{deployment_id}/statuses`.
pub(super) async fn create_status(
    State(gh): State<GitHub>,
    Extension(Caller(user)): Extension<Caller>,
    Path((owner, repo, id)): Path<(String, String, u64)>,
    body: Bytes,
) -> ApiResult {
    let body = json_body(&body, DOC_STATUSES)?;
    let state = body["state"]
        .as_str()
        .filter(|st| STATES.contains(st))
        .ok_or(ApiError::invalid_field(
            "DeploymentStatus",
            "state",
            DOC_STATUSES,
        ))?
        .to_owned();
    let text = |name: &str| body[name].as_str().unwrap_or("").to_owned();
    let auto_inactive = body["auto_inactive"].as_bool().unwrap_or(true);
    gh.with(|s| {
        let deployment = deployment_in(s, &owner, &repo, id)?;
        let status = add_status(
            s,
            &deployment,
            &state,
            [
                text("environment_url"),
                text("log_url"),
                text("description"),
            ],
            &user.login,
        );
        if state == "success" && auto_inactive {
            let earlier: Vec<Deployment> = s
                .deployments
                .values()
                .filter(|d| {
                    d.id != deployment.id
                        && d.owner == owner
                        && d.repo == repo
                        && d.environment == deployment.environment
                        && !d.transient
                        && !d.production
                })
                .cloned()
                .collect();
            for other in earlier {
                add_status(s, &other, "inactive", Default::default(), &user.login);
            }
        }
        Ok(created(&objects::deployment_status(
            &s.urls,
            &status,
            &deployment,
            &user,
        )))
    })
}

/// Adds a status of `deployment`: `[environment_url, log_url, description]`.
fn add_status(
    s: &mut Standin,
    deployment: &Deployment,
    state: &str,
    [environment_url, log_url, description]: [String; 3],
    creator: &str,
) -> DeploymentStatus {
    s.last_deployment_id += 1;
    let status = DeploymentStatus {
        id: s.last_deployment_id,
        deployment_id: deployment.id,
        state: state.to_owned(),
        environment_url,
        log_url,
        description,
        creator: creator.to_owned(),
        created_at: now(),
    };
    s.deployment_statuses.push(status.clone());
    status
}

/// `GET /repos/{owner}/{repo}/deployments/{deployment_id}/statuses`.
pub(super) async fn list_statuses(
    State(gh): State<GitHub>,
    Path((owner, repo, id)): Path<(String, String, u64)>,
    uri: Uri,
) -> ApiResult {
    gh.with(|s| {
        let deployment = deployment_in(s, &owner, &repo, id)?;
        let statuses: Vec<DeploymentStatus> = s
            .deployment_statuses
            .iter()
            .rev()
            .filter(|st| st.deployment_id == id)
            .cloned()
            .collect();
        let items = statuses
            .iter()
            .map(|st| {
                let creator = s.user(&st.creator);
                objects::deployment_status(&s.urls, st, &deployment, &creator)
            })
            .collect();
        Ok(paginate(items, &uri, &s.urls.api))
    })
}
