use super::*;
use crate::model::crd::{DestroyReason, Phase};
use crate::ops::fixtures::{days_ago, destroyed, now, preview};

#[test]
fn rows_are_sorted_and_carry_what_an_operator_asks() {
    let mut queued = preview("o/b", 3, Phase::Pending);
    let status = queued.status.as_mut().unwrap();
    status.deployed_sha = None;
    status.url = None;
    status.queued_at = Some(days_ago(0));
    status.message = Some("2 of 2 previews are deployed\nsecond line".into());
    let mut pinned = preview("o/a", 9, Phase::Ready);
    pinned.spec.pinned = true;
    let gone = destroyed(preview("o/a", 2, Phase::Ready), DestroyReason::Merged, 1);
    let rows = rows(
        &[queued, pinned, gone, preview("O/a", 1, Phase::Ready)],
        &FileConfig::default(),
    );
    let keys: Vec<(&str, u64)> = rows
        .iter()
        .map(|r| (r.repository.as_str(), r.number))
        .collect();
    assert_eq!(keys, [("O/a", 1), ("o/a", 2), ("o/a", 9), ("o/b", 3)]);
    // Three days of time to live from the deployment's start, a day ago.
    assert_eq!(
        rows[0].expires_at,
        Some(days_ago(1) + chrono::Duration::days(3))
    );
    assert_eq!(rows[1].desired, "Destroyed: Merged");
    assert_eq!(rows[1].expires_at, None);
    assert!(rows[2].pinned && rows[2].expires_at.is_none());
    assert_eq!(rows[3].queue_place, Some(1));

    let text = table(&rows, now());
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("REPOSITORY  PR  PHASE"), "{text}");
    assert!(
        lines[1].contains("Ready") && lines[1].contains("in 2d"),
        "{text}"
    );
    assert!(lines[2].contains("Destroyed (Merged)"), "{text}");
    assert!(lines[3].contains("pinned"), "{text}");
    assert!(lines[4].contains("Pending (queued #1)"), "{text}");
    assert!(
        lines[4].contains("2 of 2 previews are deployed") && !text.contains("second line"),
        "{text}"
    );
}

#[test]
fn json_rows_name_their_fields_in_camel_case() {
    let rows = rows(&[preview("o/a", 1, Phase::Ready)], &FileConfig::default());
    let json = serde_json::to_value(&rows).unwrap();
    assert_eq!(json[0]["repository"], "o/a");
    assert_eq!(json[0]["deployedSha"], "a".repeat(40));
    assert_eq!(json[0]["pullRequestUrl"], "https://github.com/o/a/pull/1");
    assert_eq!(json[0]["queuePlace"], serde_json::Value::Null);
}

#[test]
fn a_hostile_title_or_url_cannot_drive_the_terminal() {
    let mut pe = preview("o/a", 1, Phase::Failed);
    pe.status.as_mut().unwrap().message = Some("boom \u{1b}]0;owned\u{7}".into());
    let text = table(&rows(&[pe], &FileConfig::default()), now());
    assert!(
        !text.chars().any(|c| c.is_control() && c != '\n'),
        "{text:?}"
    );
}
