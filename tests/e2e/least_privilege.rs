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
use k8s_openapi::api::rbac::v1::{ClusterRole, RoleBinding};
use k8s_openapi::api::scheduling::v1::PriorityClass;
use kube::api::{
    ApiResource, DeleteParams, DynamicObject, GroupVersionKind, ListParams, Patch, PatchParams,
    PostParams,
};
use kube::{Api, Client, ResourceExt};
use previewd::leader::lease_name;
use previewd::model::crd::Phase;
use previewd::model::labels::{INSTANCE, MANAGED_BY, MANAGER};
use previewd_testkit::cluster::{
    TestNamespace, delete_namespace_and_wait, kubectl, unique_name, wait_for,
};
use previewd_testkit::copies::{copied_token, create_source, pull_secrets, rotate_source};
use previewd_testkit::helm::{CREDENTIALS, Release};
use previewd_testkit::metrics::scrape;
use previewd_testkit::previewd::ensure_crd;
use previewd_testkit::scenario::Scenario;
use previewd_testkit::service_account::ServiceAccountToken;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

const READY: Duration = Duration::from_secs(90);
const POD_SECURITY: &str = "pod-security.kubernetes.io/enforce";
/// Preview hosts as the test previewd makes them, and the chart told to expect them.
const PREVIEW_HOSTS: [&str; 4] = [
    "--set-json",
    r#"previewHost="{{namespace}}.preview.test""#,
    "--set-json",
    r#"previewHostSuffix=".preview.test""#,
];
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

    /// `(ClusterRole, ServiceAccount)` previewd binds in each preview namespace.
    fn read_binding(&self) -> (String, String) {
        let fullname = format!("{}-previewd", self.release.name);
        (format!("{fullname}-preview"), fullname)
    }

    /// previewd's ServiceAccount as an RBAC subject.
    fn service_account_subject(&self) -> Value {
        json!({ "kind": "ServiceAccount", "name": self.read_binding().1,
                "namespace": self.namespace.name })
    }

    /// The lane's labels and Pod Security `level` enforced, as previewd's namespaces carry them.
    fn lane_enforcing(&self, level: &str) -> Value {
        let mut labels = self.lane();
        labels[POD_SECURITY] = json!(level);
        labels
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

/// Asserts the admission policy `policy` refused `what`, and that its message names it and
/// one of its rules; returns the message.
fn refused_by_policy<T: Debug>(result: Result<T, kube::Error>, policy: &str, what: &str) -> String {
    let message = forbidden(result, what);
    let by = format!("ValidatingAdmissionPolicy '{policy}' with binding '{policy}' denied");
    assert!(
        message.contains(&by) && message.contains(&format!("{policy} (rule ")),
        "{what}: not refused by {policy}: {message}"
    );
    message
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

    // What RBAC never granted it; and the template kinds' reads, which come only with the
    // RoleBinding it gives itself in each preview namespace.
    for (kind, plural, namespace) in [
        ("Secret", "secrets", Some("kube-system")),
        ("ConfigMap", "configmaps", Some("kube-system")),
        ("ConfigMap", "configmaps", None),
        ("Service", "services", None),
    ] {
        let api = dynamic_api(&as_previewd, ("", "v1", kind, plural), namespace);
        refused_by_rbac(
            api.list(&ListParams::default()).await,
            &user,
            &format!(
                "listing {plural} in {}",
                namespace.unwrap_or("every namespace")
            ),
        );
    }
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
        .create(
            &PostParams::default(),
            &namespace(&lane, installed.lane_enforcing("baseline")),
        )
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
    let lease: Lease =
        from_json(json!({ "metadata": { "name": lease_name(installed.instance()) } }));
    Api::<Lease>::namespaced(as_previewd.clone(), &installed.namespace.name)
        .create(&dry_run_post(), &lease)
        .await
        .expect("previewd writes its Lease into its own namespace");
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
    let installed = Installed::new("lp-life", &PREVIEW_HOSTS).await;
    let policy = installed.policy();
    wait_policy(&installed.token.client().await, &policy, true).await;
    let s = Scenario::start("lp-life", |o| {
        o.instance = installed.instance().to_owned();
        o.kubeconfig = Some(installed.token.kubeconfig().to_owned());
        o.admission_policy = true;
        o.read_binding = Some(installed.read_binding());
    })
    .await;

    s.deliver(&s.payload("pr-opened", 21)).await;
    s.wait_phase(21, Phase::Ready, None, READY).await;
    let comment = s.wait_comment(21, "Preview ready").await;
    assert!(comment.contains(&s.preview_name(21)), "{comment}");
    // A push: applied again and pruned, reading the namespace through its RoleBinding.
    let push = s.payload("pr-synchronize-new-sha", 21);
    let pushed = push.str("/pull_request/head/sha").expect("the pushed SHA");
    s.deliver(&push).await;
    s.wait_phase(21, Phase::Ready, Some(&pushed), READY).await;
    let binding = Api::<RoleBinding>::namespaced(s.kube.clone(), &s.preview_name(21))
        .get("previewd")
        .await
        .expect("previewd's RoleBinding in the preview namespace");
    assert_eq!(binding.role_ref.name, installed.read_binding().0);
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

/// The chart's template kinds, plus CronJobs and DaemonSets (whose pod templates the policy
/// checks too, though previewd refuses DaemonSets in templateKinds at startup).
const TEMPLATE_KINDS_WITH_MORE_POD_CARRIERS: &str = r#"rbac.templateKinds=[
  {"apiGroup": "apps", "resources": ["deployments", "statefulsets", "daemonsets"]},
  {"apiGroup": "batch", "resources": ["jobs", "cronjobs"]},
  {"apiGroup": "", "resources": ["services", "configmaps"]},
  {"apiGroup": "networking.k8s.io", "resources": ["ingresses"]}]"#;

/// A write previewd's token may try: a dry-run creation of `object` (in `namespace`, or
/// cluster-scoped), or a dry-run merge patch of the namespace `patch.0`.
struct Write {
    what: String,
    namespace: Option<String>,
    object: Value,
    patch: Option<(String, Value)>,
}

impl Write {
    fn create(what: &str, namespace: Option<&str>, object: Value) -> Self {
        Write {
            what: what.to_owned(),
            namespace: namespace.map(str::to_owned),
            object,
            patch: None,
        }
    }

    fn patch_namespace(what: &str, name: &str, patch: Value) -> Self {
        let object = json!({ "apiVersion": "v1", "kind": "Namespace" });
        Write {
            patch: Some((name.to_owned(), patch)),
            ..Write::create(what, None, object)
        }
    }

    /// Tries it with `client`; nothing is stored (dry run), admission judges all the same.
    async fn run(&self, client: &Client) -> Result<(), kube::Error> {
        let api_version = self.object["apiVersion"].as_str().expect("apiVersion");
        let kind = self.object["kind"].as_str().expect("kind");
        let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
        let lower = kind.to_ascii_lowercase();
        let plural = if lower.ends_with('s') {
            format!("{lower}es")
        } else {
            format!("{lower}s")
        };
        let api = dynamic_api(
            client,
            (group, version, kind, &plural),
            self.namespace.as_deref(),
        );
        match &self.patch {
            Some((name, patch)) => {
                let params = PatchParams {
                    dry_run: true,
                    ..PatchParams::default()
                };
                api.patch(name, &params, &Patch::Merge(patch)).await?;
            }
            None => {
                api.create(&dry_run_post(), &from_json(self.object.clone()))
                    .await?;
            }
        }
        Ok(())
    }
}

/// The API of `(group, version, kind, plural)` for `client`, in `namespace` or cluster-wide.
fn dynamic_api(
    client: &Client,
    (group, version, kind, plural): (&str, &str, &str, &str),
    namespace: Option<&str>,
) -> Api<DynamicObject> {
    let resource =
        ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(group, version, kind), plural);
    match namespace {
        Some(namespace) => Api::namespaced_with(client.clone(), namespace, &resource),
        None => Api::all_with(client.clone(), &resource),
    }
}

