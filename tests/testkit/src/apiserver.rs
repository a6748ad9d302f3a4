//! A second, empty kube-apiserver: the local cluster's binary, certificates and etcd, but its own
//! etcd key prefix, so it serves a cluster with nothing installed — no PreviewEnvironment CRD —
//! while the shared cluster (whose CRD other tests need) is left alone. Its etcd compaction is
//! off (compacting is the shared API server's job), and dropping it stops it and deletes every
//! key under its prefix.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use kube::config::{KubeConfigOptions, Kubeconfig};
use serde_json::Value;

use super::cluster::{kubeconfig_path, unique_name, wait_for};
use super::kubeconfig;

/// The running API server.
pub struct EmptyApiServer {
    child: Child,
    prefix: String,
    etcd: String,
    dir: PathBuf,
    /// `https://127.0.0.1:<port>`.
    pub(crate) url: String,
}

/// The local cluster's state directory (`scripts/cluster.sh env` sets `PREVIEWD_CLUSTER_DIR`;
/// the kubeconfig lives in it).
fn cluster_dir() -> PathBuf {
    match std::env::var_os("PREVIEWD_CLUSTER_DIR") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => kubeconfig_path()
            .parent()
            .expect("the kubeconfig's directory")
            .to_owned(),
    }
}

fn cluster_bin(name: &str) -> PathBuf {
    match std::env::var_os("PREVIEWD_CLUSTER_BIN") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir).join(name),
        _ => PathBuf::from(name),
    }
}

/// `http://127.0.0.1:<etcd client port>` from the state directory's `ports.env`.
fn etcd_url(dir: &std::path::Path) -> String {
    let ports = std::fs::read_to_string(dir.join("ports.env"))
        .unwrap_or_else(|e| panic!("{}/ports.env: {e}", dir.display()));
    let port = ports
        .lines()
        .find_map(|line| line.strip_prefix("etcd_port="))
        .unwrap_or_else(|| panic!("no etcd_port in {}/ports.env", dir.display()));
    format!("http://127.0.0.1:{}", port.trim())
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("local address").port()
}

impl EmptyApiServer {
    /// Starts it and waits until its `/readyz` says `ok`.
    pub async fn start() -> Self {
        let cluster = cluster_dir();
        let pki = cluster.join("pki");
        let port = free_port();
        let prefix = format!("/{}", unique_name("previewd-test-apiserver"));
        let dir = std::env::temp_dir().join(&prefix[1..]);
        std::fs::create_dir_all(&dir).expect("create apiserver dir");
        let log = std::fs::File::create(dir.join("kube-apiserver.log")).expect("create log");
        let etcd = etcd_url(&cluster);
        let file = |name: &str| pki.join(name).into_os_string();
        let flag = |name: &str, value: std::ffi::OsString| {
            let mut arg = std::ffi::OsString::from(format!("--{name}="));
            arg.push(value);
            arg
        };
        let args = [
            flag("etcd-servers", etcd.clone().into()),
            flag("etcd-prefix", prefix.clone().into()),
            flag("etcd-compaction-interval", "0".into()),
            flag("bind-address", "127.0.0.1".into()),
            flag("secure-port", port.to_string().into()),
            flag("endpoint-reconciler-type", "none".into()),
            flag("tls-cert-file", file("apiserver.crt")),
            flag("tls-private-key-file", file("apiserver.key")),
            flag("client-ca-file", file("ca.crt")),
            flag("cert-dir", dir.clone().into_os_string()),
            flag(
                "service-account-issuer",
                "https://kubernetes.default.svc".into(),
            ),
            flag("service-account-key-file", file("sa.pub")),
            flag("service-account-signing-key-file", file("sa.key")),
            flag("service-cluster-ip-range", "10.96.0.0/16".into()),
            flag("authorization-mode", "RBAC".into()),
            flag("profiling", "false".into()),
        ];
        let child = Command::new(cluster_bin("kube-apiserver"))
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start kube-apiserver");
        let mut server = EmptyApiServer {
            child,
            prefix,
            etcd,
            dir,
            url: format!("https://127.0.0.1:{port}"),
        };
        server.wait_ready().await;
        server
    }

    /// The local cluster's admin kubeconfig, pointed at this server.
    pub fn kubeconfig(&self) -> Value {
        kubeconfig::with_server(kubeconfig::admin(), &self.url)
    }

    /// A client of this server for the local cluster's admin.
    pub async fn client(&self) -> kube::Client {
        let kubeconfig: Kubeconfig =
            serde_json::from_value(self.kubeconfig()).expect("a kubeconfig");
        let options = KubeConfigOptions::default();
        let config = kube::Config::from_custom_kubeconfig(kubeconfig, &options)
            .await
            .expect("a client config");
        kube::Client::try_from(config).expect("a client")
    }

    async fn wait_ready(&mut self) {
        let client = self.client().await;
        let what = format!("the empty kube-apiserver at {} to be ready", self.url);
        let log = self.dir.join("kube-apiserver.log");
        let child = &mut self.child;
        wait_for(&what, Duration::from_secs(60), || {
            if let Ok(Some(status)) = child.try_wait() {
                let said = std::fs::read_to_string(&log).unwrap_or_default();
                panic!("kube-apiserver exited ({status}):\n{said}");
            }
            let request = http::Request::get("/readyz")
                .body(Vec::new())
                .expect("a request");
            let client = client.clone();
            async move { client.request_text(request).await.is_ok_and(|r| r == "ok") }
        })
        .await;
    }
}

/// etcd's JSON gateway takes keys in base64 (which is how a `ByteString` serializes).
fn base64(text: &str) -> Value {
    serde_json::to_value(k8s_openapi::ByteString(text.as_bytes().to_vec())).expect("base64")
}

impl Drop for EmptyApiServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // Every key from "<prefix>/" up to (not including) "<prefix>0", '0' following '/'.
        let range = serde_json::json!({
            "key": base64(&format!("{}/", self.prefix)),
            "range_end": base64(&format!("{}0", self.prefix)),
        });
        let _ = Command::new("curl")
            .args(["-sS", "--max-time", "10", "-X", "POST"])
            .arg(format!("{}/v3/kv/deleterange", self.etcd))
            .args(["-d", &range.to_string()])
            .output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
