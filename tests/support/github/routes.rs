//! The REST endpoints. Each handler only reads or changes state and builds the body; auth,
//! recording, faults, rate limits, ETags and common headers live in the layer (mod.rs).

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Extension, Path, State};
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::Value;

use super::GitHub;
use super::objects;
use super::state::{User, now, query_pairs};

/// The caller, resolved from the token by the layer.
#[derive(Clone, Debug)]
pub(super) struct Caller(pub User);

/// An error answered the way GitHub does: status plus `{message, documentation_url, status}`.
#[derive(Debug)]
pub(super) struct ApiError {
    status: StatusCode,
    message: String,
    doc: &'static str,
}

impl ApiError {
    fn new(status: StatusCode, message: &str, doc: &'static str) -> Self {
        ApiError {
            status,
            message: message.to_owned(),
            doc,
        }
    }

    fn not_found(doc: &'static str) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, "Not Found", doc)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = objects::error(&self.message, self.doc, self.status.as_u16());
        objects::json_response(self.status, &body)
    }
}

type ApiResult = Result<Response, ApiError>;

const DOC_COMMENTS: &str = "https://docs.github.com/rest/issues/comments";
const DOC_PULLS: &str = "https://docs.github.com/rest/pulls/pulls";
const DOC_REST: &str = "https://docs.github.com/rest";

pub(super) fn router() -> Router<GitHub> {
    Router::new()
        .route("/user", get(current_user))
        .route(
            "/repos/{owner}/{repo}/issues/{number}/comments",
            get(list_comments).post(create_comment),
        )
        .route(
            "/repos/{owner}/{repo}/issues/comments/{id}",
            // GitHub accepts POST wherever it accepts PATCH, and octocrab's `update_comment` uses it.
            get(get_comment)
                .patch(update_comment)
                .post(update_comment)
                .delete(delete_comment),
        )
        .route("/repos/{owner}/{repo}/pulls", get(list_pulls))
        .route("/repos/{owner}/{repo}/pulls/{number}", get(get_pull))
        .fallback(|| async { ApiError::not_found(DOC_REST) })
}

async fn current_user(
    State(gh): State<GitHub>,
    Extension(Caller(user)): Extension<Caller>,
) -> Response {
    let body = gh.with(|s| objects::private_user(&s.urls, &user));
    objects::json_response(StatusCode::OK, &body)
}

async fn list_comments(
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

async fn create_comment(
    State(gh): State<GitHub>,
    Extension(Caller(user)): Extension<Caller>,
    Path((owner, repo, number)): Path<(String, String, u64)>,
    body: Bytes,
) -> ApiResult {
    let text = comment_body(&body)?;
    gh.with(|s| {
        require_issue(s.pull(&owner, &repo, number).is_some())?;
        let comment = s.add_comment(&owner, &repo, number, &user.login, &text);
        let json = s.comment_json(&comment);
        let mut response = objects::json_response(StatusCode::CREATED, &json);
        if let Some(Ok(location)) = json["url"].as_str().map(HeaderValue::from_str) {
            response.headers_mut().insert(header::LOCATION, location);
        }
        Ok(response)
    })
}

async fn get_comment(
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

async fn update_comment(
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

async fn delete_comment(
    State(gh): State<GitHub>,
    Path((owner, repo, id)): Path<(String, String, u64)>,
) -> ApiResult {
    gh.with(|s| {
        s.comment_in(&owner, &repo, id)
            .ok_or(ApiError::not_found(DOC_COMMENTS))?;
        s.comments.remove(&id);
        Ok(StatusCode::NO_CONTENT.into_response())
    })
}

async fn get_pull(
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

async fn list_pulls(
    State(gh): State<GitHub>,
    Path((owner, repo)): Path<(String, String)>,
    uri: Uri,
) -> ApiResult {
    let state = query_pairs(uri.query())
        .into_iter()
        .find(|(k, _)| k == "state")
        .map(|(_, v)| v);
    let wanted = |open: bool| match state.as_deref() {
        None | Some("open") => Ok(open),
        Some("closed") => Ok(!open),
        Some("all") => Ok(true),
        Some(_) => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Validation Failed",
            DOC_PULLS,
        )),
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

fn require_issue(exists: bool) -> Result<(), ApiError> {
    if exists {
        Ok(())
    } else {
        Err(ApiError::not_found(DOC_COMMENTS))
    }
}

/// The `body` of a create/update comment request, validated as GitHub does.
fn comment_body(raw: &[u8]) -> Result<String, ApiError> {
    let value: Value = serde_json::from_slice(raw).map_err(|_| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "Problems parsing JSON",
            DOC_COMMENTS,
        )
    })?;
    match value.get("body") {
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

/// One page of `items` per `per_page` (default 30, at most 100) and `page` (from 1), with an
/// RFC 5988 `Link` header in GitHub's order: prev, next, last, first.
fn paginate(items: Vec<Value>, uri: &Uri, api: &str) -> Response {
    let params = query_pairs(uri.query());
    let number = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .and_then(|(_, v)| v.parse::<usize>().ok())
    };
    let per_page = number("per_page").filter(|n| *n > 0).unwrap_or(30).min(100);
    let page = number("page").filter(|n| *n > 0).unwrap_or(1);
    let last = items.len().div_ceil(per_page).max(1);
    let start = (page - 1).saturating_mul(per_page).min(items.len());
    let slice: Vec<Value> = items.into_iter().skip(start).take(per_page).collect();

    let link_to = |target: usize, rel: &str| {
        let mut query: Vec<String> = uri
            .query()
            .unwrap_or("")
            .split('&')
            .filter(|pair| !pair.is_empty() && pair.split('=').next() != Some("page"))
            .map(str::to_owned)
            .collect();
        query.push(format!("page={target}"));
        format!("<{api}{}?{}>; rel=\"{rel}\"", uri.path(), query.join("&"))
    };
    let mut links = Vec::new();
    if page > 1 {
        links.push(link_to((page - 1).min(last), "prev"));
    }
    if page < last {
        links.push(link_to(page + 1, "next"));
        links.push(link_to(last, "last"));
    }
    if page > 1 {
        links.push(link_to(1, "first"));
    }
    let mut response = objects::json_response(StatusCode::OK, &Value::Array(slice));
    if let Ok(value) = HeaderValue::from_str(&links.join(", ")) {
        if !links.is_empty() {
            response.headers_mut().insert(header::LINK, value);
        }
    }
    response
}
