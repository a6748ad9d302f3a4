//! What the controller remembers of its own status writes: a reconcile decides on its cached
//! record when that is exactly what its last status write left (same resourceVersion), instead
//! of reading it again.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::model::crd::PreviewEnvironment;

/// What the controller remembers of its own writes.
#[derive(Default)]
pub struct OwnWrites {
    /// The resourceVersion each record (by uid) had after this process's last status write.
    written: Mutex<HashMap<String, String>>,
}

/// Records whose last status write is remembered, at most (past it, all are forgotten: a
/// forgotten one is only read from the API server once more).
const WRITES_REMEMBERED: usize = 10_000;

impl OwnWrites {
    /// Notes that this process's status write left `written` at its resourceVersion.
    pub(crate) fn note_written(&self, written: &PreviewEnvironment) {
        let (Some(uid), Some(version)) = (
            written.metadata.uid.clone(),
            written.metadata.resource_version.clone(),
        ) else {
            return;
        };
        let mut known = self.written.lock().unwrap_or_else(|p| p.into_inner());
        if known.len() >= WRITES_REMEMBERED && !known.contains_key(&uid) {
            known.clear();
        }
        known.insert(uid, version);
    }

    /// Whether `cached` is the record exactly as this process's last status write left it:
    /// nothing was written to it since, so deciding on it is deciding on what is stored.
    pub(crate) fn is_as_last_written(&self, cached: &PreviewEnvironment) -> bool {
        let (Some(uid), Some(version)) = (&cached.metadata.uid, &cached.metadata.resource_version)
        else {
            return false;
        };
        let known = self.written.lock().unwrap_or_else(|p| p.into_inner());
        known.get(uid) == Some(version)
    }
}
