//! Runs the real previewd binary against the local control plane and a GitHub stand-in.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The webhook secret every test previewd is started with.
pub const SECRET: &str = "previewd-test-webhook-secret";

/// How to start previewd.
#[derive(Clone, Debug)]
pub struct Options {
    /// GitHub stand-in base URL.
    pub(crate) github_url: String,
    /// GitHub token.
    pub(crate) github_token: String,
    /// Acts as the stand-in's test App (`GitHub::register_app`) in place of the token.
    pub github_app: bool,
    /// The polling mode, with no webhook secret (set `resync_secs` too).
    pub polling: bool,
    /// Instance label value (unique per test, so tests never see each other's previews).
    pub instance: String,
    /// Repositories served.
    pub(crate) repositories: Vec<String>,
    /// Template files `(name, source)`; `None` uses the repository's `templates/`.
    pub templates: Option<Vec<(String, String)>>,
    /// Readiness bound.
    pub ready_timeout_secs: u64,
    /// Test-only crash point.
    pub failpoint: Option<String>,
    /// `maxPreviews` of the configuration file.
    pub max_previews: Option<usize>,
    /// Policy settings every repository entry gets (`label`, `ttl`, `maxPreviews`, ...).
    pub repository_settings: serde_json::Value,
    /// Seconds between resyncs (0: none, the default: most tests drive previewd by webhooks
    /// alone, with a stand-in that does not mirror every payload).
    pub resync_secs: u64,
    /// Which replica of the installation this is (0 for the first; replicas of one instance
    /// share its previews and elect one leader).
    pub replica: u32,
    /// More top-level settings of the configuration file (`fences`, `templateKinds`, ...).
    pub settings: serde_json::Value,
    /// The kubeconfig it runs with (`PREVIEWD_KUBECONFIG`); `None`: the test's own (the admin).
    /// Its context's namespace is previewd's own (its Lease and Events).
    pub kubeconfig: Option<PathBuf>,
    /// Runs as under the chart's admission policy (`PREVIEWD_ADMISSION_POLICY`), with the
    /// preview hosts' suffix `.preview.test`.
    pub admission_policy: bool,
    /// `(ClusterRole, ServiceAccount)`: previewd binds the chart's preview role to its own
    /// ServiceAccount in each preview namespace (`PREVIEWD_PREVIEW_ROLE`,
    /// `PREVIEWD_SERVICE_ACCOUNT`), as the chart sets it.
    pub read_binding: Option<(String, String)>,
    /// More environment variables (settings no other option covers).
    pub env: Vec<(String, String)>,
}

impl Options {
    /// Defaults for a test: a unique instance, one repository, the shipped templates.
    pub fn new(github_url: &str, repository: &str) -> Self {
        Options {
            github_url: github_url.to_owned(),
            github_token: "previewd-test-token".to_owned(),
            github_app: false,
            polling: false,
            instance: format!("t-{}", &uuid::Uuid::new_v4().simple().to_string()[..10]),
            repositories: vec![repository.to_owned()],
            templates: None,
            ready_timeout_secs: 120,
            failpoint: None,
            max_previews: None,
            repository_settings: serde_json::json!({}),
            resync_secs: 0,
            replica: 0,
            settings: serde_json::json!({}),
            kubeconfig: None,
            admission_policy: false,
            read_binding: None,
            env: Vec::new(),
        }
    }
}

/// A running previewd process.
pub struct Previewd {
    child: Option<Child>,
    options: Options,
    dir: PathBuf,
    /// Base URL of its HTTP server.
    pub url: String,
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("local address").port()
}

impl Previewd {
    /// Writes its configuration and templates, starts it and waits until it answers.
    pub async fn start(options: Options) -> Self {
        ensure_crd().await;
        let dir = std::env::temp_dir().join(format!(
            "previewd-test-{}-{}",
            options.instance, options.replica
        ));
        std::fs::create_dir_all(&dir).expect("create test dir");
        let scratch = dir.join("scratch");
        let _ = std::fs::remove_dir_all(&scratch);
        std::fs::create_dir_all(&scratch).expect("create the scratch dir");
        write_config(&dir, &options);
        let templates = match &options.templates {
            None => crate::repo_root().join("templates"),
            Some(files) => {
                let t = dir.join("templates");
                std::fs::create_dir_all(&t).expect("create templates dir");
                for (name, source) in files {
                    std::fs::write(t.join(name), source).expect("write template");
                }
                t
            }
        };
        std::fs::write(
            dir.join("templates-dir"),
            templates.to_string_lossy().as_bytes(),
        )
        .expect("note templates dir");
        let mut previewd = Previewd {
            child: None,
            options,
            dir,
            url: String::new(),
        };
        previewd.spawn().await;
        previewd
    }

