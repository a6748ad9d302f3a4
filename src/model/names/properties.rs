//! Property tests of the names: for any repository and any PR number, a valid RFC 1123 label that
//! reads as the repository, the same for the same repository whatever its ASCII case, and
//! different for different repositories (ids) or numbers.

use previewd_testkit::hostile::{cases, hostile_or_long_text, word};
use proptest::prelude::*;

use super::*;

/// Any characters at all, up to `max` of them.
fn any_text(max: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec(any::<char>(), 0..=max).prop_map(String::from_iter)
}

/// An owner or repository name: any Unicode, hostile pieces, or very long.
fn name_part() -> impl Strategy<Value = String> {
    prop_oneof![any_text(32), hostile_or_long_text(8, 300)]
}

/// `owner/name` from any two parts.
fn full_name() -> impl Strategy<Value = String> {
    (name_part(), name_part()).prop_map(|(owner, name)| format!("{owner}/{name}"))
}

/// A repository as GitHub could name it, or as a hostile payload would, with any id (0 is an
/// offline rendering's "no id").
fn repository() -> impl Strategy<Value = Repository> {
    (full_name(), prop_oneof![any::<u64>(), Just(0), Just(1)])
        .prop_map(|(full_name, id)| Repository { id, full_name })
}

/// The same repository under another name.
fn renamed(repository: &Repository, full_name: &str) -> Repository {
    Repository {
        id: repository.id,
        full_name: full_name.to_owned(),
    }
}

/// A PR number over the whole `u64` range, small ones and the extremes included.
fn pr_number() -> impl Strategy<Value = u64> {
    prop_oneof![any::<u64>(), 0..10_000u64, Just(0), Just(u64::MAX)]
}

/// Two repositories whose names are the same words joined by different separators (`-`, `.`,
/// `_`, `/`), so their slugs coincide: `a-b/c` and `a/b-c`.
fn look_alike_full_names() -> impl Strategy<Value = (String, String)> {
    let separators =
        || proptest::collection::vec(proptest::sample::select(&['-', '.', '_', '/'][..]), 8);
    (
        proptest::collection::vec(word(), 2..8),
        separators(),
        separators(),
    )
        .prop_map(|(words, first, second)| {
            let join = |separators: &[char]| {
                let mut text = words[0].clone();
                for (word, separator) in words[1..].iter().zip(separators) {
                    text.push(*separator);
                    text.push_str(word);
                }
                text
            };
            (join(&first), join(&second))
        })
}

/// The DNS-1123 label rule, written out here rather than taken from `is_rfc1123_label`.
fn assert_dns_label(name: &str) {
    let bytes = name.as_bytes();
    assert!(
        !bytes.is_empty() && bytes.len() <= 63,
        "{name:?}: length {}",
        bytes.len()
    );
    assert!(
        bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-'),
        "{name:?}: a character outside [a-z0-9-]"
    );
    let alphanumeric = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    assert!(alphanumeric(&bytes[0]), "{name:?} starts with a dash");
    assert!(
        alphanumeric(&bytes[bytes.len() - 1]),
        "{name:?} ends with a dash"
    );
    assert!(
        is_rfc1123_label(name),
        "{name:?}: is_rfc1123_label disagrees"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn every_name_is_a_stable_dns_label_that_reads_as_the_repository(
        repository in repository(),
        number in pr_number(),
    ) {
        let name = preview_name(&repository, number);
        assert_dns_label(&name);
        let suffix = format!("-pr{number}-");
        let (stem, hash) = name.rsplit_once(&suffix).expect("the name ends with -pr<number>-<hash>");
        prop_assert_eq!(hash.len(), 8);
        prop_assert!(hash.bytes().all(|b| b.is_ascii_hexdigit()));
        let full = repository.full_name.as_str();
        let readable = slug(full, MAX_NAME_LEN);
        prop_assert!(
            readable.starts_with(stem) || (readable.is_empty() && stem == "preview"),
            "stem {stem:?} of {full:?} is not its slug {readable:?}"
        );
        // Stable, and blind to ASCII case.
        prop_assert_eq!(&preview_name(&repository, number), &name);
        prop_assert_eq!(&preview_name(&renamed(&repository, &full.to_ascii_uppercase()), number), &name);
        prop_assert_eq!(&preview_name(&renamed(&repository, &full.to_ascii_lowercase()), number), &name);
    }

    // The hash is 32 bits of SHA-256: two different repositories share a name with odds of one
    // in four billion, which these cases never meet.
    #[test]
    fn look_alike_repositories_get_distinct_names(
        (first, second) in look_alike_full_names(),
        ids in prop_oneof![Just((0, 0)), (1..u64::MAX, 1..u64::MAX)],
        number in pr_number(),
    ) {
        prop_assume!(!first.eq_ignore_ascii_case(&second) && (ids.0 == 0 || ids.0 != ids.1));
        let first = Repository { id: ids.0, full_name: first };
        let second = Repository { id: ids.1, full_name: second };
        prop_assert_ne!(preview_name(&first, number), preview_name(&second, number));
    }

    #[test]
    fn any_two_repositories_or_numbers_get_distinct_names(
        (first, first_number) in (repository(), pr_number()),
        (second, second_number) in (repository(), pr_number()),
    ) {
        let same_repository = if first.id == 0 || second.id == 0 {
            first.id == second.id && first.full_name.eq_ignore_ascii_case(&second.full_name)
        } else {
            first.id == second.id
        };
        prop_assume!(!same_repository || first_number != second_number);
        prop_assert_ne!(preview_name(&first, first_number), preview_name(&second, second_number));
        // The same repository with the other number.
        if first_number != second_number {
            prop_assert_ne!(preview_name(&first, first_number), preview_name(&first, second_number));
        }
    }

    // A new repository that takes a renamed one's old name never gets the renamed one's names.
    #[test]
    fn a_name_taken_over_by_another_repository_gets_other_names(
        full_name in full_name(),
        (id, other_id) in (1..u64::MAX, 1..u64::MAX),
        number in pr_number(),
    ) {
        prop_assume!(id != other_id);
        let repository = Repository { id, full_name };
        let newcomer = Repository { id: other_id, ..repository.clone() };
        prop_assert_ne!(preview_name(&repository, number), preview_name(&newcomer, number));
    }

    #[test]
    fn slugs_are_dns_labels_or_empty(text in name_part(), max in 0..=MAX_NAME_LEN) {
        let slugged = slug(&text, max);
        prop_assert!(slugged.len() <= max);
        prop_assert!(!slugged.contains("--"), "{slugged:?} has a run of dashes");
        if !slugged.is_empty() {
            assert_dns_label(&slugged);
        }
    }
}
