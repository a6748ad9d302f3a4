//! The one GitHub client of the process: the calls previewd makes, on octocrab's HTTP client.
//! octocrab's own retries are left out at build time (a retried POST can post a comment twice);
//! every call goes through previewd's policy (`transport`), and failures are returned for the
//! controller's requeue to decide when to try again.

use std::time::Duration;

use octocrab::Octocrab;
use serde::Deserialize;
use tokio::sync::OnceCell;

use super::auth::{Auth, Credentials};
use super::edits::Edits;
use super::installations::Refusal;
use super::pull::{Login, PullRequest};
use super::repositories::Names;
use super::transport::{Call, Method, Pacing};
use crate::model::pull::Repository;

/// A GitHub call that failed.
#[derive(Debug, thiserror::Error)]
pub enum GitHubError {
    /// The client could not be built from the configuration.
    #[error("GitHub client setup: {0}")]
    Setup(String),
    /// GitHub answered with an error status.
    #[error("GitHub {operation}: HTTP {status}: {message}")]
    Status {
        /// What previewd was doing.
        operation: &'static str,
        /// HTTP status.
        status: u16,
        /// GitHub's message.
        message: String,
    },
    /// The call did not complete (timeout, connection, unreadable body).
    #[error("GitHub {operation}: {message}")]
    Transport {
        /// What previewd was doing.
        operation: &'static str,
        /// What went wrong.
        message: String,
    },
    /// GitHub will not let the App act in the repository (answered now or less than a minute ago).
    #[error("GitHub in {repository}: {refusal}")]
    Refused {
        /// The repository.
        repository: String,
        /// Why.
        refusal: Refusal,
    },
    /// GitHub said to slow down (now or on an earlier call): no call is made until then.
    #[error("GitHub {operation}: rate limited; no GitHub call for {}s", retry_in.as_secs())]
    RateLimited {
        /// What previewd was doing.
        operation: &'static str,
        /// How long until calls resume.
        retry_in: Duration,
    },
}

impl GitHubError {
    pub(super) fn from_octocrab(operation: &'static str, error: octocrab::Error) -> Self {
        match error {
            octocrab::Error::GitHub { source, .. } => GitHubError::Status {
                operation,
                status: source.status_code.as_u16(),
                message: source.message,
            },
            other => GitHubError::Transport {
                operation,
                message: other.to_string(),
            },
        }
    }

    /// Whether asking again cannot help: a 4xx that is neither a rate limit (429, or a 403 that
    /// says so) nor a timeout (408).
    pub(crate) fn is_permanent(&self) -> bool {
        match self {
            GitHubError::Refused { .. } => true,
            GitHubError::Status {
                status, message, ..
            } => {
                (400..500).contains(status)
                    && !matches!(status, 408 | 429)
                    && !message.to_ascii_lowercase().contains("rate limit")
            }
            _ => false,
        }
    }

    /// How long GitHub asked previewd to wait, when it did.
    pub(crate) fn retry_in(&self) -> Option<Duration> {
        match self {
            GitHubError::RateLimited { retry_in, .. } => Some(*retry_in),
            _ => None,
        }
    }

    /// Whether GitHub said the thing does not exist.
    pub(crate) fn is_not_found(&self) -> bool {
        matches!(self, GitHubError::Status { status: 404, .. })
    }
}

/// A comment as previewd needs to see it.
#[derive(Clone, Debug, Deserialize)]
pub(crate) struct IssueComment {
    /// Comment id.
    pub id: u64,
    /// Markdown body.
    #[serde(default)]
    pub body: Option<String>,
    /// Who wrote it.
    pub user: Option<Login>,
}

/// Who previewd is on GitHub.
#[derive(Clone, Debug, Default)]
pub struct Identity {
    /// The login it writes as; asked of GitHub when not given (`GET /user` for a token,
    /// `<slug>[bot]` from `GET /app` for an App).
    pub login: Option<String>,
    /// Logins it wrote as before (a token's, before it became an App): comments of theirs
    /// with previewd's marker are previewd's own too.
    pub previous_logins: Vec<String>,
}

/// previewd's GitHub client.
pub struct GitHub {
    pub(super) octo: Octocrab,
    /// The API base URL, without a trailing `/`.
    pub(super) api_url: String,
    pub(super) auth: Auth,
    login: OnceCell<String>,
    previous_logins: Vec<String>,
    pub(super) pacing: Pacing,
    edits: Edits,
    pub(super) names: Names,
}

impl GitHub {
    /// A client for `api_url` (api.github.com, a GitHub Enterprise Server `/api/v3`, or a
    /// stand-in) authenticated with `credentials`, writing as `identity`.
    pub fn new(
        api_url: &str,
        credentials: Credentials,
        identity: Identity,
        timeout: Duration,
    ) -> Result<Self, GitHubError> {
        // No credentials of octocrab's own: each call carries the `Authorization` its
        // repository needs (`auth`).
        let octo = Octocrab::builder()
            .base_uri(api_url)
            .map_err(|e| GitHubError::Setup(format!("API URL {api_url:?}: {e}")))?
            .set_connect_timeout(Some(timeout))
            .set_read_timeout(Some(timeout))
            .set_write_timeout(Some(timeout))
            .build()
            .map_err(|e| GitHubError::Setup(e.to_string()))?;
        Ok(GitHub {
            octo,
            api_url: api_url.trim_end_matches('/').to_owned(),
            auth: Auth::new(credentials),
            login: OnceCell::new_with(identity.login),
            previous_logins: identity.previous_logins,
            pacing: Pacing::default(),
            edits: Edits::default(),
            names: Names::default(),
        })
    }

