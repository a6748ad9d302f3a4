//! Kubeconfigs handed to a previewd process: the local cluster's admin one, or the same cluster
//! (or another API server with the same CA) with other credentials.

use serde_json::{Value, json};

use super::cluster::{kubeconfig_path, kubectl_ok};

/// The kubeconfig `KUBECONFIG` names, as a value (one cluster, one user, one context).
pub fn admin() -> Value {
    let path = kubeconfig_path();
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_yaml_ng::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn only<'a>(kubeconfig: &'a mut Value, list: &str, field: &str) -> &'a mut Value {
    let entries = kubeconfig[list].as_array_mut().expect("a list");
    assert_eq!(entries.len(), 1, "the kubeconfig has exactly one of {list}");
    &mut entries[0][field]
}

/// `kubeconfig` talking to `server` instead.
pub(crate) fn with_server(mut kubeconfig: Value, server: &str) -> Value {
    only(&mut kubeconfig, "clusters", "cluster")["server"] = server.into();
    kubeconfig
}

/// `kubeconfig` authenticating with the bearer `token` only, as a pod's ServiceAccount does.
pub fn with_token(mut kubeconfig: Value, token: &str) -> Value {
    *only(&mut kubeconfig, "users", "user") = json!({ "token": token });
    kubeconfig
}

/// `kubeconfig` with `namespace` as its context's default namespace (as a pod's is its own).
pub(crate) fn with_namespace(mut kubeconfig: Value, namespace: &str) -> Value {
    only(&mut kubeconfig, "contexts", "context")["namespace"] = namespace.into();
    kubeconfig
}

/// Writes `kubeconfig` to a new file under the temporary directory (JSON is YAML: every
/// kubeconfig reader takes it) and returns its path.
pub(crate) fn write(kubeconfig: &Value) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!(
        "previewd-{}.kubeconfig",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    ));
    std::fs::write(&path, kubeconfig.to_string())
        .unwrap_or_else(|e| panic!("write kubeconfig {}: {e}", path.display()));
    path
}

/// A short-lived token of ServiceAccount `name` in `namespace` (TokenRequest, as the kubelet
/// mounts into a pod).
pub fn service_account_token(namespace: &str, name: &str) -> String {
    let args = ["create", "token", name, "-n", namespace, "--duration=1h"];
    kubectl_ok(&args).trim().to_owned()
}
