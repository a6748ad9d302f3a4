//! The resync catches what webhooks missed, on the real control plane with the stand-in as the
//! only source of truth: missing previews appear, closes GitHub confirms tear down, tombstones
//! hold, an empty, failing or HTML list deletes nothing, and orphan namespaces go while uncertain
//! ones stay.

use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Namespace;
use kube::Api;
use kube::api::{Patch, PatchParams};
use previewd::model::crd::{Desired, DestroyReason, Phase};
use previewd_testkit::cluster::TestNamespace;
use previewd_testkit::github::{Fault, Pull, Targeted};
use previewd_testkit::scenario::Scenario;

const READY: Duration = Duration::from_secs(90);
const GONE: Duration = Duration::from_secs(60);
const HEAD_A: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1";
const HEAD_B: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb2";

async fn resyncing(prefix: &str) -> Scenario {
    Scenario::start(prefix, |o| o.resync_secs = 2).await
}

fn list_path(s: &Scenario) -> String {
    format!("/repos/{}/pulls", s.full_name())
}

#[tokio::test]
async fn missed_opens_and_closes_converge_after_one_resync() {
    let s = resyncing("resync-missed").await;
    let started = Instant::now();
    s.github
        .set_pull(Pull::new(&s.owner, &s.repo, 101).head(HEAD_A, "feature/a"));
    s.github
        .set_pull(Pull::new(&s.owner, &s.repo, 102).head(HEAD_B, "feature/b"));
    s.wait_phase(101, Phase::Ready, Some(HEAD_A), READY).await;
    s.wait_phase(102, Phase::Ready, Some(HEAD_B), READY).await;
    println!("missed opens Ready after {:?}", started.elapsed());
    s.sticky_comment(101);

    // Merged and closed without a webhook: GitHub, asked, confirms it; the preview goes.
    let closing = Instant::now();
    s.github
        .update_pull(&s.owner, &s.repo, 101, |p| *p = p.clone().merged());
    let gone = s.wait_phase(101, Phase::Destroyed, None, GONE).await;
    assert_eq!(gone.spec.desired, Desired::Destroyed(DestroyReason::Merged));
    println!("missed merge Destroyed after {:?}", closing.elapsed());
    let confirmations = s
        .github
        .requests_to("GET", &format!("/repos/{}/pulls/101", s.full_name()));
    assert!(!confirmations.is_empty(), "closed without asking GitHub");
    s.wait_phase(102, Phase::Ready, Some(HEAD_B), Duration::from_secs(5))
        .await;
}

