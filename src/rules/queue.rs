//! Caps and the queue (pure): a preview that would exceed its repository's cap or the global
//! cap waits; waiting previews take free slots in the order they started waiting.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::model::pull::Repository;

/// A preview as the queue sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Entry {
    /// PreviewEnvironment name.
    pub name: String,
    /// Its repository (counted by id: a renamed repository's previews are one group).
    pub repository: Repository,
    /// Whether it holds a deployment (counts against the caps).
    pub holds: bool,
    /// Since when it waits for a slot, if it does.
    pub waiting_since: Option<DateTime<Utc>>,
}

/// The caps in force.
pub(crate) struct Caps<'a> {
    /// At most this many previews deployed at once across all repositories.
    pub global: Option<usize>,
    /// A repository's own cap.
    pub of_repository: &'a dyn Fn(&Repository) -> Option<usize>,
}

/// Where a preview that wants to deploy stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Slot {
    /// It may deploy now.
    Free,
    /// It waits.
    Queued {
        /// 1 for the first in line.
        place: usize,
        /// Which cap holds it back, e.g. "3 of 3 previews of o/r are deployed".
        full: String,
    },
}

/// Whether `me` (not holding a deployment, waiting since `since`) may take a slot: every
/// preview that started waiting earlier is served first.
pub(crate) fn slot(entries: &[Entry], me: &Entry, since: DateTime<Utc>, caps: &Caps<'_>) -> Slot {
    let mut total = 0;
    let mut per_repository: HashMap<u64, usize> = HashMap::new();
    for held in entries.iter().filter(|e| e.holds && e.name != me.name) {
        total += 1;
        *per_repository.entry(held.repository.id).or_default() += 1;
    }
    let mut line: Vec<(DateTime<Utc>, &Entry)> = entries
        .iter()
        .filter(|e| !e.holds && e.name != me.name)
        .filter_map(|e| e.waiting_since.map(|at| (at, e)))
        .collect();
    line.push((since, me));
    line.sort_by(|a, b| (a.0, &a.1.name).cmp(&(b.0, &b.1.name)));
    let mut place = 0;
    for (_, entry) in line {
        let in_repository = per_repository
            .get(&entry.repository.id)
            .copied()
            .unwrap_or(0);
        let full = match ((caps.of_repository)(&entry.repository), caps.global) {
            (Some(cap), _) if in_repository >= cap => Some(format!(
                "{in_repository} of {cap} previews of {} are deployed",
                entry.repository.full_name
            )),
            (_, Some(cap)) if total >= cap => {
                Some(format!("{total} of {cap} previews are deployed"))
            }
            _ => None,
        };
        match full {
            None => {
                if entry.name == me.name {
                    return Slot::Free;
                }
                total += 1;
                *per_repository.entry(entry.repository.id).or_default() += 1;
            }
            Some(full) => {
                place += 1;
                if entry.name == me.name {
                    return Slot::Queued { place, full };
                }
            }
        }
    }
    Slot::Free
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(second: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, second).unwrap()
    }

    fn entry(name: &str, repository: &str, holds: bool, since: Option<u32>) -> Entry {
        Entry {
            name: name.into(),
            repository: Repository {
                id: repository.bytes().map(u64::from).sum(),
                full_name: repository.into(),
            },
            holds,
            waiting_since: since.map(at),
        }
    }

    fn caps(
        global: Option<usize>,
        per_repo: Option<usize>,
    ) -> impl Fn(&[Entry], &Entry, u32) -> Slot {
        move |entries, me, since| {
            let of_repository =
                move |repo: &Repository| per_repo.filter(|_| repo.full_name == "o/a");
            slot(
                entries,
                me,
                at(since),
                &Caps {
                    global,
                    of_repository: &of_repository,
                },
            )
        }
    }

    #[test]
    fn no_caps_no_queue() {
        let judge = caps(None, None);
        let me = entry("me", "o/a", false, None);
        let held = vec![entry("x", "o/a", true, None); 3];
        assert_eq!(judge(&held, &me, 1), Slot::Free);
    }

    #[test]
    fn the_repository_cap_queues_in_arrival_order() {
        let judge = caps(None, Some(1));
        let entries = vec![
            entry("held", "o/a", true, None),
            entry("first", "o/a", false, Some(1)),
            entry("other-repo", "o/b", false, Some(0)),
        ];
        let me = entry("me", "o/a", false, None);
        assert_eq!(
            judge(&entries, &me, 5),
            Slot::Queued {
                place: 2,
                full: "1 of 1 previews of o/a are deployed".into()
            }
        );
        // The held one goes: the first in line takes the slot, not the latecomer.
        let freed = &entries[1..];
        assert!(matches!(
            judge(freed, &me, 5),
            Slot::Queued { place: 1, .. }
        ));
        assert_eq!(judge(freed, &entries[1], 1), Slot::Free);
    }

    #[test]
    fn the_global_cap_counts_every_repository() {
        let judge = caps(Some(2), None);
        let entries = vec![entry("a", "o/a", true, None), entry("b", "o/b", true, None)];
        let me = entry("me", "o/c", false, None);
        assert_eq!(
            judge(&entries, &me, 1),
            Slot::Queued {
                place: 1,
                full: "2 of 2 previews are deployed".into()
            }
        );
        assert_eq!(judge(&entries[..1], &me, 1), Slot::Free);
    }
}
