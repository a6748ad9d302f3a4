//! Headers on every answer (rate limit, request id) and the request log.

use serde_json::json;

use crate::http::{client, get, patch, post, send, started_with_pull};
use previewd_testkit::github::GitHub;

#[tokio::test]
async fn every_answer_carries_rate_limit_and_request_id_headers() {
    let gh = started_with_pull().await;
    let answers = [
        get(&gh, "/user").await,
        get(&gh, "/repos/acme/shop/pulls/7").await,
        get(&gh, "/repos/acme/shop/pulls/999").await,
        get(&gh, "/nowhere").await,
        send(client().get(format!("{}/user", gh.url()))).await,
    ];
    let mut remaining = Vec::new();
    for answer in &answers {
        assert_eq!(answer.header("x-ratelimit-limit"), Some("5000"));
        assert_eq!(answer.header("x-ratelimit-resource"), Some("core"));
        assert!(
            answer
                .header("x-ratelimit-reset")
                .unwrap()
                .parse::<i64>()
                .unwrap()
                > 1_700_000_000
        );
        assert!(
            answer
                .header("x-github-request-id")
                .is_some_and(|id| id.split(':').count() == 5)
        );
        assert_eq!(
            answer.header("content-type"),
            Some("application/json; charset=utf-8")
        );
        let left: u64 = answer
            .header("x-ratelimit-remaining")
            .unwrap()
            .parse()
            .unwrap();
        let used: u64 = answer.header("x-ratelimit-used").unwrap().parse().unwrap();
        assert_eq!(left + used, 5000);
        remaining.push(left);
    }
    assert_eq!(remaining, [4999, 4998, 4997, 4996, 4995]);
    let ids: std::collections::HashSet<_> = answers
        .iter()
        .map(|a| a.header("x-github-request-id").unwrap())
        .collect();
    assert_eq!(ids.len(), answers.len(), "request ids are unique");

    gh.set_rate_limit_remaining(0);
    let limited = get(&gh, "/user").await;
    assert_eq!(
        (limited.status, limited.header("x-ratelimit-remaining")),
        (403, Some("0"))
    );
    assert!(
        limited.json()["message"]
            .as_str()
            .unwrap()
            .starts_with("API rate limit exceeded")
    );
}

#[tokio::test]
async fn requests_are_recorded_in_order_with_headers_and_bodies() {
    let gh = started_with_pull().await;
    get(&gh, "/repos/acme/shop/issues/7/comments?per_page=100").await;
    let comment = post(
        &gh,
        "/repos/acme/shop/issues/7/comments",
        json!({"body": "hello"}),
    )
    .await
    .json();
    patch(
        &gh,
        &format!("/repos/acme/shop/issues/comments/{}", comment["id"]),
        json!({"body": "bye"}),
    )
    .await;

    let log = gh.requests();
    let summary: Vec<_> = log
        .iter()
        .map(|r| (r.method.as_str(), r.path.as_str(), r.status))
        .collect();
    let edit_path = format!("/repos/acme/shop/issues/comments/{}", comment["id"]);
    assert_eq!(
        summary,
        [
            ("GET", "/repos/acme/shop/issues/7/comments", Some(200)),
            ("POST", "/repos/acme/shop/issues/7/comments", Some(201)),
            ("PATCH", edit_path.as_str(), Some(200)),
        ]
    );
    assert_eq!(log[0].query.as_deref(), Some("per_page=100"));
    assert_eq!(log[0].query_param("per_page").as_deref(), Some("100"));
    assert_eq!(
        log[1].header("Authorization"),
        Some(format!("Bearer {}", GitHub::TOKEN).as_str())
    );
    assert_eq!(log[1].header("user-agent"), Some("previewd-tests"));
    assert_eq!(log[1].body, Some(json!({"body": "hello"})));
    assert!(log[1].request_id.contains(':'));
    assert_eq!(gh.writes().len(), 2);
    assert_eq!(
        gh.requests_to("PATCH", "/repos/acme/shop/issues/comments/")
            .len(),
        1
    );
    gh.clear_requests();
    assert!(gh.requests().is_empty());
}
