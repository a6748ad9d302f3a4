//! Upstream renderers (`helm template`, `kustomize build`) run on a repository's definition, which is untrusted
//! input: each run in a scratch directory of its own, removed afterwards, with an empty
//! environment (no credentials, no kubeconfig, no in-cluster configuration, HTTP through a proxy
//! that refuses every connection), a time bound, a memory bound (the data segment, which is where
//! a Go program's heap lives) and a bound on what it prints.

use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;

pub mod chart_repository;
pub mod helm;
mod kept;
pub mod kustomize;
pub mod outputs;
mod run;
pub mod scratch;
pub mod source;

pub use source::Rendering;

/// The bounds of one renderer run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Wall-clock time before the renderer is killed.
    pub timeout: Duration,
    /// Bytes of data segment (heap) the renderer may hold.
    pub memory_bytes: u64,
    /// Bytes of output read from it; more is an error.
    pub output_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            timeout: crate::timing::RENDER_TIMEOUT,
            memory_bytes: 256 * 1024 * 1024,
            output_bytes: 8 * 1024 * 1024,
        }
    }
}

/// Where the renderers are and how they run.
#[derive(Clone, Debug)]
pub struct Renderers {
    /// The `helm` executable (a bare name is looked up in `PATH`).
    pub helm: PathBuf,
    /// The `kustomize` executable (a bare name is looked up in `PATH`).
    pub kustomize: PathBuf,
    /// The directory scratch directories are made in (writable; an emptyDir in the chart).
    pub scratch_root: PathBuf,
    /// The bounds of each run.
    pub limits: Limits,
    /// Runs at once (each may hold `limits.memory_bytes`); more wait their turn.
    pub at_once: Arc<Semaphore>,
    /// Charts of HTTP chart repositories, fetched and kept.
    pub chart_repositories: chart_repository::ChartRepositories,
    /// What renders printed, by their inputs.
    pub outputs: outputs::Outputs,
}

impl Default for Renderers {
    fn default() -> Self {
        Self {
            helm: PathBuf::from("helm"),
            kustomize: PathBuf::from("kustomize"),
            scratch_root: std::env::temp_dir(),
            limits: Limits::default(),
            at_once: Arc::new(Semaphore::new(1)),
            chart_repositories: chart_repository::ChartRepositories::default(),
            outputs: outputs::Outputs::default(),
        }
    }
}

impl Renderers {
    /// Waits for a turn to run `what` and makes its scratch directory; the turn ends when the
    /// permit is dropped.
    async fn begin(
        &self,
        what: &str,
    ) -> Result<(tokio::sync::SemaphorePermit<'_>, scratch::Scratch), String> {
        let turn = self
            .at_once
            .acquire()
            .await
            .map_err(|_| format!("{what}: previewd is stopping"))?;
        Ok((turn, scratch::Scratch::new(&self.scratch_root)?))
    }

    /// `program` as the renderer is started: a bare name is looked up in this process's `PATH`,
    /// since the renderer's environment has none.
    fn resolve(program: &std::path::Path) -> OsString {
        if program.components().count() > 1 {
            return program.as_os_str().to_owned();
        }
        std::env::var_os("PATH")
            .into_iter()
            .flat_map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
            .map(|dir| dir.join(program))
            .find(|candidate| candidate.is_file())
            .map_or_else(|| program.as_os_str().to_owned(), PathBuf::into_os_string)
    }
}
