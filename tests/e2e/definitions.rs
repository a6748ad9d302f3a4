//! Previews defined in the application's repository (setting `definedInRepository`): the
//! `.preview/` directory of the pull request's base branch, read with the git trees and blobs
//! API, never the head's; a push to the base renders running previews again; a definition
//! holding a symbolic link fails the preview, naming the file.

use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::Api;
use previewd::model::crd::Phase;
use previewd_testkit::cluster::wait_for;
use previewd_testkit::github::GitFile;
use previewd_testkit::scenario::Scenario;
use previewd_testkit::templates::ROLE;

const READY: Duration = Duration::from_secs(90);
/// The base branch of the `pr-opened` payload.
const BASE: &str = "master";
/// Its head branch.
const HEAD_BRANCH: &str = "changes";

async fn defining(prefix: &str) -> Scenario {
    Scenario::start(prefix, |o| {
        o.repository_settings = serde_json::json!({"definedInRepository": true});
    })
    .await
}

/// A definition whose ConfigMap names the queue `queue`, with `extra` files.
fn definition(queue: &str, extra: Vec<GitFile>) -> Vec<GitFile> {
    let api = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api}\nspec:\n  replicas: 1\n  selector: {matchLabels: {app: api}}\n  template:\n    metadata: {labels: {app: api}}\n    spec:\n      automountServiceAccountToken: false\n      containers:\n        - name: api\n          image: \"{{values.image}}:{{sha}}\"\n          securityContext: {allowPrivilegeEscalation: false, runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}, capabilities: {drop: [ALL]}}\n          resources: {requests: {cpu: 10m, memory: 16Mi}, limits: {memory: 64Mi}}\n";
    let settings = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: api-settings}\ndata:\n  QUEUE_NAME: \"{{values.queue}}-pr-{{number}}\"\n";
    let mut files = vec![
        GitFile::new("README.md", "the application"),
        GitFile::new(
            ".preview/preview.yaml",
            &format!("source: handlebars\nvalues: {{queue: {queue}, image: registry.test/api}}\n"),
        ),
        GitFile::new(".preview/templates/api.yaml", api),
        GitFile::new(".preview/templates/settings.yaml", settings),
    ];
    files.extend(extra);
    files
}

async fn queue_name(s: &Scenario, number: u64) -> Option<String> {
    Api::<ConfigMap>::namespaced(s.kube.clone(), &s.preview_name(number))
        .get_opt("api-settings")
        .await
        .expect("read the ConfigMap")
        .and_then(|c| c.data)
        .and_then(|d| d.get("QUEUE_NAME").cloned())
}

#[tokio::test]
async fn the_preview_is_what_the_base_branch_defines_not_the_head() {
    let s = defining("defined").await;
    s.github
        .set_branch_files(&s.owner, &s.repo, BASE, definition("previews", vec![]));
    s.github.set_branch_files(
        &s.owner,
        &s.repo,
        HEAD_BRANCH,
        definition("from-the-head", vec![]),
    );
    s.deliver(&s.payload("pr-opened", 1)).await;
    s.wait_phase(1, Phase::Ready, None, READY).await;
    assert_eq!(queue_name(&s, 1).await.as_deref(), Some("previews-pr-1"));
    let deployments = Api::<Deployment>::namespaced(s.kube.clone(), &s.preview_name(1));
    assert!(deployments.get_opt("api").await.unwrap().is_some());
    assert!(
        deployments.get_opt("web").await.unwrap().is_none(),
        "previewd's own templates are not used"
    );
    let asked: Vec<String> = s
        .github
        .requests()
        .into_iter()
        .map(|r| r.path)
        .filter(|p| p.contains("/branches/") || p.contains("/git/"))
        .collect();
    assert!(
        asked.iter().all(|p| !p.contains(HEAD_BRANCH)),
        "the head was read: {asked:#?}"
    );
    assert!(
        asked.iter().any(|p| p.contains("/git/blobs/")),
        "{asked:#?}"
    );
}

