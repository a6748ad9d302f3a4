//! Which repositories previewd serves. The allowlist's names mean what GitHub says they meant
//! when previewd started: each entry is resolved to a repository id and its owner's id, and a
//! repository is then recognised by its id alone, so one renamed (or whose owner account was
//! renamed) keeps being served under its new name, and one transferred to another owner (the
//! resync sees its owner id change) stops being served. Before an entry is resolved (GitHub not
//! reached yet), its name alone decides.

use std::borrow::Cow;
use std::sync::RwLock;

use super::FileConfig;
use super::repository::RepositoryConfig;
use crate::model::pull::Repository;

/// What GitHub said an allowlist entry's name stands for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resolved {
    /// The repository's id.
    pub id: u64,
    /// Its `owner/name` now (a renamed repository's new name).
    pub full_name: String,
    /// Its owner's id (kept through a rename of the owner's account).
    pub owner_id: u64,
    /// Set once the repository was transferred to another owner: its name there.
    pub moved_to: Option<String>,
}

impl Resolved {
    /// What GitHub says about the repository `now`, seen from this resolution: a rename (of the
    /// repository or its owner's account) follows the name; another owner id is a transfer away.
    pub fn followed(&self, now: &Resolved) -> Resolved {
        if now.owner_id == self.owner_id {
            Resolved {
                full_name: now.full_name.clone(),
                moved_to: None,
                ..self.clone()
            }
        } else {
            Resolved {
                moved_to: Some(now.full_name.clone()),
                ..self.clone()
            }
        }
    }
}

/// Whether, and under which entry, a repository is served.
#[derive(Debug, PartialEq)]
pub enum Serving<'a> {
    /// Served with this entry's settings.
    Served(&'a RepositoryConfig),
    /// The entry resolved to this repository, which now belongs to another owner.
    MovedOut(&'a RepositoryConfig),
    /// No entry names it.
    NotListed,
}

/// The allowlist's resolutions, index-aligned with `FileConfig::repositories`; shared by the
/// webhook and the controller, updated by the resync.
#[derive(Debug, Default)]
pub struct Allowlist {
    resolved: RwLock<Vec<Option<Resolved>>>,
}

impl Allowlist {
    /// Nothing resolved yet for `entries` entries.
    pub fn unresolved(entries: usize) -> Self {
        Allowlist {
            resolved: RwLock::new(vec![None; entries]),
        }
    }

    /// The current resolutions.
    pub fn snapshot(&self) -> Vec<Option<Resolved>> {
        self.resolved
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// Records what entry `index` stands for now; returns what it stood for before.
    pub fn set(&self, index: usize, resolved: Option<Resolved>) -> Option<Resolved> {
        let mut all = self
            .resolved
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if index >= all.len() {
            all.resize(index + 1, None);
        }
        std::mem::replace(&mut all[index], resolved)
    }
}

/// Whether `repository` is served, given the entries and what each resolved to (pure). An entry
/// resolved to an id serves that id until it is transferred away, whatever it is called; an
/// unresolved entry serves the repository of that name. An `owner/*` entry serves every
/// repository its owner has now, unless an entry of that one repository says otherwise.
pub fn serving<'a>(
    entries: &'a [RepositoryConfig],
    resolved: &[Option<Resolved>],
    repository: &Repository,
) -> Serving<'a> {
    match one_repository(entries, resolved, repository) {
        Serving::NotListed => entries
            .iter()
            .find(|e| {
                e.owner_pattern().is_some_and(|owner| {
                    repository
                        .full_name
                        .split_once('/')
                        .is_some_and(|(now, _)| now.eq_ignore_ascii_case(owner))
                })
            })
            .map_or(Serving::NotListed, Serving::Served),
        decided => decided,
    }
}

/// What the entries naming one repository each say about `repository`.
fn one_repository<'a>(
    entries: &'a [RepositoryConfig],
    resolved: &[Option<Resolved>],
    repository: &Repository,
) -> Serving<'a> {
    let mut moved_out = None;
    for (i, entry) in entries.iter().enumerate() {
        if entry.owner_pattern().is_some() {
            continue;
        }
        match resolved.get(i).and_then(Option::as_ref) {
            Some(known) if known.id == repository.id && known.moved_to.is_none() => {
                return Serving::Served(entry);
            }
            Some(known) if known.id == repository.id => moved_out = moved_out.or(Some(entry)),
            Some(_) => {}
            None if entry.name.eq_ignore_ascii_case(&repository.full_name) => {
                return Serving::Served(entry);
            }
            None => {}
        }
    }
    moved_out.map_or(Serving::NotListed, Serving::MovedOut)
}

