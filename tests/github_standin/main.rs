//! The GitHub stand-in answers like GitHub: every successful body is validated against the
//! response schema of its operation in GitHub's own OpenAPI description (`@octokit/openapi`,
//! pinned in fixtures/), pagination, ETags, rate-limit headers and faults behave as documented,
//! and octocrab, previewd's client, parses what it returns.
//!
//! One module per concern, in this folder.

mod accounts;
mod apps;
mod checks;
mod clients;
mod comments;
mod deployments;
mod faults;
mod git;
mod http;
mod log;
mod permissions;
mod pulls;
mod reactions;
mod repositories;
mod schema;
