//! The values a delivery must carry to be recorded (pure). A delivery that fails these can never
//! succeed, however often GitHub sends it: it is refused with the field named, never answered as
//! if trying again could help.

use super::{ParseError, WebhookEvent};
use crate::model::markdown::clip;
use crate::model::pull::PullFacts;

/// The largest number the API server stores in an integer field (int64).
const LARGEST_STORED: u64 = i64::MAX as u64;

/// GitHub's limits on names: a repository has at most 100 characters; so does an owner here,
/// since an Enterprise Managed User's login (`name_shortcode`) may pass a personal account's 39.
const LONGEST_OWNER: usize = 100;
const LONGEST_REPOSITORY: usize = 100;

/// Checks the values of a parsed `event` (delivered as `event_name`).
pub(super) fn check(event_name: &str, event: &WebhookEvent) -> Result<(), ParseError> {
    let invalid = |field: &'static str, why: String| ParseError::Invalid {
        event: event_name.to_owned(),
        field,
        why,
    };
    match event {
        WebhookEvent::PullRequest(pr) => {
            check_pull(&pr.pull).map_err(|(field, why)| invalid(field, why))?;
            check_sha(&pr.pull.head_sha).map_err(|why| invalid("pull_request.head.sha", why))
        }
        WebhookEvent::Command(command) => {
            check_pull(&command.pull).map_err(|(field, why)| invalid(field, why))?;
            check_id(command.comment_id).map_err(|why| invalid("comment.id", why))
        }
        WebhookEvent::Checks(checks) => {
            check_id(checks.repository.id).map_err(|why| invalid("repository.id", why))?;
            check_full_name(&checks.repository.full_name)
                .map_err(|why| invalid("repository.full_name", why))?;
            check_sha(&checks.sha).map_err(|why| invalid("head_sha", why))
        }
        WebhookEvent::Push(push) => {
            check_id(push.repository.id).map_err(|why| invalid("repository.id", why))?;
            check_full_name(&push.repository.full_name)
                .map_err(|why| invalid("repository.full_name", why))
        }
        WebhookEvent::Ping | WebhookEvent::Ignored { .. } => Ok(()),
    }
}

fn check_pull(pull: &PullFacts) -> Result<(), (&'static str, String)> {
    check_id(pull.number).map_err(|why| ("number", why))?;
    check_id(pull.repository.id).map_err(|why| ("repository.id", why))?;
    check_full_name(&pull.repository.full_name).map_err(|why| ("repository.full_name", why))
}

fn check_id(value: u64) -> Result<(), String> {
    if (1..=LARGEST_STORED).contains(&value) {
        Ok(())
    } else {
        Err(format!("{value} is not between 1 and {LARGEST_STORED}"))
    }
}

/// A commit SHA: 40 hexadecimal digits (SHA-1), or 64 (SHA-256 repositories).
fn check_sha(sha: &str) -> Result<(), String> {
    let hex = sha
        .bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if hex && matches!(sha.len(), 40 | 64) {
        Ok(())
    } else {
        Err(format!("{:?} is not a commit SHA", shortened(sha)))
    }
}

/// `owner/name` as GitHub allows them: an owner of letters, digits, `-` and `_` (managed users),
/// a name of letters, digits, `.`, `_` and `-`.
fn check_full_name(full_name: &str) -> Result<(), String> {
    let valid = full_name.split_once('/').is_some_and(|(owner, name)| {
        (1..=LONGEST_OWNER).contains(&owner.len())
            && owner
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'))
            && (1..=LONGEST_REPOSITORY).contains(&name.len())
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
    });
    if valid {
        Ok(())
    } else {
        Err(format!(
            "{:?} is not an owner/name GitHub allows",
            shortened(full_name)
        ))
    }
}

/// At most 80 characters of a value, for a message.
fn shortened(value: &str) -> String {
    clip(value, 80)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_must_fit_the_api_server() {
        assert!(check_id(1).is_ok());
        assert!(check_id(LARGEST_STORED).is_ok());
        assert_eq!(
            check_id(1 << 63).unwrap_err(),
            "9223372036854775808 is not between 1 and 9223372036854775807"
        );
        assert!(check_id(0).is_err());
    }

    #[test]
    fn shas_are_40_or_64_lowercase_hex_digits() {
        assert!(check_sha(&"a".repeat(40)).is_ok());
        assert!(check_sha(&"0".repeat(64)).is_ok());
        for bad in ["", "abc", &"A".repeat(40), &"g".repeat(40), &"a".repeat(41)] {
            assert!(check_sha(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn full_names_are_what_github_allows() {
        for good in ["octo-org/app", "o/.github", "a1/b_c.d-e", "mona_octo/app"] {
            assert!(check_full_name(good).is_ok(), "{good}");
        }
        let long_owner = format!("{}/x", "o".repeat(101));
        for bad in [
            "",
            "noslash",
            "/x",
            "x/",
            "a/b/c",
            "a b/c",
            "ä/b",
            &long_owner,
        ] {
            assert!(check_full_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn values_in_messages_are_shortened() {
        let message = check_sha(&"z".repeat(10_000)).unwrap_err();
        assert!(message.chars().count() < 150, "{message}");
    }
}
