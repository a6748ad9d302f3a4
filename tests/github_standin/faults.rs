//! Injected failures: status codes, hangs, slow writes, HTML, bad credentials, secondary
//! rate limits, empty and truncated lists, seeded chaos.

use std::time::Duration;

use serde_json::{Value, json};

use crate::http::{authed, get, post, started_with_pull};
use previewd_testkit::github::{Chaos, Fault, Targeted};

#[tokio::test]
async fn status_faults_fire_on_matching_requests_then_stop() {
    let gh = started_with_pull().await;
    gh.inject(
        Fault::Status(502)
            .times(2)
            .on("GET", "/repos/acme/shop/pulls"),
    );
    assert_eq!(
        get(&gh, "/user").await.status,
        200,
        "other paths are untouched"
    );
    let failed = get(&gh, "/repos/acme/shop/pulls/7").await;
    assert_eq!(failed.status, 502);
    assert_eq!(failed.json()["message"], "Bad Gateway");
    assert!(failed.header("x-ratelimit-remaining").is_some());
    assert_eq!(gh.pending_faults(), 1);
    assert_eq!(
        get(&gh, "/repos/acme/shop/pulls?state=open").await.status,
        502
    );
    assert_eq!(get(&gh, "/repos/acme/shop/pulls/7").await.status, 200);

    gh.inject(Fault::Status(500).once().on_path("/repos/acme/shop/issues"));
    let failed = post(
        &gh,
        "/repos/acme/shop/issues/7/comments",
        json!({"body": "x"}),
    )
    .await;
    assert_eq!(failed.status, 500);
    assert!(
        gh.comments("acme", "shop", 7).is_empty(),
        "a failed write has no effect"
    );
    let recorded = gh
        .requests()
        .into_iter()
        .filter(|r| r.fault.is_some())
        .count();
    assert_eq!(recorded, 3, "the log says which requests were failed");
}

#[tokio::test]
async fn a_hang_outlasts_the_client_timeout_and_a_slow_write_lands_anyway() {
    let gh = started_with_pull().await;
    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let url = format!("{}/repos/acme/shop/issues/7/comments", gh.url());

    // Both time the client out; only the slow one applied the write.
    for (fault, landed) in [
        (Fault::Hang(Duration::from_secs(2)), 0),
        (Fault::Slow(Duration::from_secs(2)), 1),
    ] {
        gh.inject(fault.clone().once());
        let error = authed(impatient.post(&url))
            .json(&json!({"body": "x"}))
            .send()
            .await
            .unwrap_err();
        assert!(error.is_timeout(), "{fault:?}: {error}");
        assert_eq!(
            gh.comments("acme", "shop", 7).len(),
            landed,
            "{fault:?}: comments after the client gave up"
        );
    }
}

#[tokio::test]
async fn html_credentials_and_secondary_rate_limit_faults_look_like_githubs() {
    let gh = started_with_pull().await;
    for status in [200, 502] {
        gh.inject(Fault::Html(status).once());
        let page = get(&gh, "/repos/acme/shop/pulls/7").await;
        assert_eq!(page.status, status);
        assert_eq!(
            page.header("content-type"),
            Some("text/html; charset=utf-8")
        );
        assert!(page.text.starts_with("<!DOCTYPE html>"));
        assert!(serde_json::from_str::<Value>(&page.text).is_err());
    }

    gh.inject(Fault::BadCredentials.once());
    let denied = get(&gh, "/repos/acme/shop/pulls/7").await;
    assert_eq!(
        (denied.status, denied.json()["message"].clone()),
        (401, json!("Bad credentials"))
    );

    gh.inject(Fault::SecondaryRateLimit { retry_after: 60 }.once());
    let limited = post(
        &gh,
        "/repos/acme/shop/issues/7/comments",
        json!({"body": "x"}),
    )
    .await;
    assert_eq!(limited.status, 403);
    assert_eq!(limited.header("retry-after"), Some("60"));
    assert!(
        limited.json()["message"]
            .as_str()
            .unwrap()
            .starts_with("You have exceeded a secondary rate limit")
    );
    assert!(gh.comments("acme", "shop", 7).is_empty());
}

#[tokio::test]
async fn empty_and_truncated_lists() {
    let gh = started_with_pull().await;
    gh.inject(Fault::EmptyList.once().on("GET", "/repos/acme/shop/pulls"));
    let empty = get(&gh, "/repos/acme/shop/pulls?state=open").await;
    assert_eq!((empty.status, empty.json()), (200, json!([])));
    assert!(empty.header("link").is_none());

    gh.inject(Fault::Truncated.once().on("GET", "/repos/acme/shop/pulls"));
    let cut = get(&gh, "/repos/acme/shop/pulls?state=open").await;
    assert_eq!(cut.status, 200);
    assert!(cut.text.starts_with("[{"));
    assert!(
        serde_json::from_str::<Value>(&cut.text).is_err(),
        "the body is cut"
    );
    assert_eq!(
        get(&gh, "/repos/acme/shop/pulls?state=open")
            .await
            .json()
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn chaos_fails_about_p_of_requests_and_replays_with_the_same_seed() {
    async fn run(seed: u64) -> Vec<u16> {
        let gh = started_with_pull().await;
        gh.chaos(Chaos::new(
            0.3,
            seed,
            vec![
                Fault::Status(500),
                Fault::Status(503),
                Fault::BadCredentials,
            ],
        ));
        let mut statuses = Vec::new();
        for _ in 0..200 {
            statuses.push(get(&gh, "/repos/acme/shop/pulls/7").await.status);
        }
        gh.clear_faults();
        assert_eq!(get(&gh, "/repos/acme/shop/pulls/7").await.status, 200);
        statuses
    }
    let first = run(42).await;
    let failed = first.iter().filter(|s| **s != 200).count();
    assert!(
        (35..=85).contains(&failed),
        "{failed} of 200 failed with p = 0.3"
    );
    for status in [500, 503, 401] {
        assert!(first.contains(&status), "{status} was picked");
    }
    assert_eq!(run(42).await, first, "same seed, same failures");
    assert_ne!(run(7).await, first, "another seed, other failures");
}
