//! Everything that speaks GitHub: webhooks in, REST calls out.

pub mod client;
pub mod comment;
pub mod webhook;
