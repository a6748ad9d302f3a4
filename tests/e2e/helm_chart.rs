//! The Helm chart in `charts/previewd`, with the real helm binary and the local control plane:
//! it lints clean, the API server accepts everything it renders, it installs into a namespace
//! that enforces Pod Security `restricted`, upgrades, and uninstalls leaving the CRD and live
//! previews in place; invalid values fail at install naming the field; what it gives previewd
//! (configuration file, templates, CRD) is what previewd reads and prints.
//!
//! Run: `eval "$(scripts/cluster.sh env)" && cargo test --test e2e helm_chart::`

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use previewd::controller::FINALIZER;
use previewd::model::labels::INSTANCE;
use previewd_testkit::cluster::{TestNamespace, kubectl, kubectl_ok, unique_name, wait_for};
use previewd_testkit::helm::{CREDENTIALS, Release, find, helm, objects, template};
use serde_json::{Value, json};

const CRD: &str = "customresourcedefinition/previewenvironments.previewd.dev";
const SHA: &str = "ec26c3e57ca3a959ca5aad62de7213c562f8c821";

/// A scratch directory for one test, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(prefix: &str) -> Self {
        let dir = std::env::temp_dir().join(unique_name(prefix));
        std::fs::create_dir_all(&dir).expect("create scratch dir");
        Scratch(dir)
    }

    fn write(&self, name: &str, content: &str) -> PathBuf {
        let path = self.0.join(name);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("create dir");
        std::fs::write(&path, content).expect("write scratch file");
        path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A PreviewEnvironment holding previewd's finalizer, as a live preview does (nothing runs
/// previewd here, so nothing removes it); dropping it takes the finalizer off and deletes it.
struct LivePreview {
    name: String,
}

impl LivePreview {
    fn create(instance: &str, scratch: &Scratch) -> Self {
        let name = unique_name("helm-live");
        let preview = json!({
            "apiVersion": "previewd.dev/v1alpha1",
            "kind": "PreviewEnvironment",
            "metadata": {
                "name": name,
                "labels": { INSTANCE: instance },
                "finalizers": [FINALIZER],
            },
            "spec": {
                "repository": { "fullName": "octo-org/web", "id": 1 },
                "number": 1, "headSha": SHA, "branch": "feature", "baseBranch": "main",
                "title": "A live preview", "author": "octocat",
                "desired": { "state": "Deployed" },
            },
        });
        let path = scratch.write("live-preview.json", &preview.to_string());
        kubectl_ok(&["create", "-f", path.to_str().expect("UTF-8 path")]);
        LivePreview { name }
    }

    fn finalizers(&self) -> String {
        let path = "jsonpath={.metadata.deletionTimestamp}|{.metadata.finalizers}";
        kubectl_ok(&["get", "previewenvironment", &self.name, "-o", path])
    }
}

impl Drop for LivePreview {
    fn drop(&mut self) {
        let resource = format!("previewenvironment/{}", self.name);
        let unfinalize = r#"{"metadata":{"finalizers":null}}"#;
        let _ = kubectl(&["patch", &resource, "--type=merge", "-p", unfinalize]);
        let _ = kubectl(&["delete", &resource, "--ignore-not-found", "--wait=false"]);
    }
}

/// A namespace for one test that enforces Pod Security `restricted`.
async fn restricted_namespace(prefix: &str) -> TestNamespace {
    let ns = TestNamespace::new(prefix).await;
    let label = "pod-security.kubernetes.io/enforce=restricted";
    kubectl_ok(&["label", "namespace", &ns.name, label]);
    ns
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// `kubectl get` of one field.
fn field(namespace: &str, resource: &str, jsonpath: &str) -> String {
    let path = format!("jsonpath={jsonpath}");
    kubectl_ok(&["get", "-n", namespace, resource, "-o", &path])
}

async fn wait_ready_replicas(namespace: &str, deployment: &str, replicas: u32) {
    let what = format!("{replicas} ready replicas of {deployment}");
    wait_for(&what, Duration::from_secs(60), || async {
        field(namespace, deployment, "{.status.readyReplicas}") == replicas.to_string()
    })
    .await;
}

/// Every value that turns an optional object on, so all of them are rendered.
const EVERYTHING: [&str; 6] = [
    CREDENTIALS,
    "replicas=2",
    "ingress.enabled=true",
    "ingress.host=previewd.example.com",
    "ingress.tls[0].secretName=previewd-tls,ingress.tls[0].hosts[0]=previewd.example.com",
    "config.repositories[0].name=octo-org/web",
];

#[tokio::test]
async fn lints_clean_and_the_api_server_accepts_every_rendered_object() {
    let chart = previewd_testkit::helm::chart_dir();
    let lint = helm(&["lint", "--strict", chart.to_str().expect("UTF-8 path")]);
    let said = String::from_utf8_lossy(&lint.stdout);
    assert!(lint.status.success(), "helm lint: {said}{}", stderr(&lint));
    assert!(
        !said.contains("[WARNING]") && !said.contains("[ERROR]"),
        "helm lint: {said}"
    );

    let ns = TestNamespace::new("helm-render").await;
    let rendered = template("render", &ns.name, &EVERYTHING);
    let kinds: BTreeSet<String> = objects(&rendered)
        .iter()
        .map(|o| o["kind"].as_str().expect("kind").to_owned())
        .collect();
    let expected = [
        "ClusterRole",
        "ClusterRoleBinding",
        "ConfigMap",
        "CustomResourceDefinition",
        "Deployment",
        "Ingress",
        "PodDisruptionBudget",
        "Role",
        "RoleBinding",
        "Secret",
        "Service",
        "ServiceAccount",
        "ValidatingAdmissionPolicy",
        "ValidatingAdmissionPolicyBinding",
    ];
    assert_eq!(kinds, expected.map(String::from).into(), "kinds rendered");

    let scratch = Scratch::new("helm-render");
    let path = scratch.write("rendered.yaml", &rendered);
    let path = path.to_str().expect("UTF-8 path");
    kubectl_ok(&["apply", "--dry-run=server", "-n", &ns.name, "-f", path]);
    ns.delete().await;
}

/// The files of a rendered ConfigMap, written into `dir`.
fn write_config_map(scratch: &Scratch, config_map: &Value, dir: &str) -> PathBuf {
    let data = config_map["data"].as_object().expect("ConfigMap data");
    for (name, content) in data {
        scratch.write(&format!("{dir}/{name}"), content.as_str().expect("text"));
    }
    scratch.0.join(dir)
}

fn env_value<'a>(container: &'a Value, name: &str) -> &'a str {
    container["env"]
        .as_array()
        .expect("env")
        .iter()
        .find(|e| e["name"] == name)
        .and_then(|e| e["value"].as_str())
        .unwrap_or_else(|| panic!("no env {name} with a value"))
}

