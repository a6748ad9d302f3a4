//! Listing a repository's open pull requests with conditional requests: each page is asked with
//! the ETag of its last answer, and GitHub's `304 Not Modified` (which costs no rate limit) reuses
//! what that answer said.

use std::collections::HashMap;
use std::sync::Mutex;

use http::header::{ETAG, HeaderMap, HeaderValue, IF_NONE_MATCH};

use super::client::{GitHub, GitHubError};
use super::pull::PullRequest;
use super::transport::Call;
use crate::model::pull::Repository;

/// Page size GitHub allows at most.
const PER_PAGE: usize = 100;
/// Pages read at most per repository (10,000 open pull requests).
const MAX_PAGES: u32 = 100;

/// A page's last answer, by (repository, page): its ETag and items.
type Pages = HashMap<(String, u32), (String, Vec<PullRequest>)>;

/// The last answer for each page, by repository.
#[derive(Default)]
pub(crate) struct ListCache {
    pages: Mutex<Pages>,
}

/// What one listing cost.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Cost {
    /// Pages GitHub answered anew.
    pub fresh: usize,
    /// Pages answered `304 Not Modified`.
    pub unchanged: usize,
}

impl GitHub {
    /// Every open pull request of `repository`, and what asking cost.
    pub(crate) async fn open_pulls(
        &self,
        repository: &Repository,
        cache: &ListCache,
    ) -> Result<(Vec<PullRequest>, Cost), GitHubError> {
        let mut all = Vec::new();
        let mut cost = Cost::default();
        for page in 1..=MAX_PAGES {
            let key = (repository.full_name.to_ascii_lowercase(), page);
            let known = cache.lock().get(&key).cloned();
            let batch = match self
                .open_pulls_page(
                    repository,
                    page,
                    known.as_ref().map(|(etag, _)| etag.as_str()),
                )
                .await?
            {
                Page::NotModified => {
                    cost.unchanged += 1;
                    known.map(|(_, items)| items).unwrap_or_default()
                }
                Page::Fresh { items, etag } => {
                    cost.fresh += 1;
                    if let Some(etag) = etag {
                        cache.lock().insert(key, (etag, items.clone()));
                    }
                    items
                }
            };
            let last = batch.len() < PER_PAGE;
            all.extend(batch);
            if last {
                break;
            }
        }
        Ok((all, cost))
    }

    async fn open_pulls_page(
        &self,
        repository: &Repository,
        page: u32,
        etag: Option<&str>,
    ) -> Result<Page, GitHubError> {
        let operation = "list open pull requests";
        let mut call = Call::get(
            operation,
            "/repos/{owner}/{repo}/pulls",
            format!("/pulls?state=open&per_page={PER_PAGE}&page={page}"),
        )
        .within(repository);
        let mut headers = HeaderMap::new();
        if let Some(value) = etag.and_then(|e| HeaderValue::from_str(e).ok()) {
            headers.insert(IF_NONE_MATCH, value);
        }
        call.headers = Some(headers);
        let answer = self.send(call).await?;
        if answer.status == 304 {
            return Ok(Page::NotModified);
        }
        let items = answer.json(operation)?;
        let etag = answer
            .headers
            .get(ETAG)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        Ok(Page::Fresh { items, etag })
    }
}

impl ListCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, Pages> {
        self.pages.lock().unwrap_or_else(|p| p.into_inner())
    }
}

enum Page {
    Fresh {
        items: Vec<PullRequest>,
        etag: Option<String>,
    },
    NotModified,
}
