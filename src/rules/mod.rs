//! Pure decisions, no I/O: what an event means for the desired state, whether a preview may run
//! and when, what a command does, when a preview expires and whether its workloads are ready.

pub mod admission;
pub mod effect;
pub mod expiry;
pub mod gate;
pub mod intent;
pub mod plan;
pub mod queue;
pub mod readiness;
pub mod status;
