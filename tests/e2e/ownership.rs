//! What previewd owns and what it never touches, on the real control plane: a namespace of the
//! preview's name that is not its own, deletion through the finalizer, pruning, fork PRs, someone
//! else's comment quoting the marker, and a reopen while the old namespace is still terminating.

use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::api::{DeleteParams, Patch, PatchParams, PostParams};
use kube::{Api, ResourceExt};
use previewd::model::crd::{Desired, Phase, PreviewEnvironment};
use previewd_testkit::github::{GitHub, User};
use previewd_testkit::scenario::Scenario;

const BOUND: Duration = Duration::from_secs(60);
const OLD_SHA: &str = "ec26c3e57ca3a959ca5aad62de7213c562f8c821";
const NEW_SHA: &str = "d6fde92930d4715a2b49857d24b940956b26d2d3";
/// A finalizer nothing in the cluster acts on: it holds an object (and its namespace) until the
/// test lifts it.
const HOLD: &str = "previewd.test/hold";

/// Deletes a namespace the test made itself (and lifts the hold on its ConfigMaps) when dropped,
/// so a failing test leaves the shared cluster clean too.
struct OwnNamespace {
    name: String,
}

impl Drop for OwnNamespace {
    fn drop(&mut self) {
        let lift = r#"{"metadata":{"finalizers":null}}"#;
        let names = previewd_testkit::cluster::kubectl(&[
            "get",
            "configmaps",
            "-n",
            &self.name,
            "-o",
            "name",
        ]);
        for cm in String::from_utf8_lossy(&names.stdout).lines() {
            let _ = previewd_testkit::cluster::kubectl(&[
                "patch",
                "-n",
                &self.name,
                cm,
                "--type=merge",
                "-p",
                lift,
            ]);
        }
        let _ = previewd_testkit::cluster::kubectl(&[
            "delete",
            "namespace",
            &self.name,
            "--wait=false",
            "--ignore-not-found",
        ]);
    }
}

fn config_map(name: &str, finalizers: Option<Vec<String>>) -> ConfigMap {
    let mut cm: ConfigMap = serde_json::from_value(serde_json::json!({
        "metadata": { "name": name },
        "data": { "owner": "the test, not previewd" },
    }))
    .expect("a ConfigMap");
    cm.metadata.finalizers = finalizers;
    cm
}

/// Label and annotation keys previewd puts on what it owns.
fn previewd_keys(ns: &Namespace) -> Vec<String> {
    ns.labels()
        .keys()
        .chain(ns.annotations().keys())
        .filter(|k| k.starts_with("previewd.dev/") || k.as_str() == "app.kubernetes.io/managed-by")
        .cloned()
        .collect()
}

#[tokio::test]
async fn an_unowned_namespace_with_the_preview_name_is_never_touched() {
    let s = Scenario::start("unowned", |_| {}).await;
    let name = s.preview_name(31);
    let namespaces = Api::<Namespace>::all(s.kube.clone());
    let mine: Namespace =
        serde_json::from_value(serde_json::json!({"metadata": {"name": name}})).unwrap();
    let created = namespaces
        .create(&PostParams::default(), &mine)
        .await
        .expect("create the look-alike namespace");
    let _guard = OwnNamespace { name: name.clone() };
    let uid = created.uid().unwrap();
    let config_maps = Api::<ConfigMap>::namespaced(s.kube.clone(), &name);
    config_maps
        .create(&PostParams::default(), &config_map("precious", None))
        .await
        .expect("create the ConfigMap");

    s.deliver(&s.payload("pr-opened", 31)).await;
    let failed = s.wait_phase(31, Phase::Failed, None, BOUND).await;
    let message = failed.status.unwrap().message.unwrap_or_default();
    assert!(message.contains("does not belong"), "{message}");
    assert!(
        s.sticky_comment(31).body.contains("does not belong"),
        "the PR comment says why"
    );
    let ns = namespaces
        .get(&name)
        .await
        .expect("the namespace is still there");
    assert_eq!(ns.uid().as_deref(), Some(uid.as_str()));
    assert!(ns.metadata.deletion_timestamp.is_none());
    assert_eq!(previewd_keys(&ns), Vec::<String>::new(), "{ns:#?}");
    assert!(config_maps.get_opt("precious").await.unwrap().is_some());
    for kind in ["deployments", "services", "ingresses"] {
        let listed =
            previewd_testkit::cluster::kubectl_ok(&["get", kind, "-n", &name, "-o", "name"]);
        assert!(listed.trim().is_empty(), "{kind} applied into it: {listed}");
    }

    s.deliver(&s.payload("pr-closed-unmerged", 31)).await;
    let destroyed = s.wait_phase(31, Phase::Destroyed, None, BOUND).await;
    assert!(matches!(destroyed.spec.desired, Desired::Destroyed(_)));
    // Give a wrong deletion time to happen, then look again.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let ns = namespaces
        .get(&name)
        .await
        .expect("the namespace is still there");
    assert_eq!(ns.uid().as_deref(), Some(uid.as_str()));
    assert!(
        ns.metadata.deletion_timestamp.is_none(),
        "previewd deleted a namespace it does not own"
    );
    assert_eq!(previewd_keys(&ns), Vec::<String>::new(), "{ns:#?}");
    let precious = config_maps.get_opt("precious").await.unwrap();
    assert!(
        precious.is_some_and(|cm| cm.metadata.deletion_timestamp.is_none()),
        "the ConfigMap is gone or going"
    );
}

