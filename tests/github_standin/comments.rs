//! Issue comments: create, read, update (PATCH or POST), delete, list and paginate.

use serde_json::json;

use crate::http::{authed, client, get, get_url, patch, post, send, started_with_pull};
use previewd_testkit::github::openapi::assert_matches;
use previewd_testkit::github::{GitHub, User};

#[tokio::test]
async fn comments_are_created_read_updated_and_listed_as_github_does() {
    let gh = started_with_pull().await;
    let created = post(
        &gh,
        "/repos/acme/shop/issues/7/comments",
        json!({"body": "first"}),
    )
    .await;
    assert_eq!(created.status, 201);
    let first = created.json();
    assert_matches("issues/create-comment", 201, &first);
    assert_eq!(created.header("location"), first["url"].as_str());
    assert_eq!(first["user"]["login"], GitHub::LOGIN);
    assert_eq!(first["body"], "first");
    assert!(
        first["html_url"]
            .as_str()
            .unwrap()
            .starts_with("https://github.com/acme/shop/pull/7#issuecomment-")
    );

    let second = post(
        &gh,
        "/repos/acme/shop/issues/7/comments",
        json!({"body": "second"}),
    )
    .await
    .json();
    assert!(second["id"].as_u64() > first["id"].as_u64(), "ids increase");

    let id = first["id"].as_u64().unwrap();
    let read = get(&gh, &format!("/repos/acme/shop/issues/comments/{id}")).await;
    assert_eq!(read.status, 200);
    assert_matches("issues/get-comment", 200, &read.json());

    let updated = patch(
        &gh,
        &format!("/repos/acme/shop/issues/comments/{id}"),
        json!({"body": "edited"}),
    )
    .await;
    assert_eq!(updated.status, 200);
    assert_matches("issues/update-comment", 200, &updated.json());
    assert_eq!(
        (updated.json()["id"].clone(), updated.json()["body"].clone()),
        (json!(id), json!("edited"))
    );
    assert_eq!(gh.comment(id).unwrap().body, "edited");
    // GitHub takes POST for PATCH; octocrab's `update_comment` relies on it.
    let posted = post(
        &gh,
        &format!("/repos/acme/shop/issues/comments/{id}"),
        json!({"body": "edited"}),
    )
    .await;
    assert_eq!(
        (posted.status, posted.json()["id"].clone()),
        (200, json!(id))
    );

    let listed = get(&gh, "/repos/acme/shop/issues/7/comments").await;
    assert_eq!(listed.status, 200);
    assert_matches("issues/list-comments", 200, &listed.json());
    let bodies: Vec<_> = listed
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["body"].clone())
        .collect();
    assert_eq!(bodies, [json!("edited"), json!("second")]);
    assert!(listed.header("link").is_none(), "one page, no Link");

    // GitHub's errors.
    let missing = 9_999_999_999_u64;
    assert_eq!(
        patch(
            &gh,
            &format!("/repos/acme/shop/issues/comments/{missing}"),
            json!({"body": "x"})
        )
        .await
        .status,
        404
    );
    assert_eq!(
        get(&gh, &format!("/repos/acme/shop/issues/comments/{missing}"))
            .await
            .status,
        404
    );
    assert_eq!(
        get(&gh, &format!("/repos/acme/other/issues/comments/{id}"))
            .await
            .status,
        404,
        "wrong repo"
    );
    let unknown_pr = post(
        &gh,
        "/repos/acme/shop/issues/8/comments",
        json!({"body": "x"}),
    )
    .await;
    assert_eq!(
        (unknown_pr.status, unknown_pr.json()["message"].clone()),
        (404, json!("Not Found"))
    );
    assert_eq!(
        post(
            &gh,
            "/repos/acme/shop/issues/7/comments",
            json!({"text": "x"})
        )
        .await
        .status,
        422
    );
    let bad_json = send(
        authed(client().post(format!("{}/repos/acme/shop/issues/7/comments", gh.url()))).body("{"),
    )
    .await;
    assert_eq!(bad_json.status, 400);

    let deleted = send(authed(
        client().delete(format!("{}/repos/acme/shop/issues/comments/{id}", gh.url())),
    ))
    .await;
    assert_eq!((deleted.status, deleted.text.as_str()), (204, ""));
    assert_eq!(gh.comments("acme", "shop", 7).len(), 1);
}

