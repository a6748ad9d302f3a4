//! Drift: what someone changes by hand inside a preview is put back by the next reconcile, and a
//! preview whose namespace vanished is deployed again, with the same one PR comment.

use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::{Namespace, Service};
use kube::Api;
use previewd::model::crd::Phase;
use previewd_testkit::cluster::{kubectl_ok, wait_for};
use previewd_testkit::scenario::Scenario;

const READY: Duration = Duration::from_secs(90);
const SHA: &str = "ec26c3e57ca3a959ca5aad62de7213c562f8c821";

fn image(s: &k8s_openapi::api::apps::v1::Deployment) -> String {
    s.spec
        .as_ref()
        .and_then(|s| s.template.spec.as_ref())
        .and_then(|p| p.containers[0].image.clone())
        .unwrap_or_default()
}

/// Waits (`wait_for`) until `check` holds; returns how long that took.
async fn within<F, Fut>(what: &str, timeout: Duration, check: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let start = Instant::now();
    wait_for(what, timeout, check).await;
    start.elapsed()
}

#[tokio::test]
async fn hand_edits_are_undone_and_a_vanished_namespace_comes_back() {
    let s = Scenario::start("drift", |_| {}).await;
    s.deliver(&s.payload("pr-opened", 1)).await;
    s.wait_phase(1, Phase::Ready, Some(SHA), READY).await;
    let ns = s.preview_name(1);
    let comment = s.sticky_comment(1);

    // An image changed by hand (another field manager) is put back: two new generations, the
    // edit and previewd's answer to it.
    let generation = s
        .deployment(1)
        .await
        .metadata
        .generation
        .unwrap_or_default();
    kubectl_ok(&[
        "-n",
        &ns,
        "set",
        "image",
        "deployment/web",
        "web=registry.test/hand-edited:1",
    ]);
    let restored = within("the image put back", READY, || async {
        let deployment = s.deployment(1).await;
        deployment.metadata.generation.unwrap_or_default() >= generation + 2
            && image(&deployment) == format!("registry.test/app:{SHA}")
    })
    .await;

    // A Service deleted by hand is created again at the next reconcile (Services are not
    // watched): one is woken here by a hand edit of the watched Deployment's annotations.
    kubectl_ok(&["-n", &ns, "delete", "service", "web", "--wait=false"]);
    kubectl_ok(&[
        "-n",
        &ns,
        "annotate",
        "deployment/web",
        "drift.test/woken=1",
        "--overwrite",
    ]);
    let services = Api::<Service>::namespaced(s.kube.clone(), &ns);
    let recreated = within("the Service created again", READY, || async {
        services
            .get_opt("web")
            .await
            .ok()
            .flatten()
            .is_some_and(|svc| svc.metadata.deletion_timestamp.is_none())
    })
    .await;

    // The whole namespace deleted by hand: the preview is deployed again once it is gone.
    let namespaces = Api::<Namespace>::all(s.kube.clone());
    let old_uid = namespaces.get(&ns).await.unwrap().metadata.uid;
    kubectl_ok(&["delete", "namespace", &ns, "--wait=false"]);
    let back = within("the namespace back", READY, || async {
        namespaces
            .get_opt(&ns)
            .await
            .ok()
            .flatten()
            .is_some_and(|n| n.metadata.uid != old_uid && n.metadata.deletion_timestamp.is_none())
    })
    .await;
    s.wait_phase(1, Phase::Ready, Some(SHA), READY).await;
    within("the Deployment back", READY, || async {
        Api::<k8s_openapi::api::apps::v1::Deployment>::namespaced(s.kube.clone(), &ns)
            .get_opt("web")
            .await
            .ok()
            .flatten()
            .is_some()
    })
    .await;
    println!(
        "image restored in {:.1} s, Service recreated in {:.1} s, namespace back in {:.1} s",
        restored.as_secs_f64(),
        recreated.as_secs_f64(),
        back.as_secs_f64()
    );
    assert_eq!(s.sticky_comment(1).id, comment.id);
}
