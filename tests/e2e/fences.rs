//! Per-preview fences on the real control plane: the quota, limit range, network policy and Pod
//! Security label a preview namespace gets, a template over the quota or against the Pod
//! Security level, and a template producing a kind previewd does not allow.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::{Event, LimitRange, Namespace, Pod, ResourceQuota};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use k8s_openapi::api::rbac::v1::RoleBinding;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use kube::api::ListParams;
use kube::{Api, ResourceExt};
use previewd::config::FencesConfig;
use previewd::model::crd::Phase;
use previewd_testkit::chart_rbac::ChartIdentity;
use previewd_testkit::cluster::wait_for;
use previewd_testkit::scenario::Scenario;
use previewd_testkit::steering::status_message;
use previewd_testkit::templates;
use serde_json::json;

use crate::network_fence::Stored;

const BOUND: Duration = Duration::from_secs(90);

/// A one-replica Deployment `web` whose container carries `container_extra` and nothing else:
/// no resources unless given.
fn deployment(container_extra: &str) -> (String, String) {
    templates::deployment(1, "", container_extra)
}

fn quantities(pairs: &BTreeMap<String, String>) -> BTreeMap<String, Quantity> {
    pairs
        .iter()
        .map(|(k, v)| (k.clone(), Quantity(v.clone())))
        .collect()
}

fn quantity_map(pairs: &[(&str, &str)]) -> BTreeMap<String, Quantity> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), Quantity((*v).to_owned())))
        .collect()
}

#[tokio::test]
async fn a_preview_namespace_is_fenced_and_the_fences_follow_the_configuration() {
    // previewd runs with exactly the chart's RBAC: it must be enough to fence, to wait for the
    // quota and to prune a fence turned off.
    let identity = ChartIdentity::new(&[]).await;
    let mut s = Scenario::start("fenced", |o| {
        o.templates = Some(vec![deployment("")]);
        o.kubeconfig = Some(identity.kubeconfig.clone());
        o.read_binding = Some(identity.read_binding.clone());
    })
    .await;
    s.deliver(&s.payload("pr-opened", 41)).await;
    s.wait_phase(41, Phase::Ready, None, BOUND).await;
    let ns = s.preview_name(41);
    let defaults = FencesConfig::default();

    let namespace = Api::<Namespace>::all(s.kube.clone())
        .get(&ns)
        .await
        .unwrap();
    assert_eq!(
        namespace.labels()["pod-security.kubernetes.io/enforce"],
        "baseline"
    );

    // The quota holds the defaults and has counted the pod, which got the LimitRange's
    // defaults since its template set no resources.
    let quotas = Api::<ResourceQuota>::namespaced(s.kube.clone(), &ns);
    let quota = quotas.get("previewd").await.unwrap();
    assert_eq!(quota.labels()["previewd.dev/preview"], ns);
    assert_eq!(
        quota.labels()["previewd.dev/instance"],
        s.previewd.instance()
    );
    let hard = quantities(&defaults.resource_quota.hard);
    assert_eq!(quota.spec.as_ref().unwrap().hard.as_ref(), Some(&hard));
    let used = quantity_map(&[
        ("pods", "1"),
        ("requests.cpu", "100m"),
        ("requests.memory", "128Mi"),
        ("limits.memory", "512Mi"),
    ]);
    let (quotas, hard_ref, used) = (&quotas, &hard, &used);
    wait_for("the quota to count the pod", BOUND, || async move {
        let status = quotas.get("previewd").await.unwrap().status.unwrap();
        status.hard.as_ref() == Some(hard_ref)
            && used
                .iter()
                .all(|(k, v)| status.used.as_ref().and_then(|u| u.get(k)) == Some(v))
    })
    .await;
    let pods = Api::<Pod>::namespaced(s.kube.clone(), &ns)
        .list(&ListParams::default())
        .await
        .unwrap();
    let resources = pods.items[0].spec.as_ref().unwrap().containers[0]
        .resources
        .clone()
        .unwrap();
    assert_eq!(
        resources.requests,
        Some(quantity_map(&[("cpu", "100m"), ("memory", "128Mi")]))
    );
    assert_eq!(resources.limits, Some(quantity_map(&[("memory", "512Mi")])));
    // The quota was counted before the workload was applied: no pod was ever refused.
    let events = Api::<Event>::namespaced(s.kube.clone(), &ns)
        .list(&ListParams::default())
        .await
        .unwrap();
    let refused: Vec<_> = events
        .iter()
        .filter(|e| e.reason.as_deref() == Some("FailedCreate"))
        .map(|e| e.message.clone().unwrap_or_default())
        .collect();
    assert!(refused.is_empty(), "pods were refused: {refused:#?}");

    let limit_range = Api::<LimitRange>::namespaced(s.kube.clone(), &ns)
        .get("previewd")
        .await
        .unwrap();
    assert_eq!(limit_range.labels()["previewd.dev/preview"], ns);
    let limits = &limit_range.spec.unwrap().limits;
    assert_eq!(limits.len(), 1);
    assert_eq!(limits[0].type_, "Container");
    assert_eq!(
        limits[0].default_request,
        Some(quantities(&defaults.limit_range.default_request))
    );
    assert_eq!(
        limits[0].default,
        Some(quantities(&defaults.limit_range.default))
    );

    let policy = Api::<NetworkPolicy>::namespaced(s.kube.clone(), &ns)
        .get("previewd")
        .await
        .unwrap();
    assert_eq!(policy.labels()["previewd.dev/preview"], ns);
    Stored::read(&s.kube, &ns).await.assert_default_fence();

    // Changed settings reach the running preview at the next start: a new quota, and what is
    // turned off goes away (the objects pruned, the label removed).
    s.previewd
        .reconfigure(json!({"fences": {
            "resourceQuota": {"hard": {"pods": 5, "requests.cpu": "3"}},
            "limitRange": {"enabled": false},
            "networkPolicy": {"enabled": false},
            "podSecurity": {"enabled": false},
        }}))
        .await;
    let new_hard = quantity_map(&[("pods", "5"), ("requests.cpu", "3")]);
    let (kube, ns_ref, new_hard) = (&s.kube, &ns, &new_hard);
    wait_for(
        "the fences to follow the configuration",
        BOUND,
        || async move {
            let quota = Api::<ResourceQuota>::namespaced(kube.clone(), ns_ref)
                .get("previewd")
                .await
                .unwrap();
            let namespace = Api::<Namespace>::all(kube.clone())
                .get(ns_ref)
                .await
                .unwrap();
            let limit_ranges = Api::<LimitRange>::namespaced(kube.clone(), ns_ref)
                .list(&ListParams::default())
                .await
                .unwrap();
            let policies = Api::<NetworkPolicy>::namespaced(kube.clone(), ns_ref)
                .list(&ListParams::default())
                .await
                .unwrap();
            quota.spec.and_then(|s| s.hard).as_ref() == Some(new_hard)
                && !namespace
                    .labels()
                    .contains_key("pod-security.kubernetes.io/enforce")
                && limit_ranges.items.is_empty()
                && policies.items.is_empty()
        },
    )
    .await;
    s.wait_phase(41, Phase::Ready, None, BOUND).await;
    let refused: Vec<_> = s
        .previewd
        .logs()
        .lines()
        .filter(|l| l.contains("Forbidden"))
        .map(str::to_owned)
        .collect();
    assert!(
        refused.is_empty(),
        "the chart's RBAC refused previewd: {refused:#?}"
    );
}