#[tokio::test]
async fn deleting_the_preview_environment_tears_down_through_the_finalizer() {
    let s = Scenario::start("delete-pe", |_| {}).await;
    s.deliver(&s.payload("pr-opened", 32)).await;
    s.wait_phase(32, Phase::Ready, Some(OLD_SHA), BOUND).await;
    assert!(s.namespace(32).await.is_some());

    Api::<PreviewEnvironment>::all(s.kube.clone())
        .delete(&s.preview_name(32), &DeleteParams::default())
        .await
        .expect("delete the PreviewEnvironment");
    // The finalizer holds the PreviewEnvironment until its namespace is confirmed gone.
    previewd_testkit::cluster::wait_for("the namespace to be gone", BOUND, || async {
        let pe = s.preview(32).await;
        let ns = s.namespace(32).await;
        assert!(
            pe.is_some() || ns.is_none(),
            "the PreviewEnvironment went before its namespace:\n{}",
            s.previewd.logs()
        );
        ns.is_none()
    })
    .await;
    s.wait_preview_gone(32, BOUND).await;
    let comment = s.sticky_comment(32);
    assert!(
        comment.body.contains("Preview destroyed") && comment.body.contains("deleted"),
        "{}",
        comment.body
    );
}

/// The repository's shipped templates, read from disk.
fn default_templates() -> Vec<(String, String)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
    let mut files: Vec<(String, String)> = std::fs::read_dir(&dir)
        .expect("list templates/")
        .filter_map(|e| {
            let path = e.ok()?.path();
            let name = path.file_name()?.to_str()?.to_owned();
            name.ends_with(".yaml")
                .then(|| (name, std::fs::read_to_string(&path).expect("read template")))
        })
        .collect();
    files.sort();
    assert_eq!(files.len(), 3, "templates/: {files:?}");
    files
}

#[tokio::test]
async fn objects_no_longer_rendered_are_pruned() {
    let extra = (
        "extra.yaml".to_owned(),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\ndata:\n  sha: \"{{sha}}\"\n"
            .to_owned(),
    );
    let mut with_extra = default_templates();
    with_extra.push(extra);
    let mut s = Scenario::start("prune", |o| o.templates = Some(with_extra)).await;
    s.deliver(&s.payload("pr-opened", 33)).await;
    s.wait_phase(33, Phase::Ready, Some(OLD_SHA), BOUND).await;
    let config_maps = Api::<ConfigMap>::namespaced(s.kube.clone(), &s.preview_name(33));
    let cm = config_maps
        .get("extra")
        .await
        .expect("the extra ConfigMap is applied");
    assert_eq!(cm.labels()["app.kubernetes.io/managed-by"], "previewd");

    s.previewd.replace_templates(default_templates()).await;
    s.deliver(&s.payload("pr-synchronize-new-sha", 33)).await;
    s.wait_phase(33, Phase::Ready, Some(NEW_SHA), BOUND).await;
    let left = config_maps.get_opt("extra").await.unwrap();
    assert!(
        left.is_none(),
        "a ConfigMap no longer rendered was not pruned: {left:#?}\n{}",
        s.previewd.logs()
    );
    let deployment: Deployment = s.deployment(33).await;
    assert!(deployment.metadata.deletion_timestamp.is_none());
}

#[tokio::test]
async fn fork_pull_requests_do_not_deploy_by_themselves() {
    let s = Scenario::start("fork", |_| {}).await;
    let fork = s.payload("pr-opened-fork", 34);
    assert_eq!(
        fork.get("/pull_request/head/repo/fork"),
        Some(&serde_json::Value::Bool(true))
    );
    let sent = s.send(&fork).await;
    assert_eq!(sent.status, 202, "{}", sent.body);
    let pending = s.wait_phase(34, Phase::Pending, None, BOUND).await;
    assert!(pending.spec.pull.fork && pending.spec.approved_sha.is_none());
    s.wait_comment(34, "comes from a fork").await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(s.namespace(34).await.is_none(), "a fork PR got a namespace");
    let writes = s.github_write_lines(0);
    assert_eq!(
        writes.len(),
        1,
        "one comment explaining the approval: {writes:#?}"
    );
}

