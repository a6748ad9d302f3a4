//! What previewd learns from outside becomes desired state: deliveries and the resync record
//! PreviewEnvironments; the orphan sweep removes namespaces whose preview is gone.

pub mod allowlist;
pub(crate) mod base_moves;
pub(crate) mod comment_poll;
pub(crate) mod orphans;
pub mod record;
pub mod resync;
pub mod wake;
