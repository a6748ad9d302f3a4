//! The variants: real upstream examples patched only where they say, within GitHub's schema,
//! meaning what their names say, telling one story ordered by `updated_at`.

use previewd::model::event::PullAction;
use serde_json::json;

use crate::{assert_no_new_schema_errors, covered, pull_event};
use previewd_testkit::webhooks::{
    Payload, diff_pointers, example, example_at, example_nth, examples, variant, variant_names,
    variant_spec,
};

/// The variants tests rely on; more may be added.
const REQUIRED_VARIANTS: [&str; 14] = [
    "issue-comment-on-pr",
    "pr-closed-merged",
    "pr-closed-unmerged",
    "pr-converted-to-draft",
    "pr-edited-base",
    "pr-labeled",
    "pr-opened",
    "pr-opened-draft",
    "pr-opened-fork",
    "pr-ready-for-review",
    "pr-reopened",
    "pr-synchronize-fork",
    "pr-synchronize-new-sha",
    "pr-unlabeled",
];

#[test]
fn upstream_examples_load_by_event_action_and_index() {
    assert!(examples("pull_request").len() > 20);
    let opened = example("pull_request", "opened");
    assert_eq!(opened["action"], "opened");
    assert_eq!(opened, examples("pull_request")[0]);
    assert_eq!(example_at("pull_request", 0), opened);
    let second_closed = example_nth("pull_request", "closed", 1);
    assert_eq!(second_closed["action"], "closed");
    assert_ne!(second_closed, example("pull_request", "closed"));
    assert!(example("issue_comment", "created")["comment"]["body"].is_string());
    let payload = Payload::example("pull_request", "synchronize");
    assert_eq!(
        (payload.event.as_str(), payload.json["action"].clone()),
        ("pull_request", json!("synchronize"))
    );
    assert!(payload.patches.is_empty());
}

#[test]
fn every_variant_differs_from_its_base_only_where_it_says() {
    let names = variant_names();
    for required in REQUIRED_VARIANTS {
        assert!(
            names.iter().any(|n| n == required),
            "fixtures/variants/{required}.json is missing"
        );
    }
    for name in &names {
        let spec = variant_spec(name);
        assert!(spec.why.len() > 40, "{name}: say why");
        let base = spec.base_payload();
        assert_eq!(base.json["action"], spec.base.action.as_str(), "{name}");
        let patched = variant(name);
        assert_eq!(patched.event, spec.base.event);
        let changed = diff_pointers(&base.json, &patched.json);
        for pointer in &changed {
            assert!(
                spec.set.keys().any(|listed| covered(pointer, listed)),
                "{name}: {pointer} changed but is not listed"
            );
        }
        for (listed, value) in &spec.set {
            assert_eq!(patched.get(listed), Some(value), "{name}: {listed}");
            assert!(
                changed.iter().any(|p| covered(p, listed)),
                "{name}: {listed} is set to what it already was"
            );
        }
    }
}

