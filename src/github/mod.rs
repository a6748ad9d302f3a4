//! Everything that speaks GitHub: webhooks in, REST calls out.

pub mod client;
pub mod command;
pub mod comment;
pub mod listing;
pub mod permissions;
pub mod webhook;