/// A workload of `kind` whose pod spec is `pod` (a busybox container `a`, merged with `pod`).
fn workload(kind: &str, pod: Value) -> Value {
    let mut spec = json!({ "containers": [{ "name": "a", "image": "registry.test/a:1" }] });
    merge(&mut spec, pod);
    let labels = json!({ "app": "probe" });
    let template = json!({ "metadata": { "labels": labels }, "spec": spec });
    let (api_version, spec) = match kind {
        "Job" => ("batch/v1", json!({ "template": template })),
        "CronJob" => (
            "batch/v1",
            json!({ "schedule": "0 0 * * *", "jobTemplate": { "spec": { "template": template } } }),
        ),
        "StatefulSet" => (
            "apps/v1",
            json!({ "serviceName": "probe", "selector": { "matchLabels": labels }, "template": template }),
        ),
        _ => (
            "apps/v1",
            json!({ "selector": { "matchLabels": labels }, "template": template }),
        ),
    };
    let restart = if matches!(kind, "Job" | "CronJob") {
        "Never"
    } else {
        "Always"
    };
    let mut object = json!({
        "apiVersion": api_version,
        "kind": kind,
        "metadata": { "name": unique_name("probe") },
        "spec": spec,
    });
    let pod_spec = match kind {
        "CronJob" => object.pointer_mut("/spec/jobTemplate/spec/template/spec"),
        _ => object.pointer_mut("/spec/template/spec"),
    };
    pod_spec.expect("a pod spec")["restartPolicy"] = json!(restart);
    object
}

