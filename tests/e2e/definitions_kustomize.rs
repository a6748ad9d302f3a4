//! Previews defined by the application's own Kustomize overlay (`source: kustomize` in
//! `.preview/`): the base branch's overlay built by the pinned upstream `kustomize` inside the
//! kustomization previewd generates (namespace, images at the head commit, the `preview`
//! ConfigMap and replacements from it); what reaches out of the definition is refused; what
//! kustomize or the checks refuse names the definition's file.

use std::time::Duration;

use k8s_openapi::api::core::v1::ConfigMap;
use k8s_openapi::api::networking::v1::Ingress;
use kube::Api;
use previewd::model::crd::Phase;
use previewd_testkit::github::GitFile;
use previewd_testkit::scenario::{Opened, Scenario};
use previewd_testkit::templates::{ROLE, web_deployment};

const READY: Duration = Duration::from_secs(90);
/// The base branch of the `pr-opened` payload.
const BASE: &str = "master";

async fn kustomizing(prefix: &str) -> Scenario {
    Scenario::start(prefix, |o| {
        o.repository_settings = serde_json::json!({"definedInRepository": true});
    })
    .await
}

const PREVIEW_YAML: &str = r#"source: kustomize
overlay: overlay
images: [registry.test/web]
replacements:
  - source: {kind: ConfigMap, name: preview, fieldPath: data.host}
    targets:
      - select: {kind: Ingress, name: web}
        fieldPaths: [spec.rules.0.host]
"#;

fn deployment() -> String {
    web_deployment("web", "3", "registry.test/web:latest")
}

const INGRESS: &str = "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: web}\nspec:\n  rules:\n    - host: web.example.com\n      http:\n        paths:\n          - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}\n";

const OVERLAY: &str = "resources: [../base]\npatches:\n  - target: {kind: Deployment, name: web}\n    patch: |\n      - {op: replace, path: /spec/replicas, value: 1}\n";

/// A definition: `.preview/base` (with `base_kustomization` and `extra` files) under the
/// overlay `.preview/overlay`.
fn definition(base_kustomization: &str, extra: &[(&str, &str)]) -> Vec<GitFile> {
    let mut files = vec![
        GitFile::new(".preview/preview.yaml", PREVIEW_YAML),
        GitFile::new(".preview/overlay/kustomization.yaml", OVERLAY),
        GitFile::new(".preview/base/kustomization.yaml", base_kustomization),
        GitFile::new(".preview/base/web.yaml", &deployment()),
        GitFile::new(".preview/base/ingress.yaml", INGRESS),
    ];
    files.extend(
        extra
            .iter()
            .map(|(path, text)| GitFile::new(&format!(".preview/{path}"), text)),
    );
    files
}

const BASE_KUSTOMIZATION: &str = "resources: [web.yaml, ingress.yaml]\n";

async fn failed_message(s: &Scenario, number: u64) -> String {
    let failed = s.wait_phase(number, Phase::Failed, None, READY).await;
    failed.status.unwrap().message.unwrap_or_default()
}

#[tokio::test]
async fn the_base_branch_overlay_is_built_for_the_preview() {
    let s = kustomizing("kustomize").await;
    s.github
        .set_branch_files(&s.owner, &s.repo, BASE, definition(BASE_KUSTOMIZATION, &[]));
    let Opened {
        namespace,
        sha,
        url,
    } = s.open_ready(1, READY).await;
    let web = s.deployment(1).await;
    let annotations = web.metadata.annotations.clone().unwrap_or_default();
    assert!(
        !annotations.contains_key("config.kubernetes.io/origin"),
        "{annotations:?}"
    );
    let spec = web.spec.unwrap();
    assert_eq!(spec.replicas, Some(1), "the overlay's patch");
    let image = spec.template.spec.unwrap().containers[0].image.clone();
    assert_eq!(
        image.as_deref(),
        Some(format!("registry.test/web:{sha}").as_str())
    );
    let ingress = Api::<Ingress>::namespaced(s.kube.clone(), &namespace)
        .get("web")
        .await
        .unwrap();
    let host = ingress.spec.unwrap().rules.unwrap()[0].host.clone();
    assert_eq!(
        host.map(|h| format!("https://{h}")),
        Some(url),
        "the replacement from the preview ConfigMap"
    );
    let facts = Api::<ConfigMap>::namespaced(s.kube.clone(), &namespace)
        .get("preview")
        .await
        .unwrap()
        .data
        .unwrap();
    assert_eq!(facts["sha"], sha);
    assert_eq!(facts["number"], "1");
    assert!(
        !facts.values().any(|v| v.contains("Update the README")),
        "no free text from GitHub: {facts:?}"
    );
}

#[tokio::test]
async fn an_overlay_reaching_out_of_the_definition_fails_naming_the_file() {
    let s = kustomizing("kustomize-reach").await;
    // A generator reading previewd's configuration file: kustomize's load restrictor refuses it.
    let stolen = format!(
        "resources: [web.yaml, ingress.yaml]\nconfigMapGenerator:\n  - name: stolen\n    files: [config={}]\n",
        s.previewd.config_file().display()
    );
    s.github
        .set_branch_files(&s.owner, &s.repo, BASE, definition(&stolen, &[]));
    s.deliver(&s.payload("pr-opened", 1)).await;
    let message = failed_message(&s, 1).await;
    assert!(
        message.starts_with("kustomize build: ")
            && message.contains("security")
            && message.contains(".preview/base"),
        "{message}"
    );
    assert!(!message.contains("previewd-render-"), "{message}");
    assert!(s.namespace(1).await.is_none(), "nothing was applied");

    // A remote base is refused before kustomize runs.
    let remote = "resources: [web.yaml, \"github.com/octo-org/infra//base?ref=main\"]\n";
    s.push_files(BASE, definition(remote, &[])).await;
    let message = s
        .wait_message(1, READY, |m| {
            m.starts_with(".preview/base/kustomization.yaml: resources:")
        })
        .await;
    assert!(message.contains("only files and directories"), "{message}");

    // A file kustomize would fetch over HTTP, from loopback where no proxy stands in the way.
    let fetched = format!(
        "resources: [web.yaml]\nconfigMapGenerator:\n  - name: metrics\n    files: [\"m={}/metrics\"]\n",
        s.previewd.url
    );
    s.push_files(BASE, definition(&fetched, &[])).await;
    let message = s
        .wait_message(1, READY, |m| m.contains("URLs are refused"))
        .await;
    assert!(
        message.starts_with(".preview/base/kustomization.yaml: "),
        "{message}"
    );
}

#[tokio::test]
async fn a_kind_the_operator_refuses_names_the_overlay_s_file() {
    let s = kustomizing("kustomize-kind").await;
    s.github.set_branch_files(
        &s.owner,
        &s.repo,
        BASE,
        definition(
            "resources: [web.yaml, ingress.yaml, role.yaml]\n",
            &[("base/role.yaml", ROLE)],
        ),
    );
    s.deliver(&s.payload("pr-opened", 1)).await;
    let message = failed_message(&s, 1).await;
    assert!(
        message.starts_with(".preview/base/role.yaml") && message.contains("templateKinds"),
        "{message}"
    );
    assert!(s.namespace(1).await.is_none(), "nothing was applied");
}
