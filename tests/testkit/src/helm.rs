//! The helm binary built with the local control plane, the chart in `charts/previewd`, and
//! releases that uninstall themselves.

use std::path::PathBuf;
use std::process::{Command, Output};

use serde_json::Value;

use super::cluster::unique_name;

/// `--set` values without which the chart does not install (it creates the Secret from them).
pub const CREDENTIALS: &str =
    "secret.webhookSecret=test-webhook-secret,secret.githubToken=test-token";

/// The chart's directory.
pub fn chart_dir() -> PathBuf {
    crate::repo_root().join("charts/previewd")
}

/// The helm binary: `$PREVIEWD_CLUSTER_BIN/helm` when set (`scripts/cluster.sh env` sets it),
/// else `helm` from PATH.
pub(crate) fn helm_path() -> PathBuf {
    match std::env::var_os("PREVIEWD_CLUSTER_BIN") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir).join("helm"),
        _ => PathBuf::from("helm"),
    }
}

/// Runs helm (against the cluster `KUBECONFIG` names), with its caches and settings in a scratch
/// directory, and returns its output whatever its exit status.
pub fn helm(args: &[&str]) -> Output {
    let home = std::env::temp_dir().join("previewd-helm-home");
    Command::new(helm_path())
        .args(args)
        .env("HELM_CACHE_HOME", home.join("cache"))
        .env("HELM_CONFIG_HOME", home.join("config"))
        .env("HELM_DATA_HOME", home.join("data"))
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", helm_path().display()))
}

/// Runs helm, panics unless it succeeded, returns its stdout.
pub(crate) fn helm_ok(args: &[&str]) -> String {
    let out = helm(args);
    assert!(
        out.status.success(),
        "helm {} failed ({}): {}",
        args.join(" "),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("helm output is UTF-8")
}

/// `--set <each>` arguments.
pub(crate) fn set_args<'a>(values: &[&'a str]) -> Vec<&'a str> {
    values.iter().flat_map(|v| ["--set", v]).collect()
}

/// The chart rendered with `helm template` (release `name` in `namespace`) as YAML text.
pub fn template(name: &str, namespace: &str, values: &[&str]) -> String {
    let chart = chart_dir();
    let mut args = vec!["template", name, chart.to_str().expect("UTF-8 path")];
    args.extend(["--namespace", namespace]);
    args.extend(set_args(values));
    helm_ok(&args)
}

/// Every object of rendered YAML text (empty documents left out).
pub fn objects(yaml: &str) -> Vec<Value> {
    serde_yaml_ng::Deserializer::from_str(yaml)
        .map(|doc| {
            serde::Deserialize::deserialize(doc)
                .unwrap_or_else(|e| panic!("rendered YAML does not parse: {e}\n{yaml}"))
        })
        .filter(|object: &Value| !object.is_null())
        .collect()
}

/// The object of `kind` named `name` among `objects`.
pub fn find<'a>(objects: &'a [Value], kind: &str, name: &str) -> &'a Value {
    objects
        .iter()
        .find(|o| o["kind"] == kind && o["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind} {name} among the rendered objects"))
}

/// A uniquely named release of the chart in one namespace; dropping it uninstalls it (the
/// ClusterRole and ClusterRoleBinding would outlive the namespace otherwise).
pub struct Release {
    pub name: String,
    pub(crate) namespace: String,
}

impl Release {
    /// A name for a release in `namespace`; nothing is installed yet.
    pub fn new(prefix: &str, namespace: &str) -> Self {
        Release {
            name: unique_name(prefix),
            namespace: namespace.to_owned(),
        }
    }

    /// `helm <verb> <release> charts/previewd --namespace <ns> [extra...] --set <values...>`.
    pub fn run(&self, verb: &str, extra: &[&str], values: &[&str]) -> Output {
        let chart = chart_dir();
        let mut args = vec![verb, &self.name, chart.to_str().expect("UTF-8 path")];
        args.extend(["--namespace", &self.namespace]);
        args.extend(extra);
        args.extend(set_args(values));
        helm(&args)
    }

    /// Runs [`Release::run`] and panics unless it succeeded; returns stdout.
    pub fn run_ok(&self, verb: &str, extra: &[&str], values: &[&str]) -> String {
        let out = self.run(verb, extra, values);
        assert!(
            out.status.success(),
            "helm {verb} {} failed ({}): {}",
            self.name,
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("helm output is UTF-8")
    }

    /// `helm uninstall --wait`; panics unless it succeeded; returns stdout.
    pub fn uninstall(&self) -> String {
        helm_ok(&[
            "uninstall",
            &self.name,
            "--namespace",
            &self.namespace,
            "--wait",
        ])
    }
}

impl Drop for Release {
    fn drop(&mut self) {
        let _ = helm(&[
            "uninstall",
            &self.name,
            "--namespace",
            &self.namespace,
            "--ignore-not-found",
        ]);
    }
}
