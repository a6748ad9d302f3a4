//! The domain: the PreviewEnvironment resource, the names and labels derived from a pull request,
//! and the values every other layer passes around. Depends on no other folder of previewd.

pub mod checks;
pub mod command;
pub mod crd;
pub(crate) mod duration;
pub mod event;
pub mod labels;
pub(crate) mod markdown;
pub mod names;
pub mod outbox;
pub mod pull;
pub(crate) mod time;
