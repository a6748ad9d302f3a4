//! Repositories: by name, and by id (the address GitHub redirects a moved repository's old name
//! to; answered though GitHub's OpenAPI description leaves it out).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::http::Uri;
use serde_json::{Value, json};

use super::super::GitHub;
use super::super::objects;
use super::super::state::State as Standin;
use super::{ApiError, ApiResult, paginate};

const DOC_REPOS: &str = "https://docs.github.com/rest/repos/repos#get-a-repository";

/// `GET /repos/{owner}/{repo}`: any name is a public repository (a moved one's old name was
/// redirected by the layer).
pub(super) async fn get(
    State(gh): State<GitHub>,
    Path((owner, repo)): Path<(String, String)>,
) -> ApiResult {
    Ok(gh.with(|s| objects::json_response(StatusCode::OK, &full_repository(s, &owner, &repo))))
}

/// `GET /repositories/{id}`.
pub(super) async fn by_id(State(gh): State<GitHub>, Path(id): Path<u64>) -> ApiResult {
    gh.with(|s| {
        let (owner, repo) = s
            .repository_named(id)
            .ok_or(ApiError::not_found(DOC_REPOS))?;
        Ok(objects::json_response(
            StatusCode::OK,
            &full_repository(s, &owner, &repo),
        ))
    })
}

/// `GET /orgs/{org}/repos`: 404 unless the account is an organisation.
pub(super) async fn of_organisation(
    State(gh): State<GitHub>,
    Path(owner): Path<String>,
    uri: Uri,
) -> ApiResult {
    gh.with(|s| {
        let is_organisation = s
            .known_user(&owner)
            .is_some_and(|u| u.kind == "Organization");
        if !is_organisation {
            return Err(ApiError::not_found(DOC_REPOS));
        }
        Ok(owned(s, &owner, &uri))
    })
}

/// `GET /users/{username}/repos`.
pub(super) async fn of_user(
    State(gh): State<GitHub>,
    Path(owner): Path<String>,
    uri: Uri,
) -> ApiResult {
    gh.with(|s| {
        s.known_user(&owner).ok_or(ApiError::not_found(DOC_REPOS))?;
        Ok(owned(s, &owner, &uri))
    })
}

/// The repositories of `owner`, a page of them.
fn owned(s: &mut Standin, owner: &str, uri: &Uri) -> axum::response::Response {
    let items = s
        .repositories_of(owner)
        .into_iter()
        .map(|repo| s.repository_json(owner, &repo))
        .collect();
    paginate(items, uri, &s.urls.api)
}

/// A `full-repository`.
fn full_repository(s: &mut Standin, owner: &str, repo: &str) -> Value {
    let mut value = s.repository_json(owner, repo);
    value["network_count"] = json!(0);
    value["subscribers_count"] = json!(0);
    value
}
