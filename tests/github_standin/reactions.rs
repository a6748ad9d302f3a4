//! Reactions to issue comments: 201 when new, 200 with the existing one when the caller
//! already reacted so, 404 for a comment not in the repository, 422 for a content GitHub does
//! not have; listed oldest first, paginated, filtered; counted in the comment's rollup.

use serde_json::{Value, json};

use crate::http::{authed, client, get, post, send, started_with_pull};
use previewd_testkit::github::openapi::{assert_matches, component, schema_errors};
use previewd_testkit::github::{Fault, GitHub, REACTIONS, Targeted};

async fn commented() -> (GitHub, u64, String) {
    let gh = started_with_pull().await;
    let id = gh.seed_comment("acme", "shop", 7, "maintainer", "/preview deploy");
    (
        gh,
        id,
        format!("/repos/acme/shop/issues/comments/{id}/reactions"),
    )
}

async fn react_as(gh: &GitHub, token: &str, path: &str, content: &str) -> (u16, Value) {
    let answer = send(
        client()
            .post(format!("{}{path}", gh.url()))
            .header("authorization", format!("token {token}"))
            .json(&json!({"content": content})),
    )
    .await;
    (answer.status, answer.json())
}

#[tokio::test]
async fn a_reaction_is_created_once_per_user_and_content() {
    let (gh, id, path) = commented().await;
    let first = post(&gh, &path, json!({"content": "eyes"})).await;
    assert_eq!(first.status, 201);
    let eyes = first.json();
    assert_matches("reactions/create-for-issue-comment", 201, &eyes);
    assert_eq!(
        (&eyes["content"], &eyes["user"]["login"]),
        (&json!("eyes"), &json!(GitHub::LOGIN))
    );

    let again = post(&gh, &path, json!({"content": "eyes"})).await;
    assert_eq!(again.status, 200, "GitHub: 200 means already there");
    assert_matches("reactions/create-for-issue-comment", 200, &again.json());
    assert_eq!(again.json()["id"], eyes["id"], "the existing reaction");

    let rocket = post(&gh, &path, json!({"content": "rocket"})).await;
    assert_eq!(rocket.status, 201, "another content is another reaction");
    assert!(rocket.json()["id"].as_u64() > eyes["id"].as_u64());

    gh.add_token("maintainer-token", "maintainer");
    let (status, theirs) = react_as(&gh, "maintainer-token", &path, "eyes").await;
    assert_eq!(
        (status, theirs["user"]["login"].clone()),
        (201, json!("maintainer")),
        "another user's same content is theirs"
    );

    let me = GitHub::LOGIN.to_owned();
    assert_eq!(
        gh.reactions(id),
        [
            (me.clone(), "eyes".to_owned()),
            (me, "rocket".to_owned()),
            ("maintainer".to_owned(), "eyes".to_owned()),
        ]
    );
    assert_eq!(
        gh.writes().iter().filter(|r| r.path == path).count(),
        4,
        "every POST is a write, the repeated one included"
    );

    // The comment's rollup counts them.
    let comment = get(&gh, &format!("/repos/acme/shop/issues/comments/{id}")).await;
    let rollup = &comment.json()["reactions"];
    assert_eq!(
        (&rollup["total_count"], &rollup["eyes"], &rollup["rocket"]),
        (&json!(3), &json!(2), &json!(1))
    );
    assert_eq!(rollup["heart"], 0);
}

#[tokio::test]
async fn every_content_github_has_is_taken() {
    let (gh, id, path) = commented().await;
    for content in REACTIONS {
        let answer = post(&gh, &path, json!({"content": content})).await;
        assert_eq!(answer.status, 201, "{content}");
    }
    let contents: Vec<_> = gh.reactions(id).into_iter().map(|(_, c)| c).collect();
    assert_eq!(contents, REACTIONS);
}

#[tokio::test]
async fn reactions_list_oldest_first_paginated_and_filtered() {
    let (gh, _, path) = commented().await;
    for content in ["eyes", "rocket", "-1"] {
        post(&gh, &path, json!({"content": content})).await;
    }
    let listed = get(&gh, &path).await;
    assert_eq!(listed.status, 200);
    assert_matches("reactions/list-for-issue-comment", 200, &listed.json());
    let contents = |body: Value| -> Vec<String> {
        body.as_array()
            .unwrap()
            .iter()
            .map(|r| r["content"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(contents(listed.json()), ["eyes", "rocket", "-1"]);

    let page = get(&gh, &format!("{path}?per_page=2")).await;
    assert_eq!(contents(page.json()), ["eyes", "rocket"]);
    assert!(page.links()["next"].ends_with(&format!("{path}?per_page=2&page=2")));

    let only = get(&gh, &format!("{path}?content=rocket")).await;
    assert_eq!(contents(only.json()), ["rocket"]);
    let none = get(&gh, &format!("{path}?content=heart")).await;
    assert_eq!(none.json(), json!([]));
    assert_eq!(
        get(&gh, &format!("{path}?content=thumbsup")).await.status,
        422
    );
}

#[tokio::test]
async fn missing_comments_and_bad_contents_fail_as_github_does() {
    let (gh, id, path) = commented().await;
    let missing = 9_999_999_999_u64;
    for target in [
        format!("/repos/acme/shop/issues/comments/{missing}/reactions"),
        format!("/repos/acme/other/issues/comments/{id}/reactions"),
    ] {
        let answer = post(&gh, &target, json!({"content": "eyes"})).await;
        assert_eq!(
            (answer.status, answer.json()["message"].clone()),
            (404, json!("Not Found")),
            "{target}"
        );
        assert_eq!(get(&gh, &target).await.status, 404, "{target}");
    }

    for body in [
        json!({"content": "thumbsup"}),
        json!({"content": "+2"}),
        json!({"content": 1}),
        json!({}),
    ] {
        let answer = post(&gh, &path, body.clone()).await;
        assert_eq!(answer.status, 422, "{body}");
        let error = answer.json();
        assert!(
            schema_errors(&component("validation-error"), &error).is_empty(),
            "{error}"
        );
        assert_eq!(
            (&error["message"], &error["errors"][0]["field"]),
            (&json!("Validation Failed"), &json!("content"))
        );
    }
    let not_json = send(authed(client().post(format!("{}{path}", gh.url()))).body("{")).await;
    assert_eq!(not_json.status, 400);
    assert!(gh.reactions(id).is_empty(), "nothing was added");
}

#[tokio::test]
async fn reactions_go_through_faults_and_go_away_with_their_comment() {
    let (gh, id, path) = commented().await;
    gh.inject(Fault::Status(502).once().on("POST", &path));
    assert_eq!(
        post(&gh, &path, json!({"content": "eyes"})).await.status,
        502
    );
    assert!(gh.reactions(id).is_empty(), "a failed write has no effect");

    gh.inject(Fault::Truncated.once().on("POST", &path));
    let cut = post(&gh, &path, json!({"content": "eyes"})).await;
    assert!(serde_json::from_str::<Value>(&cut.text).is_err());
    assert_eq!(
        gh.reactions(id).len(),
        1,
        "a truncated answer's write landed"
    );

    let deleted = send(authed(
        client().delete(format!("{}/repos/acme/shop/issues/comments/{id}", gh.url())),
    ))
    .await;
    assert_eq!(deleted.status, 204);
    assert!(gh.reactions(id).is_empty());
    assert_eq!(get(&gh, &path).await.status, 404);
}
