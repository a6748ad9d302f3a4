//! A scratch directory for one renderer run: made fresh (owner-only) under the scratch root,
//! filled with the definition's files (never a link: every file is created new), removed when
//! dropped.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::build::definition::Files;

/// Runs in this process so far, for unique names.
static MADE: AtomicU64 = AtomicU64::new(0);
/// What every scratch directory's name starts with.
const PREFIX: &str = "previewd-render-";

/// Removes the scratch directories a previous process left under `root` (killed mid-render:
/// the chart's emptyDir outlives a container restart). Run once at startup.
pub fn sweep(root: &Path) {
    let Ok(entries) = std::fs::read_dir(root) else {
        return;
    };
    for entry in entries.flatten() {
        let left = entry.file_name().to_string_lossy().starts_with(PREFIX);
        if left && entry.file_type().is_ok_and(|t| t.is_dir()) {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// A scratch directory, removed with everything in it when dropped.
pub(crate) struct Scratch {
    path: PathBuf,
}

impl Scratch {
    /// Makes a new directory under `root`.
    pub(crate) fn new(root: &Path) -> Result<Self, String> {
        let name = format!(
            "{PREFIX}{}-{}-{}",
            std::process::id(),
            MADE.fetch_add(1, Ordering::Relaxed),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.subsec_nanos())
        );
        let path = root.join(name);
        let mut builder = std::fs::DirBuilder::new();
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder
            .create(&path)
            .map_err(|e| format!("scratch directory {}: {e}", path.display()))?;
        Ok(Self { path })
    }

    /// Its path.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// A directory `name` inside it, made now.
    pub(crate) fn dir(&self, name: &str) -> Result<PathBuf, String> {
        let dir = self.path.join(name);
        std::fs::create_dir_all(&dir).map_err(|e| format!("scratch {name}: {e}"))?;
        Ok(dir)
    }

    /// Writes `files` under directory `name` (their paths were checked when they were read: no
    /// absolute path, no `..`).
    pub(crate) fn write_files(&self, name: &str, files: &Files) -> Result<PathBuf, String> {
        let dir = self.dir(name)?;
        for path in files.paths() {
            let target = dir.join(path);
            if let Some(parent) = target.parent() {
                std::fs::create_dir_all(parent).map_err(|e| format!("scratch {path}: {e}"))?;
            }
            self.write_new(&target, files.get(path).unwrap_or_default())?;
        }
        Ok(dir)
    }

    /// Writes `content` to the new file `target` (an existing file or link is an error).
    pub(crate) fn write_new(&self, target: &Path, content: &[u8]) -> Result<(), String> {
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(target)
            .and_then(|mut file| file.write_all(content))
            .map_err(|e| format!("scratch {}: {e}", self.shown(target)))
    }

    fn shown(&self, target: &Path) -> String {
        target
            .strip_prefix(&self.path)
            .unwrap_or(target)
            .display()
            .to_string()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if let Err(e) = std::fs::remove_dir_all(&self.path) {
            tracing::warn!(path = %self.path.display(), error = %e, "cannot remove a scratch directory");
        }
    }
}
