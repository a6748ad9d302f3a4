//! Least privilege, enforced by the API server: the chart's ValidatingAdmissionPolicy holds
//! previewd's ServiceAccount to its lane (namespaces labelled as its instance's, the objects in
//! them, its PreviewEnvironments, its own namespace) where RBAC alone would let it delete any
//! namespace; RBAC refuses the rest; without the policy the same token deletes a namespace it
//! does not own; and previewd running with that token drives a pull request from opened to
//! torn down without one refusal.
//!
//! Run: `eval "$(scripts/cluster.sh env)" && cargo test --test e2e least_privilege::`

use std::fmt::Debug;
use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Secret};
use k8s_openapi::api::events::v1::Event;
use k8s_openapi::api::rbac::v1::ClusterRole;
use k8s_openapi::api::scheduling::v1::PriorityClass;
use kube::api::{DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::{Api, Client, ResourceExt};
use previewd::leader::lease_name;
use previewd::model::crd::Phase;
use previewd::model::labels::{INSTANCE, MANAGED_BY, MANAGER};
use previewd_testkit::cluster::{
    TestNamespace, delete_namespace_and_wait, kubectl, unique_name, wait_for,
};
use previewd_testkit::helm::{CREDENTIALS, Release};
use previewd_testkit::metrics::scrape;
use previewd_testkit::previewd::ensure_crd;
use previewd_testkit::scenario::Scenario;
use previewd_testkit::service_account::ServiceAccountToken;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

const READY: Duration = Duration::from_secs(90);
/// How long the API server may take to start or stop enforcing a new or removed policy.
const POLICY_SYNC: Duration = Duration::from_secs(30);

/// The chart installed into a throwaway namespace, and a token of its ServiceAccount.
struct Installed {
    namespace: TestNamespace,
    release: Release,
    token: ServiceAccountToken,
}

impl Installed {
    /// Installs the chart with `extra` helm arguments. The CRD comes from `previewd crd`
    /// (`crds.install=false`), so no test release takes over the CRD all tests share.
    async fn new(prefix: &str, extra: &[&str]) -> Self {
        ensure_crd().await;
        let namespace = TestNamespace::new(prefix).await;
        let release = Release::new(prefix, &namespace.name);
        release.run_ok(
            "install",
            extra,
            &[CREDENTIALS, "crds.install=false", "replicas=1"],
        );
        let account = format!("{}-previewd", release.name);
        let token = ServiceAccountToken::create(&namespace.name, &account);
        Installed {
            namespace,
            release,
            token,
        }
    }

    /// The ValidatingAdmissionPolicy's name (and its binding's).
    fn policy(&self) -> String {
        format!(
            "{}-previewd-admission.{}",
            self.release.name, self.namespace.name
        )
    }

    /// The instance label value: the release name, the chart's default.
    fn instance(&self) -> &str {
        &self.release.name
    }

    /// The labels that put an object in this installation's lane.
    fn lane(&self) -> Value {
        json!({ MANAGED_BY: MANAGER, INSTANCE: self.instance() })
    }

    /// Uninstalls the chart, then deletes its namespace.
    async fn remove(self) {
        let Installed {
            namespace,
            release,
            token,
        } = self;
        drop(token);
        release.uninstall();
        drop(release);
        namespace.delete().await;
    }
}

fn from_json<T: DeserializeOwned>(value: Value) -> T {
    serde_json::from_value(value).expect("a valid object")
}

fn dry_run_post() -> PostParams {
    PostParams {
        dry_run: true,
        ..PostParams::default()
    }
}

/// A namespace named `name` with `labels`.
fn namespace(name: &str, labels: Value) -> Namespace {
    from_json(json!({ "metadata": { "name": name, "labels": labels } }))
}

fn merge_labels(labels: Value) -> Patch<Value> {
    Patch::Merge(json!({ "metadata": { "labels": labels } }))
}

/// The message of a 403, or a panic saying what happened instead.
fn forbidden<T: Debug>(result: Result<T, kube::Error>, what: &str) -> String {
    match result {
        Err(kube::Error::Api(status)) if status.code == 403 => status.message.clone(),
        other => panic!("{what}: expected 403 Forbidden, got {other:?}"),
    }
}

/// Asserts the admission policy `policy` refused `what`, and that its message names it.
fn refused_by_policy<T: Debug>(result: Result<T, kube::Error>, policy: &str, what: &str) {
    let message = forbidden(result, what);
    let by = format!("ValidatingAdmissionPolicy '{policy}' with binding '{policy}' denied");
    assert!(
        message.contains(&by) && message.contains(&format!("{policy}: previewd may")),
        "{what}: not refused by {policy}: {message}"
    );
}

/// Asserts RBAC refused `what` to `user`.
fn refused_by_rbac<T: Debug>(result: Result<T, kube::Error>, user: &str, what: &str) {
    let message = forbidden(result, what);
    assert!(
        message.contains(&format!("User \"{user}\" cannot")),
        "{what}: not an RBAC refusal: {message}"
    );
}

/// Waits until the API server enforces `policy` on `as_previewd` (`in_force`) or no longer
/// does, judged by a dry-run creation of an unlabelled namespace: admission runs, nothing is
/// created.
async fn wait_policy(as_previewd: &Client, policy: &str, in_force: bool) {
    let namespaces = Api::<Namespace>::all(as_previewd.clone());
    let probe = namespace(&unique_name("lp-probe"), json!({}));
    let what = format!("policy {policy} in force: {in_force}");
    let started = std::time::Instant::now();
    wait_for(&what, POLICY_SYNC, || {
        let (namespaces, probe) = (namespaces.clone(), probe.clone());
        async move {
            match namespaces.create(&dry_run_post(), &probe).await {
                Ok(_) => !in_force,
                Err(kube::Error::Api(status)) if status.message.contains(policy) => in_force,
                Err(e) => panic!("dry-run creation of an unlabelled namespace: {e}"),
            }
        }
    })
    .await;
    println!("{what} after {:?}", started.elapsed());
}

/// Deletes a namespace (as the admin) when dropped, whether or not the test got to it.
struct Cleanup(String);

impl Drop for Cleanup {
    fn drop(&mut self) {
        let _ = kubectl(&[
            "delete",
            "namespace",
            &self.0,
            "--ignore-not-found",
            "--wait=false",
        ]);
    }
}

/// The chart's template kinds plus one cluster-scoped kind, as an operator might add by mistake.
const TEMPLATE_KINDS_WITH_A_CLUSTER_SCOPED_ONE: &str = r#"rbac.templateKinds=[
  {"apiGroup": "apps", "resources": ["deployments", "statefulsets"]},
  {"apiGroup": "batch", "resources": ["jobs"]},
  {"apiGroup": "", "resources": ["services", "configmaps"]},
  {"apiGroup": "networking.k8s.io", "resources": ["ingresses"]},
  {"apiGroup": "scheduling.k8s.io", "resources": ["priorityclasses"]}]"#;

