//! A preview's definition on GitHub: the definition directory of a branch (`.preview/` of the
//! pull request's base), read with the git trees and blobs API, never the archive of the whole
//! repository. The branch is read conditionally (a `304` when it did not move); what a tree
//! holds is kept by the tree's SHA, so an unchanged definition is read once. Everything is
//! checked as it is read: no symbolic link, submodule, path leaving the directory, or more
//! than the limits allow.

use std::collections::HashMap;
use std::sync::Mutex;

use base64::Engine;
use serde::Deserialize;

use super::branches::Branches;
use super::client::{GitHub, GitHubError};
use super::transport::Call;
use crate::build::definition::{Files, MAX_FILE_BYTES, MAX_FILES, MAX_TOTAL_BYTES, check_path};
use crate::model::pull::Repository;

/// Definitions kept (by tree SHA) at most.
const DEFINITIONS_KEPT: usize = 256;

#[derive(Deserialize)]
struct TreeBody {
    tree: Vec<Entry>,
    #[serde(default)]
    truncated: bool,
}

#[derive(Deserialize)]
struct Entry {
    path: String,
    mode: String,
    #[serde(rename = "type")]
    kind: String,
    sha: String,
    #[serde(default)]
    size: Option<u64>,
}

#[derive(Deserialize)]
struct BlobBody {
    content: String,
    #[serde(default)]
    encoding: String,
}

/// What a branch's definition directory holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Fetched {
    /// The branch (or the directory on it) does not exist.
    Absent,
    /// Its files, at commit `commit`.
    Found {
        /// The branch's commit.
        commit: String,
        /// The files.
        files: Files,
    },
    /// It holds what previewd refuses; why, naming the file.
    Refused(String),
}

/// The definitions read, by tree SHA.
#[derive(Default)]
pub struct Definitions {
    trees: Mutex<HashMap<String, Result<Files, String>>>,
}

impl Definitions {
    fn kept(&self, tree: &str) -> Option<Result<Files, String>> {
        let trees = self.trees.lock().unwrap_or_else(|p| p.into_inner());
        trees.get(tree).cloned()
    }

    fn keep(&self, tree: &str, read: Result<Files, String>) {
        let mut trees = self.trees.lock().unwrap_or_else(|p| p.into_inner());
        if trees.len() >= DEFINITIONS_KEPT {
            trees.clear();
        }
        trees.insert(tree.to_owned(), read);
    }
}

impl GitHub {
    /// What directory `dir` of branch `branch` holds.
    pub(crate) async fn definition(
        &self,
        repository: &Repository,
        branch: &str,
        dir: &str,
        (memory, branches): (&Definitions, &Branches),
    ) -> Result<Fetched, GitHubError> {
        let Some(found) = self.branch(repository, branch, branches).await? else {
            return Ok(Fetched::Absent);
        };
        let head = found.commit;
        let mut tree = head.commit.tree.sha;
        for segment in dir.split('/').filter(|s| !s.is_empty()) {
            let listed = self.tree(repository, &tree, false).await?;
            let found = listed
                .tree
                .into_iter()
                .find(|e| e.path == segment && e.kind == "tree");
            match found {
                Some(entry) => tree = entry.sha,
                None => return Ok(Fetched::Absent),
            }
        }
        let files = match memory.kept(&tree) {
            Some(kept) => kept,
            None => {
                let read = self.files_of(repository, &tree).await?;
                memory.keep(&tree, read.clone());
                read
            }
        };
        Ok(match files {
            Ok(files) => Fetched::Found {
                commit: head.sha,
                files,
            },
            Err(why) => Fetched::Refused(why),
        })
    }

    async fn tree(
        &self,
        repository: &Repository,
        sha: &str,
        recursive: bool,
    ) -> Result<TreeBody, GitHubError> {
        let query = if recursive { "?recursive=1" } else { "" };
        let call = Call::get(
            "get a tree",
            "/repos/{owner}/{repo}/git/trees/{tree_sha}",
            format!("/git/trees/{sha}{query}"),
        )
        .within(repository);
        self.call(call).await
    }

    /// Every file of tree `sha` (recursively), or why it is refused.
    async fn files_of(
        &self,
        repository: &Repository,
        sha: &str,
    ) -> Result<Result<Files, String>, GitHubError> {
        let listed = self.tree(repository, sha, true).await?;
        if listed.truncated {
            return Ok(Err(format!("more than {MAX_FILES} files")));
        }
        let mut blobs = Vec::new();
        let mut total = 0u64;
        for entry in listed.tree {
            let refused = match (entry.kind.as_str(), entry.mode.as_str()) {
                ("tree", _) => continue,
                ("blob", "120000") => Some("a symbolic link is refused"),
                ("blob", _) => None,
                _ => Some("a submodule is refused"),
            };
            if let Some(why) = refused {
                return Ok(Err(format!("{}: {why}", entry.path)));
            }
            if let Err(why) = check_path(&entry.path) {
                return Ok(Err(why));
            }
            let size = entry.size.unwrap_or(0);
            total += size;
            if size > MAX_FILE_BYTES as u64 || total > MAX_TOTAL_BYTES as u64 {
                return Ok(Err(format!(
                    "{}: past the limits ({MAX_FILE_BYTES} bytes a file, {MAX_TOTAL_BYTES} in all)",
                    entry.path
                )));
            }
            blobs.push(entry);
        }
        if blobs.len() > MAX_FILES {
            return Ok(Err(format!("more than {MAX_FILES} files")));
        }
        let mut files = Files::default();
        for entry in blobs {
            let call = Call::get(
                "get a blob",
                "/repos/{owner}/{repo}/git/blobs/{file_sha}",
                format!("/git/blobs/{}", entry.sha),
            )
            .within(repository);
            let blob: BlobBody = self.call(call).await?;
            let content = match blob.encoding.as_str() {
                "base64" => base64::engine::general_purpose::STANDARD
                    .decode(blob.content.replace(['\n', '\r'], ""))
                    .map_err(|_| format!("{}: unreadable content", entry.path)),
                _ => Ok(blob.content.into_bytes()),
            };
            let added = content.and_then(|c| files.add(&entry.path, c));
            if let Err(why) = added {
                return Ok(Err(why));
            }
        }
        Ok(Ok(files))
    }
}
