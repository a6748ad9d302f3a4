//! Issue comments: list, create, get, update, delete.

use axum::body::Bytes;
use axum::extract::{Extension, Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::IntoResponse;
use chrono::{DateTime, Utc};
use serde_json::Value;

use super::super::GitHub;
use super::super::objects;
use super::super::state::now;
use super::{ApiError, ApiResult, Caller, created, json_body, paginate, query_param};

pub(super) const DOC_COMMENTS: &str = "https://docs.github.com/rest/issues/comments";

pub(super) async fn list(
    State(gh): State<GitHub>,
    Path((owner, repo, number)): Path<(String, String, u64)>,
    uri: Uri,
) -> ApiResult {
    gh.with(|s| {
        require_issue(s.pull(&owner, &repo, number).is_some())?;
        let comments: Vec<_> = s
            .comments
            .values()
            .filter(|c| c.owner == owner && c.repo == repo && c.number == number)
            .cloned()
            .collect();
        let items = comments.iter().map(|c| s.comment_json(c)).collect();
        Ok(paginate(items, &uri, &s.urls.api))
    })
}

/// `GET /repos/{owner}/{repo}/issues/comments`: every comment of the repository, filtered by
/// `since` on `updated_at` (to the second, as GitHub compares), sorted by `sort` (`created`, the
/// default, or `updated`) in `direction` (`asc` by default when sorting, as GitHub does here).
pub(super) async fn list_for_repository(
    State(gh): State<GitHub>,
    Path((owner, repo)): Path<(String, String)>,
    uri: Uri,
) -> ApiResult {
    let since = match query_param(&uri, "since") {
        None => None,
        Some(text) => Some(
            text.parse::<DateTime<Utc>>()
                .map_err(|_| ApiError::invalid_field("IssueComment", "since", DOC_COMMENTS))?,
        ),
    };
    let by_updated = query_param(&uri, "sort").as_deref() == Some("updated");
    let descending = query_param(&uri, "direction").as_deref() == Some("desc");
    gh.with(|s| {
        let mut comments: Vec<_> = s
            .comments
            .values()
            .filter(|c| c.owner == owner && c.repo == repo)
            .filter(|c| since.is_none_or(|since| c.updated_at.timestamp() >= since.timestamp()))
            .cloned()
            .collect();
        comments.sort_by_key(|c| {
            (
                if by_updated {
                    c.updated_at
                } else {
                    c.created_at
                },
                c.id,
            )
        });
        if descending {
            comments.reverse();
        }
        let items = comments.iter().map(|c| s.comment_json(c)).collect();
        Ok(paginate(items, &uri, &s.urls.api))
    })
}

pub(super) async fn create(
    State(gh): State<GitHub>,
    Extension(Caller(user)): Extension<Caller>,
    Path((owner, repo, number)): Path<(String, String, u64)>,
    body: Bytes,
) -> ApiResult {
    let text = comment_body(&body)?;
    gh.with(|s| {
        require_issue(s.pull(&owner, &repo, number).is_some())?;
        let comment = s.add_comment(&owner, &repo, number, &user.login, &text);
        Ok(created(&s.comment_json(&comment)))
    })
}

pub(super) async fn get(
    State(gh): State<GitHub>,
    Path((owner, repo, id)): Path<(String, String, u64)>,
) -> ApiResult {
    gh.with(|s| {
        let comment = s
            .comment_in(&owner, &repo, id)
            .cloned()
            .ok_or(ApiError::not_found(DOC_COMMENTS))?;
        Ok(objects::json_response(
            StatusCode::OK,
            &s.comment_json(&comment),
        ))
    })
}

pub(super) async fn update(
    State(gh): State<GitHub>,
    Path((owner, repo, id)): Path<(String, String, u64)>,
    body: Bytes,
) -> ApiResult {
    // GitHub lets the token's owner edit only their own comments, but an admin token may
    // edit any; previewd must find its comment by marker *and* author, which tests check.
    let text = comment_body(&body)?;
    gh.with(|s| {
        s.comment_in(&owner, &repo, id)
            .ok_or(ApiError::not_found(DOC_COMMENTS))?;
        let comment = s.comments.get_mut(&id).expect("checked above");
        comment.body = text;
        comment.updated_at = now();
        let comment = comment.clone();
        Ok(objects::json_response(
            StatusCode::OK,
            &s.comment_json(&comment),
        ))
    })
}

pub(super) async fn delete(
    State(gh): State<GitHub>,
    Path((owner, repo, id)): Path<(String, String, u64)>,
) -> ApiResult {
    gh.with(|s| {
        s.comment_in(&owner, &repo, id)
            .ok_or(ApiError::not_found(DOC_COMMENTS))?;
        s.remove_comment(id);
        Ok(StatusCode::NO_CONTENT.into_response())
    })
}

fn require_issue(exists: bool) -> Result<(), ApiError> {
    if exists {
        Ok(())
    } else {
        Err(ApiError::not_found(DOC_COMMENTS))
    }
}

/// The `body` of a create/update comment request, validated as GitHub does.
fn comment_body(raw: &[u8]) -> Result<String, ApiError> {
    match json_body(raw, DOC_COMMENTS)?.get("body") {
        Some(Value::String(text)) => Ok(text.clone()),
        Some(_) => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Invalid request.\n\nFor 'properties/body', is not a string.",
            DOC_COMMENTS,
        )),
        None => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Invalid request.\n\n\"body\" wasn't supplied.",
            DOC_COMMENTS,
        )),
    }
}
