//! previewd end to end on the local control plane (`scripts/cluster.sh up`), with the GitHub
//! stand-in and GitHub's real webhook payloads: one test binary, one module per concern, so the
//! tests of every module share the binary's threads (and its one CRD install) instead of each
//! file being a crate and a process of its own.
//!
//! Every test makes what it uses under unique names (its own previewd instance, repository,
//! namespaces, chart release) and removes it, so tests of different modules run side by side.
//! The one test that takes the shared control plane down, `tests/kube_faults.rs`, has a binary
//! of its own.
//!
//! Run: `scripts/test.sh --test e2e`, one module with `scripts/test.sh --test e2e lifecycle::`,
//! or `eval "$(scripts/cluster.sh env)" && cargo test --test e2e <filter>`.

mod chaos;
mod checks;
mod cli_verbs;
mod cluster_smoke;
mod command_flood;
mod commands;
mod container_image;
mod copies;
mod dashboard;
mod definitions;
mod definitions_helm;
mod definitions_kustomize;
mod deployments;
mod drift;
mod failures;
mod fences;
mod github_app;
mod github_policy;
mod helm_chart;
mod intake_bounds;
mod jobs;
mod least_privilege;
mod lifecycle;
mod network_fence;
mod operations;
mod outbox;
mod ownership;
mod policies;
mod polling;
mod readiness;
mod record_cache;
mod renames;
mod resync;
mod tombstones;