/// Waits for the policy to be in force, then has previewd's token try to delete a new unlabelled
/// namespace: refused by the policy. Returns the token's namespace API and that namespace.
async fn deletion_refused(
    installed: &Installed,
    as_previewd: &kube::Client,
) -> (Api<Namespace>, TestNamespace) {
    let policy = installed.policy();
    wait_policy(as_previewd, &policy, true).await;
    let namespaces = Api::<Namespace>::all(as_previewd.clone());
    let victim = TestNamespace::new("lp-victim").await;
    refused_by_policy(
        namespaces
            .delete(&victim.name, &DeleteParams::default())
            .await,
        &policy,
        "deleting an unlabelled namespace",
    );
    (namespaces, victim)
}

#[tokio::test]
async fn the_service_account_is_held_to_its_lane() {
    let installed = Installed::new(
        "lp-lane",
        &["--set-json", TEMPLATE_KINDS_WITH_A_CLUSTER_SCOPED_ONE],
    )
    .await;
    let policy = installed.policy();
    let user = installed.token.username();
    let as_previewd = installed.token.client().await;
    // RBAC lets previewd delete and patch every namespace; the policy refuses what is not its.
    let (namespaces, victim) = deletion_refused(&installed, &as_previewd).await;
    refused_by_policy(
        namespaces
            .patch(
                &victim.name,
                &PatchParams::default(),
                &merge_labels(installed.lane()),
            )
            .await,
        &policy,
        "labelling someone else's namespace into the lane",
    );
    let kept = Api::<Namespace>::all(victim.client.clone())
        .get(&victim.name)
        .await
        .expect("the victim namespace");
    assert!(kept.metadata.deletion_timestamp.is_none(), "{kept:?}");
    assert!(!kept.labels().contains_key(MANAGED_BY), "{kept:?}");
    // `default` is shared by every test: asked only with a dry run, which admission still judges.
    let dry_run_patch = PatchParams {
        dry_run: true,
        ..PatchParams::default()
    };
    refused_by_policy(
        namespaces
            .patch("default", &dry_run_patch, &merge_labels(installed.lane()))
            .await,
        &policy,
        "labelling default into the lane",
    );
    let other_instance = json!({ MANAGED_BY: MANAGER, INSTANCE: "someone-else" });
    refused_by_policy(
        namespaces
            .create(
                &dry_run_post(),
                &namespace(&unique_name("lp-other"), other_instance),
            )
            .await,
        &policy,
        "creating a namespace of another instance",
    );

    // The template kinds are granted in every namespace; the policy keeps them in the lane.
    let config_map: ConfigMap = from_json(json!({ "metadata": { "name": "lp-probe" } }));
    refused_by_policy(
        Api::<ConfigMap>::namespaced(as_previewd.clone(), &victim.name)
            .create(&PostParams::default(), &config_map)
            .await,
        &policy,
        "a ConfigMap in an unlabelled namespace",
    );
    let deployment: Deployment = from_json(json!({
        "metadata": { "name": "lp-probe" },
        "spec": {
            "selector": { "matchLabels": { "app": "lp-probe" } },
            "template": {
                "metadata": { "labels": { "app": "lp-probe" } },
                "spec": { "containers": [{ "name": "a", "image": "registry.test/a:1" }] },
            },
        },
    }));
    refused_by_policy(
        Api::<Deployment>::namespaced(as_previewd.clone(), "default")
            .create(&dry_run_post(), &deployment)
            .await,
        &policy,
        "a Deployment in default",
    );
    // A cluster-scoped kind RBAC grants (through rbac.templateKinds) is refused all the same.
    let priority_class: PriorityClass =
        from_json(json!({ "metadata": { "name": unique_name("lp-probe") }, "value": 1 }));
    refused_by_policy(
        Api::<PriorityClass>::all(as_previewd.clone())
            .create(&dry_run_post(), &priority_class)
            .await,
        &policy,
        "a PriorityClass",
    );

    // What RBAC never granted it.
    refused_by_rbac(
        Api::<Secret>::namespaced(as_previewd.clone(), "kube-system")
            .list(&ListParams::default())
            .await,
        &user,
        "reading Secrets in kube-system",
    );
    let cluster_role: ClusterRole = from_json(json!({
        "metadata": { "name": unique_name("lp-probe") },
        "rules": [{ "apiGroups": [""], "resources": ["secrets"], "verbs": ["get"] }],
    }));
    refused_by_rbac(
        Api::<ClusterRole>::all(as_previewd.clone())
            .create(&dry_run_post(), &cluster_role)
            .await,
        &user,
        "creating a ClusterRole",
    );

    // Its lane stays open: a namespace of its own, changed, written into, and deleted.
    let lane = unique_name("lp-own");
    let _cleanup = Cleanup(lane.clone());
    namespaces
        .create(&PostParams::default(), &namespace(&lane, installed.lane()))
        .await
        .expect("previewd creates a namespace in its lane");
    let annotate = Patch::Merge(json!({ "metadata": { "annotations": { "lp": "touched" } } }));
    namespaces
        .patch(&lane, &PatchParams::default(), &annotate)
        .await
        .expect("previewd changes its own namespace");
    refused_by_policy(
        namespaces
            .patch(
                &lane,
                &PatchParams::default(),
                &merge_labels(json!({ INSTANCE: null })),
            )
            .await,
        &policy,
        "labelling its own namespace out of the lane",
    );
    Api::<ConfigMap>::namespaced(as_previewd.clone(), &lane)
        .create(&PostParams::default(), &config_map)
        .await
        .expect("previewd writes an object into its namespace");
    let lease: Lease = from_json(json!({ "metadata": { "name": unique_name("lp-probe") } }));
    Api::<Lease>::namespaced(as_previewd.clone(), &installed.namespace.name)
        .create(&PostParams::default(), &lease)
        .await
        .expect("previewd writes a Lease into its own namespace");
    namespaces
        .delete(&lane, &DeleteParams::default())
        .await
        .expect("previewd deletes its own namespace");
    delete_namespace_and_wait(&victim.client, &lane, READY).await;

    victim.delete().await;
    installed.remove().await;
}