impl FileConfig {
    /// Whether `repository` is served now.
    pub(crate) fn serving(&self, allowlist: &Allowlist, repository: &Repository) -> Serving<'_> {
        serving(&self.repositories, &allowlist.snapshot(), repository)
    }

    /// The settings `repository` is served with, if it is.
    pub fn repository(
        &self,
        allowlist: &Allowlist,
        repository: &Repository,
    ) -> Option<&RepositoryConfig> {
        match self.serving(allowlist, repository) {
            Serving::Served(entry) => Some(entry),
            Serving::MovedOut(_) | Serving::NotListed => None,
        }
    }

    /// The settings of `repository`, or the defaults for one no longer served (its previews
    /// keep being driven by the same rules until they end).
    pub fn repository_settings(
        &self,
        allowlist: &Allowlist,
        repository: &Repository,
    ) -> Cow<'_, RepositoryConfig> {
        match self.repository(allowlist, repository) {
            Some(entry) => Cow::Borrowed(entry),
            None => Cow::Owned(RepositoryConfig::named(&repository.full_name)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(names: &[&str]) -> Vec<RepositoryConfig> {
        names.iter().map(|n| RepositoryConfig::named(n)).collect()
    }

    fn repo(full_name: &str, id: u64) -> Repository {
        Repository {
            id,
            full_name: full_name.to_owned(),
        }
    }

    fn resolved(full_name: &str, id: u64) -> Option<Resolved> {
        Some(Resolved {
            id,
            full_name: full_name.to_owned(),
            owner_id: 100,
            moved_to: None,
        })
    }

    #[test]
    fn before_resolution_the_name_decides_ignoring_case() {
        let list = entries(&["Octo/App"]);
        assert_eq!(
            serving(&list, &[None], &repo("octo/app", 9)),
            Serving::Served(&list[0])
        );
        assert_eq!(
            serving(&list, &[], &repo("octo/other", 9)),
            Serving::NotListed
        );
    }

    #[test]
    fn an_owner_pattern_serves_the_owners_repositories_unless_an_entry_of_one_says_otherwise() {
        let list = entries(&["octo/*", "octo/app", "other/one"]);
        let table = [None, resolved("octo/app", 9), None];
        assert_eq!(
            serving(&list, &table, &repo("Octo/new-one", 11)),
            Serving::Served(&list[0])
        );
        assert_eq!(
            serving(&list, &table, &repo("octo/app", 9)),
            Serving::Served(&list[1])
        );
        assert_eq!(
            serving(&list, &table, &repo("octopus/app", 12)),
            Serving::NotListed
        );
        // Transferred away from an owner the pattern serves: the entry of that repository
        // says it moved out, whatever its new owner.
        let moved = [
            None,
            Some(Resolved {
                moved_to: Some("elsewhere/app".into()),
                ..resolved("octo/app", 9).unwrap()
            }),
            None,
        ];
        assert_eq!(
            serving(&list, &moved, &repo("elsewhere/app", 9)),
            Serving::MovedOut(&list[1])
        );
    }

    #[test]
    fn a_renamed_repository_is_served_by_its_id() {
        let list = entries(&["octo/app"]);
        let table = [resolved("octo/app-renamed", 9)];
        for name in ["octo/app-renamed", "octo/app", "renamed-org/app"] {
            assert_eq!(
                serving(&list, &table, &repo(name, 9)),
                Serving::Served(&list[0]),
                "{name}"
            );
        }
    }

    #[test]
    fn a_rename_follows_the_name_and_a_new_owner_id_is_a_transfer_away() {
        let known = resolved("octo/app", 9).unwrap();
        let renamed = known.followed(&Resolved {
            full_name: "octo-renamed/app2".into(),
            ..known.clone()
        });
        assert_eq!(renamed.full_name, "octo-renamed/app2");
        assert_eq!(renamed.moved_to, None);
        let transferred = known.followed(&Resolved {
            full_name: "elsewhere/app".into(),
            owner_id: 200,
            ..known.clone()
        });
        assert_eq!(transferred.full_name, "octo/app");
        assert_eq!(transferred.owner_id, 100);
        assert_eq!(transferred.moved_to.as_deref(), Some("elsewhere/app"));
        let list = entries(&["octo/app"]);
        assert_eq!(
            serving(
                &list,
                &[Some(transferred.clone())],
                &repo("elsewhere/app", 9)
            ),
            Serving::MovedOut(&list[0])
        );
        // Moved back: served again.
        assert_eq!(transferred.followed(&known).moved_to, None);
        // Another entry resolved to the same id under the new owner serves it.
        let both = entries(&["octo/app", "elsewhere/app"]);
        let owned_there = Resolved {
            owner_id: 200,
            ..resolved("elsewhere/app", 9).unwrap()
        };
        assert_eq!(
            serving(
                &both,
                &[Some(transferred), Some(owned_there)],
                &repo("elsewhere/app", 9)
            ),
            Serving::Served(&both[1])
        );
    }

    #[test]
    fn a_repository_created_under_an_old_name_is_not_the_resolved_one() {
        let list = entries(&["octo/app"]);
        let table = [resolved("octo/app-renamed", 9)];
        assert_eq!(
            serving(&list, &table, &repo("octo/app", 10)),
            Serving::NotListed
        );
    }

    #[test]
    fn resolutions_are_replaced_and_the_old_one_returned() {
        let allowlist = Allowlist::unresolved(1);
        assert_eq!(allowlist.set(0, resolved("o/r", 1)), None);
        assert_eq!(allowlist.set(0, resolved("o/s", 1)), resolved("o/r", 1));
        assert_eq!(allowlist.snapshot(), vec![resolved("o/s", 1)]);
    }
}
