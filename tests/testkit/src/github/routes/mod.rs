//! The REST endpoints. Each handler only reads or changes state and builds the body; auth,
//! recording, faults, rate limits, ETags and common headers live in the layer (layer.rs).

mod apps;
mod checks;
mod collaborators;
mod comments;
mod deployments;
mod git;
mod pulls;
mod reactions;
mod repositories;

use axum::Router;
use axum::extract::{Extension, State};
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use super::GitHub;
use super::objects;
use super::recorded::query_pairs;
use super::state::User;

/// The caller, resolved from the token by the layer.
#[derive(Clone, Debug)]
pub(super) struct Caller(pub(crate) User);

/// The installation whose token the caller used.
#[derive(Clone, Copy, Debug)]
pub(super) struct InstallationCaller(pub(crate) u64);

/// An error answered the way GitHub does: status plus `{message, documentation_url, status}`,
/// and for validation failures the `errors` GitHub lists.
#[derive(Debug)]
pub(super) struct ApiError {
    status: StatusCode,
    message: String,
    doc: &'static str,
    errors: Option<Value>,
}

impl ApiError {
    fn new(status: StatusCode, message: &str, doc: &'static str) -> Self {
        ApiError {
            status,
            message: message.to_owned(),
            doc,
            errors: None,
        }
    }

    fn not_found(doc: &'static str) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, "Not Found", doc)
    }

    /// 422 "Validation Failed" with one `errors` entry, as GitHub reports an invalid field.
    fn invalid_field(resource: &str, field: &str, doc: &'static str) -> Self {
        ApiError {
            errors: Some(json!([{"resource": resource, "code": "invalid", "field": field}])),
            ..ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "Validation Failed", doc)
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = objects::error(&self.message, self.doc, self.status.as_u16());
        if let Some(errors) = self.errors {
            body["errors"] = errors;
        }
        objects::json_response(self.status, &body)
    }
}

type ApiResult = Result<Response, ApiError>;

const DOC_REST: &str = "https://docs.github.com/rest";

pub(super) fn router() -> Router<GitHub> {
    Router::new()
        .route("/user", get(current_user))
        .route("/app", get(apps::get_app))
        .route(
            "/app/installations/{id}/access_tokens",
            post(apps::create_token),
        )
        .route(
            "/repos/{owner}/{repo}/installation",
            get(apps::repository_installation),
        )
        .route(
            "/orgs/{owner}/installation",
            get(apps::account_installation),
        )
        .route(
            "/users/{owner}/installation",
            get(apps::account_installation),
        )
        .route(
            "/installation/repositories",
            get(apps::installation_repositories),
        )
        .route("/orgs/{owner}/repos", get(repositories::of_organisation))
        .route("/users/{owner}/repos", get(repositories::of_user))
        .route(
            "/repos/{owner}/{repo}/issues/{number}/comments",
            get(comments::list).post(comments::create),
        )
        .route(
            "/repos/{owner}/{repo}/issues/comments",
            get(comments::list_for_repository),
        )
        .route(
            "/repos/{owner}/{repo}/issues/comments/{id}",
            // GitHub accepts POST wherever it accepts PATCH, and octocrab's `update_comment` uses it.
            get(comments::get)
                .patch(comments::update)
                .post(comments::update)
                .delete(comments::delete),
        )
        .route(
            "/repos/{owner}/{repo}/issues/comments/{id}/reactions",
            get(reactions::list).post(reactions::create),
        )
        .route(
            "/repos/{owner}/{repo}/collaborators/{username}/permission",
            get(collaborators::permission),
        )
        .route(
            "/repos/{owner}/{repo}/deployments",
            get(deployments::list).post(deployments::create),
        )
        .route(
            "/repos/{owner}/{repo}/deployments/{id}/statuses",
            get(deployments::list_statuses).post(deployments::create_status),
        )
        .route("/repos/{owner}/{repo}/check-runs", post(checks::create_run))
        .route(
            "/repos/{owner}/{repo}/check-runs/{id}",
            axum::routing::patch(checks::update_run),
        )
        .route(
            "/repos/{owner}/{repo}/commits/{git_ref}/check-runs",
            get(checks::runs_for_ref),
        )
        .route(
            "/repos/{owner}/{repo}/commits/{git_ref}/check-suites",
            get(checks::suites_for_ref),
        )
        .route(
            "/repos/{owner}/{repo}/statuses/{sha}",
            post(checks::create_status),
        )
        .route(
            "/repos/{owner}/{repo}/commits/{git_ref}/status",
            get(checks::combined_status),
        )
        .route("/repos/{owner}/{repo}/git/trees/{sha}", get(git::tree))
        .route("/repos/{owner}/{repo}/git/blobs/{sha}", get(git::blob))
        .route(
            "/repos/{owner}/{repo}/branches/{branch}",
            get(checks::get_branch),
        )
        .route(
            "/repos/{owner}/{repo}/rules/branches/{branch}",
            get(checks::branch_rules),
        )
        .route("/repos/{owner}/{repo}", get(repositories::get))
        .route("/repositories/{id}", get(repositories::by_id))
        .route("/repos/{owner}/{repo}/pulls", get(pulls::list))
        .route("/repos/{owner}/{repo}/pulls/{number}", get(pulls::get))
        .fallback(|| async { ApiError::not_found(DOC_REST) })
}

