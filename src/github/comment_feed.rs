//! A repository's comments written since a moment, for the polling mode: GitHub's
//! `GET /repos/{owner}/{repo}/issues/comments?since=` filters on `updated_at`, so old comments
//! edited since come too (the caller keeps those created after what it saw). The same `since`
//! is asked until a newer comment is seen, so an unchanged answer is a free `304`.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Deserialize;

use super::client::{GitHub, GitHubError};
use super::conditional::{Cost, PER_PAGE, Remembered};
use super::pull::Login;
use super::transport::Call;
use crate::model::pull::Repository;

/// A comment as the repository-wide list shows it.
#[derive(Clone, Debug, Deserialize)]
pub(crate) struct RepositoryComment {
    /// Comment id.
    pub id: u64,
    /// Markdown body.
    #[serde(default)]
    pub body: Option<String>,
    /// Who wrote it.
    pub user: Option<Login>,
    /// When it was written (to the second).
    pub created_at: DateTime<Utc>,
    /// The API address of its issue or pull request: `.../issues/{number}`.
    pub issue_url: String,
}

impl RepositoryComment {
    /// The number of the issue or pull request it is on.
    pub(crate) fn issue_number(&self) -> Option<u64> {
        self.issue_url.rsplit('/').next()?.parse().ok()
    }
}

/// The last answer for each page of each repository's feed.
pub(crate) type FeedCache = Remembered<Vec<RepositoryComment>>;

impl GitHub {
    /// `repository`'s comments updated at or after `since`, oldest first, and what asking cost.
    pub(crate) async fn comments_since(
        &self,
        repository: &Repository,
        since: DateTime<Utc>,
        cache: &FeedCache,
    ) -> Result<(Vec<RepositoryComment>, Cost), GitHubError> {
        let since = since.to_rfc3339_opts(SecondsFormat::Secs, true);
        let page = |page: u32| {
            Call::get(
                "list new comments",
                "/repos/{owner}/{repo}/issues/comments",
                format!(
                    "/issues/comments?since={since}&sort=created&direction=asc&per_page={PER_PAGE}&page={page}"
                ),
            )
            .within(repository)
        };
        let key = repository.full_name.to_ascii_lowercase();
        self.read_all_pages(page, |all| all, &key, cache).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_issue_number_is_the_last_part_of_its_address() {
        let comment = |issue_url: &str| RepositoryComment {
            id: 1,
            body: None,
            user: None,
            created_at: Utc::now(),
            issue_url: issue_url.to_owned(),
        };
        assert_eq!(
            comment("https://api.github.com/repos/o/r/issues/42").issue_number(),
            Some(42)
        );
        assert_eq!(comment("").issue_number(), None);
        assert_eq!(comment("https://x/issues/").issue_number(), None);
    }
}