    async fn spawn(&mut self) {
        let port = free_port();
        self.url = format!("http://127.0.0.1:{port}");
        let templates =
            std::fs::read_to_string(self.dir.join("templates-dir")).expect("templates dir");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("previewd.log"))
            .expect("open log");
        let mut command = Command::new(crate::previewd_binary());
        command
            .arg("serve")
            .env("PREVIEWD_LISTEN", format!("127.0.0.1:{port}"))
            .env("PREVIEWD_GITHUB_API_URL", &self.options.github_url)
            .env("PREVIEWD_GITHUB_TIMEOUT_SECS", "5")
            .env("PREVIEWD_TEMPLATES_DIR", templates.trim())
            .env("PREVIEWD_CONFIG", self.dir.join("config.yaml"))
            .env("PREVIEWD_SCRATCH_DIR", self.scratch_dir())
            .env("PREVIEWD_INSTANCE", &self.options.instance)
            .env("PREVIEWD_PREVIEW_HOST", "{{namespace}}.preview.test")
            .env(
                "PREVIEWD_READY_TIMEOUT_SECS",
                self.options.ready_timeout_secs.to_string(),
            )
            .env("PREVIEWD_TERMINATE_TIMEOUT_SECS", "120")
            .env("PREVIEWD_RESYNC_SECS", self.options.resync_secs.to_string())
            // A replica killed by a test hands over within 3 s.
            .env("PREVIEWD_LEASE_DURATION_SECS", "3")
            .env("PREVIEWD_LEASE_GRACE_SECS", "1")
            .env(
                "PREVIEWD_POD_NAME",
                format!("{}-{}", self.options.instance, self.options.replica),
            )
            .env(
                "RUST_LOG",
                std::env::var("PREVIEWD_TEST_RUST_LOG")
                    .unwrap_or_else(|_| "info,previewd=debug,kube=warn".to_owned()),
            )
            .env_remove("PREVIEWD_FAILPOINT")
            .stdout(Stdio::null())
            .stderr(log);
        if self.options.polling {
            command
                .env("PREVIEWD_POLLING", "true")
                .env_remove("PREVIEWD_WEBHOOK_SECRET");
        } else {
            command
                .env("PREVIEWD_WEBHOOK_SECRET", SECRET)
                .env_remove("PREVIEWD_POLLING");
        }
        if self.options.github_app {
            command
                .env_remove("PREVIEWD_GITHUB_TOKEN")
                .env(
                    "PREVIEWD_GITHUB_APP_ID",
                    crate::github::GitHub::APP_ID.to_string(),
                )
                .env(
                    "PREVIEWD_GITHUB_APP_PRIVATE_KEY_FILE",
                    crate::repo_root().join(crate::github::APP_KEY_FILE),
                );
        } else {
            command
                .env("PREVIEWD_GITHUB_TOKEN", &self.options.github_token)
                .env_remove("PREVIEWD_GITHUB_APP_ID")
                .env_remove("PREVIEWD_GITHUB_APP_PRIVATE_KEY_FILE");
        }
        if let Some(failpoint) = &self.options.failpoint {
            command.env("PREVIEWD_FAILPOINT", failpoint);
        }
        if self.options.admission_policy {
            command
                .env("PREVIEWD_ADMISSION_POLICY", "true")
                .env("PREVIEWD_PREVIEW_HOST_SUFFIX", ".preview.test");
        }
        if let Some((role, account)) = &self.options.read_binding {
            command
                .env("PREVIEWD_PREVIEW_ROLE", role)
                .env("PREVIEWD_SERVICE_ACCOUNT", account);
        }
        command.envs(self.options.env.iter().map(|(k, v)| (k, v)));
        match &self.options.kubeconfig {
            Some(kubeconfig) => command.env("PREVIEWD_KUBECONFIG", kubeconfig),
            None => command.env_remove("PREVIEWD_KUBECONFIG"),
        };
        self.child = Some(command.spawn().expect("start previewd"));
        let health = format!("{}/healthz", self.url);
        let client = reqwest::Client::new();
        for _ in 0..200 {
            if client
                .get(&health)
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
            {
                return;
            }
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                panic!("previewd exited at start ({status}):\n{}", self.logs());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("previewd did not answer on {health}:\n{}", self.logs());
    }

    /// The webhook endpoint.
    pub fn webhook_url(&self) -> String {
        format!("{}/webhooks/github", self.url)
    }

    /// Its instance label value.
    pub fn instance(&self) -> &str {
        &self.options.instance
    }

    /// The options it was started with.
    pub fn options(&self) -> &Options {
        &self.options
    }

