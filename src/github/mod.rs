//! Everything that speaks GitHub: webhooks in, REST calls out.

pub mod webhook;
