use super::*;
use crate::model::crd::DestroyReason;
use crate::model::time::{to_k8s, to_k8s_micro};
use crate::ops::fixtures::{INSTANCE, destroyed, now, preview};
use k8s_openapi::api::core::v1::ObjectReference;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;

#[test]
fn targets_are_owner_repo_hash_number() {
    assert_eq!(parse_target("o/r#12"), Some(("o/r".into(), 12)));
    for bad in [
        "o/r", "o#1", "/r#1", "o/#1", "o/r#0", "o/r#x", "o/r/s#1", "o/r#-1",
    ] {
        assert_eq!(parse_target(bad), None, "{bad}");
    }
}

#[test]
fn a_record_is_found_by_repository_and_number_ignoring_case() {
    let previews = [
        preview("Octo/App", 1, Phase::Ready),
        preview("octo/app", 2, Phase::Ready),
    ];
    assert_eq!(
        find(&previews, "octo/app", 1).unwrap().name_any(),
        "Octo-App-pr1"
    );
    assert!(find(&previews, "octo/app", 3).is_none());
}

#[test]
fn status_shows_the_record_conditions_events_and_the_comment() {
    let mut pe = preview("o/r", 4, Phase::Ready);
    pe.spec.pull.title = "Fix \u{1b}[31mred".into();
    pe.status.as_mut().unwrap().conditions = vec![Condition {
        type_: "Ready".into(),
        status: "True".into(),
        reason: "Available".into(),
        message: "every workload is ready".into(),
        last_transition_time: to_k8s(now()),
        observed_generation: None,
    }];
    let event = Event {
        regarding: Some(ObjectReference {
            kind: Some("PreviewEnvironment".into()),
            name: Some("o-r-pr4".into()),
            ..ObjectReference::default()
        }),
        event_time: Some(to_k8s_micro(now())),
        type_: Some("Normal".into()),
        reason: Some("Ready".into()),
        note: Some("ready at aaaaaaa".into()),
        ..Event::default()
    };
    let text = describe(&pe, &[event], &FileConfig::default(), INSTANCE, now());
    assert!(text.contains("Preview:   o/r#4  (o-r-pr4)"), "{text}");
    assert!(text.contains("Title:     Fix \u{FFFD}[31mred"), "{text}");
    assert!(text.contains("Phase:     Ready"), "{text}");
    assert!(text.contains("Expires:   2026-01-12T12:00:00Z"), "{text}");
    assert!(text.contains("  Ready=True  Available"), "{text}");
    assert!(text.contains("Normal  Ready  ready at aaaaaaa"), "{text}");
    assert!(text.contains("✅ Preview ready"), "{text}");
    assert!(
        text.contains("| URL | [https://o-r-pr4.preview.test]"),
        "{text}"
    );
}

#[test]
fn a_destroyed_preview_says_why() {
    let pe = destroyed(
        preview("o/r", 4, Phase::Ready),
        DestroyReason::Transferred,
        1,
    );
    let text = describe(&pe, &[], &FileConfig::default(), INSTANCE, now());
    assert!(
        text.contains(
            "Destroyed (the repository was transferred to an owner previewd does not serve)"
        ),
        "{text}"
    );
    assert!(
        text.contains("Events (Kubernetes keeps them about an hour):\n  (none)"),
        "{text}"
    );
    assert!(text.contains("🗑️ Preview destroyed"), "{text}");
}
