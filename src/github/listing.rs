//! Listing a repository's open pull requests with conditional requests: each page is asked with
//! the ETag of its last answer, and GitHub's `304 Not Modified` (which costs no rate limit) reuses
//! what that answer said.

use super::client::{GitHub, GitHubError};
use super::conditional::{Cost, PER_PAGE, Remembered};
use super::pull::PullRequest;
use super::transport::Call;
use crate::model::pull::Repository;

/// The last answer for each page of each repository's list.
pub(crate) type ListCache = Remembered<Vec<PullRequest>>;

impl GitHub {
    /// Every open pull request of `repository`, and what asking cost.
    pub(crate) async fn open_pulls(
        &self,
        repository: &Repository,
        cache: &ListCache,
    ) -> Result<(Vec<PullRequest>, Cost), GitHubError> {
        let page = |page: u32| {
            Call::get(
                "list open pull requests",
                "/repos/{owner}/{repo}/pulls",
                format!("/pulls?state=open&per_page={PER_PAGE}&page={page}"),
            )
            .within(repository)
        };
        let key = repository.full_name.to_ascii_lowercase();
        self.read_all_pages(page, |all| all, &key, cache).await
    }
}