async fn current_user(
    State(gh): State<GitHub>,
    Extension(Caller(user)): Extension<Caller>,
) -> Response {
    let body = gh.with(|s| objects::private_user(&s.urls, &user));
    objects::json_response(StatusCode::OK, &body)
}

/// A request body parsed as JSON; 400 "Problems parsing JSON" otherwise.
fn json_body(raw: &[u8], doc: &'static str) -> Result<Value, ApiError> {
    serde_json::from_slice(raw)
        .map_err(|_| ApiError::new(StatusCode::BAD_REQUEST, "Problems parsing JSON", doc))
}

/// The (first) value of query parameter `name`, if given.
fn query_param(uri: &Uri, name: &str) -> Option<String> {
    query_pairs(uri.query())
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

/// A `201 Created` with GitHub's `Location` header (the new object's `url`).
fn created(json: &Value) -> Response {
    let mut response = objects::json_response(StatusCode::CREATED, json);
    if let Some(Ok(location)) = json["url"].as_str().map(HeaderValue::from_str) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
}

/// The `per_page` (default 30, at most 100) and `page` (from 1) a request asks for.
fn page_asked(uri: &Uri) -> (usize, usize) {
    let params = query_pairs(uri.query());
    let number = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .and_then(|(_, v)| v.parse::<usize>().ok())
    };
    let per_page = number("per_page").filter(|n| *n > 0).unwrap_or(30).min(100);
    let page = number("page").filter(|n| *n > 0).unwrap_or(1);
    (per_page, page)
}

/// The items of the page a request asks for.
fn page_of(items: Vec<Value>, uri: &Uri) -> Vec<Value> {
    let (per_page, page) = page_asked(uri);
    let start = (page - 1).saturating_mul(per_page).min(items.len());
    items.into_iter().skip(start).take(per_page).collect()
}

/// `{"total_count": …, <key>: [the page asked for]}`, as GitHub answers the lists it counts.
fn counted_page(key: &str, items: Vec<Value>, uri: &Uri) -> Response {
    let mut body = json!({"total_count": items.len()});
    body[key] = Value::Array(page_of(items, uri));
    objects::json_response(StatusCode::OK, &body)
}

/// One page of `items` per `per_page` (default 30, at most 100) and `page` (from 1), with an
/// RFC 5988 `Link` header in GitHub's order: prev, next, last, first.
fn paginate(items: Vec<Value>, uri: &Uri, api: &str) -> Response {
    let (per_page, page) = page_asked(uri);
    let last = items.len().div_ceil(per_page).max(1);
    let slice = page_of(items, uri);

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
    if let Ok(value) = HeaderValue::from_str(&links.join(", "))
        && !links.is_empty()
    {
        response.headers_mut().insert(header::LINK, value);
    }
    response
}
