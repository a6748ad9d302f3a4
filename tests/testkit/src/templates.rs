//! Template files for tests: a Deployment `web` shaped by what a test needs.

/// A Deployment template `web` with `replicas` pods labelled `app: web` plus `pod_labels` (YAML
/// lines at the labels' indentation, e.g. a kwok readiness label), whose one container carries
/// `container_extra` (YAML at the container's indentation, e.g. resources) and nothing else.
pub fn deployment(replicas: u32, pod_labels: &str, container_extra: &str) -> (String, String) {
    let source = format!(
        "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: {replicas}
  selector:
    matchLabels: {{app: web}}
  template:
    metadata:
      labels:
        app: web
        {pod_labels}
    spec:
      containers:
        - name: web
          image: \"registry.test/app:{{{{sha}}}}\"
{container_extra}"
    );
    ("deployment.yaml".into(), source)
}

/// A Deployment `name` of one container `web` running `image`, that the fences admit, as YAML
/// with `replicas` and `image` written as given (a renderer's expressions, or values).
pub fn web_deployment(name: &str, replicas: &str, image: &str) -> String {
    format!(
        r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
spec:
  replicas: {replicas}
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec:
      automountServiceAccountToken: false
      containers:
        - name: web
          image: "{image}"
          securityContext: {{allowPrivilegeEscalation: false, runAsNonRoot: true, seccompProfile: {{type: RuntimeDefault}}, capabilities: {{drop: [ALL]}}}}
          resources: {{requests: {{cpu: 10m, memory: 16Mi}}, limits: {{memory: 64Mi}}}}
"#
    )
}

/// A Role `grant`: a kind previewd's default `templateKinds` refuses.
pub const ROLE: &str =
    "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: grant}\nrules: []\n";
