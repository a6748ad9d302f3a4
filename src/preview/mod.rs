//! The preview itself: its resource, names, rendering, policy and the controller that runs it.

pub mod apply;
pub mod branches;
pub mod commands;
pub mod confirm;
pub mod controller;
pub mod crd;
pub mod deploy;
pub mod eligibility;
pub mod expiry;
pub mod intent;
pub mod kinds;
pub mod labels;
pub mod names;
pub mod orphans;
pub mod policy;
pub mod queue;
pub mod readiness;
pub mod render;
pub mod report;
pub mod restart;
pub mod resync;
pub mod rewrite;
pub mod slots;
pub mod store;
pub mod teardown;
pub mod templates;
