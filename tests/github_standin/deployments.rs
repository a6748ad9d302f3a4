//! Deployments and their statuses: created from a branch or a SHA, listed newest first and
//! filtered, and `auto_inactive` as GitHub applies it (not to transient environments).

use serde_json::{Value, json};

use crate::http::{get, post, started_with_pull};

async fn deploy(gh: &previewd_testkit::github::GitHub, body: Value) -> Value {
    let created = post(gh, "/repos/acme/shop/deployments", body).await;
    assert_eq!(created.status, 201, "{}", created.text);
    created.json()
}

async fn report(
    gh: &previewd_testkit::github::GitHub,
    id: &Value,
    body: Value,
) -> crate::http::Answer {
    post(
        gh,
        &format!("/repos/acme/shop/deployments/{id}/statuses"),
        body,
    )
    .await
}

#[tokio::test]
async fn deployments_are_created_listed_and_reported_on_as_github_does() {
    let gh = started_with_pull().await;
    let head = gh.pull("acme", "shop", 7).unwrap().head_sha;
    let by_branch = deploy(&gh, json!({"ref": "feature-7", "environment": "preview/pr-7", "transient_environment": true, "production_environment": false, "auto_merge": false, "required_contexts": []})).await;
    assert_eq!(by_branch["sha"], head.as_str());
    assert_eq!(by_branch["environment"], "preview/pr-7");
    assert_eq!(by_branch["transient_environment"], true);
    assert_eq!(by_branch["production_environment"], false);
    let other = "d6fde92930d4715a2b49857d24b940956b26d2d3";
    let by_sha = deploy(
        &gh,
        json!({"ref": other, "environment": "preview/pr-7", "transient_environment": true}),
    )
    .await;
    assert_eq!(by_sha["sha"], other);

    let listed = get(&gh, "/repos/acme/shop/deployments?environment=preview/pr-7").await;
    let ids: Vec<Value> = listed
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].clone())
        .collect();
    assert_eq!(
        ids,
        vec![by_sha["id"].clone(), by_branch["id"].clone()],
        "newest first"
    );
    let of_sha = get(&gh, &format!("/repos/acme/shop/deployments?sha={other}")).await;
    assert_eq!(of_sha.json().as_array().unwrap().len(), 1);

    let ready = report(&gh, &by_sha["id"], json!({"state": "success", "environment_url": "https://pr-7.preview.test", "log_url": "https://github.com/acme/shop/pull/7#issuecomment-1"})).await;
    assert_eq!(ready.status, 201);
    assert_eq!(ready.json()["environment_url"], "https://pr-7.preview.test");
    // Transient: the earlier deployment is not made inactive by GitHub.
    assert!(
        gh.deployment_statuses(by_branch["id"].as_u64().unwrap())
            .is_empty()
    );
    report(&gh, &by_branch["id"], json!({"state": "inactive"})).await;
    let statuses = get(
        &gh,
        &format!("/repos/acme/shop/deployments/{}/statuses", by_branch["id"]),
    )
    .await;
    assert_eq!(statuses.json()[0]["state"], "inactive");

    for (body, field) in [
        (json!({}), "ref"),
        (json!({"ref": "no-such-branch"}), "ref"),
    ] {
        let refused = post(&gh, "/repos/acme/shop/deployments", body).await;
        assert_eq!(
            (refused.status, refused.json()["errors"][0]["field"].clone()),
            (422, json!(field))
        );
    }
    let refused = report(&gh, &by_sha["id"], json!({"state": "done"})).await;
    assert_eq!(refused.status, 422);
    assert_eq!(
        get(&gh, "/repos/acme/shop/deployments/1/statuses")
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn a_success_makes_earlier_deployments_of_a_lasting_environment_inactive() {
    let gh = started_with_pull().await;
    let first = deploy(
        &gh,
        json!({"ref": "feature-7", "environment": "staging", "production_environment": false}),
    )
    .await;
    let second = deploy(
        &gh,
        json!({"ref": "feature-7", "environment": "staging", "production_environment": false}),
    )
    .await;
    report(&gh, &second["id"], json!({"state": "success"})).await;
    let states: Vec<String> = gh
        .deployment_statuses(first["id"].as_u64().unwrap())
        .into_iter()
        .map(|s| s.state)
        .collect();
    assert_eq!(states, ["inactive"]);
    let without = deploy(
        &gh,
        json!({"ref": "feature-7", "environment": "staging", "production_environment": false}),
    )
    .await;
    report(
        &gh,
        &without["id"],
        json!({"state": "success", "auto_inactive": false}),
    )
    .await;
    assert_eq!(
        gh.deployment_statuses(second["id"].as_u64().unwrap()).len(),
        1
    );
}
