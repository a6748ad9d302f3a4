//! A user's permission on a repository.
//!
//! GitHub answers for any existing account, collaborator or not: the owner has `admin`, a
//! collaborator their role, anyone else `read` on a public repository; a login that is no
//! account gets 404. `permission` is the legacy base role (maintain → write, triage → read),
//! `role_name` the real one. The repository itself is not checked: any `owner/repo` exists.

use axum::extract::{Path, State};
use axum::http::StatusCode;

use super::super::GitHub;
use super::super::objects;
use super::{ApiError, ApiResult};

const DOC_PERMISSION: &str = "https://docs.github.com/rest/collaborators/collaborators#get-repository-permissions-for-a-user";

pub(super) async fn permission(
    State(gh): State<GitHub>,
    Path((owner, repo, login)): Path<(String, String, String)>,
) -> ApiResult {
    gh.with(|s| {
        let (user, role) = s
            .role(&owner, &repo, &login)
            .ok_or(ApiError::not_found(DOC_PERMISSION))?;
        let body = objects::collaborator_permission(&s.urls, &user, &role);
        Ok(objects::json_response(StatusCode::OK, &body))
    })
}