fn mount_path<'a>(container: &'a Value, volume: &str) -> &'a str {
    container["volumeMounts"]
        .as_array()
        .expect("volumeMounts")
        .iter()
        .find(|m| m["name"] == volume)
        .and_then(|m| m["mountPath"].as_str())
        .unwrap_or_else(|| panic!("no mount of volume {volume}"))
}

#[test]
fn previewd_reads_the_configuration_and_templates_the_chart_mounts() {
    let values = [
        CREDENTIALS,
        "config.repositories[0].name=octo-org/web",
        "config.repositories[0].values.image=ghcr.io/octo-org/web",
        "config.repositories[0].ttl=3d",
        "config.maxPreviews=5",
        "config.values.replicas=1,config.values.port=8080",
    ];
    let rendered = objects(&template("mounts", "previewd-system", &values));
    let config = find(&rendered, "ConfigMap", "mounts-previewd-config");
    let templates = find(&rendered, "ConfigMap", "mounts-previewd-templates");

    // The default templates are the repository's templates/, byte for byte.
    let repository = Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
    let mut expected = serde_json::Map::new();
    for entry in std::fs::read_dir(&repository).expect("templates/") {
        let path = entry.expect("entry").path();
        let name = path
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        let content = std::fs::read_to_string(&path).expect("template");
        expected.insert(name, Value::String(content));
    }
    assert_eq!(
        templates["data"],
        Value::Object(expected),
        "charts/previewd/files/templates/ differs from templates/: copy them over"
    );

    // The container finds both where the chart mounts them.
    let container = &find(&rendered, "Deployment", "mounts-previewd")["spec"]["template"]["spec"]["containers"]
        [0];
    let config_file = format!("{}/previewd.yaml", mount_path(container, "config"));
    assert_eq!(env_value(container, "PREVIEWD_CONFIG"), config_file);
    let templates_dir = env_value(container, "PREVIEWD_TEMPLATES_DIR");
    assert_eq!(templates_dir, mount_path(container, "templates"));
    assert_eq!(env_value(container, "PREVIEWD_INSTANCE"), "mounts");

    // And previewd accepts them: the repository's values reach the rendered Deployment.
    let scratch = Scratch::new("helm-mounts");
    let config_dir = write_config_map(&scratch, config, "config");
    let templates_dir = write_config_map(&scratch, templates, "templates");
    let out = Command::new(env!("CARGO_BIN_EXE_previewd"))
        .arg("render")
        .arg("--config")
        .arg(config_dir.join("previewd.yaml"))
        .arg("--templates-dir")
        .arg(&templates_dir)
        .args(["--repo", "octo-org/web", "--pr", "7", "--sha", SHA])
        .output()
        .expect("run previewd render");
    assert!(out.status.success(), "previewd render: {}", stderr(&out));
    let applied = String::from_utf8(out.stdout).expect("UTF-8");
    assert!(
        applied.contains(&format!("image: ghcr.io/octo-org/web:{SHA}")),
        "{applied}"
    );
}

