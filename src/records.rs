//! Every replica's own cache of its installation's records, kept by one watch and indexed by
//! (repository id, pull request): what a delivery is decided on first, so that one already
//! recorded is answered without a call to the API server, and a new one is created without
//! reading first. Standbys answer webhooks too, so each replica keeps its own.
//!
//! A cache may lag behind the API server; `record` stays right anyway. A write decided on a
//! cached record carries its resourceVersion, so the API server refuses it (409) when the
//! record moved meanwhile, and the delivery is decided again on a fresh read. A delivery that
//! changes nothing in the cached record changes nothing in a later one either: later states
//! come from newer deliveries, commands taken or GitHub's confirmed state, each of which the
//! delivery's older facts cannot undo (`rules::intent`).

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use futures::StreamExt;
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Client};
use tokio::sync::watch;

use crate::model::crd::PreviewEnvironment;
use crate::model::labels;
use crate::timing::RECORDS_LAG_FAILPOINT;

/// The lag `failpoint` asks for: `timing::RECORDS_LAG_FAILPOINT` for `records-lag`, else none.
pub fn lag_for(failpoint: Option<&str>) -> Duration {
    if failpoint == Some("records-lag") {
        RECORDS_LAG_FAILPOINT
    } else {
        Duration::ZERO
    }
}

/// Changes held at once while `lag` delays them.
const LAGGING_AT_ONCE: usize = 4096;

/// (repository id, pull request number).
type Key = (u64, u64);

/// What the cache knows of one pull request's record.
#[derive(Clone, Debug)]
pub(crate) enum Cached {
    /// The watch has not listed the records yet: ask the API server.
    Unknown,
    /// No record, as of the cache.
    Absent,
    /// The record, as of the cache.
    Found(Arc<PreviewEnvironment>),
}

#[derive(Default)]
struct Index {
    live: HashMap<Key, Arc<PreviewEnvironment>>,
    /// Filled during a (re)list, swapped in when it is complete.
    listing: HashMap<Key, Arc<PreviewEnvironment>>,
}

/// Leaves out `object`'s managed fields (much of a record's size, never read from a cache).
/// Unset rather than emptied: an object written back from a cache then keeps them.
pub(crate) fn without_managed_fields<K: kube::Resource>(object: &mut K) {
    object.meta_mut().managed_fields = None;
}

/// The cache; cheap to clone, every clone sees the same records.
#[derive(Clone, Default)]
pub struct Records {
    index: Arc<RwLock<Index>>,
    /// True once the watch has listed the records.
    listed: Arc<watch::Sender<bool>>,
}

impl Records {
    /// Watches `instance`'s records until the process ends. `lag` delays every change the
    /// watch brings (a fault injected by tests; zero otherwise).
    pub fn watch(client: Client, instance: &str, lag: Duration) -> Self {
        let records = Records::default();
        let api = Api::<PreviewEnvironment>::all(client);
        let selector = labels::instance_selector(instance);
        let events = watcher(api, watcher::Config::default().labels(&selector))
            .modify(without_managed_fields)
            .default_backoff();
        let kept = records.clone();
        // Each change is held `lag` from when it came, in order (not `lag` after the previous).
        let held = events
            .map(move |event| async move {
                if !lag.is_zero() {
                    tokio::time::sleep(lag).await;
                }
                event
            })
            .buffered(LAGGING_AT_ONCE);
        tokio::spawn(held.for_each(move |event| {
            match event {
                Ok(event) => kept.apply(event),
                Err(error) => tracing::warn!(%error, "watch of the records failed; retrying"),
            }
            futures::future::ready(())
        }));
        records
    }

