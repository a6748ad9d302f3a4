//! Everything that speaks GitHub: webhooks in, REST calls out.

pub mod client;
pub mod command;
pub mod comment;
pub mod edits;
pub mod listing;
pub mod permissions;
pub mod pull;
pub mod ratelimit;
pub mod transport;
pub mod webhook;
