//! The schema check itself is strict: it rejects what GitHub's schema rejects.

use reqwest::header::HeaderMap;
use serde_json::{Value, json};

use crate::http::{Answer, get, post, started_with_pull};
use previewd_testkit::github::openapi::{component, operation_id, schema_errors, validator};

#[tokio::test]
async fn the_schema_check_rejects_missing_and_mistyped_fields() {
    let gh = started_with_pull().await;
    let comment = post(
        &gh,
        "/repos/acme/shop/issues/7/comments",
        json!({"body": "hi"}),
    )
    .await
    .json();
    let issue_comment = component("issue-comment");
    assert!(schema_errors(&issue_comment, &comment).is_empty());

    let mut without_id = comment.clone();
    without_id.as_object_mut().unwrap().remove("id");
    assert!(
        !schema_errors(&issue_comment, &without_id).is_empty(),
        "a comment without id must fail"
    );

    let mut string_id = comment.clone();
    string_id["id"] = json!("42");
    assert!(
        !schema_errors(&issue_comment, &string_id).is_empty(),
        "a string id must fail"
    );

    let mut bad_user = comment.clone();
    bad_user["user"].as_object_mut().unwrap().remove("login");
    assert!(
        !schema_errors(&issue_comment, &bad_user).is_empty(),
        "a user without login must fail"
    );

    // `nullable` was converted: null passes where GitHub allows it, and nowhere else.
    let pull = get(&gh, "/repos/acme/shop/pulls/7").await.json();
    let pull_schema = validator("pulls/get", "200");
    let mut null_body = pull.clone();
    null_body["body"] = Value::Null;
    assert!(
        schema_errors(&pull_schema, &null_body).is_empty(),
        "body is nullable"
    );
    let mut null_title = pull.clone();
    null_title["title"] = Value::Null;
    assert!(
        !schema_errors(&pull_schema, &null_title).is_empty(),
        "title is not nullable"
    );
    let mut bad_state = pull.clone();
    bad_state["state"] = json!("merged");
    assert!(
        !schema_errors(&pull_schema, &bad_state).is_empty(),
        "state is open|closed"
    );
    // `$ref`s are followed all the way down (pull-request → head → repository).
    let mut shallow_repo = pull;
    shallow_repo["head"]["repo"]
        .as_object_mut()
        .unwrap()
        .remove("clone_url");
    assert!(
        !schema_errors(&pull_schema, &shallow_repo).is_empty(),
        "head.repo needs clone_url"
    );
    // `GET /user` is oneOf(private-user, public-user): a bare simple-user is neither.
    let mut simple = get(&gh, "/user").await.json();
    simple.as_object_mut().unwrap().remove("public_repos");
    assert!(!schema_errors(&validator("users/get-authenticated", "200"), &simple).is_empty());
}

#[test]
#[should_panic(expected = "users/get-authenticated 200 does not match GitHub's schema")]
fn every_answer_on_the_wire_is_checked() {
    let answer = Answer {
        status: 200,
        headers: HeaderMap::new(),
        text: json!({"login": 1}).to_string(),
    };
    answer.check_schema("GET", "/user");
}

#[test]
#[should_panic(expected = "has no GET /repos/acme/shop/nothing-like-this")]
fn an_endpoint_github_does_not_have_is_an_error() {
    let answer = Answer {
        status: 200,
        headers: HeaderMap::new(),
        text: "{}".to_owned(),
    };
    answer.check_schema("GET", "/repos/acme/shop/nothing-like-this");
}

#[test]
fn operations_are_found_by_method_and_concrete_path() {
    for (method, path, expected) in [
        ("GET", "/repos/acme/shop/pulls/7", Some("pulls/get")),
        (
            "GET",
            "/repos/acme/shop/pulls/comments",
            Some("pulls/list-review-comments-for-repo"),
        ),
        (
            "POST",
            "/repos/acme/shop/issues/comments/5/reactions",
            Some("reactions/create-for-issue-comment"),
        ),
        (
            "GET",
            "/repos/acme/shop/collaborators/someone/permission",
            Some("repos/get-collaborator-permission-level"),
        ),
        ("POST", "/repos/acme/shop/issues/comments/5", None),
        ("GET", "/repos/acme/shop", Some("repos/get")),
        ("GET", "/repos/acme", None),
    ] {
        assert_eq!(operation_id(method, path), expected, "{method} {path}");
    }
}
