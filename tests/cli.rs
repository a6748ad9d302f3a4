//! The `previewd` command line as a user meets it: `render`, `crd`, `--version`, and `serve`
//! refusing to start on a missing or invalid setting. No cluster needed.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use previewd::model::names::preview_name;
use previewd::model::pull::Repository;
use serde::Deserialize;
use serde_json::Value;

const SHA: &str = "ec26c3e57ca3a959ca5aad62de7213c562f8c821";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The binary with no `PREVIEWD_*` setting inherited from the test's environment, run from the
/// crate root (so `templates/` and `examples/` resolve as in the README).
fn previewd() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_previewd"));
    command.current_dir(root());
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("PREVIEWD_") {
            command.env_remove(&key);
        }
    }
    command.env_remove("RUST_LOG");
    command
}

/// Runs `command`, killing it if it has not exited within `timeout`.
fn run(mut command: Command, timeout: Duration) -> Output {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start previewd");
    let started = Instant::now();
    loop {
        if child.try_wait().expect("poll previewd").is_some() {
            break;
        }
        if started.elapsed() > timeout {
            let _ = child.kill();
            let out = child.wait_with_output().expect("collect previewd's output");
            panic!(
                "previewd did not exit within {timeout:?}; stderr:\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().expect("collect previewd's output")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).expect("UTF-8 output")
}

/// Every YAML document of `text`, as JSON values (empty documents skipped).
fn documents(text: &str) -> Vec<Value> {
    serde_yaml_ng::Deserializer::from_str(text)
        .map(|doc| Value::deserialize(doc).unwrap_or_else(|e| panic!("not YAML: {e}\n{text}")))
        .filter(|v| !v.is_null())
        .collect()
}

fn render_args<'a>(command: &'a mut Command, title: &str) -> &'a mut Command {
    command.args([
        "render",
        "--config",
        "examples/previewd.yaml",
        "--repo",
        "Codertocat/Hello-World",
        "--pr",
        "2",
        "--sha",
        SHA,
        "--branch",
        "changes",
        "--title",
        title,
    ])
}

#[test]
fn render_keeps_a_hostile_title_as_data() {
    let title = "{{values.image}} }} {{#each x}}{{/each}}\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: evil}\n\"double\" 'single' \\ `tick` #not-a-comment: yes\n";
    let mut command = previewd();
    render_args(&mut command, title);
    let out = run(command, Duration::from_secs(20));
    let stdout = text(&out.stdout);
    assert!(
        out.status.success(),
        "{}: {}",
        out.status,
        text(&out.stderr)
    );
    let objects = documents(&stdout);
    let kinds: Vec<&str> = objects
        .iter()
        .map(|o| o["kind"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(kinds.len(), 3, "{stdout}");
    let mut sorted = kinds.clone();
    sorted.sort();
    assert_eq!(sorted, ["Deployment", "Ingress", "Service"], "{stdout}");
    // Rendered without `--repository-id`: named from the full name.
    let repository = Repository {
        id: 0,
        full_name: "Codertocat/Hello-World".into(),
    };
    let namespace = preview_name(&repository, 2);
    for object in &objects {
        assert_eq!(
            object["metadata"]["namespace"].as_str(),
            Some(namespace.as_str()),
            "{object:#}"
        );
    }
    let deployment = objects
        .iter()
        .find(|o| o["kind"] == "Deployment")
        .expect("a Deployment");
    assert_eq!(
        deployment["metadata"]["annotations"]["previewd.dev/title"].as_str(),
        Some(title),
        "{stdout}"
    );
    assert_eq!(
        deployment["spec"]["template"]["spec"]["containers"][0]["image"].as_str(),
        Some(format!("ghcr.io/codertocat/hello-world:{SHA}").as_str())
    );
}

fn temp_dir(prefix: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "previewd-cli-{prefix}-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    ));
    std::fs::create_dir_all(&dir).expect("create temp dir");
    dir
}

#[test]
fn render_names_the_broken_template_file_and_line_on_one_line() {
    let dir = temp_dir("broken");
    std::fs::write(
        dir.join("broken.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: \"{{nope}}\"}\n",
    )
    .unwrap();
    let mut command = previewd();
    render_args(&mut command, "A title").args(["--templates-dir".as_ref(), dir.as_os_str()]);
    let out = run(command, Duration::from_secs(20));
    let _ = std::fs::remove_dir_all(&dir);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "stderr: {stderr}");
    assert_eq!(
        stderr.trim_end().lines().count(),
        1,
        "not one line: {stderr:?}"
    );
    assert!(stderr.starts_with("previewd:"), "{stderr:?}");
    assert!(stderr.contains("broken.yaml:3:"), "{stderr:?}");
    assert!(out.stdout.is_empty(), "printed objects anyway");
}

#[test]
fn serve_without_the_webhook_secret_names_it() {
    let mut command = previewd();
    command.args(["serve", "--config", "examples/previewd.yaml"]);
    command.env("PREVIEWD_GITHUB_TOKEN", "a-token");
    command.env("PREVIEWD_LISTEN", "127.0.0.1:0");
    let started = Instant::now();
    let out = run(command, Duration::from_secs(20));
    let stderr = text(&out.stderr);
    assert!(!out.status.success(), "started without a secret: {stderr}");
    assert!(started.elapsed() < Duration::from_secs(5), "slow to refuse");
    assert!(stderr.contains("--webhook-secret"), "{stderr}");
}

fn write_config(dir: &Path, text: &str) -> PathBuf {
    let path = dir.join("config.yaml");
    std::fs::write(&path, text).expect("write config");
    path
}

#[test]
fn serve_with_an_invalid_repository_name_names_the_setting_on_one_line() {
    let (out, stderr) = serve_with("repositories: [{name: nope}]\n", &[]);
    assert!(!out.status.success(), "started with a bad config: {stderr}");
    assert_eq!(
        stderr.trim_end().lines().count(),
        1,
        "not one line: {stderr:?}"
    );
    assert!(stderr.contains("repositories[0].name"), "{stderr:?}");
}

/// `serve` with `config` (the file's text) and `extra` settings, run until it exits.
fn serve_with(config: &str, extra: &[(&str, &str)]) -> (Output, String) {
    let dir = temp_dir("config");
    let config = write_config(&dir, config);
    let mut command = previewd();
    command
        .arg("serve")
        .env("PREVIEWD_WEBHOOK_SECRET", "a-secret")
        .env("PREVIEWD_GITHUB_TOKEN", "a-token")
        .env("PREVIEWD_GITHUB_LOGIN", "previewd-bot")
        .env("PREVIEWD_GITHUB_API_URL", "http://127.0.0.1:9")
        .env("PREVIEWD_LISTEN", "127.0.0.1:0")
        // No cluster is reached: a refusal comes before the kubeconfig is read.
        .env("KUBECONFIG", dir.join("absent-kubeconfig"))
        .env("PREVIEWD_CONFIG", &config);
    for (key, value) in extra {
        command.env(key, value);
    }
    let out = run(command, Duration::from_secs(20));
    let _ = std::fs::remove_dir_all(&dir);
    let stderr = text(&out.stderr);
    (out, stderr)
}

#[test]
fn under_the_admission_policy_settings_it_would_refuse_stop_startup_saying_why() {
    const SERVED: &str = "repositories: [{name: octo-org/web}]\n";
    let policy = [
        ("PREVIEWD_ADMISSION_POLICY", "true"),
        ("PREVIEWD_PREVIEW_HOST", "{{namespace}}.preview.example.com"),
        ("PREVIEWD_PREVIEW_HOST_SUFFIX", ".preview.example.com"),
    ];
    for (config, extra, says) in [
        (
            "fences: {podSecurity: {enabled: false}}\n",
            None,
            "fences.podSecurity.enabled is false",
        ),
        (
            "fences: {podSecurity: {enforce: privileged}}\n",
            None,
            "fences.podSecurity.enforce is privileged",
        ),
        (
            "templateKinds: [{apiGroup: apps, resources: [daemonsets]}]\n",
            None,
            "templateKinds lists apps/daemonsets",
        ),
        (
            "",
            Some(("PREVIEWD_PREVIEW_HOST_SUFFIX", ".preview.example.org")),
            "does not end with --preview-host-suffix",
        ),
        (
            "",
            Some(("PREVIEWD_PREVIEW_HOST_SUFFIX", "")),
            "--preview-host-suffix (PREVIEWD_PREVIEW_HOST_SUFFIX",
        ),
    ] {
        let mut settings = policy.to_vec();
        settings.retain(|(key, _)| extra.is_none_or(|(k, _)| k != *key));
        settings.extend(extra);
        let (out, stderr) = serve_with(&format!("{SERVED}{config}"), &settings);
        assert!(!out.status.success(), "{config:?} {extra:?}: started");
        assert!(stderr.contains("refusing to start"), "{stderr}");
        assert!(stderr.contains(says), "{config:?} {extra:?}: {stderr}");
    }
    // The same settings without the policy are previewd's operator's business: they pass this
    // check (and stop only later, at the kubeconfig this test does not give).
    let (out, stderr) = serve_with(
        &format!("{SERVED}fences: {{podSecurity: {{enabled: false}}}}\n"),
        &[],
    );
    assert!(!out.status.success());
    assert!(!stderr.contains("refusing to start"), "{stderr}");
}

#[test]
fn crd_prints_a_cluster_scoped_definition_with_short_names() {
    let mut command = previewd();
    command.arg("crd");
    let out = run(command, Duration::from_secs(20));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let docs = documents(&text(&out.stdout));
    assert_eq!(docs.len(), 1);
    let crd = &docs[0];
    assert_eq!(crd["apiVersion"], "apiextensions.k8s.io/v1");
    assert_eq!(crd["kind"], "CustomResourceDefinition");
    assert_eq!(crd["metadata"]["name"], "previewenvironments.previewd.dev");
    assert_eq!(crd["spec"]["scope"], "Cluster");
    let short: Vec<&str> = crd["spec"]["names"]["shortNames"]
        .as_array()
        .expect("shortNames")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(short.contains(&"previews"), "{short:?}");
}

#[test]
fn version_prints_name_and_version() {
    let mut command = previewd();
    command.arg("--version");
    let out = run(command, Duration::from_secs(20));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout).trim_end(), "previewd 0.1.0");
}

#[test]
fn serve_takes_a_token_or_a_github_app_and_says_what_is_missing() {
    let cargo_toml = Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml");
    let cargo_toml = cargo_toml.to_string_lossy();
    let cases: [(&[(&str, &str)], &str); 4] = [
        (
            &[("PREVIEWD_GITHUB_APP_ID", "5")],
            "both a GitHub token and a GitHub App are set",
        ),
        (
            &[
                ("PREVIEWD_GITHUB_TOKEN", ""),
                ("PREVIEWD_GITHUB_APP_ID", "5"),
            ],
            "a GitHub App needs both --github-app-id and --github-app-private-key-file",
        ),
        (&[("PREVIEWD_GITHUB_TOKEN", "")], "no GitHub credentials"),
        (
            &[
                ("PREVIEWD_GITHUB_TOKEN", ""),
                ("PREVIEWD_GITHUB_APP_ID", "5"),
                ("PREVIEWD_GITHUB_APP_PRIVATE_KEY_FILE", &cargo_toml),
            ],
            "the GitHub App's private key is not a PEM private key",
        ),
    ];
    for (extra, says) in cases {
        let (out, stderr) = serve_with("repositories: [{name: octo-org/web}]\n", extra);
        assert!(!out.status.success(), "{extra:?} started");
        assert!(stderr.contains(says), "{extra:?}: {stderr}");
    }
}

#[test]
fn polling_makes_the_webhook_secret_optional_and_needs_a_resync() {
    const SERVED: &str = "repositories: [{name: octo-org/web}]\n";
    let (out, stderr) = serve_with(
        SERVED,
        &[("PREVIEWD_POLLING", "true"), ("PREVIEWD_RESYNC_SECS", "0")],
    );
    assert!(!out.status.success());
    assert!(stderr.contains("set --resync-secs above 0"), "{stderr}");
    let (out, stderr) = serve_with(
        SERVED,
        &[
            ("PREVIEWD_POLLING", "true"),
            ("PREVIEWD_WEBHOOK_SECRET", ""),
        ],
    );
    // It goes on to the cluster, which this test does not have.
    assert!(!out.status.success());
    assert!(!stderr.contains("--webhook-secret"), "{stderr}");
    let (_, stderr) = serve_with(SERVED, &[("PREVIEWD_WEBHOOK_SECRET", "")]);
    assert!(stderr.contains("--webhook-secret"), "{stderr}");
}

/// Each object's (kind, name).
fn kinds_and_names(objects: &[serde_json::Value]) -> Vec<(&str, &str)> {
    objects
        .iter()
        .map(|o| {
            (
                o["kind"].as_str().unwrap_or(""),
                o["metadata"]["name"].as_str().unwrap_or(""),
            )
        })
        .collect()
}

#[test]
fn render_takes_the_preview_a_repository_defines() {
    let mut command = previewd();
    render_args(&mut command, "A title").args(["--repo-dir", "examples/app-repo"]);
    let out = run(command, Duration::from_secs(20));
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        stdout.contains("# Source: templates/api.yaml\n"),
        "{stdout}"
    );
    let objects = documents(&stdout);
    assert_eq!(
        kinds_and_names(&objects),
        [("Deployment", "api"), ("ConfigMap", "api-settings")]
    );
    let image = &objects[0]["spec"]["template"]["spec"]["containers"][0]["image"];
    // The definition's values win over the operator's for the repository.
    assert_eq!(image, &format!("ghcr.io/codertocat/hello-world:{SHA}"));
    assert_eq!(objects[1]["data"]["QUEUE_NAME"], "previews-pr-2");
}

