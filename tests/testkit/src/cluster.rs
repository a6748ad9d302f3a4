//! The local control plane started by `scripts/cluster.sh up` (etcd, kube-apiserver,
//! kube-controller-manager, kube-scheduler and kwok on 127.0.0.1): clients, kubectl, polling and
//! throwaway namespaces for integration tests.
//!
//! Tests find the cluster through `KUBECONFIG`: run them with `scripts/test.sh`, or after
//! `eval "$(scripts/cluster.sh env)"`.

use std::future::Future;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::{Namespace, ServiceAccount};
use kube::api::{DeleteParams, PostParams};
use kube::config::{AuthInfo, KubeConfigOptions, Kubeconfig};
use kube::{Api, Client, Config};

/// The fake node kwok manages (created by `scripts/cluster.sh up`).
pub const NODE: &str = "kwok-node-0";
/// Label: the pod is Running but never Ready (any value).
pub const NEVER_READY_LABEL: &str = "previewd.test/never-ready";
/// Label: the pod is Running at once and Ready after the Go duration in its value (`"8s"`,
/// `"1500ms"`); a value that is not a duration (`"true"`) means 8 s.
pub const READY_DELAY_LABEL: &str = "previewd.test/ready-delay";
/// Label on every namespace made by [`TestNamespace`], so leftovers are easy to find.
pub(crate) const TEST_NAMESPACE_LABEL: &str = "previewd.test/namespace";

const HOW: &str = "run the tests with `scripts/test.sh`, or start the local control plane with \
                   `scripts/cluster.sh up` and then `eval \"$(scripts/cluster.sh env)\"`";

/// Path of the kubeconfig named by `KUBECONFIG`; panics with instructions when unset or missing.
pub(crate) fn kubeconfig_path() -> PathBuf {
    let path = match std::env::var_os("KUBECONFIG") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => panic!("KUBECONFIG is not set: {HOW}"),
    };
    assert!(
        path.is_file(),
        "KUBECONFIG={} does not exist (is the cluster up?): {HOW}",
        path.display()
    );
    path
}

/// Client config for the admin user of the local cluster.
pub(crate) async fn config() -> Config {
    let path = kubeconfig_path();
    let kubeconfig = Kubeconfig::read_from(&path)
        .unwrap_or_else(|e| panic!("cannot read kubeconfig {}: {e}", path.display()));
    Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .unwrap_or_else(|e| panic!("bad kubeconfig {}: {e}", path.display()))
}

/// A client for the admin user (system:masters) of the local cluster.
pub async fn client() -> Client {
    Client::try_from(config().await).expect("build kube client")
}

/// A client that authenticates with a bearer token only (for a ServiceAccount token, say).
pub async fn client_with_token(token: &str) -> Client {
    let mut config = config().await;
    config.auth_info = serde_json::from_value::<AuthInfo>(serde_json::json!({ "token": token }))
        .expect("token auth info");
    Client::try_from(config).expect("build kube client")
}

/// The kubectl binary: `$PREVIEWD_CLUSTER_BIN/kubectl` when set (`scripts/cluster.sh env` sets
/// it), else `kubectl` from PATH.
pub(crate) fn kubectl_path() -> PathBuf {
    match std::env::var_os("PREVIEWD_CLUSTER_BIN") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir).join("kubectl"),
        _ => PathBuf::from("kubectl"),
    }
}

/// Runs kubectl against the local cluster (the `KUBECONFIG` of this process) and returns its
/// output, whatever its exit status.
pub fn kubectl(args: &[&str]) -> Output {
    let kubeconfig = kubeconfig_path();
    Command::new(kubectl_path())
        .arg("--kubeconfig")
        .arg(&kubeconfig)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}: {HOW}", kubectl_path().display()))
}