#[tokio::test]
async fn without_the_policy_the_same_token_deletes_a_namespace_it_does_not_own() {
    let installed = Installed::new("lp-off", &[]).await;
    let policy = installed.policy();
    let as_previewd = installed.token.client().await;
    let (namespaces, victim) = deletion_refused(&installed, &as_previewd).await;

    // The same release and token, the policy turned off: RBAC alone lets the deletion through.
    installed.release.run_ok(
        "upgrade",
        &[],
        &[
            CREDENTIALS,
            "crds.install=false",
            "replicas=1",
            "admissionPolicy.enabled=false",
        ],
    );
    for kind in [
        "validatingadmissionpolicy",
        "validatingadmissionpolicybinding",
    ] {
        let gone = kubectl(&["get", kind, &policy]);
        let said = String::from_utf8_lossy(&gone.stderr);
        assert!(
            said.contains("NotFound"),
            "{kind} {policy} is still there: {said}"
        );
    }
    wait_policy(&as_previewd, &policy, false).await;
    namespaces
        .delete(&victim.name, &DeleteParams::default())
        .await
        .expect("without the policy, RBAC lets previewd delete any namespace");
    let deleting = Api::<Namespace>::all(victim.client.clone())
        .get_opt(&victim.name)
        .await
        .expect("read the victim namespace");
    assert!(
        deleting.is_none_or(|ns| ns.metadata.deletion_timestamp.is_some()),
        "the namespace was not deleted"
    );

    victim.delete().await;
    installed.remove().await;
}

