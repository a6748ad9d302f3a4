//! The git database: a tree (one level, or `recursive=1`) and a blob (base64), of the branches
//! set with `set_branch_files`.

use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use base64::Engine;
use serde_json::{Value, json};

use super::super::GitHub;
use super::{ApiError, ApiResult, query_param};
use crate::github::objects;

const DOC_TREES: &str = "https://docs.github.com/rest/git/trees";
const DOC_BLOBS: &str = "https://docs.github.com/rest/git/blobs";

/// `GET /repos/{owner}/{repo}/git/trees/{tree_sha}`.
pub(super) async fn tree(
    State(gh): State<GitHub>,
    Path((owner, repo, sha)): Path<(String, String, String)>,
    uri: Uri,
) -> ApiResult {
    let recursive = query_param(&uri, "recursive").is_some();
    gh.with(|s| {
        let (branch, dir) = s
            .tree_named(&owner, &repo, &sha)
            .ok_or(ApiError::not_found(DOC_TREES))?;
        let api = format!("{}/repos/{owner}/{repo}/git", s.urls.api);
        let prefix = if dir.is_empty() {
            String::new()
        } else {
            format!("{dir}/")
        };
        let mut entries: Vec<Value> = Vec::new();
        for sub in branch.dirs() {
            let Some(name) = sub.strip_prefix(prefix.as_str()).filter(|n| !n.is_empty()) else {
                continue;
            };
            if recursive || !name.contains('/') {
                let tree = branch.tree_sha(&sub);
                entries.push(json!({"path": name, "mode": "040000", "type": "tree", "sha": tree, "url": format!("{api}/trees/{tree}")}));
            }
        }
        for file in &branch.files {
            let Some(name) = file.path.strip_prefix(prefix.as_str()) else {
                continue;
            };
            if recursive || !name.contains('/') {
                let blob = file.blob_sha();
                entries.push(json!({"path": name, "mode": file.mode(), "type": "blob", "sha": blob, "size": file.content.len(), "url": format!("{api}/blobs/{blob}")}));
            }
        }
        entries.sort_by(|a, b| a["path"].as_str().cmp(&b["path"].as_str()));
        let body = json!({"sha": sha, "url": format!("{api}/trees/{sha}"), "tree": entries, "truncated": false});
        Ok(objects::json_response(StatusCode::OK, &body))
    })
}

/// `GET /repos/{owner}/{repo}/git/blobs/{file_sha}`.
pub(super) async fn blob(
    State(gh): State<GitHub>,
    Path((owner, repo, sha)): Path<(String, String, String)>,
) -> ApiResult {
    gh.with(|s| {
        let file = s
            .blob_named(&owner, &repo, &sha)
            .ok_or(ApiError::not_found(DOC_BLOBS))?;
        let content = base64::engine::general_purpose::STANDARD.encode(&file.content);
        let body = json!({
            "sha": sha,
            "node_id": format!("B_{}", &sha[..12]),
            "size": file.content.len(),
            "url": format!("{}/repos/{owner}/{repo}/git/blobs/{sha}", s.urls.api),
            "content": content,
            "encoding": "base64",
        });
        Ok(objects::json_response(StatusCode::OK, &body))
    })
}