    /// The login previewd writes as (asked once).
    pub(crate) async fn login(&self) -> Result<&str, GitHubError> {
        self.login
            .get_or_try_init(|| async {
                if self.auth.is_app() {
                    return self.app_login().await;
                }
                let call = Call::get("get authenticated user", "/user", "/user".to_owned());
                let me: Login = self.call(call).await?;
                Ok(me.login)
            })
            .await
            .map(String::as_str)
    }

    /// Every login whose comments with previewd's marker are previewd's: the current one first,
    /// then those it wrote as before.
    pub(crate) async fn own_logins(&self) -> Result<Vec<String>, GitHubError> {
        let mut logins = vec![self.login().await?.to_owned()];
        logins.extend(self.previous_logins.iter().cloned());
        Ok(logins)
    }

    /// A pull request as GitHub reports it now.
    pub(crate) async fn get_pull(
        &self,
        repository: &Repository,
        number: u64,
    ) -> Result<PullRequest, GitHubError> {
        let operation = "get pull request";
        let call = Call::get(
            operation,
            "/repos/{owner}/{repo}/pulls/{number}",
            format!("/pulls/{number}"),
        )
        .within(repository);
        let pull: PullRequest = self.call(call.clone()).await?;
        if self.is_of(&pull, repository).await? {
            return Ok(pull);
        }
        // Asked under a name another repository took: `is_of` learned the current one.
        let pull: PullRequest = self.call(call).await?;
        match self.is_of(&pull, repository).await? {
            true => Ok(pull),
            false => Err(GitHubError::Transport {
                operation,
                message: format!(
                    "GitHub answered with a pull request of repository {} instead of {}",
                    pull.base.repo.as_ref().map_or(0, |r| r.id),
                    repository.id
                ),
            }),
        }
    }

    /// Whether `pull` belongs to `repository` (by id); when it does not, the repository's
    /// current name is asked and remembered, so the next call goes there.
    pub(crate) async fn is_of(
        &self,
        pull: &PullRequest,
        repository: &Repository,
    ) -> Result<bool, GitHubError> {
        let answered = pull.base.repo.as_ref().map(|r| r.id);
        if repository.id == 0 || answered.is_none_or(|id| id == repository.id) {
            return Ok(true);
        }
        self.follow(repository.id, &self.names.current(repository))
            .await?;
        Ok(false)
    }

    /// Every comment on an issue or pull request, following pagination.
    pub(crate) async fn list_comments(
        &self,
        repository: &Repository,
        number: u64,
    ) -> Result<Vec<IssueComment>, GitHubError> {
        let mut all = Vec::new();
        for page in 1u32.. {
            let batch: Vec<IssueComment> = self
                .call(
                    Call::get(
                        "list comments",
                        "/repos/{owner}/{repo}/issues/{number}/comments",
                        format!("/issues/{number}/comments?per_page=100&page={page}"),
                    )
                    .within(repository),
                )
                .await?;
            let last = batch.len() < 100;
            all.extend(batch);
            if last {
                break;
            }
        }
        Ok(all)
    }

    /// Posts a new comment and returns its id.
    pub(crate) async fn create_comment(
        &self,
        repository: &Repository,
        number: u64,
        body: &str,
    ) -> Result<u64, GitHubError> {
        let created: IssueComment = self
            .call(
                Call::with_body(
                    "create comment",
                    Method::Post,
                    "/repos/{owner}/{repo}/issues/{number}/comments",
                    format!("/issues/{number}/comments"),
                    serde_json::json!({ "body": body }),
                )
                .within(repository),
            )
            .await?;
        Ok(created.id)
    }

    /// Replaces a comment's body; edits of one comment are coalesced (`edits`), so this may
    /// wait. Returns whether this body was sent: `false` when a newer edit of the same comment
    /// overtook it (that one carries the latest state, and this body is not on GitHub).
    pub(crate) async fn update_comment(
        &self,
        repository: &Repository,
        comment_id: u64,
        body: &str,
    ) -> Result<bool, GitHubError> {
        if !self.edits.wait_turn(comment_id).await {
            return Ok(false);
        }
        let _: IssueComment = self
            .call(
                Call::with_body(
                    "update comment",
                    Method::Patch,
                    "/repos/{owner}/{repo}/issues/comments/{comment_id}",
                    format!("/issues/comments/{comment_id}"),
                    serde_json::json!({ "body": body }),
                )
                .within(repository),
            )
            .await?;
        self.edits.sent(comment_id);
        Ok(true)
    }

    /// The user's permission on the repository as GitHub's collaborator API reports it
    /// (`admin`, `write`, `read` or `none`); `None` when GitHub knows no such user.
    pub(crate) async fn permission(
        &self,
        repository: &Repository,
        login: &str,
    ) -> Result<Option<String>, GitHubError> {
        #[derive(Deserialize)]
        struct Permission {
            permission: String,
        }
        let call = Call::get(
            "get collaborator permission",
            "/repos/{owner}/{repo}/collaborators/{username}/permission",
            format!("/collaborators/{login}/permission"),
        )
        .within(repository);
        match self.call::<Permission>(call).await {
            Ok(answer) => Ok(Some(answer.permission)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Adds a reaction (`eyes`, `rocket`, `confused`, `-1`, ...) to an issue comment; adding
    /// one that is already there changes nothing.
    pub(crate) async fn react(
        &self,
        repository: &Repository,
        comment_id: u64,
        content: &str,
    ) -> Result<(), GitHubError> {
        #[derive(Deserialize)]
        struct Reaction {}
        let _: Reaction = self
            .call(
                Call::with_body(
                    "react to comment",
                    Method::Post,
                    "/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions",
                    format!("/issues/comments/{comment_id}/reactions"),
                    serde_json::json!({ "content": content }),
                )
                .within(repository),
            )
            .await?;
        Ok(())
    }
}