#[tokio::test]
async fn previewd_drives_a_whole_lifecycle_as_its_service_account() {
    let installed = Installed::new("lp-life", &[]).await;
    let policy = installed.policy();
    wait_policy(&installed.token.client().await, &policy, true).await;
    let s = Scenario::start("lp-life", |o| {
        o.instance = installed.instance().to_owned();
        o.kubeconfig = Some(installed.token.kubeconfig().to_owned());
    })
    .await;

    s.deliver(&s.payload("pr-opened", 21)).await;
    s.wait_phase(21, Phase::Ready, None, READY).await;
    let comment = s.wait_comment(21, "Preview ready").await;
    assert!(comment.contains(&s.preview_name(21)), "{comment}");
    s.deliver(&s.payload("pr-closed-unmerged", 21)).await;
    s.wait_namespace_gone(21, READY).await;
    s.wait_phase(21, Phase::Destroyed, None, READY).await;
    s.wait_comment(21, "Preview destroyed").await;

    // It ran as the ServiceAccount, in the release namespace the kubeconfig's context names:
    // its Lease is there, held.
    let lease = Api::<Lease>::namespaced(s.kube.clone(), &installed.namespace.name)
        .get(&lease_name(installed.instance()))
        .await
        .expect("previewd's Lease in its namespace");
    assert!(
        lease.spec.and_then(|l| l.holder_identity).is_some(),
        "the Lease names no holder"
    );

    // And nothing it asked of the API server was refused, by RBAC or by the policy.
    let logs = s.previewd.logs();
    for refusal in ["forbidden", "Forbidden", policy.as_str()] {
        assert!(
            !logs.contains(refusal),
            "previewd's log mentions {refusal:?}:\n{logs}"
        );
    }
    let metrics = scrape(&s.previewd.url).await;
    for kind in ["kubernetes", "lease", "finalizer", "event"] {
        assert_eq!(
            metrics.value("previewd_errors_total", &[("kind", kind)]),
            0.0,
            "{kind} errors:\n{logs}"
        );
    }
    // Its Events about the preview are in its own namespace, the one the policy lets it write.
    let events = Api::<Event>::namespaced(s.kube.clone(), &installed.namespace.name)
        .list(&Default::default())
        .await
        .expect("list Events");
    let preview = s.preview_name(21);
    let reasons: Vec<_> = events
        .items
        .iter()
        .filter(|e| e.regarding.as_ref().and_then(|r| r.name.as_deref()) == Some(&preview))
        .filter_map(|e| e.reason.as_deref())
        .collect();
    for phase in ["Ready", "Destroyed"] {
        assert!(reasons.contains(&phase), "no {phase} Event: {reasons:?}");
    }
    // The stand-in refused nothing either (the GitHub side of the same run).
    let github_refusals: Vec<_> = s
        .github
        .requests()
        .into_iter()
        .filter(|r| matches!(r.status, Some(401 | 403)))
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert!(github_refusals.is_empty(), "{github_refusals:?}");

    drop(s);
    installed.remove().await;
}