    /// Applies one event of the watch.
    fn apply(&self, event: watcher::Event<PreviewEnvironment>) {
        let mut index = self.index.write().unwrap_or_else(|p| p.into_inner());
        let keyed = |pe: PreviewEnvironment| labels::record_key(&pe).map(|key| (key, Arc::new(pe)));
        match event {
            watcher::Event::Apply(pe) => {
                if let Some((key, pe)) = keyed(pe) {
                    index.live.insert(key, pe);
                }
            }
            watcher::Event::Delete(pe) => {
                if let Some((key, gone)) = keyed(pe) {
                    // Only if it is the same record (a newer one may stand under the key).
                    if index
                        .live
                        .get(&key)
                        .is_some_and(|pe| pe.metadata.uid == gone.metadata.uid)
                    {
                        index.live.remove(&key);
                    }
                }
            }
            watcher::Event::Init => index.listing.clear(),
            watcher::Event::InitApply(pe) => {
                if let Some((key, pe)) = keyed(pe) {
                    index.listing.insert(key, pe);
                }
            }
            watcher::Event::InitDone => {
                let listed = std::mem::take(&mut index.listing);
                index.live = listed;
                self.listed.send_replace(true);
            }
        }
    }

    /// The record of pull request `number` of repository `repository_id`, as of the cache.
    pub(crate) fn lookup(&self, repository_id: u64, number: u64) -> Cached {
        if !*self.listed.borrow() {
            return Cached::Unknown;
        }
        let index = self.index.read().unwrap_or_else(|p| p.into_inner());
        match index.live.get(&(repository_id, number)) {
            Some(pe) => Cached::Found(Arc::clone(pe)),
            None => Cached::Absent,
        }
    }

    /// The records of repository `repository_id`, as of the cache (`None` until it has listed
    /// them).
    pub(crate) fn of_repository(&self, repository_id: u64) -> Option<Vec<Arc<PreviewEnvironment>>> {
        if !*self.listed.borrow() {
            return None;
        }
        let index = self.index.read().unwrap_or_else(|p| p.into_inner());
        let found = index
            .live
            .iter()
            .filter(|((repository, _), _)| *repository == repository_id)
            .map(|(_, pe)| Arc::clone(pe))
            .collect();
        Some(found)
    }

