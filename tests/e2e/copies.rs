//! Secrets and ConfigMaps copied into previews (`copySecrets`, `copyConfigMaps`): a copy holds
//! its source's data under its name, the `default` ServiceAccount pulls images with the pull
//! secret, a change at the source reaches the copy at once (a watch by name), the copies go
//! with the preview, a fork gets none, a repository's definition gets only the copies the
//! operator offers it, and the data never shows in a status, a log line or anything sent to
//! GitHub.

use std::time::Duration;

use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::Api;
use kube::api::PostParams;
use previewd::model::crd::Phase;
use previewd_testkit::cluster::{TestNamespace, wait_for};
use previewd_testkit::copies::{copied_token, create_source, pull_secrets, rotate_source};
use previewd_testkit::github::GitFile;
use previewd_testkit::scenario::Scenario;
use previewd_testkit::templates::web_deployment;

const READY: Duration = Duration::from_secs(90);
/// The base branch of the `pr-opened` payload.
const BASE: &str = "master";
/// What the source Secret holds first, and after it is rotated: never to be seen outside it.
const FIRST: &str = "first-secret-value-3f9a";
const ROTATED: &str = "rotated-secret-value-7c21";

/// A source namespace holding Secret `registry` and ConfigMap `settings`.
async fn sources() -> TestNamespace {
    let ns = TestNamespace::new("sources").await;
    create_source(&ns, "registry", FIRST).await;
    let config_map: ConfigMap = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "settings"},
        "data": {"LOG_LEVEL": "debug"},
    }))
    .unwrap();
    Api::<ConfigMap>::namespaced(ns.client.clone(), &ns.name)
        .create(&PostParams::default(), &config_map)
        .await
        .expect("create the source ConfigMap");
    ns
}

async fn copying(prefix: &str, sources: &TestNamespace) -> Scenario {
    let from = |name: &str| format!("{}/{name}", sources.name);
    let settings = serde_json::json!({
        "copySecrets": [{"from": from("registry"), "name": "pull", "imagePull": true}],
        "copyConfigMaps": [{"from": from("settings")}],
    });
    Scenario::start(prefix, |o| o.repository_settings = settings).await
}

async fn copied(s: &Scenario, number: u64) -> Option<String> {
    copied_token(&s.kube, &s.preview_name(number), "pull").await
}

/// Whether `value` shows anywhere but in the Secrets: the preview's status, previewd's log, or
/// a request previewd sent to GitHub.
async fn shown(s: &Scenario, number: u64, value: &str) -> bool {
    let status = serde_json::to_string(&s.preview(number).await.and_then(|pe| pe.status)).unwrap();
    let sent = s.github.requests().iter().any(|r| {
        r.body
            .as_ref()
            .is_some_and(|b| b.to_string().contains(value))
    });
    status.contains(value) || s.previewd.logs().contains(value) || sent
}

/// Rotates the source Secret `registry` and waits for preview `number`'s copy to follow.
async fn rotated_copy_follows(s: &Scenario, number: u64, sources: &TestNamespace) {
    rotate_source(sources, "registry", ROTATED).await;
    let copy_follows = || async { copied(s, number).await.as_deref() == Some(ROTATED) };
    wait_for(
        "the copy to follow its source",
        Duration::from_secs(30),
        copy_follows,
    )
    .await;
}

#[tokio::test]
async fn copies_follow_their_source_and_go_with_the_preview() {
    let sources = sources().await;
    let s = copying("copies", &sources).await;
    s.deliver(&s.payload("pr-opened", 1)).await;
    s.wait_phase(1, Phase::Ready, None, READY).await;
    let namespace = s.preview_name(1);
    assert_eq!(copied(&s, 1).await.as_deref(), Some(FIRST));
    let settings = Api::<ConfigMap>::namespaced(s.kube.clone(), &namespace)
        .get("settings")
        .await
        .expect("the ConfigMap copy, under its source's name");
    assert_eq!(settings.data.unwrap()["LOG_LEVEL"], "debug");
    let pulls = pull_secrets(&s.kube, &namespace).await;
    assert_eq!(pulls, ["pull"]);

    // Rotated at the source: the copy follows without any delivery.
    rotated_copy_follows(&s, 1, &sources).await;
    for value in [FIRST, ROTATED] {
        assert!(!shown(&s, 1, value).await, "{value} was shown");
    }

    s.deliver(&s.payload("pr-closed-unmerged", 1)).await;
    s.wait_namespace_gone(1, Duration::from_secs(120)).await;
    let source = Api::<Secret>::namespaced(sources.client.clone(), &sources.name)
        .get_opt("registry")
        .await
        .unwrap();
    assert!(source.is_some(), "the source stays");
}

