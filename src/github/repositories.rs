//! Repositories by id: GitHub keeps a repository's id through renames and transfers and answers
//! its old name with redirects (301 to reads, 307 to writes). previewd asks what an id or a name
//! stands for now, and remembers which name moved where, so later calls made under the old name
//! use the new one (a fresher name, from a delivery, is used as it is).

use std::collections::HashMap;
use std::sync::Mutex;

use http::header::{ETAG, HeaderMap, HeaderValue, IF_NONE_MATCH};
use serde::Deserialize;

use super::auth::Acting;
use super::client::{GitHub, GitHubError};
use super::transport::Call;
use crate::config::Resolved;
use crate::model::pull::Repository;

/// Where each repository previewd learned moved went, and the last answer about each id.
#[derive(Default)]
pub(crate) struct Names {
    /// By id: the old name (lowercased) and the new one.
    moved: Mutex<HashMap<u64, (String, String)>>,
    /// The last answer about each id and its ETag: asking again costs no rate limit when
    /// nothing changed (`304`).
    answers: Mutex<HashMap<u64, (String, Resolved)>>,
}

impl Names {
    /// The name to address `repository` by: the new one if its name is one GitHub said moved.
    pub(crate) fn current(&self, repository: &Repository) -> String {
        match lock(&self.moved).get(&repository.id) {
            Some((from, to)) if repository.full_name.eq_ignore_ascii_case(from) => to.clone(),
            _ => repository.full_name.clone(),
        }
    }

    /// Remembers that repository `id`, called `from`, is called `to` now.
    pub(crate) fn moved(&self, id: u64, from: &str, to: &str) {
        if !from.eq_ignore_ascii_case(to) {
            lock(&self.moved).insert(id, (from.to_ascii_lowercase(), to.to_owned()));
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The fields of a repository previewd reads.
#[derive(Deserialize)]
struct RepositoryAnswer {
    id: u64,
    full_name: String,
    owner: OwnerAnswer,
}

#[derive(Deserialize)]
struct OwnerAnswer {
    id: u64,
}

impl From<RepositoryAnswer> for Resolved {
    fn from(answer: RepositoryAnswer) -> Self {
        Resolved {
            id: answer.id,
            full_name: answer.full_name,
            owner_id: answer.owner.id,
            moved_to: None,
        }
    }
}

impl GitHub {
    /// What repository `id`, addressed as `used`, is called now; from then on calls made under
    /// `used` go to that name.
    pub(crate) async fn follow(&self, id: u64, used: &str) -> Result<Resolved, GitHubError> {
        let now = self.repository_by_id(id, used).await?;
        self.names.moved(id, used, &now.full_name);
        Ok(now)
    }

    /// What repository `id`, last known as `name`, is called now, and who owns it (asked with
    /// the last answer's ETag).
    async fn repository_by_id(&self, id: u64, name: &str) -> Result<Resolved, GitHubError> {
        let operation = "get repository by id";
        let mut call = Call::get(
            operation,
            "/repositories/{repository_id}",
            format!("/repositories/{id}"),
        )
        .acting(Acting::In(Repository {
            id,
            full_name: name.to_owned(),
        }));
        let known = lock(&self.names.answers).get(&id).cloned();
        if let Some((etag, _)) = &known
            && let Ok(value) = HeaderValue::from_str(etag)
        {
            call.headers = Some(HeaderMap::from_iter([(IF_NONE_MATCH, value)]));
        }
        let answer = self.send(call).await?;
        if let (304, Some((_, resolved))) = (answer.status, known) {
            return Ok(resolved);
        }
        let resolved: Resolved = answer.json::<RepositoryAnswer>(operation)?.into();
        if let Some(etag) = answer.headers.get(ETAG).and_then(|v| v.to_str().ok()) {
            lock(&self.names.answers).insert(id, (etag.to_owned(), resolved.clone()));
        }
        Ok(resolved)
    }

    /// The repository `full_name` stands for now (GitHub redirects an old name to the id it
    /// moved with); `None` when GitHub knows no repository of that name.
    pub(crate) async fn repository_by_name(
        &self,
        full_name: &str,
    ) -> Result<Option<Resolved>, GitHubError> {
        let operation = "get repository";
        let call = Call::get(
            operation,
            "/repos/{owner}/{repo}",
            format!("/repos/{full_name}"),
        )
        .acting(Acting::In(Repository {
            id: 0,
            full_name: full_name.to_owned(),
        }));
        let answer = self.send(call).await?;
        let resolved: Resolved = match answer.status {
            404 => return Ok(None),
            301 | 302 | 307 | 308 => {
                let location = answer
                    .headers
                    .get(http::header::LOCATION)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default();
                let Some(id) = moved_to_id(location) else {
                    return Err(GitHubError::Transport {
                        operation,
                        message: format!("a redirect to {location:?}, not to a repository id"),
                    });
                };
                return self.follow(id, full_name).await.map(Some);
            }
            _ => answer.json::<RepositoryAnswer>(operation)?.into(),
        };
        Ok(Some(resolved))
    }
}

/// The repository id a redirect of a moved repository points to:
/// `https://api.github.com/repositories/1296269` (pure).
fn moved_to_id(location: &str) -> Option<u64> {
    let path = location.split(['?', '#']).next()?;
    let rest = &path[path.find("/repositories/")? + "/repositories/".len()..];
    let id: u64 = rest.split('/').next()?.parse().ok()?;
    (id > 0).then_some(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_id_is_read_from_githubs_redirect() {
        assert_eq!(
            moved_to_id("https://api.github.com/repositories/1296269"),
            Some(1_296_269)
        );
        assert_eq!(
            moved_to_id("https://ghe.example/api/v3/repositories/42/pulls?state=open"),
            Some(42)
        );
        for odd in [
            "",
            "https://api.github.com/repos/o/r",
            "/repositories/",
            "/repositories/0",
            "/repositories/-1",
            "/repositories/99999999999999999999999",
        ] {
            assert_eq!(moved_to_id(odd), None, "{odd}");
        }
    }

    #[test]
    fn an_old_name_is_replaced_and_any_other_name_is_kept() {
        let names = Names::default();
        let repo = |full_name: &str| Repository {
            id: 7,
            full_name: full_name.into(),
        };
        assert_eq!(names.current(&repo("o/old")), "o/old");
        names.moved(7, "o/old", "o/new");
        assert_eq!(names.current(&repo("O/Old")), "o/new");
        // A name learned later (a delivery after a second rename) is used as it is.
        assert_eq!(names.current(&repo("o/newest")), "o/newest");
        assert_eq!(
            names.current(&Repository {
                id: 8,
                full_name: "o/old".into()
            }),
            "o/old"
        );
    }
}
