//! Pull requests: get one, list a repository's.

use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};

use super::super::GitHub;
use super::super::objects;
use super::{ApiError, ApiResult, paginate, query_param};

const DOC_PULLS: &str = "https://docs.github.com/rest/pulls/pulls";

pub(super) async fn get(
    State(gh): State<GitHub>,
    Path((owner, repo, number)): Path<(String, String, u64)>,
) -> ApiResult {
    gh.with(|s| {
        let pull = s
            .pull(&owner, &repo, number)
            .cloned()
            .ok_or(ApiError::not_found(DOC_PULLS))?;
        Ok(objects::json_response(
            StatusCode::OK,
            &s.pull_json(&pull, true),
        ))
    })
}

/// `?state=open|closed|all` (default open), newest first, paginated.
pub(super) async fn list(
    State(gh): State<GitHub>,
    Path((owner, repo)): Path<(String, String)>,
    uri: Uri,
) -> ApiResult {
    let state = query_param(&uri, "state");
    let wanted = |open: bool| match state.as_deref() {
        None | Some("open") => Ok(open),
        Some("closed") => Ok(!open),
        Some("all") => Ok(true),
        Some(_) => Err(ApiError::invalid_field("PullRequest", "state", DOC_PULLS)),
    };
    gh.with(|s| {
        // GitHub's default order: newest first.
        let mut pulls = Vec::new();
        for pull in s.pulls.values().rev() {
            if pull.owner == owner && pull.repo == repo && wanted(pull.open)? {
                pulls.push(pull.clone());
            }
        }
        let items = pulls.iter().map(|p| s.pull_json(p, false)).collect();
        Ok(paginate(items, &uri, &s.urls.api))
    })
}