    /// Kills it with SIGKILL (no chance to clean up) and waits until it is gone.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Sends SIGTERM and waits up to `timeout` for it to exit; returns its exit status, or
    /// `None` if it was still running then.
    pub async fn terminate(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        let pid = self.child.as_ref()?.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status();
        assert!(sent.is_ok_and(|s| s.success()), "kill -TERM {pid}");
        let deadline = tokio::time::Instant::now() + timeout;
        while tokio::time::Instant::now() < deadline {
            if let Some(status) = self.child.as_mut()?.try_wait().ok().flatten() {
                self.child = None;
                return Some(status);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        None
    }

    /// Waits for it to exit by itself (after a failpoint), up to `timeout`.
    pub async fn wait_exit(&mut self, timeout: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        while tokio::time::Instant::now() < deadline {
            if let Some(child) = self.child.as_mut()
                && child.try_wait().ok().flatten().is_some()
            {
                self.child = None;
                return true;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        false
    }

    /// Starts it again with the same settings, optionally changing the failpoint.
    pub async fn restart(&mut self, failpoint: Option<&str>) {
        self.kill();
        self.options.failpoint = failpoint.map(str::to_owned);
        self.spawn().await;
    }

    /// Replaces its template files with `files` `(name, source)` (nothing else is left in its
    /// templates directory) and restarts it, since templates are loaded at startup.
    pub async fn replace_templates(&mut self, files: Vec<(String, String)>) {
        self.kill();
        let t = self.dir.join("templates");
        if t.exists() {
            std::fs::remove_dir_all(&t).expect("remove old templates");
        }
        std::fs::create_dir_all(&t).expect("create templates dir");
        for (name, source) in &files {
            std::fs::write(t.join(name), source).expect("write template");
        }
        std::fs::write(
            self.dir.join("templates-dir"),
            t.to_string_lossy().as_bytes(),
        )
        .expect("note templates dir");
        self.options.templates = Some(files);
        self.spawn().await;
    }

    /// Replaces the extra settings of its configuration file and restarts it, since the
    /// configuration is read at startup.
    pub async fn reconfigure(&mut self, settings: serde_json::Value) {
        self.kill();
        self.options.settings = settings;
        write_config(&self.dir, &self.options);
        self.spawn().await;
    }

    /// Its resident memory now, in bytes (Linux's `VmRSS`).
    pub fn resident_bytes(&self) -> u64 {
        let pid = self.child.as_ref().expect("previewd runs").id();
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("read status");
        let kib: u64 = status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmRSS in /proc/<pid>/status");
        kib * 1024
    }

    /// Where its renders get their scratch directories.
    pub fn scratch_dir(&self) -> PathBuf {
        self.dir.join("scratch")
    }

    /// Its configuration file.
    pub fn config_file(&self) -> PathBuf {
        self.dir.join("config.yaml")
    }

    /// Everything it logged so far.
    pub fn logs(&self) -> String {
        std::fs::read_to_string(self.dir.join("previewd.log")).unwrap_or_default()
    }
}

impl Drop for Previewd {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Writes the configuration file of `options` into `dir`.
fn write_config(dir: &Path, options: &Options) {
    let repositories: Vec<_> = options
        .repositories
        .iter()
        .map(|r| {
            let mut entry = options.repository_settings.clone();
            entry["name"] = r.as_str().into();
            entry
        })
        .collect();
    let mut config = serde_json::json!({
        "repositories": repositories,
        "values": {"image": "registry.test/app", "replicas": 1, "port": 8080},
    });
    if let Some(cap) = options.max_previews {
        config["maxPreviews"] = cap.into();
    }
    if let (Some(config), Some(settings)) = (config.as_object_mut(), options.settings.as_object()) {
        config.extend(settings.clone());
    }
    std::fs::write(dir.join("config.yaml"), config.to_string()).expect("write config");
}

/// Installs the CRD that `previewd crd` prints (once per test binary) and waits until it is served.
pub async fn ensure_crd() {
    static DONE: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();
    DONE.get_or_init(|| async {
        let crd = Command::new(crate::previewd_binary())
            .arg("crd")
            .output()
            .expect("previewd crd");
        assert!(crd.status.success(), "previewd crd failed");
        let path = std::env::temp_dir().join(format!("previewd-crd-{}.yaml", std::process::id()));
        std::fs::write(&path, &crd.stdout).expect("write CRD");
        let path = path.to_string_lossy().into_owned();
        let applied =
            super::cluster::kubectl(&["apply", "--server-side", "--force-conflicts", "-f", &path]);
        let said = String::from_utf8_lossy(&applied.stderr);
        assert!(applied.status.success(), "kubectl apply CRD: {said}");
        // The API server warns about schema formats it does not know (`uint64`, say).
        assert!(
            !said.contains("Warning"),
            "kubectl apply of the CRD warned: {said}"
        );
        let established = super::cluster::kubectl(&[
            "wait",
            "--for=condition=Established",
            "--timeout=60s",
            "crd/previewenvironments.previewd.dev",
        ]);
        assert!(
            established.status.success(),
            "CRD not established: {}",
            String::from_utf8_lossy(&established.stderr)
        );
    })
    .await;
}
