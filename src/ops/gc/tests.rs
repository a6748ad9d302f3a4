use super::*;
use crate::model::crd::DestroyReason;
use crate::ops::fixtures::{INSTANCE, destroyed, namespace, now, preview};

const WEEK: Duration = Duration::from_secs(7 * 24 * 3600);

fn names(plan: &Plan) -> Vec<(Kind, &str)> {
    plan.remove
        .iter()
        .map(|r| (r.kind, r.name.as_str()))
        .collect()
}

#[test]
fn records_of_ended_pull_requests_go_once_kept_long_enough() {
    let old = destroyed(preview("o/r", 1, Phase::Ready), DestroyReason::Merged, 8);
    let recent = destroyed(preview("o/r", 2, Phase::Ready), DestroyReason::Closed, 6);
    let moved = destroyed(
        preview("o/r", 3, Phase::Ready),
        DestroyReason::Transferred,
        30,
    );
    let open_pr = destroyed(preview("o/r", 4, Phase::Ready), DestroyReason::Expired, 30);
    let running = preview("o/r", 5, Phase::Ready);
    let previews = [old, recent, moved, open_pr, running.clone()];
    let namespaces = [namespace("o-r-pr5", running.uid().as_deref())];
    let plan = plan(&previews, &namespaces, INSTANCE, WEEK, now());
    assert_eq!(
        names(&plan),
        [(Kind::Record, "o-r-pr1"), (Kind::Record, "o-r-pr3")]
    );
    assert_eq!(
        plan.remove[0].why,
        "destroyed (Merged) 8d ago; records are kept 1w"
    );
    assert_eq!(plan.remove[0].uid.as_deref(), Some("uid-o-r-pr1"));
    assert_eq!(plan.remove[0].resource_version.as_deref(), Some("42"));
    assert!(plan.kept.is_empty());
}

#[test]
fn a_record_whose_namespace_is_still_there_or_going_is_not_collected() {
    let old = destroyed(preview("o/r", 1, Phase::Ready), DestroyReason::Merged, 8);
    let namespaces = [namespace("o-r-pr1", old.uid().as_deref())];
    assert!(
        plan(
            std::slice::from_ref(&old),
            &namespaces,
            INSTANCE,
            WEEK,
            now()
        )
        .remove
        .is_empty()
    );
    let mut terminating = old;
    terminating.status.as_mut().unwrap().phase = Phase::Terminating;
    assert!(
        plan(&[terminating], &[], INSTANCE, WEEK, now())
            .remove
            .is_empty()
    );
}

#[test]
fn orphan_namespaces_go_and_unowned_ones_are_reported() {
    let live = preview("o/r", 5, Phase::Ready);
    let namespaces = [
        namespace("o-r-pr5", live.uid().as_deref()),
        namespace("o-r-pr6", Some("uid-of-a-deleted-record")),
        namespace("o-r-pr5-stale", Some("uid-o-r-pr5")),
        namespace("hand-made", None),
    ];
    let plan = plan(&[live], &namespaces, INSTANCE, WEEK, now());
    assert_eq!(
        names(&plan),
        [
            (Kind::Namespace, "o-r-pr6"),
            (Kind::Namespace, "o-r-pr5-stale")
        ]
    );
    assert_eq!(
        plan.remove[0].why,
        "orphan: its PreviewEnvironment (uid uid-of-a-deleted-record) is gone"
    );
    assert_eq!(plan.kept.len(), 1);
    assert_eq!(plan.kept[0].name, "hand-made");
    let text = describe(&plan);
    assert!(
        text.contains("would delete Namespace o-r-pr6: orphan"),
        "{text}"
    );
    assert!(text.contains("kept Namespace hand-made: carries"), "{text}");
}

#[test]
fn another_installations_objects_are_never_judged() {
    let old = destroyed(preview("o/r", 1, Phase::Ready), DestroyReason::Merged, 8);
    let orphan = namespace("o-r-pr6", Some("gone"));
    let plan = plan(&[old], &[orphan], "another-instance", WEEK, now());
    assert_eq!(plan, Plan::default());
    assert_eq!(describe(&plan), "nothing to collect\n");
}