#[tokio::test]
async fn a_push_to_the_base_renders_running_previews_again() {
    let s = defining("defined-push").await;
    s.github
        .set_branch_files(&s.owner, &s.repo, BASE, definition("previews", vec![]));
    s.deliver(&s.payload("pr-opened", 2)).await;
    s.wait_phase(2, Phase::Ready, None, READY).await;
    let sent = s.push_files(BASE, definition("renamed", vec![])).await;
    assert!(sent.body.contains("woken"), "{}", sent.body);
    let deadline = tokio::time::Instant::now() + READY;
    while queue_name(&s, 2).await.as_deref() != Some("renamed-pr-2") {
        assert!(
            tokio::time::Instant::now() < deadline,
            "not rendered again:\n{}",
            s.previewd.logs()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // A push to another branch wakes nothing.
    let other = s.push_files("elsewhere", vec![]).await;
    assert!(other.body.contains("ignored"), "{}", other.body);
}

#[tokio::test]
async fn a_symbolic_link_in_the_definition_fails_the_preview_naming_it() {
    let s = defining("defined-link").await;
    let link = GitFile::link(
        ".preview/templates/token.yaml",
        "/var/run/secrets/kubernetes.io/serviceaccount/token",
    );
    s.github
        .set_branch_files(&s.owner, &s.repo, BASE, definition("previews", vec![link]));
    s.deliver(&s.payload("pr-opened", 3)).await;
    let failed = s.wait_phase(3, Phase::Failed, None, READY).await;
    let message = failed.status.unwrap().message.unwrap_or_default();
    assert_eq!(
        message,
        ".preview/templates/token.yaml: a symbolic link is refused"
    );
    s.wait_comment(3, "a symbolic link is refused").await;
    assert!(s.namespace(3).await.is_none(), "nothing was applied");
}

#[tokio::test]
async fn a_kind_the_operator_does_not_allow_fails_naming_the_definition_s_file() {
    let s = defining("defined-kind").await;
    let role = GitFile::new(".preview/templates/role.yaml", ROLE);
    s.github
        .set_branch_files(&s.owner, &s.repo, BASE, definition("previews", vec![role]));
    s.deliver(&s.payload("pr-opened", 4)).await;
    let failed = s.wait_phase(4, Phase::Failed, None, READY).await;
    let message = failed.status.unwrap().message.unwrap_or_default();
    assert!(
        message.starts_with(".preview/templates/role.yaml") && message.contains("templateKinds"),
        "{message}"
    );
    assert!(s.namespace(4).await.is_none(), "nothing was applied");
}

#[tokio::test]
async fn without_a_push_delivery_the_resync_sees_the_base_move() {
    let s = Scenario::start("defined-resync", |o| {
        o.repository_settings = serde_json::json!({"definedInRepository": true});
        o.resync_secs = 1;
    })
    .await;
    let role = GitFile::new(".preview/templates/role.yaml", ROLE);
    s.github
        .set_branch_files(&s.owner, &s.repo, BASE, definition("previews", vec![role]));
    let opened = s.payload("pr-opened", 5);
    // What GitHub lists for the resync: the pull request as the delivery has it.
    let head = opened.str("/pull_request/head/sha").unwrap().to_owned();
    s.github.update_pull(&s.owner, &s.repo, 5, |p| {
        p.base_branch = BASE.to_owned();
        p.head_sha = head;
    });
    s.deliver(&opened).await;
    s.wait_phase(5, Phase::Failed, None, READY).await;
    // A few rounds: whatever the resync records from GitHub's list has been recorded.
    tokio::time::sleep(Duration::from_secs(3)).await;
    s.wait_phase(5, Phase::Failed, None, READY).await;
    // Fixed on the base branch, and no `push` delivery: the resync notices the branch moved.
    s.github
        .set_branch_files(&s.owner, &s.repo, BASE, definition("previews", vec![]));
    s.wait_phase(5, Phase::Ready, None, READY).await;
    assert_eq!(queue_name(&s, 5).await.as_deref(), Some("previews-pr-5"));
    s.github
        .set_branch_files(&s.owner, &s.repo, BASE, definition("renamed", vec![]));
    let renamed = || async { queue_name(&s, 5).await.as_deref() == Some("renamed-pr-5") };
    wait_for("the resync to render the moved base", READY, renamed).await;
    // An unmoved base costs a 304 per round and writes nothing.
    let woken = |s: &Scenario| {
        s.github
            .requests()
            .into_iter()
            .filter(|r| r.path.ends_with(&format!("/branches/{BASE}")) && r.status == Some(200))
            .count()
    };
    let before = woken(&s);
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(woken(&s), before, "the branch was read anew while unmoved");
}

#[tokio::test]
async fn the_definition_names_the_workloads_that_decide_readiness() {
    let s = defining("defined-readiness").await;
    // A worker whose pod never becomes ready (kwok's previewd.test/never-ready stage).
    let worker = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: worker}\nspec:\n  replicas: 1\n  selector: {matchLabels: {app: worker}}\n  template:\n    metadata: {labels: {app: worker, previewd.test/never-ready: \"true\"}}\n    spec:\n      automountServiceAccountToken: false\n      containers:\n        - name: worker\n          image: registry.test/worker\n          securityContext: {allowPrivilegeEscalation: false, runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}, capabilities: {drop: [ALL]}}\n          resources: {requests: {cpu: 10m, memory: 16Mi}, limits: {memory: 64Mi}}\n";
    let with_readiness = |readiness: &str| {
        let mut files = definition(
            "previews",
            vec![GitFile::new(".preview/templates/worker.yaml", worker)],
        );
        files[1] = GitFile::new(
            ".preview/preview.yaml",
            &format!(
                "source: handlebars\nvalues: {{queue: previews, image: registry.test/api}}\nreadiness: {readiness}\n"
            ),
        );
        files
    };
    s.github
        .set_branch_files(&s.owner, &s.repo, BASE, with_readiness("[Deployment/api]"));
    s.deliver(&s.payload("pr-opened", 6)).await;
    s.wait_phase(6, Phase::Ready, None, READY).await;
    let worker = Api::<Deployment>::namespaced(s.kube.clone(), &s.preview_name(6))
        .get("worker")
        .await
        .unwrap();
    let annotations = worker.metadata.annotations.unwrap_or_default();
    assert_eq!(
        annotations
            .get("previewd.dev/readiness")
            .map(String::as_str),
        Some("ignored")
    );
    // A name that renders no workload is refused, naming the setting.
    s.push_files(BASE, with_readiness("[Deployment/ap]")).await;
    let message = s
        .wait_message(6, READY, |m| {
            m.starts_with(".preview/preview.yaml: readiness:")
        })
        .await;
    assert!(message.contains("\"Deployment/ap\""), "{message}");
}
