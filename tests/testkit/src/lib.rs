//! previewd's test harness: the local control plane, the GitHub stand-in, GitHub's real
//! webhook payloads and the hostile text of the property tests. One crate of the workspace,
//! compiled once for every test binary and example of previewd that uses it (a
//! dev-dependency), and depending on previewd's library for its types.
//!
//! Items are `pub(crate)` unless a test or an example uses them, so the compiler reports dead
//! code.

#![warn(unreachable_pub)]

use std::path::{Path, PathBuf};

pub mod apiserver;
pub mod browser;
pub mod chaos;
pub mod chart_rbac;
pub mod chart_repository;
pub mod ci;
pub mod cluster;
pub mod container;
pub mod convergence;
pub mod copies;
pub mod dockerfile;
pub mod elf;
pub mod github;
pub mod helm;
pub mod hostile;
pub mod kubeconfig;
pub mod metrics;
pub mod network_policy;
pub mod plan;
pub mod play;
pub mod previewd;
pub mod rbac;
pub mod scenario;
pub mod sentinel;
pub mod service_account;
pub mod steering;
pub mod templates;
pub mod truth;
pub mod webhooks;

/// The repository's root directory (the testkit is `tests/testkit/` in it).
pub(crate) fn repo_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("the testkit lives in tests/testkit/")
}

/// The previewd binary cargo built for this test run. Cargo (1.94 and later) names it in
/// `CARGO_BIN_EXE_previewd` when it runs one of previewd's integration tests.
pub(crate) fn previewd_binary() -> PathBuf {
    std::env::var_os("CARGO_BIN_EXE_previewd")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            panic!(
                "CARGO_BIN_EXE_previewd is not set: run the tests with `cargo test` (1.94 or \
                 later), which builds previewd and names its binary there"
            )
        })
}
