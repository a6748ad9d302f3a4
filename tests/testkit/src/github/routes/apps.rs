//! The GitHub App's own endpoints, called with its JWT (the layer checked it): the App, the
//! installation on a repository, and new installation tokens.

use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use axum::http::Uri;
use serde_json::{Value, json};

use super::super::GitHub;
use super::super::apps::{App, Installation};
use super::super::objects::{self, timestamp};
use super::super::state::{State as Standin, now};
use super::{ApiError, ApiResult, InstallationCaller, counted_page};

const DOC_APP: &str = "https://docs.github.com/rest/apps/apps#get-the-authenticated-app";
const DOC_REPO_INSTALLATION: &str = "https://docs.github.com/rest/apps/apps#get-a-repository-installation-for-the-authenticated-app";
const DOC_INSTALLATION_REPOSITORIES: &str = "https://docs.github.com/rest/apps/installations#list-repositories-accessible-to-the-app-installation";
const DOC_TOKEN: &str =
    "https://docs.github.com/rest/apps/apps#create-an-installation-access-token-for-an-app";

/// The permissions the test App was granted (those previewd's docs ask for).
fn permissions() -> Value {
    json!({"issues": "write", "pull_requests": "read", "metadata": "read", "contents": "read"})
}

fn events() -> Value {
    json!([
        "pull_request",
        "issue_comment",
        "installation",
        "installation_repositories"
    ])
}

/// `GET /app`.
pub(super) async fn get_app(State(gh): State<GitHub>) -> ApiResult {
    gh.with(|s| {
        let app = s.apps.app.clone().ok_or(ApiError::not_found(DOC_APP))?;
        Ok(objects::json_response(
            StatusCode::OK,
            &integration(s, &app),
        ))
    })
}

/// `GET /repos/{owner}/{repo}/installation`.
pub(super) async fn repository_installation(
    State(gh): State<GitHub>,
    Path((owner, repo)): Path<(String, String)>,
) -> ApiResult {
    gh.with(|s| installation_answer(s, s.installation_on(&owner, &repo).cloned()))
}

/// Installation `id`, or 404 (documented at `doc`).
fn installation_by_id(s: &Standin, id: u64, doc: &'static str) -> Result<Installation, ApiError> {
    s.apps
        .installations
        .get(&id)
        .cloned()
        .ok_or(ApiError::not_found(doc))
}

/// An installation found, or 404.
fn installation_answer(s: &mut Standin, found: Option<Installation>) -> ApiResult {
    let found = found.ok_or(ApiError::not_found(DOC_REPO_INSTALLATION))?;
    Ok(objects::json_response(
        StatusCode::OK,
        &installation(s, &found),
    ))
}

/// `GET /orgs/{org}/installation` and `GET /users/{username}/installation` (the stand-in does
/// not tell organisations from users here).
pub(super) async fn account_installation(
    State(gh): State<GitHub>,
    Path(owner): Path<String>,
) -> ApiResult {
    gh.with(|s| installation_answer(s, s.installation_of_account(&owner).cloned()))
}

/// `GET /installation/repositories`: the repositories the token's installation covers, a page
/// of them (`per_page`, `page`) with the total count.
pub(super) async fn installation_repositories(
    State(gh): State<GitHub>,
    caller: Option<Extension<InstallationCaller>>,
    uri: Uri,
) -> ApiResult {
    let Some(Extension(InstallationCaller(id))) = caller else {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "This endpoint can only be accessed with an installation token",
            DOC_INSTALLATION_REPOSITORIES,
        ));
    };
    gh.with(|s| {
        let found = installation_by_id(s, id, DOC_INSTALLATION_REPOSITORIES)?;
        let names: Vec<String> = s
            .repositories_of(&found.account)
            .into_iter()
            .filter(|repo| found.covers(&found.account, repo))
            .collect();
        let all: Vec<Value> = names
            .iter()
            .map(|repo| s.repository_json(&found.account, repo))
            .collect();
        Ok(counted_page("repositories", all, &uri))
    })
}

/// `POST /app/installations/{installation_id}/access_tokens`: 404 for an unknown (deleted)
/// installation, 403 for a suspended one.
pub(super) async fn create_token(State(gh): State<GitHub>, Path(id): Path<u64>) -> ApiResult {
    gh.with(|s| {
        let found = installation_by_id(s, id, DOC_TOKEN)?;
        if found.suspended_at.is_some() {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "This installation has been suspended",
                DOC_TOKEN,
            ));
        }
        let (token, expires_at) = s.create_installation_token(id, now());
        let body = json!({
            "token": token,
            "expires_at": timestamp(expires_at),
            "permissions": permissions(),
            "repository_selection": selection(&found),
        });
        Ok(objects::json_response(StatusCode::CREATED, &body))
    })
}

fn selection(installation: &Installation) -> &'static str {
    match installation.repositories {
        Some(_) => "selected",
        None => "all",
    }
}

/// An `integration`.
fn integration(s: &mut Standin, app: &App) -> Value {
    let owner = s.user(GitHub::APP_OWNER);
    let created = timestamp(now() - chrono::Duration::days(30));
    json!({
        "id": app.id,
        "slug": app.slug,
        "node_id": format!("MDM6QXBw{}", app.id),
        "client_id": format!("Iv1.{:016x}", app.id),
        "owner": objects::simple_user(&s.urls, &owner),
        "name": app.slug,
        "description": "Preview environments for pull requests",
        "external_url": "https://previewd.example",
        "html_url": format!("https://github.com/apps/{}", app.slug),
        "created_at": created,
        "updated_at": created,
        "permissions": permissions(),
        "events": events(),
        "installations_count": s.apps.installations.len(),
    })
}

/// An `installation`.
fn installation(s: &mut Standin, found: &Installation) -> Value {
    let account = s.user(&found.account);
    let app = s.apps.app.clone().expect("an installation has an App");
    let api = s.urls.api.clone();
    json!({
        "id": found.id,
        "account": objects::simple_user(&s.urls, &account),
        "repository_selection": selection(found),
        "access_tokens_url": format!("{api}/app/installations/{}/access_tokens", found.id),
        "repositories_url": format!("{api}/installation/repositories"),
        "html_url": format!("https://github.com/settings/installations/{}", found.id),
        "app_id": app.id,
        "app_slug": app.slug,
        "target_id": account.id,
        "target_type": account.kind,
        "permissions": permissions(),
        "events": events(),
        "created_at": timestamp(found.created_at),
        "updated_at": timestamp(found.created_at),
        "single_file_name": null,
        "suspended_by": null,
        "suspended_at": found.suspended_at.map(timestamp),
    })
}
