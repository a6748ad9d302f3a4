//! Building a preview's objects with no cluster: templates rendered for a pull request, the
//! fences of its namespace, the redeploy stamp.

pub mod fence_objects;
pub mod render;
pub mod restart;
pub mod templates;
