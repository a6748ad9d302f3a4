//! Routes for demos and shell scripts (`examples/github_standin.rs`), outside the API layer:
//! `GET /_standin/requests`, `GET /_standin/comments`, `PUT /_standin/pulls/{owner}/{repo}/{number}`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, put};
use axum::{Json, Router};
use serde_json::Value;

use super::{GitHub, Pull};

/// The admin routes for `GitHub::start_with`.
pub fn admin_routes(github: GitHub) -> Router {
    Router::new()
        .route(
            "/_standin/requests",
            get(|State(gh): State<GitHub>| async move { Json(gh.requests()) }),
        )
        .route(
            "/_standin/comments",
            get(|State(gh): State<GitHub>| async move { Json(gh.all_comments()) }),
        )
        .route("/_standin/pulls/{owner}/{repo}/{number}", put(put_pull))
        .with_state(github)
}

/// Sets a PR from a JSON object with any fields of `Pull` (`title`, `head_sha`, `branch`,
/// `open`, `merged`, `fork_owner`, `draft`, `author`, `labels`...), laid over the PR as it is
/// (or over `Pull::new` for a new one); `updated_at` moves to now unless given.
async fn put_pull(
    State(gh): State<GitHub>,
    Path((owner, repo, number)): Path<(String, String, u64)>,
    Json(patch): Json<Value>,
) -> Result<Json<Pull>, (StatusCode, String)> {
    let Value::Object(patch) = patch else {
        return Err((
            StatusCode::UNPROCESSABLE_ENTITY,
            "expected a JSON object".to_owned(),
        ));
    };
    let current = gh
        .pull(&owner, &repo, number)
        .unwrap_or_else(|| Pull::new(&owner, &repo, number));
    let mut value = serde_json::to_value(&current).expect("a Pull serialises");
    value["updated_at"] = serde_json::to_value(chrono::Utc::now()).expect("a time serialises");
    for (key, field) in patch {
        value[key] = field;
    }
    // The address decides which PR this is.
    value["owner"] = Value::String(owner);
    value["repo"] = Value::String(repo);
    value["number"] = Value::from(number);
    let pull: Pull = serde_json::from_value(value)
        .map_err(|e| (StatusCode::UNPROCESSABLE_ENTITY, e.to_string()))?;
    gh.set_pull(pull.clone());
    Ok(Json(pull))
}
