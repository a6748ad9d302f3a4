//! `/readyz` means "ready to take webhooks": the API server answers, serves the
//! PreviewEnvironment CRD, and lets previewd list PreviewEnvironments. previewd runs here as the
//! chart's container does (`tests/testkit/src/container.rs`), built by cargo for this test run.
//!
//! The CRD is shared by every test on the local cluster, so it is never deleted: the case without
//! it runs against a second, empty kube-apiserver on the same etcd under its own key prefix
//! (`tests/testkit/src/apiserver.rs`). Each case ends by supplying what was missing and watching
//! the same process become ready, so the 503 is known to come from that cause alone.
//!
//! Run: `eval "$(scripts/cluster.sh env)" && cargo test --test e2e readiness::`

use std::path::Path;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::PostParams;
use kube::{Api, CustomResourceExt};
use previewd::model::crd::PreviewEnvironment;
use previewd_testkit::apiserver::EmptyApiServer;
use previewd_testkit::cluster::{TestNamespace, unique_name};
use previewd_testkit::container::{Container, Running, chart_values};
use previewd_testkit::dockerfile;
use previewd_testkit::github::GitHub;
use previewd_testkit::helm::{objects, template};
use previewd_testkit::kubeconfig::{admin, service_account_token, with_token};
use previewd_testkit::previewd::ensure_crd;
use previewd_testkit::rbac::ChartRbac;

/// Starts previewd as `container` runs, talking to the API server and as the identity of
/// `kubeconfig`.
async fn start(container: &Container, kubeconfig: &serde_json::Value) -> Running {
    let image = dockerfile::image(&dockerfile::read()).expect("the final stage");
    let binary = Path::new(env!("CARGO_BIN_EXE_previewd"));
    container.start(binary, &image, kubeconfig).await
}

/// The chart rendered with GitHub at `github` and the `extra` values.
fn render(
    release: &str,
    namespace: &str,
    github: &GitHub,
    extra: &[&str],
) -> Vec<serde_json::Value> {
    let values = chart_values(&github.url(), GitHub::TOKEN);
    let all: Vec<&str> = std::iter::once(values.as_str())
        .chain(extra.iter().copied())
        .collect();
    objects(&template(release, namespace, &all))
}

/// Waits for a 503 from the readiness probe saying `why`; liveness stays 200 meanwhile.
async fn not_ready_because(running: &Running, container: &Container, why: &str) {
    let body = running
        .wait_answer(&container.readiness, |status, _| status == 503)
        .await;
    assert!(body.contains(why), "readyz said {body:?}, not {why:?}");
    let live = running.get(&container.liveness).await.expect("healthz");
    assert_eq!(live, (200, "ok".to_owned()), "alive all the same");
}

#[tokio::test]
async fn not_ready_while_the_api_server_does_not_serve_the_crd() {
    let github = GitHub::start().await;
    let apiserver = EmptyApiServer::start().await;
    let rendered = render("readiness", "previewd-system", &github, &[]);
    let container = Container::from_chart(&rendered, "previewd-system");
    let running = start(&container, &apiserver.kubeconfig()).await;
    let why = "the PreviewEnvironment CRD (previewenvironments.previewd.dev) is not installed";
    not_ready_because(&running, &container, why).await;

    let crds: Api<CustomResourceDefinition> = Api::all(apiserver.client().await);
    crds.create(&PostParams::default(), &PreviewEnvironment::crd())
        .await
        .expect("install the CRD into the empty API server");
    let ready = running
        .wait_answer(&container.readiness, |status, _| status == 200)
        .await;
    assert_eq!(ready, "ok");
}

#[tokio::test]
async fn not_ready_while_rbac_forbids_listing_previews() {
    ensure_crd().await;
    let github = GitHub::start().await;
    let ns = TestNamespace::new("readiness").await;
    let release = unique_name("readiness");
    let without = render(&release, &ns.name, &github, &["rbac.create=false"]);
    let container = Container::from_chart(&without, &ns.name);
    let _service_account = ChartRbac::apply(&without, &ns.name);
    let token = service_account_token(&ns.name, &container.service_account);
    let running = start(&container, &with_token(admin(), &token)).await;
    let why = "the Kubernetes API server refuses to list PreviewEnvironments (403)";
    not_ready_because(&running, &container, why).await;

    let with = render(&release, &ns.name, &github, &[]);
    let _rbac = ChartRbac::apply(&with, &ns.name);
    let ready = running
        .wait_answer(&container.readiness, |status, _| status == 200)
        .await;
    assert_eq!(ready, "ok");
}
