//! Pull requests: one, and lists filtered by state, paginated, with ETags and 304s.

use chrono::SecondsFormat;
use serde_json::{Value, json};

use crate::http::{Answer, authed, client, get, get_url, send};
use previewd_testkit::github::openapi::assert_matches;
use previewd_testkit::github::{GitHub, Pull, label_id, repo_id};

fn timestamp(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

#[tokio::test]
async fn pull_requests_match_the_schema_same_repo_fork_and_merged() {
    let gh = GitHub::start().await;
    gh.set_pull(
        Pull::new("acme", "shop", 1)
            .head(&"a".repeat(40), "feat/x")
            .label("preview")
            .draft(),
    );
    gh.set_pull(Pull::new("acme", "shop", 2).fork("outsider"));
    gh.set_pull(Pull::new("acme", "shop", 3).merged());

    let same = get(&gh, "/repos/acme/shop/pulls/1").await;
    assert_eq!(same.status, 200);
    let same = same.json();
    assert_matches("pulls/get", 200, &same);
    assert_eq!(same["head"]["sha"], "a".repeat(40));
    assert_eq!(same["head"]["ref"], "feat/x");
    assert_eq!(same["head"]["repo"]["id"], same["base"]["repo"]["id"]);
    assert_eq!(same["base"]["repo"]["full_name"], "acme/shop");
    assert_eq!(
        (same["draft"].clone(), same["labels"][0]["name"].clone()),
        (json!(true), json!("preview"))
    );
    assert_eq!(
        (same["state"].clone(), same["merged"].clone()),
        (json!("open"), json!(false))
    );

    let fork = get(&gh, "/repos/acme/shop/pulls/2").await.json();
    assert_matches("pulls/get", 200, &fork);
    assert_eq!(fork["head"]["repo"]["full_name"], "outsider/shop");
    assert_eq!(fork["head"]["repo"]["fork"], true);
    assert_ne!(fork["head"]["repo"]["id"], fork["base"]["repo"]["id"]);
    assert_eq!(fork["user"]["login"], "outsider");

    let merged = get(&gh, "/repos/acme/shop/pulls/3").await.json();
    assert_matches("pulls/get", 200, &merged);
    assert_eq!(
        (merged["state"].clone(), merged["merged"].clone()),
        (json!("closed"), json!(true))
    );
    assert!(merged["merged_at"].is_string() && merged["closed_at"].is_string());

    let missing = get(&gh, "/repos/acme/shop/pulls/4").await;
    assert_eq!(
        (missing.status, missing.json()["message"].clone()),
        (404, json!("Not Found"))
    );
}

#[tokio::test]
async fn pull_lists_filter_paginate_and_answer_304_when_unchanged() {
    let gh = GitHub::start().await;
    for n in 1..=3 {
        gh.set_pull(Pull::new("acme", "shop", n));
    }
    gh.set_pull(Pull::new("acme", "shop", 4).closed());
    gh.set_pull(Pull::new("acme", "other", 5));

    let open = get(&gh, "/repos/acme/shop/pulls?state=open").await;
    assert_matches("pulls/list", 200, &open.json());
    let numbers = |a: &Answer| {
        a.json()
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["number"].as_u64().unwrap())
            .collect::<Vec<_>>()
    };
    assert_eq!(numbers(&open), [3, 2, 1], "open only, newest first");
    assert_eq!(
        numbers(&get(&gh, "/repos/acme/shop/pulls").await),
        [3, 2, 1],
        "state defaults to open"
    );
    assert_eq!(
        numbers(&get(&gh, "/repos/acme/shop/pulls?state=closed").await),
        [4]
    );
    assert_eq!(
        numbers(&get(&gh, "/repos/acme/shop/pulls?state=all").await),
        [4, 3, 2, 1]
    );
    assert_eq!(
        get(&gh, "/repos/acme/shop/pulls?state=bogus").await.status,
        422
    );

    let page1 = get(&gh, "/repos/acme/shop/pulls?state=open&per_page=2&page=1").await;
    assert_eq!(numbers(&page1), [3, 2]);
    let next = page1.links()["next"].clone();
    assert!(
        next.ends_with("/repos/acme/shop/pulls?state=open&per_page=2&page=2"),
        "{next}"
    );
    assert_eq!(numbers(&get_url(&next).await), [1]);

    // Conditional requests.
    let etag = open.header("etag").expect("an ETag").to_owned();
    assert!(etag.starts_with("W/\""), "{etag}");
    let remaining_before: u64 = open
        .header("x-ratelimit-remaining")
        .unwrap()
        .parse()
        .unwrap();
    let path = format!("{}/repos/acme/shop/pulls?state=open", gh.url());
    let unchanged = send(authed(client().get(&path)).header("if-none-match", &etag)).await;
    assert_eq!((unchanged.status, unchanged.text.as_str()), (304, ""));
    assert_eq!(unchanged.header("etag"), Some(etag.as_str()));
    let remaining_after: u64 = unchanged
        .header("x-ratelimit-remaining")
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        remaining_after < remaining_before,
        "the other requests in between counted"
    );

    gh.update_pull("acme", "shop", 2, |p| p.head_sha = "b".repeat(40));
    let changed = send(authed(client().get(&path)).header("if-none-match", &etag)).await;
    assert_eq!(changed.status, 200);
    assert_ne!(changed.header("etag"), Some(etag.as_str()));
    assert_eq!(changed.json()[1]["head"]["sha"], "b".repeat(40));

    // A 304 does not count against the rate limit.
    let etag = changed.header("etag").unwrap().to_owned();
    let before: u64 = changed
        .header("x-ratelimit-remaining")
        .unwrap()
        .parse()
        .unwrap();
    let again = send(authed(client().get(&path)).header("if-none-match", &etag)).await;
    assert_eq!(again.status, 304);
    assert_eq!(
        again
            .header("x-ratelimit-remaining")
            .unwrap()
            .parse::<u64>()
            .unwrap(),
        before
    );
}

