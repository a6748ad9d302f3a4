//! Check runs and commit statuses for a commit, and the checks a branch requires, answered in
//! GitHub's shapes: the latest run of each name, the latest status of each context combined,
//! a branch's protection and the rules that apply to it.

use serde_json::{Value, json};

use previewd_testkit::github::{CI_APP_ID, Required};

use crate::http::{get, patch, post, started_with_pull};

#[tokio::test]
async fn check_runs_are_created_concluded_and_listed_latest_first() {
    let gh = started_with_pull().await;
    let head = gh.pull("acme", "shop", 7).unwrap().head_sha;
    let created = post(
        &gh,
        "/repos/acme/shop/check-runs",
        json!({"name": "build", "head_sha": head, "status": "in_progress"}),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let run = created.json();
    assert_eq!(
        (run["status"].clone(), run["conclusion"].clone()),
        (json!("in_progress"), Value::Null)
    );
    assert_eq!(run["app"]["id"], CI_APP_ID);
    let id = run["id"].as_u64().unwrap();
    let done = patch(
        &gh,
        &format!("/repos/acme/shop/check-runs/{id}"),
        json!({"conclusion": "failure"}),
    )
    .await;
    assert_eq!(done.json()["status"], "completed");
    // A re-run: a new run of the same name, which is the one listed.
    let rerun = post(
        &gh,
        "/repos/acme/shop/check-runs",
        json!({"name": "build", "head_sha": head, "conclusion": "success"}),
    )
    .await
    .json();
    post(
        &gh,
        "/repos/acme/shop/check-runs",
        json!({"name": "lint", "head_sha": head}),
    )
    .await;
    let listed = get(
        &gh,
        &format!("/repos/acme/shop/commits/{head}/check-runs?per_page=100"),
    )
    .await
    .json();
    assert_eq!(listed["total_count"], 2);
    let names: Vec<(Value, Value)> = listed["check_runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["name"].clone(), r["id"].clone()))
        .collect();
    assert_eq!(
        names,
        [
            (json!("lint"), json!(rerun["id"].as_u64().unwrap() + 1)),
            (json!("build"), rerun["id"].clone())
        ]
    );
    let by_branch = get(&gh, "/repos/acme/shop/commits/feature-7/check-runs").await;
    assert_eq!(by_branch.json()["total_count"], 2);
    // One suite, of GitHub Actions, still running (lint is queued).
    let suites = get(
        &gh,
        &format!("/repos/acme/shop/commits/{head}/check-suites"),
    )
    .await
    .json();
    assert_eq!(suites["total_count"], 1);
    let suite = &suites["check_suites"][0];
    assert_eq!(
        (suite["status"].clone(), suite["conclusion"].clone()),
        (json!("queued"), Value::Null)
    );
    assert_eq!(suite["latest_check_runs_count"], 2);
    assert_eq!(suite["id"], rerun["check_suite"]["id"]);
    for (body, field) in [
        (json!({"head_sha": head}), "name"),
        (json!({"name": "x"}), "head_sha"),
        (
            json!({"name": "x", "head_sha": head, "conclusion": "great"}),
            "conclusion",
        ),
    ] {
        let refused = post(&gh, "/repos/acme/shop/check-runs", body).await;
        assert_eq!(
            (refused.status, refused.json()["errors"][0]["field"].clone()),
            (422, json!(field))
        );
    }
    let missing = patch(&gh, "/repos/acme/shop/check-runs/1", json!({})).await;
    assert_eq!(missing.status, 404);
}

#[tokio::test]
async fn commit_statuses_combine_by_latest_context() {
    let gh = started_with_pull().await;
    let head = gh.pull("acme", "shop", 7).unwrap().head_sha;
    let path = format!("/repos/acme/shop/commits/{head}/status");
    assert_eq!(get(&gh, &path).await.json()["state"], "pending", "none yet");
    let status = |state: &str, context: &str| json!({"state": state, "context": context, "target_url": "https://ci.example/1"});
    let set = post(
        &gh,
        &format!("/repos/acme/shop/statuses/{head}"),
        status("pending", "ci/jenkins"),
    )
    .await;
    assert_eq!(set.status, 201, "{}", set.text);
    assert_eq!(set.json()["creator"]["login"], "previewd-bot");
    post(
        &gh,
        &format!("/repos/acme/shop/statuses/{head}"),
        status("success", "ci/jenkins"),
    )
    .await;
    let combined = get(&gh, &path).await.json();
    assert_eq!(combined["state"], "success");
    assert_eq!(combined["total_count"], 1, "the latest of each context");
    gh.set_commit_status("acme", "shop", &head, "security", "error");
    assert_eq!(get(&gh, &path).await.json()["state"], "failure");
    let refused = post(
        &gh,
        &format!("/repos/acme/shop/statuses/{head}"),
        json!({"state": "fine"}),
    )
    .await;
    assert_eq!(refused.status, 422);
}

#[tokio::test]
async fn a_branch_requires_checks_through_its_protection_and_its_rules() {
    let gh = started_with_pull().await;
    let plain = get(&gh, "/repos/acme/shop/branches/main").await.json();
    assert_eq!(plain["protected"], false);
    assert_eq!(
        plain["protection"]["required_status_checks"]["contexts"],
        json!([])
    );
    assert_eq!(
        get(&gh, "/repos/acme/shop/rules/branches/main")
            .await
            .json(),
        json!([])
    );
    gh.require_checks(
        "acme",
        "shop",
        "release/1.0",
        Required {
            protection: vec![
                ("build".into(), Some(CI_APP_ID)),
                ("ci/jenkins".into(), None),
            ],
            rules: vec![("test".into(), None)],
        },
    );
    let protected = get(&gh, "/repos/acme/shop/branches/release%2F1.0").await;
    assert_eq!(protected.status, 200, "{}", protected.text);
    let checks = &protected.json()["protection"]["required_status_checks"];
    assert_eq!(checks["contexts"], json!(["build", "ci/jenkins"]));
    assert_eq!(checks["checks"][0]["app_id"], CI_APP_ID);
    let rules = get(&gh, "/repos/acme/shop/rules/branches/release%2F1.0")
        .await
        .json();
    assert_eq!(rules[0]["type"], "required_status_checks");
    assert_eq!(
        rules[0]["parameters"]["required_status_checks"],
        json!([{"context": "test"}])
    );
    assert_eq!(get(&gh, "/repos/acme/shop/branches/nope").await.status, 404);
}