/// Runs kubectl, panics unless it succeeded, returns its stdout.
pub fn kubectl_ok(args: &[&str]) -> String {
    let out = kubectl(args);
    assert!(
        out.status.success(),
        "kubectl {} failed ({}): {}",
        args.join(" "),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("kubectl output is UTF-8")
}

/// Polls `f` every 200 ms until it returns true; panics naming `what` after `timeout`.
pub async fn wait_for<F, Fut>(what: &str, timeout: Duration, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    wait_for_some(what, timeout, || {
        let fut = f();
        async move { fut.await.then_some(()) }
    })
    .await
}

/// Polls `f` every 200 ms until it returns `Some`, and returns that value; panics naming `what`
/// after `timeout`.
pub async fn wait_for_some<T, F, Fut>(what: &str, timeout: Duration, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let start = Instant::now();
    loop {
        if let Some(v) = f().await {
            return v;
        }
        if start.elapsed() >= timeout {
            panic!("timed out after {timeout:?} waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// `prefix-<8 random hex>`, a valid RFC 1123 label (the prefix is cut to fit 63 characters).
pub fn unique_name(prefix: &str) -> String {
    let id = uuid::Uuid::new_v4().simple().to_string();
    let prefix: String = prefix.chars().take(63 - 9).collect();
    format!("{}-{}", prefix.trim_end_matches('-'), &id[..8])
}

/// Whether `err` is an API error with this HTTP status code.
pub fn is_status(err: &kube::Error, code: u16) -> bool {
    matches!(err, kube::Error::Api(status) if status.code == code)
}

/// A uniquely named namespace for one test. [`TestNamespace::delete`] removes it and waits until
/// it is gone; if a test panics first, dropping it asks kubectl to delete it in the background.
pub struct TestNamespace {
    pub name: String,
    pub client: Client,
    deleted: bool,
}

impl TestNamespace {
    /// Creates `<prefix>-<random>` and waits until its `default` ServiceAccount exists (before
    /// that, creating a pod in it fails).
    pub async fn new(prefix: &str) -> Self {
        let client = client().await;
        let name = unique_name(prefix);
        let ns: Namespace = serde_json::from_value(serde_json::json!({
            "metadata": { "name": name, "labels": { TEST_NAMESPACE_LABEL: "true" } }
        }))
        .expect("namespace");
        Api::<Namespace>::all(client.clone())
            .create(&PostParams::default(), &ns)
            .await
            .unwrap_or_else(|e| panic!("create namespace {name}: {e}"));
        let this = Self {
            name,
            client,
            deleted: false,
        };
        let sas: Api<ServiceAccount> = this.api();
        wait_for(
            &format!("ServiceAccount {}/default", this.name),
            Duration::from_secs(30),
            || {
                let sas = sas.clone();
                async move { sas.get_opt("default").await.ok().flatten().is_some() }
            },
        )
        .await;
        this
    }

    /// A namespaced Api in this namespace.
    pub fn api<K>(&self) -> Api<K>
    where
        K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>,
        <K as kube::Resource>::DynamicType: Default,
    {
        Api::namespaced(self.client.clone(), &self.name)
    }

    /// Deletes the namespace and waits (up to 2 minutes) until the API server no longer has it.
    pub async fn delete(mut self) {
        self.deleted = true;
        delete_namespace_and_wait(&self.client, &self.name, Duration::from_secs(120)).await;
    }
}

impl Drop for TestNamespace {
    fn drop(&mut self) {
        if !self.deleted {
            let _ = Command::new(kubectl_path())
                .args([
                    "delete",
                    "namespace",
                    &self.name,
                    "--wait=false",
                    "--ignore-not-found",
                ])
                .output();
        }
    }
}

/// Deletes a namespace (if present) and waits until GET answers 404.
pub async fn delete_namespace_and_wait(client: &Client, name: &str, timeout: Duration) {
    let namespaces: Api<Namespace> = Api::all(client.clone());
    match namespaces.delete(name, &DeleteParams::default()).await {
        Ok(_) => {}
        Err(e) if is_status(&e, 404) => return,
        Err(e) => panic!("delete namespace {name}: {e}"),
    }
    wait_for(&format!("namespace {name} to be gone"), timeout, || {
        let namespaces = namespaces.clone();
        async move {
            match namespaces.get(name).await {
                Err(e) if is_status(&e, 404) => true,
                Err(e) => panic!("get namespace {name}: {e}"),
                Ok(_) => false,
            }
        }
    })
    .await;
}
