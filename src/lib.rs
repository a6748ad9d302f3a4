//! previewd: a live preview environment on Kubernetes for every GitHub pull request.

#![warn(unreachable_pub)]

pub mod build;
pub mod config;
pub mod controller;
pub mod github;
pub mod http;
pub mod intake;
pub mod leader;
pub(crate) mod metrics;
pub mod model;
pub mod ops;
pub mod records;
pub mod rules;
pub mod sandbox;
pub mod telemetry;
pub(crate) mod timing;
