//! Building a preview's objects with no cluster: templates rendered for a pull request, the
//! fences of its namespace, the redeploy stamp.

pub(crate) mod apply_order;
pub mod copies;
pub mod definition;
pub mod fence_objects;
pub(crate) mod network_fence;
pub mod render;
pub(crate) mod restart;
pub mod templates;
pub mod yaml_guard;

pub use fence_objects::ReadBinding;
