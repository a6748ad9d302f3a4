//! The builders for command comments and policy events: fluent, logged as pointer sets,
//! within GitHub's schema, and agreeing with what the GitHub stand-in shows for the same
//! comment, label or PR.

use serde_json::{Value, json};

use crate::{assert_no_new_schema_errors, assert_patches_cover};
use previewd_testkit::github::{GitHub, Pull, User, label, user_id};
use previewd_testkit::webhooks::{Payload, variant};

/// The stand-in's JSON at `path`.
async fn fetch(gh: &GitHub, path: &str) -> Value {
    reqwest::Client::new()
        .get(format!("{}{path}", gh.url()))
        .bearer_auth(GitHub::TOKEN)
        .send()
        .await
        .expect("the stand-in answers")
        .json()
        .await
        .expect("JSON")
}

fn label_names(payload: &Payload, pointer: &str) -> Vec<String> {
    payload
        .get(pointer)
        .and_then(Value::as_array)
        .unwrap()
        .iter()
        .map(|l| l["name"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_command_comment_matches_the_comment_the_stand_in_holds() {
    let gh = GitHub::start().await;
    gh.set_pull(Pull::new("acme", "shop", 5));
    gh.add_user(User::new("maintainer").association("MEMBER"));
    let id = gh.seed_comment("acme", "shop", 5, "maintainer", "/preview destroy");

    let base = variant("issue-comment-on-pr");
    let old_id = base.get("/comment/id").unwrap().to_string();
    let payload = base
        .clone()
        .repo("acme", "shop")
        .number(5)
        .comment_id(id)
        .comment_author("maintainer", "MEMBER")
        .comment_body("/preview destroy");

    let held = fetch(&gh, &format!("/repos/acme/shop/issues/comments/{id}")).await;
    let comment = &payload.json["comment"];
    for field in ["id", "node_id", "html_url", "body", "author_association"] {
        assert_eq!(comment[field], held[field], "comment.{field}");
    }
    for field in ["login", "id"] {
        assert_eq!(
            comment["user"][field], held["user"][field],
            "comment.user.{field}"
        );
    }
    assert_eq!(
        comment["url"],
        format!("https://api.github.com/repos/acme/shop/issues/comments/{id}")
    );
    assert_eq!(
        (
            &payload.json["sender"]["login"],
            &payload.json["sender"]["id"]
        ),
        (&json!("maintainer"), &json!(user_id("maintainer")))
    );
    assert!(
        !comment.to_string().contains(&old_id),
        "the old comment id is gone"
    );
    assert_patches_cover(&base, &payload);
    assert_no_new_schema_errors(&base, &payload);

    // The association is the payload's claim, whatever the stand-in's user says.
    let claimed = payload.comment_author("maintainer", "OWNER");
    assert_eq!(claimed.json["comment"]["author_association"], "OWNER");
}

#[tokio::test]
async fn a_label_matches_the_label_the_stand_in_shows() {
    let gh = GitHub::start().await;
    gh.set_pull(Pull::new("acme", "shop", 3).label("preview"));
    let shown = fetch(&gh, "/repos/acme/shop/pulls/3").await["labels"][0].clone();
    let payload = variant("pr-labeled")
        .repo("acme", "shop")
        .number(3)
        .label("preview");
    for field in ["id", "node_id", "name", "description", "color", "default"] {
        assert_eq!(payload.json["label"][field], shown[field], "label.{field}");
    }
    assert_eq!(
        payload.json["label"]["url"],
        "https://api.github.com/repos/acme/shop/labels/preview"
    );
}

#[test]
fn label_adds_or_removes_and_the_variants_are_what_it_makes() {
    for name in ["pr-labeled", "pr-unlabeled"] {
        let fixture = variant(name);
        let rebuilt = fixture.clone().label("preview");
        assert_eq!(rebuilt.json, fixture.json, "{name}");
        assert!(
            rebuilt.patches.len() == fixture.patches.len(),
            "{name}: no-op sets"
        );
    }

    // Upstream's labeled example added `bug`; adding `preview` keeps `bug`'s own object.
    let upstream = Payload::example("pull_request", "labeled");
    let bug = upstream.json["pull_request"]["labels"][0].clone();
    let added = upstream.clone().label("preview");
    assert_eq!(
        label_names(&added, "/pull_request/labels"),
        ["bug", "preview"]
    );
    assert_eq!(added.json["pull_request"]["labels"][0], bug);
    assert_eq!(
        added.json["label"],
        label(
            "https://api.github.com/repos/Codertocat/Hello-World",
            "Codertocat/Hello-World",
            "preview"
        )
    );
    assert_eq!(added.json["pull_request"]["labels"][1], added.json["label"]);
    assert_patches_cover(&upstream, &added);
    assert_no_new_schema_errors(&upstream, &added);

    let unlabeled = Payload::example("pull_request", "unlabeled");
    let removed = unlabeled.clone().label("bug");
    assert!(label_names(&removed, "/pull_request/labels").is_empty());
    assert_eq!(removed.json["label"]["name"], "bug");
    assert_no_new_schema_errors(&unlabeled, &removed);
}

#[test]
fn labels_set_the_prs_and_the_issues_labels() {
    let opened = variant("pr-opened").labels(&["preview", "needs review"]);
    assert_eq!(
        label_names(&opened, "/pull_request/labels"),
        ["preview", "needs review"]
    );
    assert!(
        opened.json["pull_request"]["labels"][1]["url"]
            .as_str()
            .unwrap()
            .ends_with("/labels/needs%20review")
    );
    assert_no_new_schema_errors(&variant("pr-opened"), &opened);
    assert!(label_names(&opened.labels(&[]), "/pull_request/labels").is_empty());

    let comment = variant("issue-comment-on-pr").labels(&["preview"]);
    assert_eq!(label_names(&comment, "/issue/labels"), ["preview"]);
    assert_no_new_schema_errors(&variant("issue-comment-on-pr"), &comment);
}

#[test]
#[should_panic(expected = "label() is for labeled/unlabeled payloads")]
fn label_on_another_action_is_an_error() {
    let _ = variant("pr-opened").label("preview");
}

#[test]
fn draft_and_base_branch_make_the_variants() {
    assert_eq!(
        variant("pr-opened").draft(true).json,
        variant("pr-opened-draft").json
    );
    assert_eq!(
        variant("pr-converted-to-draft").draft(false).json["pull_request"]["draft"],
        false
    );

    let edited = variant("pr-edited-base");
    let moved = variant("pr-opened").base_branch("release/1.0");
    for field in ["ref", "label"] {
        assert_eq!(
            moved.json["pull_request"]["base"][field], edited.json["pull_request"]["base"][field],
            "base.{field}"
        );
    }
    // Order does not matter: the base label follows the repository too.
    let a = variant("pr-opened")
        .repo("acme", "shop")
        .base_branch("release/2.0");
    let b = variant("pr-opened")
        .base_branch("release/2.0")
        .repo("acme", "shop");
    assert_eq!(a.json, b.json);
    assert_eq!(a.json["pull_request"]["base"]["label"], "acme:release/2.0");

    // A comment carries no base: re-targeting builders leave it alone.
    let comment = variant("issue-comment-on-pr");
    assert_eq!(
        comment.clone().base_branch("release/2.0").json,
        comment.json
    );
}

#[test]
#[should_panic(expected = "does not exist")]
fn draft_on_a_comment_is_an_error() {
    let _ = variant("issue-comment-on-pr").draft(true);
}