#[tokio::test]
async fn a_fork_gets_no_copies_and_a_missing_source_is_named() {
    let sources = sources().await;
    let s = copying("copies-fork", &sources).await;
    let opened = s.payload("pr-opened-fork", 2);
    let head = opened.str("/pull_request/head/sha").unwrap();
    s.deliver(&opened).await;
    s.wait_phase(2, Phase::Pending, None, READY).await;
    s.maintainer_says(2, &format!("/preview deploy {head}"))
        .await;
    s.wait_phase(2, Phase::Ready, Some(&head), READY).await;
    assert_eq!(copied(&s, 2).await, None, "a fork got the Secret");
    let settings = Api::<ConfigMap>::namespaced(s.kube.clone(), &s.preview_name(2))
        .get_opt("settings")
        .await
        .unwrap();
    assert!(settings.is_none(), "a fork got the ConfigMap");

    // A source that does not exist fails a preview of the repository, naming it.
    Api::<Secret>::namespaced(sources.client.clone(), &sources.name)
        .delete("registry", &Default::default())
        .await
        .unwrap();
    s.deliver(&s.payload("pr-opened", 3)).await;
    let failed = s.wait_phase(3, Phase::Failed, None, READY).await;
    assert_eq!(
        failed.status.unwrap().message.unwrap_or_default(),
        format!(
            "copySecrets: the source {}/registry does not exist",
            sources.name
        )
    );
    // Created again: the preview that waited on it is woken and deploys.
    create_source(&sources, "registry", FIRST).await;
    s.wait_phase(3, Phase::Ready, None, READY).await;
    assert_eq!(copied(&s, 3).await.as_deref(), Some(FIRST));
}

/// A definition on the base branch: one Deployment, and the copies its `preview.yaml` asks for.
fn asking(copies: &str) -> Vec<GitFile> {
    vec![
        GitFile::new(
            ".preview/preview.yaml",
            &format!("source: handlebars\n{copies}"),
        ),
        GitFile::new(
            ".preview/templates/web.yaml",
            &web_deployment("web", "1", "registry.test/web"),
        ),
    ]
}

#[tokio::test]
async fn a_definition_asks_for_copies_the_operator_offers() {
    let sources = sources().await;
    let from = |name: &str| format!("{}/{name}", sources.name);
    let settings = serde_json::json!({
        "definedInRepository": true,
        "copyableSecrets": [from("registry")],
        "copyableConfigMaps": [from("settings")],
    });
    let s = Scenario::start("copies-defined", |o| o.repository_settings = settings).await;
    let asked = format!(
        "copySecrets: [{{from: {}, name: pull, imagePull: true}}]\ncopyConfigMaps: [{{from: {}}}]\n",
        from("registry"),
        from("settings")
    );
    s.github
        .set_branch_files(&s.owner, &s.repo, BASE, asking(&asked));
    s.deliver(&s.payload("pr-opened", 4)).await;
    s.wait_phase(4, Phase::Ready, None, READY).await;
    let namespace = s.preview_name(4);
    assert_eq!(copied(&s, 4).await.as_deref(), Some(FIRST));
    assert_eq!(pull_secrets(&s.kube, &namespace).await, ["pull"]);
    let config_maps = Api::<ConfigMap>::namespaced(s.kube.clone(), &namespace);
    assert!(config_maps.get_opt("settings").await.unwrap().is_some());

    // The operator's offer is watched like its own copies: a rotation reaches the copy.
    rotated_copy_follows(&s, 4, &sources).await;

    // A source the operator does not offer fails the preview, naming the definition's file.
    let unoffered = format!("copySecrets: [{{from: {}}}]\n", from("elsewhere"));
    s.push_files(BASE, asking(&unoffered)).await;
    let message = s
        .wait_message(4, READY, |m| m.starts_with(".preview/preview.yaml: "))
        .await;
    assert_eq!(
        message,
        format!(
            ".preview/preview.yaml: copySecrets: the source {} is not among those the operator offers definitions (copyableSecrets)",
            from("elsewhere")
        )
    );
    // No longer asked for: the copies go, the preview stays.
    s.push_files(BASE, asking("")).await;
    wait_for("the copies to go", READY, || async {
        copied(&s, 4).await.is_none() && config_maps.get_opt("settings").await.unwrap().is_none()
    })
    .await;
    s.wait_phase(4, Phase::Ready, None, READY).await;
    for value in [FIRST, ROTATED] {
        assert!(!shown(&s, 4, value).await, "{value} was shown");
    }
}
