//! Shared test support: the local control plane, the GitHub stand-in and real webhook payloads.
//! Each integration test file uses only part of it.
#![allow(dead_code)]
pub mod chaos;
pub mod cluster;
pub mod convergence;
pub mod github;
pub mod helm;
pub mod metrics;
pub mod plan;
pub mod play;
pub mod previewd;
pub mod scenario;
pub mod sentinel;
pub mod steering;
pub mod truth;
pub mod webhooks;
