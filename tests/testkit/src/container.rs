//! The previewd container as `helm template` renders it, run as a local process: the image's
//! entrypoint and environment (from the Dockerfile) with the container's `args` and `env` over
//! them, `secretKeyRef`s read from the rendered Secret, `fieldRef`s to the pod's namespace (the
//! release's) and name (made up), and the rendered ConfigMaps written where the container mounts
//! them.
//!
//! What differs from the pod, and why:
//! - Mounts: there is no mount namespace here, so each mounted ConfigMap is written under a
//!   scratch root (`<root>/etc/previewd/config/previewd.yaml`), each emptyDir is a writable
//!   directory there, and every argument and variable naming a path under a mount point is
//!   rewritten to point there instead.
//! - `PREVIEWD_LISTEN` (`0.0.0.0:8080` in the pod, checked to be the port the probes use) becomes
//!   a free loopback port: tests share this machine.
//! - `PREVIEWD_KUBECONFIG` is added: outside a pod there is no in-cluster configuration, so each
//!   test gives the kubeconfig of the identity and API server it wants.
//! - HOME, TMPDIR and the working directory are empty scratch directories the process could write
//!   to (the pod's root filesystem is read-only), so a test can check that it wrote nothing.
//! - It runs as the user and group of the container's securityContext when the tests run as
//!   root, else as the tests' own user.
//! - The renderers the image ships (`PREVIEWD_HELM`, `PREVIEWD_KUSTOMIZE`) are the ones the test
//!   cluster's build made from the same pins (`PREVIEWD_CLUSTER_BIN`), copied next to previewd.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Container as Spec, EnvVar, Secret};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::cluster::unique_name;
use super::dockerfile::Image;

/// The container's name in the chart's Deployment.
pub(crate) const NAME: &str = "previewd";

/// The webhook secret `chart_values` sets.
pub const WEBHOOK_SECRET: &str = "container-test-secret";

/// `--set` values with which the chart renders a previewd that talks to the GitHub (stand-in) at
/// `github_url` with `token`.
pub fn chart_values(github_url: &str, token: &str) -> String {
    format!(
        "secret.webhookSecret=container-test-secret,secret.githubToken={token},\
         github.apiUrl={github_url},config.repositories[0].name=octo-org/web"
    )
}

/// What the pod would run, read from the rendered chart.
#[derive(Debug, Clone)]
pub struct Container {
    /// `args`.
    pub(crate) args: Vec<String>,
    /// `env`, resolved, in order.
    pub(crate) env: Vec<(String, String)>,
    /// Mount point → the files of the ConfigMap mounted there.
    pub(crate) mounts: BTreeMap<String, BTreeMap<String, String>>,
    /// The mount points of emptyDir volumes.
    pub empty_dirs: Vec<String>,
    /// The port the probes target.
    pub(crate) port: u16,
    /// The liveness probe's path.
    pub liveness: String,
    /// The readiness probe's path.
    pub readiness: String,
    /// `runAsUser` and `runAsGroup` (the container's securityContext over the pod's).
    pub run_as: (u32, u32),
    /// The pod's ServiceAccount.
    pub service_account: String,
}

fn typed<T: DeserializeOwned>(object: &Value) -> T {
    serde_json::from_value(object.clone()).unwrap_or_else(|e| panic!("{e}: {object}"))
}