/// Merges `patch` into `target`, objects key by key (JSON merge patch without deletions).
fn merge(target: &mut Value, patch: Value) {
    match (target, patch) {
        (Value::Object(target), Value::Object(patch)) => {
            for (key, value) in patch {
                merge(target.entry(key).or_insert(Value::Null), value);
            }
        }
        (target, patch) => *target = patch,
    }
}

/// A RoleBinding of the ClusterRole `role` to `subjects`.
fn role_binding(role: &str, subjects: Value) -> Value {
    json!({
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": { "name": unique_name("probe") },
        "roleRef": { "apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role },
        "subjects": subjects,
    })
}

/// A new namespace with `labels`, as a dry run creates it.
fn new_namespace(labels: Value) -> Value {
    json!({ "apiVersion": "v1", "kind": "Namespace",
            "metadata": { "name": unique_name("lp-probe"), "labels": labels } })
}

fn service(spec: Value) -> Value {
    let mut object = json!({
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": { "name": unique_name("probe") },
        "spec": { "ports": [{ "port": 80 }] },
    });
    merge(&mut object["spec"], spec);
    object
}

fn ingress(annotations: Value, spec: Value) -> Value {
    json!({
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": { "name": unique_name("probe"), "annotations": annotations },
        "spec": spec,
    })
}

/// An Ingress rule for `host` to the Service `web`.
fn rule(host: &str) -> Value {
    json!({ "host": host, "http": { "paths": [{ "path": "/", "pathType": "Prefix",
        "backend": { "service": { "name": "web", "port": { "number": 80 } } } }] } })
}

/// What previewd's token must not write in its lane, each with the rule that refuses it.
fn escapes(installed: &Installed, own: &str, release: &str) -> Vec<(&'static str, Write)> {
    let config_map = |annotations: Value| {
        json!({ "apiVersion": "v1", "kind": "ConfigMap",
                "metadata": { "name": unique_name("probe"), "annotations": annotations } })
    };
    let mut versioned = installed.lane_enforcing("baseline");
    versioned["pod-security.kubernetes.io/enforce-version"] = json!("v1.30");
    let host = format!("{own}.preview.test");
    let lane = Some(own);
    let in_release = Some(release);
    let privileged = json!({ "containers": [{ "name": "a", "image": "registry.test/a:1",
        "securityContext": { "privileged": true } }] });
    vec![
        (
            "own-namespace",
            Write::create(
                "a Deployment in the release namespace",
                in_release,
                workload("Deployment", json!({})),
            ),
        ),
        (
            "own-namespace",
            Write::create(
                "a ConfigMap in the release namespace",
                in_release,
                config_map(json!({})),
            ),
        ),
        (
            "own-namespace",
            Write::create(
                "another Lease in the release namespace",
                in_release,
                json!({ "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                    "metadata": { "name": unique_name("previewd") } }),
            ),
        ),
        (
            "pod-security",
            Write::create(
                "a lane namespace without Pod Security",
                None,
                new_namespace(installed.lane()),
            ),
        ),
        (
            "pod-security",
            Write::create(
                "a lane namespace enforcing privileged",
                None,
                new_namespace(installed.lane_enforcing("privileged")),
            ),
        ),
        (
            "pod-security",
            Write::create(
                "a lane namespace pinning enforce-version",
                None,
                new_namespace(versioned),
            ),
        ),
        (
            "pod-security",
            Write::patch_namespace(
                "lowering restricted to baseline",
                own,
                json!({ "metadata": { "labels": { POD_SECURITY: "baseline" } } }),
            ),
        ),
        (
            "pod-security",
            Write::patch_namespace(
                "removing the Pod Security label",
                own,
                json!({ "metadata": { "labels": { POD_SECURITY: null } } }),
            ),
        ),
        (
            "cluster-ip-services",
            Write::create(
                "a NodePort Service",
                lane,
                service(json!({ "type": "NodePort" })),
            ),
        ),
        (
            "cluster-ip-services",
            Write::create(
                "a LoadBalancer Service",
                lane,
                service(json!({ "type": "LoadBalancer" })),
            ),
        ),
        (
            "cluster-ip-services",
            Write::create(
                "an ExternalName Service",
                lane,
                service(
                    json!({ "type": "ExternalName", "externalName": "db.example.com", "ports": [] }),
                ),
            ),
        ),
        (
            "cluster-ip-services",
            Write::create(
                "a Service with externalIPs",
                lane,
                service(json!({ "externalIPs": ["203.0.113.7"] })),
            ),
        ),
        (
            "pod-privileged",
            Write::create(
                "a privileged Deployment",
                lane,
                workload("Deployment", privileged.clone()),
            ),
        ),
        (
            "pod-privileged",
            Write::create(
                "a privileged init container in a Job",
                lane,
                workload(
                    "Job",
                    json!({ "initContainers": [{ "name": "init", "image": "registry.test/a:1",
                "securityContext": { "privileged": true } }] }),
                ),
            ),
        ),
        (
            "pod-host-namespaces",
            Write::create(
                "a Deployment with hostPID",
                lane,
                workload("Deployment", json!({ "hostPID": true })),
            ),
        ),
        (
            "pod-host-namespaces",
            Write::create(
                "a DaemonSet on the host network",
                lane,
                workload("DaemonSet", json!({ "hostNetwork": true })),
            ),
        ),
        (
            "pod-host-namespaces",
            Write::create(
                "a StatefulSet with hostIPC",
                lane,
                workload("StatefulSet", json!({ "hostIPC": true })),
            ),
        ),
        (
            "pod-host-path",
            Write::create(
                "a StatefulSet mounting the host",
                lane,
                workload(
                    "StatefulSet",
                    json!({ "volumes": [{ "name": "root", "hostPath": { "path": "/" } }] }),
                ),
            ),
        ),
        (
            "pod-capabilities",
            Write::create(
                "a CronJob adding SYS_ADMIN",
                lane,
                workload(
                    "CronJob",
                    json!({ "containers": [{ "name": "a", "image": "registry.test/a:1",
                "securityContext": { "capabilities": { "add": ["NET_BIND_SERVICE", "SYS_ADMIN"] } } }] }),
                ),
            ),
        ),
        (
            "pod-host-ports",
            Write::create(
                "a Deployment on a host port",
                lane,
                workload(
                    "Deployment",
                    json!({ "containers": [{ "name": "a", "image": "registry.test/a:1",
                "ports": [{ "containerPort": 80, "hostPort": 80 }] }] }),
                ),
            ),
        ),
        (
            "ingress-host",
            Write::create(
                "an Ingress for a production host",
                lane,
                ingress(json!({}), json!({ "rules": [rule("www.example.com")] })),
            ),
        ),
        (
            "ingress-host",
            Write::create(
                "an Ingress for another preview's host",
                lane,
                ingress(
                    json!({}),
                    json!({ "rules": [rule("someone-else.preview.test")] }),
                ),
            ),
        ),
        (
            "ingress-host",
            Write::create(
                "an Ingress with a rule for every host",
                lane,
                ingress(
                    json!({}),
                    json!({ "rules": [rule(&host), { "http": rule(&host)["http"].clone() }] }),
                ),
            ),
        ),
        (
            "ingress-host",
            Write::create(
                "an Ingress with a default backend",
                lane,
                ingress(
                    json!({}),
                    json!({ "defaultBackend": { "service": { "name": "web", "port": { "number": 80 } } } }),
                ),
            ),
        ),
        (
            "ingress-host",
            Write::create(
                "an Ingress with a certificate for a production host",
                lane,
                ingress(
                    json!({}),
                    json!({ "rules": [rule(&host)],
                "tls": [{ "hosts": [host.clone(), "www.example.com"], "secretName": "tls" }] }),
                ),
            ),
        ),
        (
            "read-binding",
            Write::create(
                "its read role bound to every authenticated user",
                lane,
                role_binding(
                    &installed.read_binding().0,
                    json!([{ "apiGroup": "rbac.authorization.k8s.io",
                             "kind": "Group", "name": "system:authenticated" }]),
                ),
            ),
        ),
        (
            "read-binding",
            Write::create(
                "its read role bound to itself and a stranger",
                lane,
                role_binding(
                    &installed.read_binding().0,
                    json!([installed.service_account_subject(),
                           { "kind": "ServiceAccount", "name": "default", "namespace": "default" }]),
                ),
            ),
        ),
        (
            "snippet-annotations",
            Write::create(
                "an Ingress with a configuration snippet",
                lane,
                ingress(
                    json!({ "nginx.ingress.kubernetes.io/configuration-snippet": "return 200;" }),
                    json!({ "rules": [rule(&host)] }),
                ),
            ),
        ),
        (
            "snippet-annotations",
            Write::create(
                "a ConfigMap with a server snippet",
                lane,
                config_map(json!({ "nginx.ingress.kubernetes.io/server-snippet": "listen 81;" })),
            ),
        ),
    ]
}

/// What previewd's token may write in its lane (each a near neighbour of a refused write).
fn within(installed: &Installed, own: &str, release: &str) -> Vec<Write> {
    let host = format!("{own}.preview.test");
    let lane = Some(own);
    let mut latest = installed.lane_enforcing("baseline");
    latest["pod-security.kubernetes.io/enforce-version"] = json!("latest");
    vec![
        Write::create(
            "its Lease",
            Some(release),
            json!({ "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                    "metadata": { "name": lease_name(installed.instance()) } }),
        ),
        Write::create(
            "an Event in the release namespace",
            Some(release),
            json!({ "apiVersion": "events.k8s.io/v1", "kind": "Event",
                    "metadata": { "name": unique_name("probe") }, "eventTime": "2026-12-02T00:00:00.000000Z",
                    "reportingController": "previewd.dev/controller", "reportingInstance": "probe",
                    "action": "Probe",
                "regarding": { "apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "namespace": release, "name": lease_name(installed.instance()) }, "reason": "Probe", "type": "Normal" }),
        ),
        Write::create(
            "its read role bound to itself",
            lane,
            role_binding(
                &installed.read_binding().0,
                json!([installed.service_account_subject()]),
            ),
        ),
        Write::create(
            "a lane namespace enforcing baseline, version latest",
            None,
            new_namespace(latest),
        ),
        Write::patch_namespace(
            "its namespace annotated, still restricted",
            own,
            json!({ "metadata": { "annotations": { "lp": "touched" } } }),
        ),
        Write::create(
            "a ClusterIP Service",
            lane,
            service(json!({ "type": "ClusterIP" })),
        ),
        Write::create(
            "a Deployment adding NET_BIND_SERVICE",
            lane,
            workload(
                "Deployment",
                json!({ "containers": [{ "name": "a", "image": "registry.test/a:1",
                "ports": [{ "containerPort": 80 }],
                "securityContext": { "capabilities": { "add": ["NET_BIND_SERVICE"] } } }] }),
            ),
        ),
        Write::create("a CronJob", lane, workload("CronJob", json!({}))),
        Write::create(
            "an Ingress for its own host",
            lane,
            ingress(
                json!({ "nginx.ingress.kubernetes.io/proxy-body-size": "8m" }),
                json!({ "rules": [rule(&host)], "tls": [{ "hosts": [host.clone()], "secretName": "tls" }] }),
            ),
        ),
    ]
}

#[tokio::test]
async fn inside_its_lane_previewd_cannot_escape_and_audit_would_let_it() {
    let installed = Installed::new(
        "lp-esc",
        &[
            &PREVIEW_HOSTS[..],
            &["--set-json", TEMPLATE_KINDS_WITH_MORE_POD_CARRIERS],
        ]
        .concat(),
    )
    .await;
    let policy = installed.policy();
    let as_previewd = installed.token.client().await;
    wait_policy(&as_previewd, &policy, true).await;
    let own = unique_name("lp-esc-own");
    let _cleanup = Cleanup(own.clone());
    Api::<Namespace>::all(as_previewd.clone())
        .create(
            &PostParams::default(),
            &namespace(&own, installed.lane_enforcing("restricted")),
        )
        .await
        .expect("previewd creates its namespace enforcing restricted");
    let release = installed.namespace.name.clone();

    for write in within(&installed, &own, &release) {
        if let Err(e) = write.run(&as_previewd).await {
            panic!("{}: refused: {e}", write.what);
        }
    }
    let escapes = escapes(&installed, &own, &release);
    for (rule, write) in &escapes {
        let message = refused_by_policy(write.run(&as_previewd).await, &policy, &write.what);
        assert!(
            message.contains(&format!("{policy} (rule {rule}):")),
            "{}: not refused by rule {rule}: {message}",
            write.what
        );
    }

    // Binding a role it lacks the rights of, RBAC refuses before admission: it may bind its
    // read role only.
    let cluster_admin = Write::create(
        "cluster-admin bound to itself",
        Some(&own),
        role_binding(
            "cluster-admin",
            json!([installed.service_account_subject()]),
        ),
    );
    let message = forbidden(cluster_admin.run(&as_previewd).await, &cluster_admin.what);
    assert!(
        message.contains("attempting to grant RBAC permissions not currently held"),
        "{message}"
    );

    // The same writes with the binding switched to Audit: all go through, so each refusal
    // above is the policy's doing, and a policy that only audits fails this test.
    let binding = json!({ "spec": { "validationActions": ["Audit"] } }).to_string();
    let patched = kubectl(&[
        "patch",
        "validatingadmissionpolicybinding",
        &policy,
        "--type=merge",
        "-p",
        &binding,
    ]);
    assert!(patched.status.success(), "{patched:?}");
    wait_policy(&as_previewd, &policy, false).await;
    for (_, write) in &escapes {
        if let Err(e) = write.run(&as_previewd).await {
            panic!("{} under Audit: refused all the same: {e}", write.what);
        }
    }

    installed.remove().await;
}

#[tokio::test]
async fn the_dashboard_reads_what_it_shows_as_the_charts_service_account() {
    let mut extra: Vec<&str> = PREVIEW_HOSTS.to_vec();
    extra.extend(["--set", "dashboard.enabled=true"]);
    let installed = Installed::new("lp-dash", &extra).await;
    let address = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
        listener.local_addr().expect("its address").to_string()
    };
    let s = Scenario::start("lp-dash", |o| {
        o.instance = installed.instance().to_owned();
        o.kubeconfig = Some(installed.token.kubeconfig().to_owned());
        o.admission_policy = true;
        o.read_binding = Some(installed.read_binding());
        o.env
            .push(("PREVIEWD_DASHBOARD_LISTEN".into(), address.clone()));
    })
    .await;
    s.deliver(&s.payload("pr-opened", 22)).await;
    s.wait_phase(22, Phase::Ready, None, READY).await;

    // The page lists the preview's Events, which the chart's Role lets it read back.
    let page = format!("http://{address}/previews/{}", s.preview_name(22));
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let body = reqwest::get(&page)
            .await
            .expect("the dashboard answers")
            .text()
            .await
            .expect("a page");
        if body.contains("<td data-label=\"Reason\">Ready</td>") {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no Ready Event on the page:\n{body}\n{}",
            s.previewd.logs()
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let logs = s.previewd.logs();
    assert!(
        !logs.contains("Forbidden") && !logs.contains("forbidden"),
        "{logs}"
    );
    drop(s);
    installed.remove().await;
}

#[tokio::test]
async fn copies_are_read_and_watched_by_name_under_the_charts_grants() {
    let sources = TestNamespace::new("lp-sources").await;
    create_source(&sources, "registry", "lp-first-token").await;
    create_source(&sources, "not-granted", "lp-other-token").await;
    create_source(&sources, "offered", "lp-offered-token").await;
    let copies = json!([{
        "from": format!("{}/registry", sources.name),
        "name": "pull",
        "imagePull": true,
    }]);
    // The chart grants its ServiceAccount get, list and watch on exactly the sources its
    // configuration names: copied, or offered to the repository's definition.
    let offered = format!("{}/offered", sources.name);
    let repositories = format!(
        r#"config.repositories=[{{"name":"octo-org/web","copySecrets":{copies},"definedInRepository":true,"copyableSecrets":["{offered}"]}}]"#
    );
    let mut extra = PREVIEW_HOSTS.to_vec();
    extra.extend(["--set-json", repositories.as_str()]);
    let installed = Installed::new("lp-copies", &extra).await;
    let as_previewd = installed.token.client().await;
    wait_policy(&as_previewd, &installed.policy(), true).await;
    let user = installed.token.username();
    let secrets = Api::<Secret>::namespaced(as_previewd.clone(), &sources.name);
    wait_for(
        "a Secret offered to the definition to be granted",
        READY,
        || async { secrets.get("offered").await.is_ok() },
    )
    .await;
    refused_by_rbac(
        secrets.get("not-granted").await,
        &user,
        "a Secret the configuration does not name",
    );
    refused_by_rbac(
        secrets.list(&ListParams::default()).await,
        &user,
        "listing every Secret of the source namespace",
    );
    let s = Scenario::start("lp-copies", |o| {
        o.instance = installed.instance().to_owned();
        o.kubeconfig = Some(installed.token.kubeconfig().to_owned());
        o.admission_policy = true;
        o.read_binding = Some(installed.read_binding());
        o.repository_settings = json!({"copySecrets": copies});
    })
    .await;

    s.deliver(&s.payload("pr-opened", 23)).await;
    s.wait_phase(23, Phase::Ready, None, READY).await;
    let namespace = s.preview_name(23);
    let token = copied_token(&s.kube, &namespace, "pull").await;
    assert_eq!(token.as_deref(), Some("lp-first-token"));
    assert_eq!(pull_secrets(&s.kube, &namespace).await, ["pull"]);
    rotate_source(&sources, "registry", "lp-rotated-token").await;
    wait_for("the copy to follow its source", READY, || async {
        copied_token(&s.kube, &namespace, "pull").await.as_deref() == Some("lp-rotated-token")
    })
    .await;
    let logs = s.previewd.logs();
    for refusal in ["forbidden", "Forbidden"] {
        assert!(!logs.contains(refusal), "{refusal}:\n{logs}");
    }

    drop(s);
    installed.remove().await;
    sources.delete().await;
}
