//! What the controller remembers of its own status writes, and whether its watch has brought
//! each back: a reconcile decides on its cached record when the cache holds this process's last
//! status write or something newer, instead of reading the record again.
//!
//! The watch delivers a record's versions in order, so once it has brought back the version
//! this process's last status write left, every cached version since is at least as new. A
//! record this process never wrote a status to is as fresh in the cache as a read would make it:
//! the cache was listed when this controller started, after any earlier leader stopped.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::model::crd::PreviewEnvironment;

/// What the controller remembers of its own writes.
#[derive(Default)]
pub struct OwnWrites {
    known: Mutex<Known>,
}

#[derive(Default)]
struct Known {
    /// Per record (by uid): the resourceVersion this process's last status write left, and
    /// whether the watch has brought that version back.
    written: HashMap<String, Written>,
    /// Some records' writes were forgotten (past `WRITES_REMEMBERED`): a record without an entry
    /// may have one unseen.
    forgot: bool,
}

struct Written {
    version: String,
    seen: bool,
}

/// Records whose last status write is remembered, at most (past it, all are forgotten: a
/// forgotten one is only read from the API server once more).
const WRITES_REMEMBERED: usize = 10_000;

impl OwnWrites {
    /// Notes that this process's status write left `written` at its resourceVersion.
    pub(crate) fn note_written(&self, written: &PreviewEnvironment) {
        let Some((uid, version)) = identity(written) else {
            return;
        };
        let mut known = self.known.lock().unwrap_or_else(|p| p.into_inner());
        if known.written.len() >= WRITES_REMEMBERED && !known.written.contains_key(uid) {
            known.written.clear();
            known.forgot = true;
        }
        let version = version.to_owned();
        let written = Written {
            version,
            seen: false,
        };
        known.written.insert(uid.to_owned(), written);
    }

    /// Notes that the watch brought `seen` (and put it in the cache).
    pub(crate) fn note_seen(&self, seen: &PreviewEnvironment) {
        let Some((uid, version)) = identity(seen) else {
            return;
        };
        let mut known = self.known.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(written) = known.written.get_mut(uid)
            && written.version == version
        {
            written.seen = true;
        }
    }

    /// Whether deciding on `cached` is deciding on what is stored as far as this process's own
    /// writes go: the cache holds its last status write to the record, or a later version, or
    /// it never wrote one.
    pub(crate) fn is_fresh(&self, cached: &PreviewEnvironment) -> bool {
        let Some((uid, version)) = identity(cached) else {
            return false;
        };
        let known = self.known.lock().unwrap_or_else(|p| p.into_inner());
        match known.written.get(uid) {
            Some(written) => written.seen || written.version == version,
            None => !known.forgot,
        }
    }
}

fn identity(pe: &PreviewEnvironment) -> Option<(&str, &str)> {
    let meta = &pe.metadata;
    Some((meta.uid.as_deref()?, meta.resource_version.as_deref()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(uid: &str, version: &str) -> PreviewEnvironment {
        let spec = crate::model::crd::PreviewEnvironmentSpec::deployed(Default::default());
        let mut pe = PreviewEnvironment::new("p", spec);
        pe.metadata.uid = Some(uid.into());
        pe.metadata.resource_version = Some(version.into());
        pe
    }

    #[test]
    fn the_cache_is_fresh_once_the_watch_brought_the_last_write_back() {
        let writes = OwnWrites::default();
        // Never written: the cache is as fresh as a read.
        assert!(writes.is_fresh(&record("a", "5")));
        writes.note_written(&record("a", "7"));
        // The cache still holds the version before the write.
        assert!(!writes.is_fresh(&record("a", "5")));
        // Exactly the write.
        assert!(writes.is_fresh(&record("a", "7")));
        // A later version (a spec change) before the watch brought the write back: unknown.
        assert!(!writes.is_fresh(&record("a", "9")));
        writes.note_seen(&record("a", "7"));
        assert!(writes.is_fresh(&record("a", "9")));
        // Another write, not yet back.
        writes.note_written(&record("a", "11"));
        assert!(!writes.is_fresh(&record("a", "9")));
        // Seeing some other version does not count.
        writes.note_seen(&record("a", "12"));
        assert!(!writes.is_fresh(&record("a", "13")));
        assert!(writes.is_fresh(&record("b", "1")));
    }

    #[test]
    fn once_writes_were_forgotten_a_record_without_one_is_read() {
        let writes = OwnWrites::default();
        for uid in 0..=WRITES_REMEMBERED {
            writes.note_written(&record(&uid.to_string(), "1"));
        }
        assert!(!writes.is_fresh(&record("0", "2")));
        assert!(writes.is_fresh(&record(&WRITES_REMEMBERED.to_string(), "1")));
    }
}