#[cfg(unix)]
#[test]
fn render_refuses_a_definition_that_links_out_of_its_directory() {
    let repo = temp_dir("linked");
    let templates = repo.join(".preview/templates");
    std::fs::create_dir_all(&templates).unwrap();
    std::fs::write(repo.join(".preview/preview.yaml"), "source: handlebars\n").unwrap();
    std::os::unix::fs::symlink("/etc/hostname", templates.join("host.yaml")).unwrap();
    let mut command = previewd();
    render_args(&mut command, "A title").args(["--repo-dir".as_ref(), repo.as_os_str()]);
    let out = run(command, Duration::from_secs(20));
    let _ = std::fs::remove_dir_all(&repo);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "stderr: {stderr}");
    assert!(
        stderr.contains("templates/host.yaml: a symbolic link is refused"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty());
}

/// The pinned `tool` (helm, kustomize) the test cluster's build made (`scripts/cluster.sh env`
/// names its folder).
fn pinned(tool: &str) -> std::path::PathBuf {
    let bin = std::env::var_os("PREVIEWD_CLUSTER_BIN").expect(
        "PREVIEWD_CLUSTER_BIN is not set: run eval \"$(scripts/cluster.sh env)\" (scripts/test.sh does)",
    );
    std::path::PathBuf::from(bin).join(tool)
}

