//! Pure decisions, no I/O: what an event means for the desired state, whether a preview may run
//! and when, what a command does, when a preview expires and whether its workloads are ready.

pub(crate) mod admission;
pub(crate) mod checks;
pub(crate) mod command_limits;
pub(crate) mod comment_cursor;
pub(crate) mod deployment;
pub(crate) mod effect;
pub(crate) mod expiry;
pub(crate) mod gate;
pub(crate) mod intent;
pub(crate) mod outbox;
pub(crate) mod plan;
pub(crate) mod queue;
pub mod readiness;
pub(crate) mod status;
