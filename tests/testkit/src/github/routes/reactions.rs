//! Reactions to issue comments: create (201 when new, 200 when the caller already reacted so,
//! as GitHub documents) and list.

use axum::body::Bytes;
use axum::extract::{Extension, Path, State};
use axum::http::{StatusCode, Uri};
use serde_json::Value;

use super::super::GitHub;
use super::super::objects;
use super::super::state::REACTIONS;
use super::comments::DOC_COMMENTS;
use super::{ApiError, ApiResult, Caller, created, json_body, paginate, query_param};

const DOC_REACTIONS: &str = "https://docs.github.com/rest/reactions/reactions";

pub(super) async fn create(
    State(gh): State<GitHub>,
    Extension(Caller(user)): Extension<Caller>,
    Path((owner, repo, id)): Path<(String, String, u64)>,
    body: Bytes,
) -> ApiResult {
    let body = json_body(&body, DOC_REACTIONS)?;
    gh.with(|s| {
        s.comment_in(&owner, &repo, id)
            .ok_or(ApiError::not_found(DOC_COMMENTS))?;
        let content = content(body.get("content"))?;
        let (reaction, new) = s.react(id, &user.login, content);
        let json = s.reaction_json(&reaction);
        Ok(if new {
            created(&json)
        } else {
            objects::json_response(StatusCode::OK, &json)
        })
    })
}

/// Oldest first, optionally only one `?content=`, paginated.
pub(super) async fn list(
    State(gh): State<GitHub>,
    Path((owner, repo, id)): Path<(String, String, u64)>,
    uri: Uri,
) -> ApiResult {
    let only = query_param(&uri, "content")
        .map(|c| content(Some(&Value::String(c))).map(str::to_owned))
        .transpose()?;
    gh.with(|s| {
        s.comment_in(&owner, &repo, id)
            .ok_or(ApiError::not_found(DOC_COMMENTS))?;
        let reactions: Vec<_> = s
            .reactions
            .iter()
            .filter(|r| r.comment_id == id && only.as_ref().is_none_or(|c| *c == r.content))
            .cloned()
            .collect();
        let items = reactions.iter().map(|r| s.reaction_json(r)).collect();
        Ok(paginate(items, &uri, &s.urls.api))
    })
}

/// A reaction `content` GitHub accepts; 422 for anything else, missing included.
fn content(value: Option<&Value>) -> Result<&'static str, ApiError> {
    value
        .and_then(Value::as_str)
        .and_then(|c| REACTIONS.iter().find(|r| **r == c).copied())
        .ok_or_else(|| ApiError::invalid_field("Reaction", "content", DOC_REACTIONS))
}