#[tokio::test]
async fn pulls_carry_what_the_policies_read_and_follow_updates() {
    let gh = GitHub::start().await;
    gh.set_pull(
        Pull::new("acme", "shop", 1)
            .author("dev")
            .draft()
            .label("preview")
            .label("needs review")
            .label("preview")
            .base("release/1.0"),
    );
    gh.set_pull(Pull::new("acme", "shop", 2).fork("outsider"));
    let stored = gh.pull("acme", "shop", 1).unwrap();

    let own = get(&gh, "/repos/acme/shop/pulls/1").await.json();
    let names = |pull: &Value| -> Vec<String> {
        pull["labels"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["name"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(names(&own), ["preview", "needs review"], "each label once");
    assert_eq!(own["labels"][0]["id"], label_id("acme/shop", "preview"));
    assert!(
        own["labels"][1]["url"]
            .as_str()
            .unwrap()
            .ends_with("/repos/acme/shop/labels/needs%20review")
    );
    assert_eq!(
        (
            &own["draft"],
            &own["user"]["login"],
            &own["state"],
            &own["merged"]
        ),
        (&json!(true), &json!("dev"), &json!("open"), &json!(false))
    );
    assert_eq!(
        (&own["base"]["ref"], &own["base"]["label"]),
        (&json!("release/1.0"), &json!("acme:release/1.0"))
    );
    assert_ne!(own["base"]["sha"], Pull::new("acme", "shop", 1).base_sha);
    assert_eq!(
        (
            &own["head"]["repo"]["full_name"],
            &own["head"]["repo"]["id"]
        ),
        (&json!("acme/shop"), &json!(repo_id("acme/shop")))
    );
    assert_eq!(own["html_url"], "https://github.com/acme/shop/pull/1");
    assert_eq!(own["updated_at"], timestamp(stored.updated_at));

    let fork = get(&gh, "/repos/acme/shop/pulls/2").await.json();
    assert_eq!(
        (
            &fork["head"]["repo"]["full_name"],
            &fork["head"]["repo"]["id"],
            &fork["head"]["repo"]["fork"],
            &fork["user"]["login"]
        ),
        (
            &json!("outsider/shop"),
            &json!(repo_id("outsider/shop")),
            &json!(true),
            &json!("outsider")
        )
    );
    assert_eq!(fork["base"]["repo"]["id"], repo_id("acme/shop"));

    // The list shows the same facts.
    let listed = get(&gh, "/repos/acme/shop/pulls?state=open&per_page=10&page=1")
        .await
        .json();
    for item in listed.as_array().unwrap() {
        let one = if item["number"] == 1 { &own } else { &fork };
        for field in [
            "draft",
            "labels",
            "user",
            "head",
            "base",
            "html_url",
            "updated_at",
        ] {
            assert_eq!(item[field], one[field], "#{} {field}", item["number"]);
        }
    }

    // Ready for review, label removed: updated in place, updated_at never goes back.
    let updated = gh.update_pull("acme", "shop", 1, |p| {
        *p = p.clone().ready_for_review().without_label("preview");
    });
    assert!(updated.updated_at >= stored.updated_at);
    let own = get(&gh, "/repos/acme/shop/pulls/1").await.json();
    assert_eq!(
        (&own["draft"], names(&own)),
        (&json!(false), vec!["needs review".to_owned()])
    );
    gh.update_pull("acme", "shop", 1, |p| p.draft = true);
    assert_eq!(
        get(&gh, "/repos/acme/shop/pulls/1").await.json()["draft"],
        true
    );
}
