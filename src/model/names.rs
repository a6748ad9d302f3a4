//! Names derived from a repository and a PR number: RFC 1123 labels, at most 63 characters,
//! stable, and distinct for distinct repositories even when their slugs coincide.

use sha2::{Digest, Sha256};

use crate::model::pull::Repository;

/// Longest Kubernetes label-style name (RFC 1123 label).
pub(crate) const MAX_NAME_LEN: usize = 63;

/// The name a new PR's namespace and `PreviewEnvironment` get.
///
/// `{owner}-{repo}` slugged and shortened, then `-pr{number}-{hash}` where the hash covers the
/// repository's id, so `a-b/c` and `a/b-c` never collide, nor does a repository created under
/// the old name of a renamed one. (A renamed repository's previews keep the name they were
/// created with: they are found by their labels.) Without an id (0, only offline rendering),
/// the hash covers the case-folded full name.
pub fn preview_name(repository: &Repository, number: u64) -> String {
    let full_name = repository.full_name.as_str();
    let identity = match repository.id {
        0 => full_name.to_ascii_lowercase(),
        id => format!("repository:{id}"),
    };
    let digest = Sha256::digest(identity.as_bytes());
    let suffix = format!("-pr{number}-{}", &hex::encode(digest)[..8]);
    let room = MAX_NAME_LEN - suffix.len();
    let mut stem = slug(full_name, room);
    if stem.is_empty() {
        stem.push_str("preview");
    }
    format!("{stem}{suffix}")
}

/// A lowercase RFC 1123 slug of `text` of at most `max` characters: runs of anything but
/// `[a-z0-9]` become one `-`, and no `-` leads or trails.
pub(crate) fn slug(text: &str, max: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max));
    let mut pending_dash = false;
    for c in text.chars().map(|c| c.to_ascii_lowercase()) {
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            if pending_dash && !out.is_empty() {
                out.push('-');
            }
            pending_dash = false;
            out.push(c);
        } else {
            pending_dash = true;
        }
        if out.len() >= max {
            break;
        }
    }
    out.truncate(max);
    while out.ends_with('-') {
        out.pop();
    }
    out
}

/// Whether `name` is a valid RFC 1123 label.
pub(crate) fn is_rfc1123_label(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-')
}

#[cfg(test)]
mod properties;

#[cfg(test)]
mod tests {
    use super::*;

    fn repo(full_name: &str, id: u64) -> Repository {
        Repository {
            id,
            full_name: full_name.to_owned(),
        }
    }

    #[test]
    fn names_are_readable_and_valid() {
        let name = preview_name(&repo("Octo-Org/Hello-World", 7), 42);
        assert!(name.starts_with("octo-org-hello-world-pr42-"), "{name}");
        assert!(is_rfc1123_label(&name));
    }

    #[test]
    fn names_are_stable_and_case_insensitive() {
        assert_eq!(
            preview_name(&repo("o/r", 5), 1),
            preview_name(&repo("o/r", 5), 1)
        );
        assert_eq!(
            preview_name(&repo("O/R", 5), 1),
            preview_name(&repo("o/r", 5), 1)
        );
        assert_ne!(
            preview_name(&repo("o/r", 5), 1),
            preview_name(&repo("o/r", 5), 2)
        );
    }

    #[test]
    fn slug_collisions_are_told_apart() {
        assert_ne!(
            preview_name(&repo("a-b/c", 1), 7),
            preview_name(&repo("a/b-c", 2), 7)
        );
        assert_ne!(
            preview_name(&repo("a.b/c", 0), 7),
            preview_name(&repo("a/b.c", 0), 7)
        );
    }

    #[test]
    fn a_repository_created_under_a_renamed_ones_old_name_gets_other_names() {
        assert_ne!(
            preview_name(&repo("o/r", 1), 7),
            preview_name(&repo("o/r", 2), 7)
        );
    }

    #[test]
    fn long_and_odd_names_stay_valid() {
        let long = format!("{}/{}", "o".repeat(39), "r-".repeat(50));
        for full in [long.as_str(), "___/...", "-/-", "Ünïcode/répo", "a/b"] {
            for n in [1, 99_999_999, u64::MAX] {
                let name = preview_name(&repo(full, n), n);
                assert!(is_rfc1123_label(&name), "{full} #{n} -> {name}");
            }
        }
    }

    #[test]
    fn slug_collapses_and_trims() {
        assert_eq!(
            slug("Feature/Add {{Title}} --- now!", 63),
            "feature-add-title-now"
        );
        assert_eq!(slug("--x--", 63), "x");
        assert_eq!(slug("abc-def", 4), "abc");
        assert_eq!(slug("", 10), "");
    }
}
