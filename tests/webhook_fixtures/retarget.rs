//! Re-targeting: any variant becomes a distinct PR of any repository, by logged pointer sets.

use serde_json::json;

use crate::{assert_no_new_schema_errors, assert_patches_cover, pull_event};
use previewd_testkit::github::repo_id;
use previewd_testkit::webhooks::{variant, variant_names};

#[test]
fn retargeting_makes_distinct_prs_with_pointer_sets_only() {
    let base = variant("pr-opened");
    let sha = "0123456789abcdef0123456789abcdef01234567";
    let payload = base
        .clone()
        .repo("acme", "shop")
        .number(42)
        .head_sha(sha)
        .branch("feat/cart")
        .title("Add a cart");
    let event = pull_event(&payload);
    assert_eq!(event.pull.repository.full_name, "acme/shop");
    assert_eq!(
        event.pull.repository.id,
        repo_id("acme/shop"),
        "ids match the GitHub stand-in's"
    );
    assert_eq!(
        (
            event.pull.number,
            event.pull.head_sha.as_str(),
            event.pull.branch.as_str()
        ),
        (42, sha, "feat/cart")
    );
    assert_eq!(event.pull.title, "Add a cart");
    assert_eq!(
        event.pull.pull_request_url,
        "https://github.com/acme/shop/pull/42"
    );
    assert!(!event.pull.fork, "still a same-repo PR");
    assert_eq!(
        payload.json["pull_request"]["head"]["label"],
        "acme:feat/cart"
    );
    assert_eq!(payload.json["pull_request"]["base"]["label"], "acme:master");
    assert_eq!(
        payload.json["pull_request"]["url"],
        "https://api.github.com/repos/acme/shop/pulls/42"
    );
    assert_eq!(payload.json["repository"]["owner"]["login"], "acme");
    assert_eq!(
        payload.json["pull_request"]["author_association"], "CONTRIBUTOR",
        "Codertocat no longer owns it"
    );

    // Nothing of the old identity is left in any string.
    let text = payload.json.to_string();
    assert!(
        !text.contains("Codertocat/Hello-World"),
        "old repository left behind"
    );
    assert!(
        !text.contains("/pull/2\"") && !text.contains("/pulls/2\""),
        "old number left behind"
    );
    assert!(
        !text.contains(base.str("/pull_request/head/sha").unwrap().as_str()),
        "old sha left behind"
    );

    // Every change is a logged pointer set.
    assert_patches_cover(&base, &payload);

    // Order of the builder calls does not matter.
    let other = base
        .clone()
        .number(42)
        .branch("feat/cart")
        .head_sha(sha)
        .title("Add a cart")
        .repo("acme", "shop");
    assert_eq!(other.json, payload.json);

    // Many distinct PRs.
    let numbers: std::collections::BTreeSet<_> = (1..=20)
        .map(|n| {
            pull_event(&base.clone().repo("acme", "shop").number(n))
                .pull
                .number
        })
        .collect();
    assert_eq!(numbers.len(), 20);
}

#[test]
fn retargeting_keeps_a_fork_a_fork_and_moves_comments_too() {
    let fork = variant("pr-opened-fork").repo("acme", "shop").number(5);
    let event = pull_event(&fork);
    assert!(event.pull.fork);
    assert_eq!(event.pull.repository.full_name, "acme/shop");
    assert_eq!(
        fork.json["pull_request"]["head"]["repo"]["full_name"],
        "octo-forker/shop"
    );
    assert_eq!(
        fork.json["pull_request"]["head"]["repo"]["id"],
        repo_id("octo-forker/shop")
    );
    assert_eq!(
        fork.json["pull_request"]["head"]["label"],
        "octo-forker:changes"
    );

    let comment = variant("issue-comment-on-pr")
        .repo("acme", "shop")
        .number(5)
        .sender("maintainer")
        .title("Add a cart");
    assert_eq!(comment.json["repository"]["full_name"], "acme/shop");
    assert_eq!(comment.json["issue"]["number"], 5);
    assert_eq!(comment.json["issue"]["title"], "Add a cart");
    assert_eq!(
        comment.json["issue"]["pull_request"]["html_url"],
        "https://github.com/acme/shop/pull/5"
    );
    assert_eq!(
        comment.json["comment"]["issue_url"],
        "https://api.github.com/repos/acme/shop/issues/5"
    );
    assert_eq!(
        (
            comment.json["sender"]["login"].clone(),
            comment.json["comment"]["user"]["login"].clone()
        ),
        (json!("maintainer"), json!("maintainer"))
    );
    let body = variant("issue-comment-on-pr").comment_body("/preview destroy");
    assert_eq!(body.json["comment"]["body"], "/preview destroy");

    let later = variant("pr-opened").updated_at("2030-01-01T00:00:00Z");
    assert_eq!(
        pull_event(&later).pull.pr_updated_at.unwrap().to_rfc3339(),
        "2030-01-01T00:00:00+00:00"
    );
}

#[test]
#[should_panic(expected = "does not exist")]
fn a_pointer_into_nothing_is_an_error_not_a_silent_no_op() {
    let _ = variant("pr-opened").set("/pull_request/nope/deeper", 1);
}

#[test]
fn every_variant_retargets_without_leaving_its_old_identity() {
    for name in variant_names() {
        let base = variant(&name);
        let moved = base.clone().repo("acme", "shop").number(42);
        assert_eq!(
            (moved.full_name(), moved.pr_number()),
            ("acme/shop".to_owned(), 42),
            "{name}"
        );
        let text = moved.json.to_string();
        assert!(
            !text.contains("Codertocat/Hello-World"),
            "{name}: old repository left"
        );
        for kind in ["pull", "pulls", "issues"] {
            assert!(
                !text.contains(&format!("/{kind}/2\"")) && !text.contains(&format!("/{kind}/2#")),
                "{name}: old number left in a /{kind}/ address"
            );
        }
        assert_patches_cover(&base, &moved);
        assert_no_new_schema_errors(&base, &moved);
    }
}

#[test]
fn the_policy_variants_keep_their_meaning_when_moved() {
    let labeled = variant("pr-labeled").repo("acme", "shop").number(9);
    assert_eq!(
        labeled.json["label"]["url"],
        "https://api.github.com/repos/acme/shop/labels/preview"
    );
    assert_eq!(labeled.json["pull_request"]["labels"][0]["name"], "preview");

    let edited = variant("pr-edited-base").repo("acme", "shop").number(9);
    assert_eq!(
        (
            &edited.json["pull_request"]["base"]["ref"],
            &edited.json["pull_request"]["base"]["label"],
            &edited.json["changes"]["base"]["ref"]["from"]
        ),
        (
            &json!("release/1.0"),
            &json!("acme:release/1.0"),
            &json!("master")
        )
    );

    let fork_sync = variant("pr-synchronize-fork")
        .repo("acme", "shop")
        .number(9);
    let event = pull_event(&fork_sync);
    assert!(event.pull.fork);
    assert_eq!(
        (event.pull.repository.full_name.as_str(), event.pull.number),
        ("acme/shop", 9)
    );
    assert_eq!(
        fork_sync.json["pull_request"]["head"]["repo"]["id"],
        repo_id("octo-forker/shop")
    );
    assert_eq!(
        event.pull.head_sha,
        variant("pr-synchronize-fork").str("/after").unwrap()
    );
}
