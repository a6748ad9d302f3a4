//! The chart's identity in the local cluster: the ServiceAccount, Roles and bindings a rendered
//! chart holds, applied as they are; dropping it deletes the cluster-scoped ones (the namespaced
//! ones go with their namespace).

use serde_json::{Value, json};

use super::cluster::{kubectl, unique_name};

const KINDS: [&str; 5] = [
    "ServiceAccount",
    "Role",
    "RoleBinding",
    "ClusterRole",
    "ClusterRoleBinding",
];
const CLUSTER_SCOPED: [&str; 2] = ["ClusterRole", "ClusterRoleBinding"];

/// The applied objects.
pub struct ChartRbac {
    cluster_scoped: Vec<String>,
}

impl ChartRbac {
    /// Applies the identity objects among `objects` into `namespace`.
    pub fn apply(objects: &[Value], namespace: &str) -> Self {
        let items: Vec<&Value> = objects
            .iter()
            .filter(|o| KINDS.iter().any(|k| o["kind"] == *k))
            .collect();
        let cluster_scoped = items
            .iter()
            .filter(|o| CLUSTER_SCOPED.iter().any(|k| o["kind"] == *k))
            .map(|o| {
                format!(
                    "{}/{}",
                    o["kind"].as_str().expect("kind"),
                    o["metadata"]["name"].as_str().expect("name")
                )
            })
            .collect();
        let applied = ChartRbac { cluster_scoped };
        let list = json!({ "apiVersion": "v1", "kind": "List", "items": items });
        let path = std::env::temp_dir().join(format!("{}.json", unique_name("chart-rbac")));
        std::fs::write(&path, list.to_string()).expect("write RBAC objects");
        let file = path.to_str().expect("UTF-8 path");
        let out = kubectl(&["apply", "-n", namespace, "-f", file]);
        let _ = std::fs::remove_file(&path);
        assert!(
            out.status.success(),
            "kubectl apply of the chart's RBAC: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        applied
    }
}

impl Drop for ChartRbac {
    fn drop(&mut self) {
        if !self.cluster_scoped.is_empty() {
            let mut args = vec!["delete", "--ignore-not-found", "--wait=false"];
            args.extend(self.cluster_scoped.iter().map(String::as_str));
            let _ = kubectl(&args);
        }
    }
}