#[tokio::test]
async fn an_empty_failing_or_html_list_deletes_nothing() {
    let s = resyncing("resync-faults").await;
    s.github
        .set_pull(Pull::new(&s.owner, &s.repo, 103).head(HEAD_A, "feature/a"));
    s.wait_phase(103, Phase::Ready, Some(HEAD_A), READY).await;
    let list = list_path(&s);
    for fault in [Fault::EmptyList, Fault::Status(502), Fault::Html(500)] {
        s.github.inject(fault.times(2).on_exactly("GET", &list));
    }
    let deadline = Instant::now() + Duration::from_secs(40);
    while s.github.pending_faults() > 0 {
        assert!(Instant::now() < deadline, "the faults were not all met");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // One more round after the storm, on a healthy list.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let pe = s.preview(103).await.unwrap();
    assert_eq!(pe.spec.desired, Desired::Deployed);
    assert_eq!(pe.status.unwrap().phase, Phase::Ready);
    let ns = s.namespace(103).await.expect("namespace kept");
    assert!(ns.metadata.deletion_timestamp.is_none());
    // During the empty lists GitHub was asked about the PR itself and said open.
    let asked = s.github.requests_to("GET", &format!("{list}/103"));
    assert!(!asked.is_empty(), "an empty list was not double-checked");
}

#[tokio::test]
async fn an_unchanged_list_costs_no_rate_limit() {
    let s = resyncing("resync-etag").await;
    s.github
        .set_pull(Pull::new(&s.owner, &s.repo, 104).head(HEAD_A, "feature/a"));
    s.wait_phase(104, Phase::Ready, Some(HEAD_A), READY).await;
    tokio::time::sleep(Duration::from_secs(5)).await;
    let lists: Vec<_> = s
        .github
        .requests()
        .into_iter()
        .filter(|r| r.method == "GET" && r.path == list_path(&s))
        .collect();
    let conditional: Vec<_> = lists
        .iter()
        .filter(|r| r.header("if-none-match").is_some())
        .collect();
    assert!(lists.len() >= 3, "{lists:#?}");
    assert_eq!(
        conditional.len(),
        lists.len() - 1,
        "every list after the first is conditional"
    );
    assert!(
        conditional.iter().all(|r| r.status == Some(304)),
        "{conditional:#?}"
    );
}

#[tokio::test]
async fn the_resync_respects_a_maintainers_destroy() {
    let s = resyncing("resync-tombstone").await;
    s.github
        .set_pull(Pull::new(&s.owner, &s.repo, 105).head(HEAD_A, "feature/a"));
    s.wait_phase(105, Phase::Ready, Some(HEAD_A), READY).await;
    s.maintainer_says(105, "/preview destroy").await;
    s.wait_phase(105, Phase::Destroyed, None, GONE).await;
    // A push the webhooks missed: recorded by the resync, not deployed.
    s.github.update_pull(&s.owner, &s.repo, 105, |p| {
        *p = p.clone().head(HEAD_B, "feature/a")
    });
    s.wait_preview(105, "at the missed push", Duration::from_secs(20), |pe| {
        pe.spec.pull.head_sha == HEAD_B
    })
    .await;
    tokio::time::sleep(Duration::from_secs(5)).await;
    let pe = s.preview(105).await.unwrap();
    assert_eq!(
        pe.spec.desired,
        Desired::Destroyed(DestroyReason::Requested)
    );
    assert!(s.namespace(105).await.is_none());
}

/// Gives a test namespace previewd's ownership labels for `instance` and, if any, an owner uid.
async fn mark(ns: &TestNamespace, instance: &str, owner_uid: Option<&str>) {
    let mut patch = serde_json::json!({"metadata": {"labels": {
        "app.kubernetes.io/managed-by": "previewd",
        "previewd.dev/instance": instance,
    }}});
    if let Some(uid) = owner_uid {
        patch["metadata"]["annotations"] = serde_json::json!({"previewd.dev/owner-uid": uid});
    }
    Api::<Namespace>::all(ns.client.clone())
        .patch(&ns.name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .expect("label the namespace");
}

#[tokio::test]
async fn orphan_namespaces_go_and_uncertain_ones_stay() {
    let s = resyncing("resync-orphans").await;
    s.github
        .set_pull(Pull::new(&s.owner, &s.repo, 106).head(HEAD_A, "feature/a"));
    s.wait_phase(106, Phase::Ready, Some(HEAD_A), READY).await;
    let instance = s.previewd.instance().to_owned();

    let orphan = TestNamespace::new("orphan").await;
    mark(
        &orphan,
        &instance,
        Some("00000000-0000-0000-0000-000000000000"),
    )
    .await;
    let unowned = TestNamespace::new("no-owner").await;
    mark(&unowned, &instance, None).await;
    let foreign = TestNamespace::new("other-instance").await;
    mark(
        &foreign,
        "someone-else",
        Some("00000000-0000-0000-0000-000000000000"),
    )
    .await;

    let namespaces = Api::<Namespace>::all(s.kube.clone());
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let ns = namespaces.get_opt(&orphan.name).await.unwrap();
        if ns.is_none_or(|ns| ns.metadata.deletion_timestamp.is_some()) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the orphan namespace was not deleted"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Two more rounds: nothing else goes.
    tokio::time::sleep(Duration::from_secs(5)).await;
    for kept in [&unowned.name, &foreign.name, &s.preview_name(106)] {
        let ns = namespaces.get(kept).await.unwrap();
        assert!(
            ns.metadata.deletion_timestamp.is_none(),
            "{kept} was deleted"
        );
    }
    assert!(
        s.previewd.logs().contains("names no owner; left alone"),
        "the uncertain namespace was not reported"
    );
    s.wait_phase(106, Phase::Ready, Some(HEAD_A), Duration::from_secs(5))
        .await;
}