#[test]
fn a_github_app_gets_its_private_key_mounted_where_previewd_reads_it() {
    let key = Path::new(env!("CARGO_MANIFEST_DIR")).join(previewd_testkit::github::APP_KEY_FILE);
    let pem = std::fs::read_to_string(&key).expect("the test App's key");
    let scratch = Scratch::new("helm-app");
    let values_file = scratch.write(
        "values.yaml",
        &serde_json::json!({
            "secret": {"webhookSecret": "s", "githubAppPrivateKey": pem},
            "github": {"app": {"id": 4242}, "previousLogins": ["previewd-bot", "old-bot"]},
        })
        .to_string(),
    );
    let rendered = helm(&[
        "template",
        "app",
        &previewd_testkit::helm::chart_dir().to_string_lossy(),
        "--namespace",
        "previewd-system",
        "--values",
        &values_file.to_string_lossy(),
    ]);
    assert!(rendered.status.success(), "{}", stderr(&rendered));
    let rendered = objects(&String::from_utf8_lossy(&rendered.stdout));
    let deployment = find(&rendered, "Deployment", "app-previewd");
    let pod = &deployment["spec"]["template"]["spec"];
    let container = &pod["containers"][0];
    assert_eq!(env_value(container, "PREVIEWD_GITHUB_APP_ID"), "4242");
    assert_eq!(
        env_value(container, "PREVIEWD_GITHUB_PREVIOUS_LOGINS"),
        "previewd-bot,old-bot"
    );
    let file = env_value(container, "PREVIEWD_GITHUB_APP_PRIVATE_KEY_FILE");
    let dir = mount_path(container, "github-app");
    let volume = pod["volumes"]
        .as_array()
        .expect("volumes")
        .iter()
        .find(|v| v["name"] == "github-app")
        .expect("the App's key volume");
    let item = &volume["secret"]["items"][0];
    assert_eq!(file, format!("{dir}/{}", item["path"].as_str().unwrap()));
    let secret = find(&rendered, "Secret", "app-previewd");
    assert_eq!(volume["secret"]["secretName"], "app-previewd");
    let stored = secret["data"][item["key"].as_str().unwrap()]
        .as_str()
        .expect("the key in the Secret");
    assert_eq!(
        base64::Engine::decode(&base64::engine::general_purpose::STANDARD, stored).unwrap(),
        pem.as_bytes()
    );
    assert!(
        !container["env"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["name"] == "PREVIEWD_GITHUB_TOKEN"),
        "a token besides the App"
    );
}

