//! Repositories by id: GitHub keeps a repository's id through renames and transfers and answers
//! its old name with redirects (301 to reads, 307 to writes). previewd asks what an id or a name
//! stands for now, and remembers each repository's current name so later calls use it.

use std::collections::HashMap;
use std::sync::Mutex;

use serde::Deserialize;

use super::client::{GitHub, GitHubError};
use super::transport::Call;
use crate::config::Resolved;
use crate::model::pull::Repository;

/// The current name of each repository previewd learned moved, by id.
#[derive(Default)]
pub(crate) struct Names {
    current: Mutex<HashMap<u64, String>>,
}

impl Names {
    /// The name to address `repository` by: the newest GitHub gave for its id, else its own.
    pub(crate) fn current(&self, repository: &Repository) -> String {
        self.lock()
            .get(&repository.id)
            .cloned()
            .unwrap_or_else(|| repository.full_name.clone())
    }

    fn remember(&self, resolved: &Resolved) {
        self.lock().insert(resolved.id, resolved.full_name.clone());
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, String>> {
        self.current
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The fields of a repository previewd reads.
#[derive(Deserialize)]
struct RepositoryAnswer {
    id: u64,
    full_name: String,
}

impl From<RepositoryAnswer> for Resolved {
    fn from(answer: RepositoryAnswer) -> Self {
        Resolved {
            id: answer.id,
            full_name: answer.full_name,
        }
    }
}

impl GitHub {
    /// The name `repository` is addressed by now.
    pub(crate) fn current_name(&self, repository: &Repository) -> String {
        self.names.current(repository)
    }

    /// What repository `id` is called now.
    pub(crate) async fn repository_by_id(&self, id: u64) -> Result<Resolved, GitHubError> {
        let call = Call::get(
            "get repository by id",
            "/repositories/{repository_id}",
            format!("/repositories/{id}"),
        );
        let resolved: Resolved = self.call::<RepositoryAnswer>(call).await?.into();
        self.names.remember(&resolved);
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
        );
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
                return self.repository_by_id(id).await.map(Some);
            }
            _ => answer.json::<RepositoryAnswer>(operation)?.into(),
        };
        self.names.remember(&resolved);
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
    fn a_repository_is_addressed_by_the_newest_name_known_for_its_id() {
        let names = Names::default();
        let repo = Repository {
            id: 7,
            full_name: "o/old".into(),
        };
        assert_eq!(names.current(&repo), "o/old");
        names.remember(&Resolved {
            id: 7,
            full_name: "o/new".into(),
        });
        assert_eq!(names.current(&repo), "o/new");
    }
}
