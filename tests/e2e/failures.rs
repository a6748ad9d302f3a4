//! Readiness bounds, refused templates and refused deliveries, on the real control plane.

use std::time::Duration;

use k8s_openapi::api::core::v1::{Namespace, Pod};
use kube::Api;
use kube::api::ListParams;
use previewd::model::crd::Phase;
use previewd_testkit::previewd::SECRET;
use previewd_testkit::scenario::Scenario;
use previewd_testkit::templates;
use previewd_testkit::webhooks::{Delivery, Signing, Upload};

const BOUND: Duration = Duration::from_secs(90);

/// A Deployment whose pods carry `pod_label` (a kwok readiness stage reacts to it).
fn deployment(pod_label: &str) -> (String, String) {
    templates::deployment(2, pod_label, "")
}

fn with_templates(
    templates: Vec<(String, String)>,
    ready_timeout_secs: u64,
) -> impl FnOnce(&mut previewd_testkit::previewd::Options) {
    move |o| {
        o.templates = Some(templates);
        o.ready_timeout_secs = ready_timeout_secs;
    }
}

#[tokio::test]
async fn ready_is_said_only_after_delayed_pods_are_ready() {
    let s = Scenario::start(
        "delay",
        with_templates(vec![deployment("previewd.test/ready-delay: \"6s\"")], 120),
    )
    .await;
    let sent_at = std::time::Instant::now();
    s.deliver(&s.payload("pr-opened", 21)).await;
    s.wait_phase(21, Phase::Deploying, None, BOUND).await;
    assert!(!s.sticky_comment(21).body.contains("Preview ready"));
    let ready = s.wait_phase(21, Phase::Ready, None, BOUND).await;
    assert!(
        sent_at.elapsed() >= Duration::from_secs(6),
        "Ready before the pods could be"
    );
    let ready_at = ready
        .status
        .and_then(|st| st.ready_at)
        .expect("status.readyAt of a Ready preview");
    let pods = Api::<Pod>::namespaced(s.kube.clone(), &s.preview_name(21))
        .list(&ListParams::default())
        .await
        .unwrap();
    assert_eq!(pods.items.len(), 2);
    for pod in pods {
        let name = pod.metadata.name.clone().unwrap_or_default();
        let condition = pod
            .status
            .and_then(|st| st.conditions)
            .unwrap_or_default()
            .into_iter()
            .find(|c| c.type_ == "Ready" && c.status == "True");
        let Some(condition) = condition else {
            panic!("pod {name} not ready while the preview says Ready");
        };
        let pod_ready = condition
            .last_transition_time
            .expect("the Ready condition's lastTransitionTime")
            .0
            .as_second();
        // The API server keeps seconds: compare at that precision.
        assert!(
            ready_at.timestamp() >= pod_ready,
            "readyAt {ready_at} is before pod {name} became Ready (unix second {pod_ready})"
        );
    }
    assert!(s.sticky_comment(21).body.contains("Preview ready"));
}

#[tokio::test]
async fn never_ready_pods_fail_after_the_bound_with_the_reason() {
    let s = Scenario::start(
        "never",
        with_templates(vec![deployment("previewd.test/never-ready: \"true\"")], 6),
    )
    .await;
    s.deliver(&s.payload("pr-opened", 22)).await;
    let failed = s.wait_phase(22, Phase::Failed, None, BOUND).await;
    let message = failed.status.unwrap().message.unwrap_or_default();
    assert!(
        message.contains("not ready after 6s") && message.contains("Deployment web"),
        "{message}"
    );
    let comment = s.sticky_comment(22);
    assert!(
        comment.body.contains("Preview failed") && comment.body.contains("not ready after 6s"),
        "{}",
        comment.body
    );
}

