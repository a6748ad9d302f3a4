//! The GitHub stand-in answers like GitHub: every successful body is validated against the
//! response schema of its operation in GitHub's own OpenAPI description (`@octokit/openapi`,
//! pinned in fixtures/), pagination, ETags, rate-limit headers and faults behave as documented,
//! and octocrab, previewd's client, parses what it returns.
//!
//! One module per concern in tests/github_standin/ (paths explicit: a test crate's root looks
//! for modules next to itself, where cargo would take them for test crates of their own).

#[path = "github_standin/accounts.rs"]
mod accounts;
#[path = "github_standin/clients.rs"]
mod clients;
#[path = "github_standin/comments.rs"]
mod comments;
#[path = "github_standin/faults.rs"]
mod faults;
#[path = "github_standin/http.rs"]
mod http;
#[path = "github_standin/log.rs"]
mod log;
#[path = "github_standin/permissions.rs"]
mod permissions;
#[path = "github_standin/pulls.rs"]
mod pulls;
#[path = "github_standin/reactions.rs"]
mod reactions;
#[path = "github_standin/schema.rs"]
mod schema;
