//! previewd: a live preview environment on Kubernetes for every GitHub pull request.

pub mod config;
pub mod duration;
pub mod github;
pub mod http;
pub mod leader;
pub mod metrics;
pub mod preview;
pub mod telemetry;
