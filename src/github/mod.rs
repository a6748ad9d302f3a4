//! Everything that speaks GitHub: webhooks in, REST calls out.

pub mod app_key;
pub mod auth;
pub mod branches;
pub mod checks;
pub mod client;
pub(crate) mod command;
pub mod comment;
pub(crate) mod comment_feed;
pub(crate) mod conditional;
pub mod definition;
pub(crate) mod deployments;
pub(crate) mod edits;
pub mod installations;
pub(crate) mod listing;
pub(crate) mod owners;
pub mod permissions;
pub(crate) mod pull;
pub(crate) mod ratelimit;
pub(crate) mod repositories;
pub(crate) mod transport;
pub mod webhook;
