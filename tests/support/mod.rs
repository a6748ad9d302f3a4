//! Shared test support: the local control plane, the GitHub stand-in and real webhook payloads.
//! Each integration test file uses only part of it.
#![allow(dead_code)]
pub mod apiserver;
pub mod chaos;
pub mod chart_rbac;
pub mod cluster;
pub mod container;
pub mod convergence;
pub mod dockerfile;
pub mod elf;
pub mod github;
pub mod helm;
pub mod kubeconfig;
pub mod metrics;
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