#[tokio::test]
async fn seeded_comments_keep_their_author() {
    let gh = started_with_pull().await;
    gh.add_user(User::new("maintainer").association("MEMBER"));
    let quoted = gh.seed_comment(
        "acme",
        "shop",
        7,
        "maintainer",
        "> <!-- previewd -->\nwhy is this here?",
    );
    post(
        &gh,
        "/repos/acme/shop/issues/7/comments",
        json!({"body": "<!-- previewd -->"}),
    )
    .await;

    let listed = get(&gh, "/repos/acme/shop/issues/7/comments").await.json();
    assert_matches("issues/list-comments", 200, &listed);
    assert_eq!(listed[0]["id"], quoted);
    assert_eq!(listed[0]["user"]["login"], "maintainer");
    assert_eq!(listed[0]["author_association"], "MEMBER");
    assert_eq!(listed[1]["user"]["login"], GitHub::LOGIN);
    assert_eq!(listed[1]["author_association"], "NONE");
}

#[tokio::test]
async fn comment_lists_paginate_with_githubs_link_headers() {
    let gh = started_with_pull().await;
    for i in 1..=5 {
        post(
            &gh,
            "/repos/acme/shop/issues/7/comments",
            json!({"body": format!("c{i}")}),
        )
        .await;
    }
    let base = format!("{}/repos/acme/shop/issues/7/comments", gh.url());

    let first = get(&gh, "/repos/acme/shop/issues/7/comments?per_page=2").await;
    assert_matches("issues/list-comments", 200, &first.json());
    let links = first.links();
    assert_eq!(
        links.get("next"),
        Some(&format!("{base}?per_page=2&page=2"))
    );
    assert_eq!(
        links.get("last"),
        Some(&format!("{base}?per_page=2&page=3"))
    );
    assert!(!links.contains_key("prev") && !links.contains_key("first"));
    // GitHub's order: prev, next, last, first.
    let middle = get(&gh, "/repos/acme/shop/issues/7/comments?per_page=2&page=2").await;
    let rels: Vec<_> = middle
        .header("link")
        .unwrap()
        .split(", ")
        .map(|l| l.rsplit('"').nth(1).unwrap().to_owned())
        .collect();
    assert_eq!(rels, ["prev", "next", "last", "first"]);
    let last = get(&gh, "/repos/acme/shop/issues/7/comments?per_page=2&page=3").await;
    assert_eq!(last.json().as_array().unwrap().len(), 1);
    assert!(!last.links().contains_key("next"));
    assert_eq!(
        last.links().get("first"),
        Some(&format!("{base}?per_page=2&page=1"))
    );

    // Following `next` visits every comment once, in order.
    let mut url = Some(format!("{base}?per_page=2"));
    let mut bodies = Vec::new();
    while let Some(next) = url {
        let page = get_url(&next).await;
        bodies.extend(
            page.json()
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["body"].as_str().unwrap().to_owned()),
        );
        url = page.links().get("next").cloned();
    }
    assert_eq!(bodies, ["c1", "c2", "c3", "c4", "c5"]);

    let past_the_end = get(&gh, "/repos/acme/shop/issues/7/comments?per_page=2&page=9").await;
    assert_eq!(past_the_end.json(), json!([]));
}

#[tokio::test]
async fn a_repositorys_comments_are_listed_since_a_time_on_their_last_update() {
    let gh = started_with_pull().await;
    gh.set_pull(previewd_testkit::github::Pull::new("acme", "shop", 8));
    let old = gh.seed_comment("acme", "shop", 7, "octocat", "old");
    // GitHub's times have seconds: the next comments are written a second later.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let cut = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let new = gh.seed_comment("acme", "shop", 8, "octocat", "/preview deploy");
    gh.seed_comment("acme", "other", 1, "octocat", "another repository");
    let since = |since: &str| {
        format!("/repos/acme/shop/issues/comments?since={since}&sort=created&direction=asc")
    };
    let ids = |answer: &crate::http::Answer| -> Vec<u64> {
        answer
            .json()
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_u64().unwrap())
            .collect()
    };
    let all = get(&gh, &since("2000-01-01T00:00:00Z")).await;
    assert_eq!(ids(&all), vec![old, new]);
    assert_eq!(
        all.json()[1]["issue_url"],
        format!("{}/repos/acme/shop/issues/8", gh.url())
    );
    assert_eq!(ids(&get(&gh, &since(&cut)).await), vec![new]);
    // An edit brings an old comment back: `since` is about updates.
    patch(
        &gh,
        &format!("/repos/acme/shop/issues/comments/{old}"),
        json!({"body": "edited"}),
    )
    .await;
    assert_eq!(ids(&get(&gh, &since(&cut)).await), vec![old, new]);
    let newest_first = get(
        &gh,
        "/repos/acme/shop/issues/comments?sort=created&direction=desc",
    )
    .await;
    assert_eq!(ids(&newest_first), vec![new, old]);
    let unchanged = send(
        authed(client().get(format!("{}{}", gh.url(), since(&cut)))).header(
            "if-none-match",
            get(&gh, &since(&cut)).await.header("etag").unwrap(),
        ),
    )
    .await;
    assert_eq!(unchanged.status, 304);
    assert_eq!(get(&gh, &since("yesterday")).await.status, 422);
}