#[tokio::test]
async fn a_template_over_the_quota_fails_at_once_with_the_api_servers_reason() {
    let over = "          resources:\n            requests: {cpu: \"3\"}\n";
    let s = Scenario::start("overquota", |o| {
        o.templates = Some(vec![deployment(over)]);
        o.ready_timeout_secs = 120;
    })
    .await;
    let sent = Instant::now();
    s.deliver(&s.payload("pr-opened", 42)).await;
    let failed = s.wait_phase(42, Phase::Failed, None, BOUND).await;
    let took = sent.elapsed();
    let message = status_message(&failed);
    assert!(
        message.contains("Deployment web")
            && message.contains("exceeded quota: previewd")
            && message.contains("requests.cpu=3"),
        "{message}"
    );
    assert!(
        took < Duration::from_secs(30),
        "over the quota should fail as soon as the Deployment says so, not at the 120 s bound; took {took:?}"
    );
    let comment = s.wait_comment(42, "exceeded quota").await;
    assert!(comment.contains("Preview failed"), "{comment}");
    println!("over quota: opened → Failed in {took:?}: {message}");
}

#[tokio::test]
async fn a_pod_against_the_pod_security_level_fails_the_preview() {
    let privileged = "          securityContext: {privileged: true}\n";
    let s = Scenario::start("podsecurity", |o| {
        o.templates = Some(vec![deployment(privileged)]);
    })
    .await;
    s.deliver(&s.payload("pr-opened", 43)).await;
    let failed = s.wait_phase(43, Phase::Failed, None, BOUND).await;
    let message = status_message(&failed);
    assert!(
        message.contains("violates PodSecurity \"baseline:latest\"")
            && message.contains("privileged"),
        "{message}"
    );
    s.wait_comment(43, "violates PodSecurity").await;
}

#[tokio::test]
async fn a_kind_templates_may_not_produce_fails_the_preview_until_it_is_allowed() {
    let config_map = (
        "a-config.yaml".to_owned(),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n".to_owned(),
    );
    let binding = (
        "b-binding.yaml".to_owned(),
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata:\n  name: grant\n\
         roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}\n\
         subjects: [{kind: ServiceAccount, name: default}]\n"
            .to_owned(),
    );
    let mut s = Scenario::start("forbidden", |o| {
        o.templates = Some(vec![config_map, binding]);
    })
    .await;
    s.deliver(&s.payload("pr-opened", 44)).await;
    let failed = s.wait_phase(44, Phase::Failed, None, BOUND).await;
    let message = status_message(&failed);
    assert!(
        message.starts_with(
            "b-binding.yaml: RoleBinding grant: templates may not produce RoleBinding"
        ) && message.contains("templateKinds"),
        "{message}"
    );
    s.wait_comment(44, "b-binding.yaml: RoleBinding grant")
        .await;
    assert!(
        s.namespace(44).await.is_none(),
        "nothing may be applied, not even the namespace"
    );

    // An operator who wants it lists it: at its next start previewd deploys the same templates.
    let mut kinds = serde_json::to_value(previewd::config::TemplateKinds::default()).unwrap();
    kinds.as_array_mut().unwrap().push(json!(
        {"apiGroup": "rbac.authorization.k8s.io", "resources": ["rolebindings"]}
    ));
    s.previewd
        .reconfigure(json!({"templateKinds": kinds}))
        .await;
    s.wait_phase(44, Phase::Ready, None, BOUND).await;
    Api::<RoleBinding>::namespaced(s.kube.clone(), &s.preview_name(44))
        .get("grant")
        .await
        .expect("the allowed RoleBinding is applied");
}