#[tokio::test]
async fn installs_restricted_upgrades_and_uninstalls_keeping_the_crd_and_live_previews() {
    kept_crd();
    let ns = restricted_namespace("helm-install").await;
    let scratch = Scratch::new("helm-install");
    // The namespace really enforces `restricted`: a pod without a securityContext is refused.
    let bare = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "bare"},
        "spec": {"containers": [{"name": "a", "image": "registry.invalid/a:0"}]}});
    let bare = scratch.write("bare-pod.json", &bare.to_string());
    let bare = bare.to_str().expect("UTF-8 path");
    let refused = kubectl(&["apply", "--dry-run=server", "-n", &ns.name, "-f", bare]);
    assert!(
        !refused.status.success() && stderr(&refused).contains("violates PodSecurity"),
        "a bare pod was not refused: {}",
        stderr(&refused)
    );

    let release = Release::new("chart", &ns.name);
    let deployment = format!("deployment/{}-previewd", release.name);
    let config_map = format!("configmap/{}-previewd-config", release.name);
    let repository = "config.repositories[0].name=octo-org/web";
    // --take-ownership: other tests (and earlier runs) leave the CRD in the cluster.
    let install = ["--wait", "--timeout", "60s", "--take-ownership"];
    release.run_ok("install", &install, &[CREDENTIALS, repository]);
    wait_ready_replicas(&ns.name, &deployment, 2).await;
    let checksum = "{.spec.template.metadata.annotations.checksum/config}";
    let first_checksum = field(&ns.name, &deployment, checksum);

    let live = LivePreview::create(&release.name, &scratch);
    let upgrade = ["--wait", "--timeout", "60s"];
    let changed = [
        CREDENTIALS,
        repository,
        "replicas=3",
        "config.maxPreviews=5",
    ];
    release.run_ok("upgrade", &upgrade, &changed);
    wait_ready_replicas(&ns.name, &deployment, 3).await;
    let config = field(&ns.name, &config_map, "{.data.previewd\\.yaml}");
    assert!(
        config.contains("maxPreviews: 5"),
        "config after upgrade: {config}"
    );
    assert_ne!(
        field(&ns.name, &deployment, checksum),
        first_checksum,
        "a changed configuration must roll the pods (previewd reads it at startup)"
    );

    let said = release.uninstall();
    assert!(said.contains("previewenvironments.previewd.dev"), "{said}");
    let gone = kubectl(&["get", "-n", &ns.name, &deployment]);
    assert!(stderr(&gone).contains("NotFound"), "{}", stderr(&gone));
    let role = format!("clusterrole/{}-previewd", release.name);
    let gone = kubectl(&["get", &role]);
    assert!(stderr(&gone).contains("NotFound"), "{}", stderr(&gone));
    let crd = kubectl_ok(&["get", CRD, "-o", "jsonpath={.metadata.deletionTimestamp}"]);
    assert_eq!(crd, "", "the CRD must survive uninstall");
    assert_eq!(live.finalizers(), format!("|[\"{FINALIZER}\"]"));

    drop(live);
    drop(release);
    ns.delete().await;
}

#[tokio::test]
async fn invalid_values_fail_at_install_naming_the_field() {
    let ns = TestNamespace::new("helm-invalid").await;
    let release = Release::new("chart", &ns.name);
    let cases: [(&[&str], &[&str]); 8] = [
        (
            &["replicas=0"],
            &["at '/replicas'", "minimum: got 0, want 1"],
        ),
        (&["replicas=two"], &["at '/replicas'", "want integer"]),
        (&["github.apiUrl=not a url"], &["at '/github/apiUrl'"]),
        (&["secret.create=false"], &["at '/secret/name'", "want 1"]),
        (
            &["config.repositories[0].name=just-a-name"],
            &["at '/config/repositories/0/name'", "does not match pattern"],
        ),
        (
            &["replica=2"],
            &["additional properties 'replica' not allowed"],
        ),
        (
            &["secret.githubToken="],
            &["secret.githubToken is required when secret.create is true"],
        ),
        (
            &["github.app.id=5"],
            &[
                "secret.githubAppPrivateKey is required when secret.create is true and github.app.id is set",
            ],
        ),
    ];
    for (bad, expected) in cases {
        let values: Vec<&str> = [CREDENTIALS].iter().chain(bad).copied().collect();
        let out = release.run("install", &[], &values);
        let said = stderr(&out);
        assert!(!out.status.success(), "{bad:?} installed");
        for part in expected {
            assert!(said.contains(part), "{bad:?}: expected {part:?} in: {said}");
        }
    }
    let listed = helm(&["list", "--namespace", &ns.name, "--short", "--all"]);
    assert_eq!(
        String::from_utf8_lossy(&listed.stdout),
        "",
        "nothing installed"
    );
    drop(release);
    ns.delete().await;
}

/// `value` with every number as a float (`fromYaml` in the chart reads `0.0` back as `0`).
fn numbers_as_floats(value: Value) -> Value {
    match value {
        Value::Number(n) => json!(n.as_f64().expect("finite number")),
        Value::Array(items) => Value::Array(items.into_iter().map(numbers_as_floats).collect()),
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (k, numbers_as_floats(v)))
                .collect(),
        ),
        other => other,
    }
}

/// The chart's CRD as rendered, without the metadata the chart adds, after checking it carries
/// `helm.sh/resource-policy: keep`: without it, uninstalling a test release would delete the CRD
/// (and every preview) that all other tests share.
fn kept_crd() -> Value {
    let rendered = template("crd", "previewd-system", &[CREDENTIALS]);
    let name = "previewenvironments.previewd.dev";
    let mut crd = find(&objects(&rendered), "CustomResourceDefinition", name).clone();
    let metadata = crd["metadata"].as_object_mut().expect("metadata");
    let annotations = metadata.remove("annotations").expect("annotations");
    assert_eq!(
        annotations,
        json!({"helm.sh/resource-policy": "keep"}),
        "helm uninstall must keep the CRD (and so the previews and their namespaces)"
    );
    let labels = metadata.remove("labels").expect("labels");
    assert_eq!(labels["app.kubernetes.io/managed-by"], "Helm");
    crd
}

