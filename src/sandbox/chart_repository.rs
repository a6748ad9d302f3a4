//! Charts from an HTTP chart repository the operator allows, fetched by previewd itself (not by
//! helm, whose index may send it anywhere): the repository's `index.yaml`, the archive of the
//! exact version asked for, which must be under the repository's URL and match the index's
//! digest, each read within a size bound. Archives are kept by URL and digest.

use std::collections::HashMap;
use std::sync::Arc;

use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::kept::Kept;
use crate::build::definition::RemoteChart;

/// Bytes of an `index.yaml` read at most.
const MAX_INDEX_BYTES: usize = 8 * 1024 * 1024;
/// Bytes of a chart archive read at most.
const MAX_ARCHIVE_BYTES: usize = 2 * 1024 * 1024;
/// Archives kept at most; the older half goes when full.
const KEPT: usize = 64;

/// Fetches charts, keeping the archives it fetched.
#[derive(Clone, Debug)]
pub struct ChartRepositories {
    client: reqwest::Client,
    kept: Kept<String, Arc<Vec<u8>>>,
}

impl Default for ChartRepositories {
    fn default() -> Self {
        ChartRepositories {
            client: reqwest::Client::default(),
            kept: Kept::new(KEPT),
        }
    }
}

#[derive(Deserialize)]
struct Index {
    #[serde(default)]
    entries: HashMap<String, Vec<Entry>>,
}

#[derive(Deserialize)]
struct Entry {
    version: String,
    #[serde(default)]
    urls: Vec<String>,
    #[serde(default)]
    digest: Option<String>,
}

impl ChartRepositories {
    /// The archive (`.tgz`) of `chart`, or why it cannot be had.
    pub async fn archive(&self, chart: &RemoteChart) -> Result<Arc<Vec<u8>>, String> {
        let base = format!("{}/", chart.repository.trim_end_matches('/'));
        let shown = format!("chart {} {} from {base}", chart.name, chart.version);
        let index_text = self
            .get(&format!("{base}index.yaml"), MAX_INDEX_BYTES)
            .await?;
        let index: Index =
            serde_yaml_ng::from_slice(&index_text).map_err(|e| format!("{base}index.yaml: {e}"))?;
        let entry = index
            .entries
            .get(&chart.name)
            .into_iter()
            .flatten()
            .find(|e| e.version == chart.version)
            .ok_or_else(|| format!("{shown}: not in the repository's index"))?;
        let url = entry
            .urls
            .first()
            .ok_or_else(|| format!("{shown}: the index gives no URL"))?;
        let url = if url.contains("://") {
            url.clone()
        } else {
            format!("{base}{}", url.trim_start_matches("./"))
        };
        if !url.starts_with(&base) || url.contains("/../") {
            return Err(format!(
                "{shown}: the index sends it to {url}, outside the repository"
            ));
        }
        let digest = entry
            .digest
            .clone()
            .ok_or_else(|| format!("{shown}: the index gives no digest"))?;
        let key = format!("{url}@{digest}");
        if let Some(kept) = self.kept.get(&key) {
            return Ok(kept);
        }
        let archive = self.get(&url, MAX_ARCHIVE_BYTES).await?;
        let actual = hex::encode(Sha256::digest(&archive));
        if !actual.eq_ignore_ascii_case(&digest) {
            return Err(format!(
                "{shown}: the archive's sha256 is {actual}, the index says {digest}"
            ));
        }
        let archive = Arc::new(archive);
        self.kept.keep(key, archive.clone());
        Ok(archive)
    }

    /// The body at `url`, at most `cap` bytes.
    async fn get(&self, url: &str, cap: usize) -> Result<Vec<u8>, String> {
        let mut response = self
            .client
            .get(url)
            .timeout(crate::timing::CHART_FETCH_TIMEOUT)
            .send()
            .await
            .map_err(|e| format!("{url}: {e}"))?;
        if !response.status().is_success() {
            return Err(format!("{url}: HTTP {}", response.status()));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| format!("{url}: {e}"))? {
            body.extend_from_slice(&chunk);
            if body.len() > cap {
                return Err(format!("{url}: more than {cap} bytes"));
            }
        }
        Ok(body)
    }
}
