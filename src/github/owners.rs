//! Every repository of an owner, for `owner/*` allowlist entries: as a GitHub App, those its
//! installation on the owner covers; with a token, those the token sees of the organisation (or
//! of the user, when the owner is no organisation). Archived repositories are left out (no pull
//! request changes there). Each page is asked conditionally.

use serde::Deserialize;

use super::auth::Acting;
use super::client::{GitHub, GitHubError};
use super::conditional::{Cost, PER_PAGE, Remembered};
use super::transport::Call;
use crate::model::pull::Repository;

/// A repository as GitHub's lists show it.
#[derive(Clone, Debug, Deserialize)]
pub(crate) struct Listed {
    id: u64,
    full_name: String,
    #[serde(default)]
    archived: bool,
}

/// `GET /installation/repositories`'s answer.
#[derive(Clone, Debug, Deserialize)]
pub(crate) struct Installed {
    repositories: Vec<Listed>,
}

/// The last answer for each page of each owner's list.
#[derive(Default)]
pub(crate) struct OwnerCache {
    installed: Remembered<Installed>,
    listed: Remembered<Vec<Listed>>,
}

impl GitHub {
    /// The repositories of `owner` previewd can act in, and what asking cost.
    pub(crate) async fn owner_repositories(
        &self,
        owner: &str,
        cache: &OwnerCache,
    ) -> Result<(Vec<Repository>, Cost), GitHubError> {
        let key = owner.to_ascii_lowercase();
        let (listed, cost) = match self.auth.is_app() {
            true => {
                let pattern = format!("{owner}/*");
                let installation = self.installation_of(&pattern).await?;
                let page = |page: u32| {
                    Call::get(
                        "list the installation's repositories",
                        "/installation/repositories",
                        format!("/installation/repositories?per_page={PER_PAGE}&page={page}"),
                    )
                    .acting(Acting::Installation(installation, pattern.clone()))
                };
                let items = |answer: Installed| answer.repositories;
                self.read_all_pages(page, items, &key, &cache.installed)
                    .await?
            }
            false => self.token_owner_repositories(owner, &key, cache).await?,
        };
        let repositories = listed
            .into_iter()
            .filter(|r| !r.archived)
            .map(|r| Repository {
                id: r.id,
                full_name: r.full_name,
            })
            .collect();
        Ok((repositories, cost))
    }

    /// The organisation's repositories the token sees, or the user's when GitHub knows no
    /// organisation of that name.
    async fn token_owner_repositories(
        &self,
        owner: &str,
        key: &str,
        cache: &OwnerCache,
    ) -> Result<(Vec<Listed>, Cost), GitHubError> {
        let organisation = |page: u32| {
            Call::get(
                "list the organisation's repositories",
                "/orgs/{org}/repos",
                format!("/orgs/{owner}/repos?type=all&per_page={PER_PAGE}&page={page}"),
            )
        };
        match self
            .read_all_pages(organisation, |all| all, key, &cache.listed)
            .await
        {
            Err(error) if error.is_not_found() => {
                let user = |page: u32| {
                    Call::get(
                        "list the user's repositories",
                        "/users/{username}/repos",
                        format!("/users/{owner}/repos?type=owner&per_page={PER_PAGE}&page={page}"),
                    )
                };
                self.read_all_pages(user, |all| all, &format!("{key}@user"), &cache.listed)
                    .await
            }
            answered => answered,
        }
    }
}