#[test]
fn variants_mean_what_their_names_say() {
    let opened = pull_event(&variant("pr-opened"));
    assert_eq!(opened.action, PullAction::Opened);
    assert!(!opened.pull.fork && opened.open);

    let fork = variant("pr-opened-fork");
    let fork_event = pull_event(&fork);
    assert!(fork_event.pull.fork);
    assert_eq!(fork.json["pull_request"]["head"]["repo"]["fork"], true);
    assert_ne!(
        fork.json["pull_request"]["head"]["repo"]["full_name"],
        fork.json["repository"]["full_name"]
    );
    assert_eq!(fork_event.pull.author, "octo-forker");

    let sync = pull_event(&variant("pr-synchronize-new-sha"));
    assert_eq!(sync.action, PullAction::Synchronize);
    assert_ne!(sync.pull.head_sha, opened.pull.head_sha);
    assert_eq!(
        variant("pr-synchronize-new-sha").json["before"].as_str(),
        Some(opened.pull.head_sha.as_str())
    );
    assert_eq!(
        variant("pr-synchronize-new-sha").json["after"].as_str(),
        Some(sync.pull.head_sha.as_str())
    );

    let merged = pull_event(&variant("pr-closed-merged"));
    assert_eq!(
        (merged.action, merged.open),
        (PullAction::Closed { merged: true }, false)
    );
    let unmerged = pull_event(&variant("pr-closed-unmerged"));
    assert_eq!(
        (unmerged.action, unmerged.open),
        (PullAction::Closed { merged: false }, false)
    );
    let reopened = pull_event(&variant("pr-reopened"));
    assert_eq!(
        (reopened.action, reopened.open),
        (PullAction::Reopened, true)
    );

    // The story opened → synchronize → closed → reopened is ordered by updated_at.
    let times: Vec<_> = [&opened, &sync, &unmerged, &reopened]
        .iter()
        .map(|e| e.pull.pr_updated_at.unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] < w[1]), "{times:?}");
    assert_eq!(merged.pull.pr_updated_at, unmerged.pull.pr_updated_at);

    let comment = variant("issue-comment-on-pr");
    assert_eq!(comment.event, "issue_comment");
    assert_eq!(comment.json["action"], "created");
    assert_eq!(comment.json["comment"]["body"], "/preview deploy");
    assert!(comment.json["issue"]["pull_request"].is_object());
    assert_eq!(
        comment.json["issue"]["number"],
        json!(opened.pull.number),
        "the same PR as the pr-* variants"
    );
}

#[test]
fn every_variant_keeps_to_githubs_webhook_schema() {
    for name in variant_names() {
        assert_no_new_schema_errors(&variant_spec(&name).base_payload(), &variant(&name));
    }
}

#[test]
fn the_schema_check_catches_a_broken_patch() {
    let base = variant("pr-labeled");
    let broken = base.clone().set("/label/description", 7);
    let result = std::panic::catch_unwind(|| assert_no_new_schema_errors(&base, &broken));
    assert!(result.is_err(), "a numeric label description passed");
    let edited = variant("pr-edited-base");
    let broken = edited.clone().set("/changes/base/ref", json!("master"));
    let result = std::panic::catch_unwind(|| assert_no_new_schema_errors(&edited, &broken));
    assert!(result.is_err(), "changes.base.ref must be {{from}}");
}

/// A `pull_request` variant and its `updated_at`.
fn pull_variant(name: &str) -> (Payload, String) {
    let payload = variant(name);
    assert_eq!(payload.event, "pull_request", "{name}");
    let updated = payload.str("/pull_request/updated_at").expect("updated_at");
    (payload, updated)
}