#[test]
fn render_takes_the_preview_a_repository_s_helm_chart_defines() {
    let scratch = std::env::temp_dir().join(format!("previewd-cli-scratch-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).unwrap();
    let mut command = previewd();
    render_args(&mut command, "A title")
        .args(["--repo-dir", "examples/helm-app", "--helm"])
        .arg(pinned("helm"))
        .arg("--scratch-dir")
        .arg(&scratch);
    let out = run(command, Duration::from_secs(30));
    let left = std::fs::read_dir(&scratch).unwrap().count();
    let _ = std::fs::remove_dir_all(&scratch);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(left, 0, "the render's scratch directory is removed");
    let objects = documents(&stdout);
    // No hook (the migration Job) and no chart test (the smoke Pod).
    assert_eq!(
        kinds_and_names(&objects),
        [
            ("Service", "shop-web"),
            ("Deployment", "shop-web"),
            ("Ingress", "shop-web")
        ]
    );
    assert!(
        stdout.contains("# Source: .preview/chart/templates/deployment.yaml\n"),
        "{stdout}"
    );
    let deployment = &objects[1];
    assert_eq!(
        deployment["spec"]["replicas"], 1,
        "preview.yaml over values.yaml"
    );
    let container = &deployment["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(
        container["image"],
        format!("ghcr.io/codertocat/hello-world:{SHA}")
    );
    let namespace = deployment["metadata"]["namespace"].as_str().unwrap();
    assert_eq!(
        objects[2]["spec"]["rules"][0]["host"],
        format!("{namespace}.preview.example.com")
    );
    assert_eq!(
        deployment["metadata"]["labels"]["app.kubernetes.io/managed-by"],
        "previewd"
    );
}

#[test]
fn render_takes_the_preview_a_repository_s_kustomize_overlay_defines() {
    let mut command = previewd();
    render_args(&mut command, "A title")
        .args(["--repo-dir", "examples/kustomize-app", "--kustomize"])
        .arg(pinned("kustomize"));
    let out = run(command, Duration::from_secs(30));
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let objects = documents(&stdout);
    assert_eq!(
        kinds_and_names(&objects),
        [
            ("ConfigMap", "preview"),
            ("Service", "web"),
            ("Deployment", "web"),
            ("Ingress", "web")
        ]
    );
    assert!(
        stdout.contains("# Source: .preview/base/deployment.yaml\n"),
        "{stdout}"
    );
    let namespace = objects[0]["metadata"]["namespace"].as_str().unwrap();
    let host = format!("{namespace}.preview.example.com");
    assert_eq!(objects[0]["data"]["sha"], SHA);
    assert_eq!(objects[0]["data"]["host"], host);
    let deployment = &objects[2];
    assert_eq!(deployment["spec"]["replicas"], 1, "the overlay's patch");
    let container = &deployment["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(
        container["image"],
        format!("ghcr.io/codertocat/hello-world:{SHA}")
    );
    assert_eq!(container["env"][0]["value"], format!("https://{host}"));
    assert_eq!(objects[3]["spec"]["rules"][0]["host"], host);
    assert!(
        deployment["metadata"].get("annotations").is_none(),
        "the origin annotation is not applied"
    );
}

#[test]
fn render_checks_the_copies_a_definition_asks_for_against_the_offer() {
    let repo = temp_dir("copies");
    let templates = repo.join(".preview/templates");
    std::fs::create_dir_all(&templates).unwrap();
    std::fs::write(
        templates.join("settings.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\n",
    )
    .unwrap();
    let config = write_config(
        &repo,
        "repositories:\n  - name: Codertocat/Hello-World\n    definedInRepository: true\n    copySecrets: [{from: sources/registry, name: pull, imagePull: true}]\n    copyableSecrets: [sources/db]\n",
    );
    let render = |asked: &str| {
        std::fs::write(
            repo.join(".preview/preview.yaml"),
            format!("source: handlebars\ncopySecrets: [{{from: {asked}, name: database}}]\n"),
        )
        .unwrap();
        let mut command = previewd();
        command.args(["render", "--repo", "Codertocat/Hello-World", "--pr", "2"]);
        command.args(["--sha", SHA]).arg("--config").arg(&config);
        command.args(["--repo-dir".as_ref(), repo.as_os_str()]);
        run(command, Duration::from_secs(20))
    };
    let offered = render("sources/db");
    let refused = render("sources/other");
    let _ = std::fs::remove_dir_all(&repo);

    let stderr = text(&offered.stderr);
    assert!(offered.status.success(), "stderr: {stderr}");
    assert_eq!(
        stderr.lines().collect::<Vec<_>>(),
        [
            "Secret pull from sources/registry (previewd configuration): copied when deployed",
            "Secret database from sources/db (.preview/preview.yaml): copied when deployed",
        ]
    );
    assert_eq!(documents(&text(&offered.stdout)).len(), 1);

    let stderr = text(&refused.stderr);
    assert_eq!(refused.status.code(), Some(1), "stderr: {stderr}");
    assert_eq!(
        stderr.trim_end(),
        "previewd: .preview/preview.yaml: copySecrets: the source sources/other is not among those the operator offers definitions (copyableSecrets)"
    );
    assert!(refused.stdout.is_empty());
}