    /// Every record, once the watch has listed them (waiting at most `wait`).
    pub async fn all(&self, wait: Duration) -> Option<Vec<Arc<PreviewEnvironment>>> {
        let mut listed = self.listed.subscribe();
        let ready = tokio::time::timeout(wait, listed.wait_for(|listed| *listed));
        if !matches!(ready.await, Ok(Ok(_))) {
            return None;
        }
        let index = self.index.read().unwrap_or_else(|p| p.into_inner());
        Some(index.live.values().cloned().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::crd::PreviewEnvironmentSpec;

    fn record(name: &str, uid: &str, repository_id: u64, number: u64) -> PreviewEnvironment {
        let mut pe =
            PreviewEnvironment::new(name, PreviewEnvironmentSpec::deployed(Default::default()));
        pe.metadata.labels = Some(labels::preview_labels("a", name, repository_id, number));
        pe.metadata.uid = Some(uid.into());
        pe
    }

    fn found(records: &Records, repository_id: u64, number: u64) -> Option<String> {
        match records.lookup(repository_id, number) {
            Cached::Found(pe) => pe.metadata.uid.clone(),
            Cached::Absent => None,
            Cached::Unknown => Some("unknown".into()),
        }
    }

    #[test]
    fn nothing_is_known_until_the_records_are_listed() {
        let records = Records::default();
        records.apply(watcher::Event::Init);
        records.apply(watcher::Event::InitApply(record("r-1", "u1", 9, 1)));
        assert_eq!(found(&records, 9, 1).as_deref(), Some("unknown"));
        records.apply(watcher::Event::InitDone);
        assert_eq!(found(&records, 9, 1).as_deref(), Some("u1"));
        assert_eq!(found(&records, 9, 2), None);
        assert_eq!(found(&records, 8, 1), None);
    }

    #[test]
    fn records_are_indexed_by_repository_and_pull_request_whatever_their_name() {
        let records = Records::default();
        records.apply(watcher::Event::Init);
        records.apply(watcher::Event::InitDone);
        records.apply(watcher::Event::Apply(record(
            "named-before-ids",
            "u1",
            9,
            1,
        )));
        records.apply(watcher::Event::Apply(record("r-9-2", "u2", 9, 2)));
        assert_eq!(found(&records, 9, 1).as_deref(), Some("u1"));
        assert_eq!(found(&records, 9, 2).as_deref(), Some("u2"));
        let mut unlabelled = record("by-hand", "u3", 9, 3);
        unlabelled.metadata.labels = None;
        records.apply(watcher::Event::Apply(unlabelled));
        assert_eq!(found(&records, 9, 3), None);
    }

    #[test]
    fn a_deletion_removes_only_the_record_it_names() {
        let records = Records::default();
        records.apply(watcher::Event::Init);
        records.apply(watcher::Event::InitDone);
        records.apply(watcher::Event::Apply(record("r-9-1", "new", 9, 1)));
        // The removal of an older record of the same pull request, seen late.
        records.apply(watcher::Event::Delete(record("r-9-1", "old", 9, 1)));
        assert_eq!(found(&records, 9, 1).as_deref(), Some("new"));
        records.apply(watcher::Event::Delete(record("r-9-1", "new", 9, 1)));
        assert_eq!(found(&records, 9, 1), None);
    }

    #[test]
    fn a_relist_replaces_everything_at_once_when_complete() {
        let records = Records::default();
        records.apply(watcher::Event::Init);
        records.apply(watcher::Event::InitApply(record("r-9-1", "u1", 9, 1)));
        records.apply(watcher::Event::InitDone);
        // The watch restarts: until the new list is complete the old one answers.
        records.apply(watcher::Event::Init);
        records.apply(watcher::Event::InitApply(record("r-9-2", "u2", 9, 2)));
        assert_eq!(found(&records, 9, 1).as_deref(), Some("u1"));
        assert_eq!(found(&records, 9, 2), None);
        records.apply(watcher::Event::InitDone);
        assert_eq!(found(&records, 9, 1), None, "gone while the watch was down");
        assert_eq!(found(&records, 9, 2).as_deref(), Some("u2"));
    }

    #[test]
    fn a_repository_s_records_are_found_once_listed() {
        let records = Records::default();
        assert!(records.of_repository(9).is_none());
        records.apply(watcher::Event::Init);
        records.apply(watcher::Event::InitApply(record("r-9-1", "u1", 9, 1)));
        records.apply(watcher::Event::InitApply(record("r-9-2", "u2", 9, 2)));
        records.apply(watcher::Event::InitApply(record("r-8-1", "u3", 8, 1)));
        records.apply(watcher::Event::InitDone);
        let mut uids: Vec<_> = records
            .of_repository(9)
            .unwrap()
            .iter()
            .filter_map(|pe| pe.metadata.uid.clone())
            .collect();
        uids.sort();
        assert_eq!(uids, ["u1", "u2"]);
    }

    #[tokio::test]
    async fn every_record_is_listed_once_known() {
        let records = Records::default();
        assert!(records.all(Duration::from_millis(10)).await.is_none());
        records.apply(watcher::Event::Init);
        records.apply(watcher::Event::InitApply(record("r-9-1", "u1", 9, 1)));
        records.apply(watcher::Event::InitDone);
        let all = records
            .all(Duration::from_millis(10))
            .await
            .expect("listed");
        assert_eq!(all.len(), 1);
    }

    #[test]
    fn only_the_records_lag_failpoint_delays_the_cache() {
        assert_eq!(lag_for(Some("records-lag")), RECORDS_LAG_FAILPOINT);
        assert_eq!(lag_for(Some("after-comment-create")), Duration::ZERO);
        assert_eq!(lag_for(None), Duration::ZERO);
    }
}
