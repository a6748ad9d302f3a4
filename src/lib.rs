//! previewd: a live preview environment on Kubernetes for every GitHub pull request.

pub mod github;