fn rendered<T: DeserializeOwned>(objects: &[Value], kind: &str, name: &str) -> T {
    let object = objects
        .iter()
        .find(|o| o["kind"] == kind && o["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("the chart rendered no {kind} {name}"));
    typed(object)
}

fn resolve(var: &EnvVar, objects: &[Value], namespace: &str) -> String {
    let value = match (&var.value, &var.value_from) {
        (Some(value), None) => value.clone(),
        (None, None) => String::new(),
        (None, Some(from)) if from.field_ref.is_some() => {
            let path = from.field_ref.as_ref().map(|f| f.field_path.as_str());
            match path {
                Some("metadata.namespace") => namespace.to_owned(),
                Some("metadata.name") => format!("{NAME}-emulated-pod"),
                other => panic!("{}: fieldRef {other:?} is not emulated", var.name),
            }
        }
        (None, Some(from)) => {
            let key = from.secret_key_ref.as_ref().unwrap_or_else(|| {
                panic!(
                    "{}: only secretKeyRef and fieldRef are emulated: {from:?}",
                    var.name
                )
            });
            let secret: Secret = rendered(objects, "Secret", &key.name);
            let data = secret.data.unwrap_or_default();
            let bytes = &data
                .get(&key.key)
                .unwrap_or_else(|| panic!("Secret {} has no key {}", key.name, key.key))
                .0;
            String::from_utf8(bytes.clone()).expect("a UTF-8 secret")
        }
        (Some(_), Some(_)) => panic!("{}: both value and valueFrom", var.name),
    };
    assert!(
        !value.contains("$("),
        "{}: variable references are not emulated",
        var.name
    );
    value
}

fn probe_path(spec: &Spec, probe: &Option<k8s_openapi::api::core::v1::Probe>) -> (u16, String) {
    let get = probe
        .as_ref()
        .and_then(|p| p.http_get.as_ref())
        .unwrap_or_else(|| panic!("{}: a probe without httpGet", spec.name));
    let port = match &get.port {
        IntOrString::Int(port) => *port,
        IntOrString::String(name) => {
            spec.ports
                .iter()
                .flatten()
                .find(|p| p.name.as_deref() == Some(name.as_str()))
                .unwrap_or_else(|| panic!("no container port named {name}"))
                .container_port
        }
    };
    let path = get.path.clone().expect("a probe path");
    (u16::try_from(port).expect("a port"), path)
}

impl Container {
    /// The previewd container of the chart `objects` rendered for `namespace`.
    pub fn from_chart(objects: &[Value], namespace: &str) -> Self {
        let deployments: Vec<&Value> = objects
            .iter()
            .filter(|o| o["kind"] == "Deployment")
            .collect();
        assert_eq!(deployments.len(), 1, "the chart renders one Deployment");
        let deployment: Deployment = typed(deployments[0]);
        let pod = deployment
            .spec
            .and_then(|s| s.template.spec)
            .expect("a pod spec");
        let spec = pod
            .containers
            .iter()
            .find(|c| c.name == NAME)
            .unwrap_or_else(|| panic!("no container {NAME}"));
        assert!(
            spec.command.is_none(),
            "the chart overrides the image's ENTRYPOINT"
        );
        let env = spec
            .env
            .iter()
            .flatten()
            .map(|var| (var.name.clone(), resolve(var, objects, namespace)))
            .collect();
        let volumes = pod.volumes.unwrap_or_default();
        let mut mounts = BTreeMap::new();
        let mut empty_dirs = Vec::new();
        for mount in spec.volume_mounts.iter().flatten() {
            assert!(mount.sub_path.is_none(), "subPath is not emulated");
            let volume = volumes
                .iter()
                .find(|v| v.name == mount.name)
                .unwrap_or_else(|| panic!("no volume {}", mount.name));
            if volume.empty_dir.is_some() {
                empty_dirs.push(mount.mount_path.clone());
                continue;
            }
            let source = volume.config_map.as_ref().unwrap_or_else(|| {
                panic!(
                    "volume {}: only ConfigMaps and emptyDirs are emulated",
                    mount.name
                )
            });
            let config_map: ConfigMap = rendered(objects, "ConfigMap", &source.name);
            let files = config_map.data.unwrap_or_default().into_iter().collect();
            mounts.insert(mount.mount_path.clone(), files);
        }
        let (port, liveness) = probe_path(spec, &spec.liveness_probe);
        let (readiness_port, readiness) = probe_path(spec, &spec.readiness_probe);
        assert_eq!(port, readiness_port, "both probes ask the same port");
        let id = |container: Option<i64>, pod: Option<i64>, what: &str| {
            let id = container
                .or(pod)
                .unwrap_or_else(|| panic!("no securityContext {what}"));
            u32::try_from(id).unwrap_or_else(|_| panic!("{what} {id}"))
        };
        let (own, shared) = (
            spec.security_context.as_ref(),
            pod.security_context.as_ref(),
        );
        let run_as = (
            id(
                own.and_then(|c| c.run_as_user),
                shared.and_then(|p| p.run_as_user),
                "runAsUser",
            ),
            id(
                own.and_then(|c| c.run_as_group),
                shared.and_then(|p| p.run_as_group),
                "runAsGroup",
            ),
        );
        Container {
            args: spec.args.clone().unwrap_or_default(),
            env,
            mounts,
            empty_dirs,
            port,
            liveness,
            readiness,
            run_as,
            service_account: pod
                .service_account_name
                .clone()
                .expect("serviceAccountName"),
        }
    }

    /// The value of variable `name`.
    pub fn var(&self, name: &str) -> Option<&str> {
        self.env
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Writes each mounted ConfigMap's files under a new directory, at its mount point, and
    /// makes each emptyDir there, writable; returns that directory.
    fn write_mounts(&self, scratch: &Scratch) -> PathBuf {
        let root = scratch.dir("root", false);
        for mount in &self.empty_dirs {
            scratch.dir(&format!("root/{}", mount.trim_start_matches('/')), true);
        }
        for (mount, files) in &self.mounts {
            let dir = root.join(mount.trim_start_matches('/'));
            std::fs::create_dir_all(&dir).expect("create mount point");
            for (name, content) in files {
                std::fs::write(dir.join(name), content).expect("write mounted file");
            }
        }
        root
    }

    /// `value` under `root` when it is a path at or below a mount point, else unchanged.
    fn under_mounts(&self, root: &Path, value: &str) -> String {
        let mounted = self
            .mounts
            .keys()
            .chain(&self.empty_dirs)
            .any(|m| value == m || value.starts_with(&format!("{m}/")));
        if mounted {
            let path = root.join(value.trim_start_matches('/'));
            path.to_string_lossy().into_owned()
        } else {
            value.to_owned()
        }
    }

    /// Starts `binary` as the container runs `image`'s entrypoint, with `kubeconfig`, and waits
    /// until it answers its liveness probe.
    pub async fn start(&self, binary: &Path, image: &Image, kubeconfig: &Value) -> Running {
        let listen: SocketAddr = self
            .var("PREVIEWD_LISTEN")
            .expect("PREVIEWD_LISTEN")
            .parse()
            .expect("PREVIEWD_LISTEN is an address");
        assert_eq!(listen.port(), self.port, "previewd listens where probed");
        let scratch = Scratch::new(self.run_as);
        let root = self.write_mounts(&scratch);
        let in_root = |value: &str| self.under_mounts(&root, value);
        let port = free_port();
        // The container's variables replace the image's of the same name.
        let mut env: BTreeMap<String, String> =
            image.env.iter().chain(&self.env).cloned().collect();
        env.values_mut().for_each(|v| *v = in_root(v));
        env.insert("PREVIEWD_LISTEN".into(), format!("127.0.0.1:{port}"));
        let kubeconfig_file = scratch.private_file("kubeconfig", &kubeconfig.to_string());
        env.insert(
            "PREVIEWD_KUBECONFIG".into(),
            kubeconfig_file.to_string_lossy().into(),
        );
        let mut writable = ["home", "tmp", "work"]
            .map(|name| scratch.dir(name, true))
            .to_vec();
        writable.extend(
            self.empty_dirs
                .iter()
                .map(|mount| root.join(mount.trim_start_matches('/'))),
        );
        env.insert("HOME".into(), writable[0].to_string_lossy().into());
        env.insert("TMPDIR".into(), writable[1].to_string_lossy().into());
        let bin = scratch.dir("bin", false);
        let program = bin.join("previewd");
        std::fs::copy(binary, &program)
            .unwrap_or_else(|e| panic!("copy {}: {e}", binary.display()));
        for (variable, tool) in [
            ("PREVIEWD_HELM", "helm"),
            ("PREVIEWD_KUSTOMIZE", "kustomize"),
        ] {
            let pinned =
                std::env::var_os("PREVIEWD_CLUSTER_BIN").map(|d| PathBuf::from(d).join(tool));
            if let (true, Some(pinned)) = (env.contains_key(variable), pinned) {
                std::fs::copy(&pinned, bin.join(tool))
                    .unwrap_or_else(|e| panic!("copy {}: {e}", pinned.display()));
                env.insert(variable.into(), bin.join(tool).to_string_lossy().into());
            }
        }
        let log = std::fs::File::create(scratch.dir.join(LOG)).expect("create log");
        let mut command = Command::new(&program);
        command
            .args(image.entrypoint.iter().skip(1))
            .args(self.args.iter().map(|a| in_root(a)))
            .env_clear()
            .envs(&env)
            .current_dir(&writable[2])
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log);
        if let Some((uid, gid)) = scratch.owner {
            command.uid(uid).gid(gid);
        }
        let mut running = Running {
            child: command.spawn().expect("start previewd"),
            url: format!("http://127.0.0.1:{port}"),
            writable,
            as_user: scratch.owner.map(|(uid, _)| uid),
            scratch,
        };
        running.wait_live(&self.liveness).await;
        running
    }
}

/// A free loopback port (closed again before previewd binds it).
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("local address").port()
}

/// Whether this process runs as root (`/proc/self` belongs to the effective user).
fn is_root() -> bool {
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// The process's output, in its scratch directory.
const LOG: &str = "previewd.log";

/// A scratch directory, removed when dropped.
struct Scratch {
    dir: PathBuf,
    /// Who the process runs as, when not the tests' own user.
    owner: Option<(u32, u32)>,
}

impl Scratch {
    fn new(run_as: (u32, u32)) -> Self {
        let dir = std::env::temp_dir().join(unique_name("previewd-container"));
        std::fs::create_dir_all(&dir).expect("create scratch dir");
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        let owner = is_root().then_some(run_as);
        Scratch { dir, owner }
    }

    /// A new directory; `writable`: owned by the process's user.
    fn dir(&self, name: &str, writable: bool) -> PathBuf {
        let dir = self.dir.join(name);
        std::fs::create_dir_all(&dir).expect("create dir");
        if writable {
            self.give(&dir);
        }
        dir
    }

    /// A file only the process's user may read.
    fn private_file(&self, name: &str, content: &str) -> PathBuf {
        let path = self.dir.join(name);
        std::fs::write(&path, content).expect("write file");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        self.give(&path);
        path
    }

    fn give(&self, path: &Path) {
        if let Some((uid, gid)) = self.owner {
            std::os::unix::fs::chown(path, Some(uid), Some(gid)).expect("chown");
        }
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A running container process; dropping it kills it.
pub struct Running {
    child: Child,
    scratch: Scratch,
    writable: Vec<PathBuf>,
    /// The user id it was started as, when not the tests' own.
    pub as_user: Option<u32>,
    /// `http://127.0.0.1:<port>`.
    pub(crate) url: String,
}

impl Running {
    /// Where it takes GitHub's webhook deliveries.
    pub fn webhook_url(&self) -> String {
        format!("{}/webhooks/github", self.url)
    }

    /// `GET path`: the status code and the body.
    pub async fn get(&self, path: &str) -> Result<(u16, String), reqwest::Error> {
        let response = reqwest::get(format!("{}{path}", self.url)).await?;
        let status = response.status().as_u16();
        Ok((status, response.text().await?))
    }

    async fn wait_live(&mut self, path: &str) {
        for _ in 0..300 {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("previewd exited ({status}):\n{}", self.logs());
            }
            if let Ok((200, _)) = self.get(path).await {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("previewd did not answer {path}:\n{}", self.logs());
    }

    /// Polls `path` until its answer satisfies `expected` and returns the body; panics with the
    /// last answer and the logs after 30 s.
    pub async fn wait_answer(&self, path: &str, expected: impl Fn(u16, &str) -> bool) -> String {
        let mut last = None;
        for _ in 0..150 {
            let answer = self.get(path).await;
            if let Ok((status, body)) = &answer
                && expected(*status, body)
            {
                return body.clone();
            }
            last = Some(answer);
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        panic!(
            "{path} never answered as expected; last: {last:?}\n{}",
            self.logs()
        );
    }

    /// Every file and directory the process left in its HOME, TMPDIR, working directory or
    /// emptyDir volumes.
    pub fn written(&self) -> Vec<PathBuf> {
        let mut found = Vec::new();
        let mut queue = self.writable.clone();
        while let Some(dir) = queue.pop() {
            for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    queue.push(path.clone());
                }
                found.push(path);
            }
        }
        found
    }

    /// The user id the process runs as.
    pub fn uid(&self) -> u32 {
        let proc = format!("/proc/{}", self.child.id());
        std::fs::metadata(&proc)
            .unwrap_or_else(|e| panic!("{proc}: {e}"))
            .uid()
    }

    /// What it logged.
    pub fn logs(&self) -> String {
        std::fs::read_to_string(self.scratch.dir.join(LOG)).unwrap_or_default()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
