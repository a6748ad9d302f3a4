//! Shared test support: the local control plane, the GitHub stand-in and real webhook payloads.
//! Each integration test file uses only part of it.
#![allow(dead_code)]
pub mod cluster;
pub mod github;
pub mod helm;
pub mod metrics;
pub mod previewd;
pub mod scenario;
pub mod service_account;
pub mod steering;
pub mod webhooks;