#[test]
fn policy_variants_carry_what_the_policies_read() {
    let (opened, _) = pull_variant("pr-opened");
    let label_names = |p: &Payload| -> Vec<String> {
        p.json["pull_request"]["labels"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["name"].as_str().unwrap().to_owned())
            .collect()
    };

    let (labeled, _) = pull_variant("pr-labeled");
    assert_eq!(labeled.json["action"], "labeled");
    assert_eq!(labeled.json["label"]["name"], "preview");
    assert_eq!(label_names(&labeled), ["preview"]);
    assert_eq!(
        labeled.json["pull_request"]["labels"][0],
        labeled.json["label"]
    );

    let (unlabeled, _) = pull_variant("pr-unlabeled");
    assert_eq!(unlabeled.json["action"], "unlabeled");
    assert_eq!(
        unlabeled.json["label"], labeled.json["label"],
        "the same label"
    );
    assert!(label_names(&unlabeled).is_empty());

    let draft = |name: &str| pull_variant(name).0.json["pull_request"]["draft"].clone();
    assert_eq!(draft("pr-opened"), false);
    assert_eq!(draft("pr-opened-draft"), true);
    assert_eq!(draft("pr-converted-to-draft"), true);
    assert_eq!(draft("pr-ready-for-review"), false);
    let (opened_draft, _) = pull_variant("pr-opened-draft");
    assert_eq!(opened_draft.json["action"], "opened");
    assert_eq!(
        diff_pointers(&opened.json, &opened_draft.json),
        ["/pull_request/draft"],
        "pr-opened, only a draft"
    );

    let (edited, _) = pull_variant("pr-edited-base");
    assert_eq!(edited.json["action"], "edited");
    assert_eq!(edited.json["changes"]["base"]["ref"]["from"], "master");
    assert_eq!(
        edited.json["changes"]["base"]["sha"]["from"],
        opened.json["pull_request"]["base"]["sha"]
    );
    assert_eq!(
        opened.json["pull_request"]["base"]["ref"], "master",
        "it came from pr-opened's base"
    );
    let base = &edited.json["pull_request"]["base"];
    assert_eq!(
        (&base["ref"], &base["label"]),
        (&json!("release/1.0"), &json!("Codertocat:release/1.0"))
    );
    assert_ne!(base["sha"], opened.json["pull_request"]["base"]["sha"]);
    assert_eq!(
        edited.json["pull_request"]["head"], opened.json["pull_request"]["head"],
        "the head did not move"
    );

    let (fork, _) = pull_variant("pr-opened-fork");
    let (fork_sync, _) = pull_variant("pr-synchronize-fork");
    let (sync, _) = pull_variant("pr-synchronize-new-sha");
    assert_eq!(fork_sync.json["action"], "synchronize");
    for pointer in [
        "/pull_request/head/repo/id",
        "/pull_request/head/repo/full_name",
        "/pull_request/head/repo/fork",
        "/pull_request/head/repo/owner/login",
        "/pull_request/head/label",
        "/pull_request/user/login",
        "/pull_request/author_association",
        "/sender/login",
    ] {
        assert_eq!(fork_sync.get(pointer), fork.get(pointer), "{pointer}");
    }
    let head = fork_sync.str("/pull_request/head/sha").unwrap();
    assert_eq!(fork_sync.str("/before"), fork.str("/pull_request/head/sha"));
    assert_eq!(fork_sync.str("/after").as_deref(), Some(head.as_str()));
    assert_ne!(fork_sync.str("/before").as_deref(), Some(head.as_str()));
    assert_ne!(
        sync.str("/pull_request/head/sha").as_deref(),
        Some(head.as_str())
    );
    assert!(
        fork_sync
            .str("/pull_request/statuses_url")
            .unwrap()
            .ends_with(&head),
        "statuses follow the head"
    );

    // All about the same PR.
    for name in variant_names() {
        let payload = variant(&name);
        assert_eq!(payload.full_name(), "Codertocat/Hello-World", "{name}");
        assert_eq!(payload.pr_number(), 2, "{name}");
    }
}

#[test]
fn the_policy_stories_are_ordered_by_updated_at() {
    let time = |name: &str| pull_variant(name).1;
    let story = [
        "pr-opened",
        "pr-labeled",
        "pr-unlabeled",
        "pr-converted-to-draft",
        "pr-ready-for-review",
        "pr-synchronize-new-sha",
        "pr-edited-base",
        "pr-closed-unmerged",
        "pr-reopened",
    ];
    let times: Vec<_> = story.iter().map(|n| time(n)).collect();
    assert!(
        times.windows(2).all(|w| w[0] < w[1]),
        "{:?}",
        story.iter().zip(&times).collect::<Vec<_>>()
    );
    assert_eq!(time("pr-opened-draft"), time("pr-opened"));
    assert!(time("pr-opened-draft") < time("pr-ready-for-review"));
    assert!(time("pr-opened-fork") < time("pr-synchronize-fork"));
    assert!(time("pr-synchronize-fork") < time("pr-closed-unmerged"));
}
