//! The files of a branch, as GitHub's git database serves them: the branch points at a commit,
//! the commit at a tree, trees at subtrees and blobs, each named by a SHA that changes with its
//! content. Set with `set_branch_files`; files may be symbolic links (mode `120000`).

use super::GitHub;
use super::objects::fake_sha;
use super::state::State;

/// A file of a branch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GitFile {
    /// Its path from the repository's root.
    pub path: String,
    /// Its content (a link's target, for a symbolic link).
    pub content: Vec<u8>,
    /// Whether it is a symbolic link.
    pub symlink: bool,
}

impl GitFile {
    /// A regular file.
    pub fn new(path: &str, content: &str) -> Self {
        GitFile {
            path: path.to_owned(),
            content: content.as_bytes().to_vec(),
            symlink: false,
        }
    }

    /// A symbolic link to `target`.
    pub fn link(path: &str, target: &str) -> Self {
        GitFile {
            symlink: true,
            ..GitFile::new(path, target)
        }
    }

    /// Its blob's SHA.
    pub(crate) fn blob_sha(&self) -> String {
        fake_sha(&format!("blob:{}", String::from_utf8_lossy(&self.content)))
    }

    /// Its mode, as git lists it.
    pub(crate) fn mode(&self) -> &'static str {
        if self.symlink { "120000" } else { "100644" }
    }
}

/// A branch's files and the commit they make.
#[derive(Clone, Debug)]
pub(crate) struct BranchFiles {
    pub(crate) owner: String,
    pub(crate) repo: String,
    pub(crate) branch: String,
    pub(crate) files: Vec<GitFile>,
}

impl BranchFiles {
    /// The commit the branch points at (changes with any file).
    pub(crate) fn commit_sha(&self) -> String {
        let listed: Vec<String> = self
            .files
            .iter()
            .map(|f| format!("{}:{}:{}", f.path, f.mode(), f.blob_sha()))
            .collect();
        fake_sha(&format!(
            "commit:{}/{}@{}:{}",
            self.owner,
            self.repo,
            self.branch,
            listed.join(",")
        ))
    }

    /// The tree of directory `dir` ("" for the root) at the branch's commit.
    pub(crate) fn tree_sha(&self, dir: &str) -> String {
        fake_sha(&format!("tree:{}:{dir}", self.commit_sha()))
    }

    /// Every directory that holds a file ("" for the root).
    pub(crate) fn dirs(&self) -> Vec<String> {
        let mut dirs = vec![String::new()];
        for file in &self.files {
            let mut at = String::new();
            for segment in file
                .path
                .split('/')
                .rev()
                .skip(1)
                .collect::<Vec<_>>()
                .iter()
                .rev()
            {
                at = if at.is_empty() {
                    (*segment).to_owned()
                } else {
                    format!("{at}/{segment}")
                };
                if !dirs.contains(&at) {
                    dirs.push(at.clone());
                }
            }
        }
        dirs
    }
}

impl State {
    /// The branch files of `owner/repo` whose tree `sha` names, and the directory it is.
    pub(crate) fn tree_named(
        &self,
        owner: &str,
        repo: &str,
        sha: &str,
    ) -> Option<(BranchFiles, String)> {
        self.branch_files
            .iter()
            .filter(|b| b.owner == owner && b.repo == repo)
            .find_map(|b| {
                b.dirs()
                    .into_iter()
                    .find(|dir| b.tree_sha(dir) == sha)
                    .map(|dir| (b.clone(), dir))
            })
    }

    /// The file of `owner/repo` (on any branch) whose blob `sha` names.
    pub(crate) fn blob_named(&self, owner: &str, repo: &str, sha: &str) -> Option<GitFile> {
        self.branch_files
            .iter()
            .filter(|b| b.owner == owner && b.repo == repo)
            .flat_map(|b| b.files.iter())
            .find(|f| f.blob_sha() == sha)
            .cloned()
    }

    /// The files of branch `branch`, if set.
    pub(crate) fn branch_files_of(
        &self,
        owner: &str,
        repo: &str,
        branch: &str,
    ) -> Option<&BranchFiles> {
        self.branch_files
            .iter()
            .find(|b| b.owner == owner && b.repo == repo && b.branch == branch)
    }
}

impl GitHub {
    /// The commit branch `branch` of `owner/repo` points at, if its files were set.
    pub fn branch_commit(&self, owner: &str, repo: &str, branch: &str) -> Option<String> {
        self.with(|s| {
            s.branch_files_of(owner, repo, branch)
                .map(BranchFiles::commit_sha)
        })
    }

    /// Branch `branch` of `owner/repo` now holds exactly `files` (a new commit).
    pub fn set_branch_files(&self, owner: &str, repo: &str, branch: &str, files: Vec<GitFile>) {
        self.with(|s| {
            s.branch_files
                .retain(|b| !(b.owner == owner && b.repo == repo && b.branch == branch));
            s.branch_files.push(BranchFiles {
                owner: owner.to_owned(),
                repo: repo.to_owned(),
                branch: branch.to_owned(),
                files,
            });
        });
    }
}
