//! Names derived from a repository and a PR number: RFC 1123 labels, at most 63 characters,
//! stable, and distinct for distinct repositories even when their slugs coincide.

use sha2::{Digest, Sha256};

/// Longest Kubernetes label-style name (RFC 1123 label).
pub(crate) const MAX_NAME_LEN: usize = 63;

/// The name of a PR's namespace and of its `PreviewEnvironment`.
///
/// `{owner}-{repo}` slugged and shortened, then `-pr{number}-{hash}` where the hash covers the
/// exact (case-folded) full name, so `a-b/c` and `a/b-c` never collide.
pub fn preview_name(full_name: &str, number: u64) -> String {
    let digest = Sha256::digest(full_name.to_ascii_lowercase().as_bytes());
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

    #[test]
    fn names_are_readable_and_valid() {
        let name = preview_name("Octo-Org/Hello-World", 42);
        assert!(name.starts_with("octo-org-hello-world-pr42-"), "{name}");
        assert!(is_rfc1123_label(&name));
    }

    #[test]
    fn names_are_stable_and_case_insensitive() {
        assert_eq!(preview_name("o/r", 1), preview_name("o/r", 1));
        assert_eq!(preview_name("O/R", 1), preview_name("o/r", 1));
        assert_ne!(preview_name("o/r", 1), preview_name("o/r", 2));
    }

    #[test]
    fn slug_collisions_are_told_apart() {
        assert_ne!(preview_name("a-b/c", 7), preview_name("a/b-c", 7));
        assert_ne!(preview_name("a.b/c", 7), preview_name("a/b.c", 7));
    }

    #[test]
    fn long_and_odd_names_stay_valid() {
        let long = format!("{}/{}", "o".repeat(39), "r-".repeat(50));
        for full in [long.as_str(), "___/...", "-/-", "Ünïcode/répo", "a/b"] {
            for n in [1, 99_999_999, u64::MAX] {
                let name = preview_name(full, n);
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