#[test]
fn the_charts_crd_is_what_previewd_crd_prints() {
    let printed = Command::new(env!("CARGO_BIN_EXE_previewd"))
        .arg("crd")
        .output()
        .expect("run previewd crd");
    assert!(
        printed.status.success(),
        "previewd crd: {}",
        stderr(&printed)
    );
    let printed = objects(&String::from_utf8(printed.stdout).expect("UTF-8"));
    assert_eq!(
        numbers_as_floats(kept_crd()),
        numbers_as_floats(printed[0].clone()),
        "charts/previewd/files/crd.yaml is stale: previewd crd > charts/previewd/files/crd.yaml"
    );

    let without = template(
        "crd",
        "previewd-system",
        &[CREDENTIALS, "crds.install=false"],
    );
    assert!(
        !without.contains("CustomResourceDefinition"),
        "crds.install=false must leave the CRD out"
    );
}

#[tokio::test]
async fn the_dashboard_gets_its_port_and_service_only_when_enabled() {
    let without = objects(&template("plain", "previewd-system", &[CREDENTIALS]));
    let container = &find(&without, "Deployment", "plain-previewd")["spec"]["template"]["spec"]["containers"]
        [0];
    let has_env = |c: &Value| {
        c["env"]
            .as_array()
            .expect("env")
            .iter()
            .any(|e| e["name"] == "PREVIEWD_DASHBOARD_LISTEN")
    };
    assert!(!has_env(container));
    assert!(
        !without
            .iter()
            .any(|o| o["kind"] == "Service" && o["metadata"]["name"] == "plain-previewd-dashboard")
    );

    let with = objects(&template(
        "shown",
        "previewd-system",
        &[CREDENTIALS, "dashboard.enabled=true"],
    ));
    let container =
        &find(&with, "Deployment", "shown-previewd")["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(
        env_value(container, "PREVIEWD_DASHBOARD_LISTEN"),
        "0.0.0.0:8081"
    );
    let port = container["ports"]
        .as_array()
        .expect("ports")
        .iter()
        .find(|p| p["name"] == "dashboard")
        .expect("a dashboard port");
    assert_eq!(port["containerPort"], 8081);
    let service = find(&with, "Service", "shown-previewd-dashboard");
    assert_eq!(service["spec"]["type"], "ClusterIP");
    assert_eq!(service["spec"]["ports"][0]["targetPort"], "dashboard");
    // The webhook's Service does not expose it.
    let webhook = find(&with, "Service", "shown-previewd");
    assert_eq!(webhook["spec"]["ports"].as_array().unwrap().len(), 1);
    // A preview's page lists its Events, in previewd's namespace only; without the dashboard
    // previewd only writes them.
    let event_verbs = |objects: &[Value], role: &str| {
        find(objects, "Role", role)["rules"]
            .as_array()
            .expect("rules")
            .iter()
            .find(|r| r["resources"][0] == "events")
            .expect("a rule for events")["verbs"]
            .clone()
    };
    assert_eq!(
        event_verbs(&with, "shown-previewd"),
        serde_json::json!(["create", "patch", "list"])
    );
    assert_eq!(
        event_verbs(&without, "plain-previewd"),
        serde_json::json!(["create", "patch"])
    );
}

#[test]
fn in_the_polling_mode_the_webhook_secret_may_be_left_out() {
    let values = ["secret.githubToken=t,controller.polling=true,controller.resyncSecs=30"];
    let rendered = objects(&template("polling", "previewd-system", &values));
    let secret = find(&rendered, "Secret", "polling-previewd");
    assert!(secret["data"].get("webhook-secret").is_none(), "{secret}");
    let container = &find(&rendered, "Deployment", "polling-previewd")["spec"]["template"]["spec"]
        ["containers"][0];
    assert_eq!(env_value(container, "PREVIEWD_POLLING"), "true");
    let webhook_secret = container["env"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "PREVIEWD_WEBHOOK_SECRET")
        .expect("the secret, if given");
    assert_eq!(
        webhook_secret["valueFrom"]["secretKeyRef"]["optional"],
        true
    );
}