#[tokio::test]
async fn cluster_scoped_or_foreign_objects_are_refused_and_nothing_is_applied() {
    let config_map = (
        "a-config.yaml".to_owned(),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n".to_owned(),
    );
    let cluster_role = (
        "b-role.yaml".to_owned(),
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: previewd-test-evil\nrules: []\n".to_owned(),
    );
    let s = Scenario::start(
        "scoped",
        with_templates(vec![config_map.clone(), cluster_role], 60),
    )
    .await;
    s.deliver(&s.payload("pr-opened", 23)).await;
    let failed = s.wait_phase(23, Phase::Failed, None, BOUND).await;
    let message = failed.status.unwrap().message.unwrap_or_default();
    assert!(
        message.contains("b-role.yaml")
            && message.contains("ClusterRole")
            && message.contains("cluster-scoped"),
        "{message}"
    );
    assert!(s.sticky_comment(23).body.contains("cluster-scoped"));
    assert!(
        Api::<Namespace>::all(s.kube.clone())
            .get_opt(&s.preview_name(23))
            .await
            .unwrap()
            .is_none(),
        "nothing may be applied"
    );
    let roles = previewd_testkit::cluster::kubectl(&["get", "clusterrole", "previewd-test-evil"]);
    assert!(!roles.status.success());

    let foreign = (
        "c.yaml".to_owned(),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  namespace: kube-system\n"
            .to_owned(),
    );
    let s = Scenario::start("foreign", with_templates(vec![config_map, foreign], 60)).await;
    s.deliver(&s.payload("pr-opened", 24)).await;
    let failed = s.wait_phase(24, Phase::Failed, None, BOUND).await;
    assert!(
        failed
            .status
            .unwrap()
            .message
            .unwrap_or_default()
            .contains("\"kube-system\"")
    );
    assert!(
        Api::<Namespace>::all(s.kube.clone())
            .get_opt(&s.preview_name(24))
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn a_broken_template_names_file_and_line_in_status_and_comment() {
    let broken = (
        "broken.yaml".to_owned(),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{no_such_variable}}\n".to_owned(),
    );
    let s = Scenario::start("broken", with_templates(vec![broken], 60)).await;
    s.deliver(&s.payload("pr-opened", 25)).await;
    let failed = s.wait_phase(25, Phase::Failed, None, BOUND).await;
    let message = failed.status.unwrap().message.unwrap_or_default();
    assert!(message.starts_with("broken.yaml:4:"), "{message}");
    assert!(s.sticky_comment(25).body.contains("broken.yaml:4:"));
}

#[tokio::test]
async fn refused_deliveries_record_nothing() {
    let s = Scenario::start("refused", |_| {}).await;
    let opened = s.payload("pr-opened", 26);
    let url = s.previewd.webhook_url();
    for signing in [Signing::Unsigned, Signing::WrongSecret, Signing::Sha1Only] {
        let sent = Delivery::new(&url, SECRET.as_bytes())
            .signing(signing)
            .send(&opened)
            .await;
        assert_eq!(sent.status, 401, "{signing:?}: {}", sent.body);
    }
    let deliver = Delivery::new(&url, SECRET.as_bytes());
    let oversized = Upload::at_once(26 * 1024 * 1024);
    assert_eq!(oversized.send(&s.previewd.url).await.status, 413);
    let malformed = deliver
        .send_raw("pull_request", b"{\"action\": \"opened\", \"number\": ", 1)
        .await;
    assert_eq!(malformed.status, 400, "{}", malformed.body);
    let unknown_action = deliver
        .send_raw("pull_request", br#"{"action": "some_future_action"}"#, 1)
        .await;
    assert_eq!(unknown_action.status, 202);
    let unknown_event = deliver
        .send_raw("sponsorship", br#"{"action": "created"}"#, 1)
        .await;
    assert_eq!(unknown_event.status, 202);
    assert_eq!(
        deliver
            .send_raw("ping", br#"{"zen": "Keep it logically awesome."}"#, 1)
            .await
            .status,
        200
    );
    let other_repo = previewd_testkit::webhooks::variant("pr-opened").repo("someone", "else");
    let sent = deliver.send(&other_repo).await;
    assert_eq!(sent.status, 202);
    assert!(sent.body.contains("not served"));
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(
        s.preview(26).await.is_none(),
        "a refused delivery recorded a preview"
    );
    assert!(s.github.writes().is_empty());
}