#[tokio::test]
async fn someone_elses_comment_quoting_the_marker_is_not_taken_over() {
    let s = Scenario::start("quoted", |_| {}).await;
    let opened = s.payload("pr-opened", 35);
    s.github.add_user(User::new("mallory"));
    let quoted = format!(
        "{}\nI copied previewd's comment to show you what it said.",
        previewd::github::comment::marker(s.previewd.instance())
    );
    let seeded = s
        .github
        .seed_comment(&s.owner, &s.repo, 35, "mallory", &quoted);

    s.deliver(&opened).await;
    s.wait_phase(35, Phase::Ready, Some(OLD_SHA), BOUND).await;
    let own = s.sticky_comment(35);
    assert_ne!(own.id, seeded);
    assert_eq!(own.author, GitHub::LOGIN);
    assert!(own.body.contains("Preview ready"), "{}", own.body);
    let theirs = s.github.comment(seeded).expect("the seeded comment exists");
    assert_eq!(theirs.body, quoted);
    assert_eq!(theirs.author, "mallory");
    let touched: Vec<_> = s
        .github
        .writes()
        .into_iter()
        .filter(|r| r.path.ends_with(&format!("/comments/{seeded}")))
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert!(
        touched.is_empty(),
        "wrote to mallory's comment: {touched:?}"
    );
    assert_eq!(
        s.preview(35).await.unwrap().status.unwrap().comment_id,
        Some(own.id)
    );
}

#[tokio::test]
async fn close_and_reopen_while_the_namespace_is_terminating_waits_then_recreates() {
    let s = Scenario::start("held", |_| {}).await;
    s.deliver(&s.payload("pr-opened", 36)).await;
    s.wait_phase(36, Phase::Ready, Some(OLD_SHA), BOUND).await;
    let name = s.preview_name(36);
    let _guard = OwnNamespace { name: name.clone() };
    let first_uid = s.namespace(36).await.unwrap().uid().unwrap();
    let config_maps = Api::<ConfigMap>::namespaced(s.kube.clone(), &name);
    config_maps
        .create(
            &PostParams::default(),
            &config_map("hold", Some(vec![HOLD.to_owned()])),
        )
        .await
        .expect("create the held ConfigMap");

    s.deliver(&s.payload("pr-closed-unmerged", 36)).await;
    previewd_testkit::cluster::wait_for("the namespace to start terminating", BOUND, || async {
        s.namespace(36)
            .await
            .is_some_and(|ns| ns.metadata.deletion_timestamp.is_some())
    })
    .await;

    s.deliver(&s.payload("pr-reopened", 36)).await;
    let deadline = tokio::time::Instant::now() + BOUND;
    let waiting = loop {
        let pe = s.preview(36).await.unwrap();
        let status = pe.status.clone().unwrap_or_default();
        let current = pe.spec.desired == Desired::Deployed
            && status.observed_generation.is_some()
            && status.observed_generation == pe.metadata.generation;
        let message = status.message.clone().unwrap_or_default();
        if current
            && (status.phase == Phase::Terminating
                || (status.phase == Phase::Pending && message.contains("terminating")))
        {
            break status;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the reopened preview never said it waits for the old namespace: {status:#?}\n{}",
            s.previewd.logs()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    // Still held: previewd waits and does not recreate anything in the terminating namespace.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let ns = s.namespace(36).await.expect("held namespace");
    assert_eq!(ns.uid().as_deref(), Some(first_uid.as_str()));
    assert!(ns.metadata.deletion_timestamp.is_some());
    let still = s.preview(36).await.unwrap().status.unwrap();
    assert!(
        matches!(still.phase, Phase::Pending | Phase::Terminating),
        "while the old namespace is held: {still:#?} (first seen {waiting:#?})"
    );

    let lift = serde_json::json!({"metadata": {"finalizers": null}});
    config_maps
        .patch("hold", &PatchParams::default(), &Patch::Merge(&lift))
        .await
        .expect("lift the hold");
    let ready = s.wait_phase(36, Phase::Ready, Some(OLD_SHA), BOUND).await;
    let ns = s.namespace(36).await.expect("a new namespace");
    assert_ne!(
        ns.uid().as_deref(),
        Some(first_uid.as_str()),
        "Ready in the old namespace"
    );
    assert!(ns.metadata.deletion_timestamp.is_none());
    assert_eq!(
        ns.annotations()["previewd.dev/owner-uid"],
        ready.metadata.uid.unwrap()
    );
    s.deployment(36).await;
    let comment = s.sticky_comment(36);
    assert!(comment.body.contains("Preview ready"), "{}", comment.body);
}
