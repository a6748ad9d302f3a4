//! An identity with exactly the chart's RBAC: its ServiceAccount, ClusterRole, Role and their
//! bindings as `helm template` renders them, and a kubeconfig that authenticates as that
//! ServiceAccount, so previewd can be run with no more rights than an installation gives it.

use std::path::PathBuf;

use serde_json::{Value, json};

use super::cluster::{TestNamespace, kubectl, kubectl_ok, unique_name};
use super::helm::{CREDENTIALS, objects, template};

const KINDS: [&str; 5] = [
    "ServiceAccount",
    "ClusterRole",
    "ClusterRoleBinding",
    "Role",
    "RoleBinding",
];

/// The chart's RBAC applied for a release of its own; dropping it deletes the cluster-scoped
/// objects (the namespace takes the rest).
pub struct ChartIdentity {
    /// The release namespace.
    pub namespace: TestNamespace,
    /// A kubeconfig authenticating as the release's ServiceAccount.
    pub kubeconfig: PathBuf,
    cluster_scoped: Vec<(String, String)>,
}

impl ChartIdentity {
    /// Renders the chart with `values` (besides the credentials) for a unique release, applies
    /// its RBAC objects and writes a kubeconfig with a token of its ServiceAccount.
    pub async fn new(values: &[&str]) -> Self {
        let namespace = TestNamespace::new("chart-rbac").await;
        let release = unique_name("rbac");
        let mut all_values = vec![CREDENTIALS];
        all_values.extend(values);
        let rendered = template(&release, &namespace.name, &all_values);
        let rbac: Vec<Value> = objects(&rendered)
            .into_iter()
            .filter(|o| KINDS.iter().any(|k| o["kind"] == *k))
            .collect();
        let name = |kind: &str| {
            rbac.iter()
                .find(|o| o["kind"] == kind)
                .and_then(|o| o["metadata"]["name"].as_str())
                .unwrap_or_else(|| panic!("the chart renders no {kind}"))
                .to_owned()
        };
        let service_account = name("ServiceAccount");
        let cluster_scoped = vec![
            ("clusterrole".to_owned(), name("ClusterRole")),
            ("clusterrolebinding".to_owned(), name("ClusterRoleBinding")),
        ];
        let dir = std::env::temp_dir().join(format!("previewd-{release}"));
        std::fs::create_dir_all(&dir).expect("create scratch dir");
        let manifests = dir.join("rbac.json");
        let list = json!({"apiVersion": "v1", "kind": "List", "items": rbac});
        std::fs::write(&manifests, list.to_string()).expect("write RBAC objects");
        let manifests = manifests.to_str().expect("UTF-8 path");
        kubectl_ok(&["apply", "-n", &namespace.name, "-f", manifests]);
        let token = kubectl_ok(&[
            "create",
            "token",
            &service_account,
            "-n",
            &namespace.name,
            "--duration=1h",
        ]);
        let mut config: Value = serde_json::from_str(&kubectl_ok(&[
            "config", "view", "--minify", "--raw", "-o", "json",
        ]))
        .expect("kubeconfig as JSON");
        config["users"][0]["user"] = json!({"token": token.trim()});
        let kubeconfig = dir.join("kubeconfig.json");
        std::fs::write(&kubeconfig, config.to_string()).expect("write kubeconfig");
        ChartIdentity {
            namespace,
            kubeconfig,
            cluster_scoped,
        }
    }
}

impl Drop for ChartIdentity {
    fn drop(&mut self) {
        for (kind, name) in &self.cluster_scoped {
            let _ = kubectl(&["delete", kind, name, "--ignore-not-found", "--wait=false"]);
        }
    }
}
