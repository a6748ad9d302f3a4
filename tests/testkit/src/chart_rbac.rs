//! An identity with exactly the chart's RBAC: its ServiceAccount, ClusterRole, Role and their
//! bindings as `helm template` renders them, and a kubeconfig that authenticates as that
//! ServiceAccount, so previewd can be run with no more rights than an installation gives it.

use std::path::PathBuf;

use super::cluster::{TestNamespace, unique_name};
use super::helm::{CREDENTIALS, objects, template};
use super::rbac::ChartRbac;
use super::service_account::ServiceAccountToken;

/// The chart's RBAC applied for a release of its own.
pub struct ChartIdentity {
    /// A kubeconfig authenticating as the release's ServiceAccount, in the release namespace.
    pub kubeconfig: PathBuf,
    _token: ServiceAccountToken,
    _rbac: ChartRbac,
    /// `(ClusterRole, ServiceAccount)` previewd binds in each preview namespace, as the
    /// chart's Deployment names them.
    pub read_binding: (String, String),
    /// The release namespace, deleted when this is dropped (last, after the token and the
    /// RBAC objects in it).
    _namespace: TestNamespace,
}

impl ChartIdentity {
    /// Renders the chart with `values` (besides the credentials) for a unique release, applies
    /// its RBAC objects and writes a kubeconfig with a token of its ServiceAccount.
    pub async fn new(values: &[&str]) -> Self {
        let namespace = TestNamespace::new("chart-rbac").await;
        let release = unique_name("rbac");
        let mut all_values = vec![CREDENTIALS];
        all_values.extend(values);
        let rendered = objects(&template(&release, &namespace.name, &all_values));
        let rbac = ChartRbac::apply(&rendered, &namespace.name);
        let account = rendered
            .iter()
            .find(|o| o["kind"] == "ServiceAccount")
            .and_then(|o| o["metadata"]["name"].as_str())
            .expect("the chart renders a ServiceAccount")
            .to_owned();
        let env = |name: &str| {
            rendered
                .iter()
                .filter(|o| o["kind"] == "Deployment")
                .flat_map(|o| o["spec"]["template"]["spec"]["containers"][0]["env"].as_array())
                .flatten()
                .find(|e| e["name"] == name)
                .and_then(|e| e["value"].as_str())
                .unwrap_or_else(|| panic!("the chart's Deployment sets {name}"))
                .to_owned()
        };
        let read_binding = (
            env("PREVIEWD_PREVIEW_ROLE"),
            env("PREVIEWD_SERVICE_ACCOUNT"),
        );
        assert_eq!(read_binding.1, account);
        let token = ServiceAccountToken::create(&namespace.name, &account);
        ChartIdentity {
            read_binding,
            kubeconfig: token.kubeconfig().to_owned(),
            _token: token,
            _rbac: rbac,
            _namespace: namespace,
        }
    }
}
