//! Acting as a ServiceAccount of the local control plane: its token (`kubectl create token`), a
//! client that authenticates with that token only, and a kubeconfig file for a process (previewd)
//! to run as it, the way it runs in a pod.

use std::path::{Path, PathBuf};

use kube::Client;
use kube::config::Kubeconfig;
use serde_json::json;

use super::cluster::{client_with_token, kubeconfig_path, kubectl_ok};

/// A ServiceAccount's token and a kubeconfig file made of it; dropping it removes the file.
pub struct ServiceAccountToken {
    /// The ServiceAccount's namespace.
    pub namespace: String,
    /// The ServiceAccount's name.
    pub name: String,
    token: String,
    kubeconfig: PathBuf,
}

impl ServiceAccountToken {
    /// Asks the API server for a token of `namespace/name` (`kubectl create token`, valid for an
    /// hour) and writes a kubeconfig that uses it.
    pub fn create(namespace: &str, name: &str) -> Self {
        let token = kubectl_ok(&["create", "token", name, "--namespace", namespace])
            .trim()
            .to_owned();
        assert!(!token.is_empty(), "kubectl create token printed nothing");
        let kubeconfig = std::env::temp_dir().join(format!(
            "previewd-sa-{namespace}-{name}-{}.kubeconfig",
            &uuid::Uuid::new_v4().simple().to_string()[..8]
        ));
        write_kubeconfig(&kubeconfig, namespace, name, &token);
        ServiceAccountToken {
            namespace: namespace.to_owned(),
            name: name.to_owned(),
            token,
            kubeconfig,
        }
    }

    /// The user name the API server knows the token by.
    pub fn username(&self) -> String {
        format!("system:serviceaccount:{}:{}", self.namespace, self.name)
    }

    /// A client that authenticates with the token alone.
    pub async fn client(&self) -> Client {
        client_with_token(&self.token).await
    }

    /// The kubeconfig file: the admin kubeconfig's server and CA, the token as the only
    /// credential, and the ServiceAccount's namespace as the default one (as in a pod).
    pub fn kubeconfig(&self) -> &Path {
        &self.kubeconfig
    }
}

impl Drop for ServiceAccountToken {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.kubeconfig);
    }
}

/// Writes a kubeconfig for `token` into `path`, taking the cluster from the test's kubeconfig.
fn write_kubeconfig(path: &Path, namespace: &str, name: &str, token: &str) {
    let admin_path = kubeconfig_path();
    let admin = Kubeconfig::read_from(&admin_path)
        .unwrap_or_else(|e| panic!("cannot read kubeconfig {}: {e}", admin_path.display()));
    let context = admin
        .current_context
        .as_deref()
        .and_then(|current| admin.contexts.iter().find(|c| c.name == current))
        .and_then(|c| c.context.as_ref())
        .unwrap_or_else(|| panic!("{} has no current context", admin_path.display()));
    let cluster = admin
        .clusters
        .iter()
        .find(|c| c.name == context.cluster)
        .unwrap_or_else(|| {
            panic!(
                "{} has no cluster {}",
                admin_path.display(),
                context.cluster
            )
        });
    let user = format!("{namespace}-{name}");
    // JSON is YAML: every kubeconfig reader takes it.
    let kubeconfig = json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [cluster],
        "users": [{ "name": user, "user": { "token": token } }],
        "contexts": [{
            "name": user,
            "context": { "cluster": cluster.name, "user": user, "namespace": namespace },
        }],
        "current-context": user,
    });
    std::fs::write(path, kubeconfig.to_string())
        .unwrap_or_else(|e| panic!("write kubeconfig {}: {e}", path.display()));
}
