//! An HTTP chart repository on loopback: charts packaged with the pinned `helm package`, an
//! `index.yaml` naming each archive with its sha256 digest, served as files.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path as UrlPath, State};
use axum::http::StatusCode;
use axum::routing::get;

use crate::helm::helm;

/// The files a repository serves, by name.
type Served = Arc<Mutex<BTreeMap<String, Vec<u8>>>>;

/// A chart repository serving what it was given.
pub struct ChartRepository {
    /// Its URL (`http://127.0.0.1:<port>/charts`).
    pub url: String,
    files: Served,
    dir: PathBuf,
}

impl ChartRepository {
    /// Starts an empty repository.
    pub async fn start() -> Self {
        let files: Served = Arc::default();
        let app = Router::new()
            .route("/charts/{file}", get(serve))
            .with_state(files.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the chart repository");
        let url = format!("http://{}/charts", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        let dir = std::env::temp_dir().join(crate::cluster::unique_name("chart-repository"));
        std::fs::create_dir_all(&dir).expect("create the packaging dir");
        ChartRepository { url, files, dir }
    }

    /// Packages the chart `files` (path, text) named `name` at `version` and lists it in the
    /// index; `digest` replaces the archive's real digest in the index when given.
    pub fn publish(&self, name: &str, version: &str, files: &[(&str, &str)], digest: Option<&str>) {
        let source = self.dir.join(format!("{name}-{version}-source"));
        let _ = std::fs::remove_dir_all(&source);
        write_chart(&source, name, version, files);
        let out = helm(&[
            "package",
            source.to_str().unwrap(),
            "-d",
            self.dir.to_str().unwrap(),
        ]);
        assert!(
            out.status.success(),
            "helm package: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let archive_name = format!("{name}-{version}.tgz");
        let archive = std::fs::read(self.dir.join(&archive_name)).expect("the packaged chart");
        let real = hex::encode(ring::digest::digest(&ring::digest::SHA256, &archive));
        let digest = digest.unwrap_or(&real).to_owned();
        let mut files = self.files.lock().unwrap();
        files.insert(archive_name.clone(), archive);
        let mut index: serde_json::Value = files
            .get("index.yaml")
            .and_then(|i| serde_yaml_ng::from_slice(i).ok())
            .unwrap_or_else(|| serde_json::json!({"apiVersion": "v1", "entries": {}}));
        let entries = index["entries"]
            .as_object_mut()
            .unwrap()
            .entry(name)
            .or_insert_with(|| serde_json::json!([]));
        entries.as_array_mut().unwrap().push(serde_json::json!({
            "apiVersion": "v2", "name": name, "version": version,
            "urls": [archive_name], "digest": digest,
        }));
        let text = serde_yaml_ng::to_string(&index).unwrap();
        files.insert("index.yaml".into(), text.into_bytes());
    }
}

fn write_chart(dir: &Path, name: &str, version: &str, files: &[(&str, &str)]) {
    std::fs::create_dir_all(dir.join("templates")).unwrap();
    std::fs::write(
        dir.join("Chart.yaml"),
        format!("apiVersion: v2\nname: {name}\nversion: {version}\n"),
    )
    .unwrap();
    for (path, text) in files {
        let target = dir.join(path);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::write(target, text).unwrap();
    }
}

async fn serve(
    State(files): State<Served>,
    UrlPath(file): UrlPath<String>,
) -> Result<Vec<u8>, StatusCode> {
    files
        .lock()
        .unwrap()
        .get(&file)
        .cloned()
        .ok_or(StatusCode::NOT_FOUND)
}
