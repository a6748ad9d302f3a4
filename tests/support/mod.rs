//! Shared test support: the local control plane, the GitHub stand-in and real webhook payloads.
//! Each integration test file uses only part of it.
#![allow(dead_code)]
pub mod chart_rbac;
pub mod cluster;
pub mod github;
pub mod helm;
pub mod previewd;
pub mod scenario;
pub mod steering;
pub mod webhooks;
