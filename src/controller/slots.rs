//! The controller's view of the queue: its cache of previews, the previews it admitted that the
//! cache does not show deploying yet, and the wake-up of waiting previews when a slot frees.
//! Admission is serialized, so two previews never take the last slot at once.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use chrono::{DateTime, Utc};
use kube::ResourceExt;
use kube::runtime::reflector::{ObjectRef, Store};
use tokio::sync::mpsc;

use crate::config::{Allowlist, FileConfig};
use crate::model::crd::{Desired, PreviewEnvironment};
use crate::model::pull::Repository;
use crate::rules::queue::{Caps, Entry, Slot, slot};
use crate::rules::status::holds_deployment;

use crate::timing::CACHE_CATCH_UP;

use crate::timing::ADMITTED_FOR;

/// Previews admitted, with the resourceVersion they were admitted at, and when.
type Admitted = HashMap<String, (Option<String>, Instant)>;

/// Shared admission state.
pub struct Slots {
    store: Mutex<Option<Store<PreviewEnvironment>>>,
    admitted: Mutex<Admitted>,
    wake: mpsc::UnboundedSender<ObjectRef<PreviewEnvironment>>,
}

impl Slots {
    /// The state, and the stream of previews to reconcile when a slot frees.
    pub fn new() -> (Self, mpsc::UnboundedReceiver<ObjectRef<PreviewEnvironment>>) {
        let (wake, woken) = mpsc::unbounded_channel();
        let slots = Slots {
            store: Mutex::new(None),
            admitted: Mutex::new(HashMap::new()),
            wake,
        };
        (slots, woken)
    }

    /// Gives the controller's cache (before the first reconcile of each term as leader).
    pub(crate) fn attach(&self, store: Store<PreviewEnvironment>) {
        *self.store.lock().unwrap_or_else(|p| p.into_inner()) = Some(store);
    }

    /// The controller's cache, once attached.
    pub(crate) fn store(&self) -> Option<Store<PreviewEnvironment>> {
        self.store.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Whether `pe`, which holds no deployment and waits since `since`, may take a slot now; a
    /// preview that may is counted as deploying from this moment.
    pub(crate) async fn claim(
        &self,
        pe: &PreviewEnvironment,
        since: DateTime<Utc>,
        config: &FileConfig,
        allowlist: &Allowlist,
    ) -> Slot {
        let Some(store) = self.store() else {
            return Slot::Free;
        };
        if store.wait_until_ready().await.is_err() {
            return Slot::Free;
        }
        let of_repository = |repository: &Repository| {
            config
                .repository(allowlist, repository)
                .and_then(|r| r.max_previews)
        };
        let caps = Caps {
            global: config.max_previews,
            of_repository: &of_repository,
        };
        let me = entry(pe, false);
        let state = store.state();
        let mut admitted = self.lock();
        // An admission stands until the cache shows a newer version of that preview than the one
        // admitted (from then on the cache alone decides), or for a bounded time.
        admitted.retain(|name, (version, at)| {
            at.elapsed() < ADMITTED_FOR
                && state
                    .iter()
                    .find(|pe| pe.name_any() == *name)
                    .is_none_or(|pe| pe.resource_version() == *version)
        });
        let entries: Vec<Entry> = state
            .iter()
            .map(|other| entry(other, admitted.contains_key(&other.name_any())))
            .collect();
        let verdict = slot(&entries, &me, since, &caps);
        if verdict == Slot::Free {
            admitted.insert(me.name, (pe.resource_version(), Instant::now()));
        }
        verdict
    }

    /// A slot freed: every waiting preview looks again (the first in line takes it), a moment
    /// later, once the cache has seen the status that freed it.
    pub(crate) fn wake(&self) {
        let (Some(store), Ok(handle)) = (self.store(), tokio::runtime::Handle::try_current())
        else {
            return;
        };
        let wake = self.wake.clone();
        handle.spawn(async move {
            tokio::time::sleep(CACHE_CATCH_UP).await;
            for waiting in store.state().iter().filter(|pe| is_waiting(pe)) {
                let _ = wake.send(ObjectRef::from_obj(waiting.as_ref()));
            }
        });
    }

    /// `pe` looks again now (something it copies changed).
    pub(crate) fn wake_now(&self, pe: &PreviewEnvironment) {
        let _ = self.wake.send(ObjectRef::from_obj(pe));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Admitted> {
        self.admitted
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

fn is_waiting(pe: &PreviewEnvironment) -> bool {
    entry(pe, false).waiting_since.is_some()
}

fn entry(pe: &PreviewEnvironment, admitted: bool) -> Entry {
    let holds = admitted || pe.status.as_ref().is_some_and(holds_deployment);
    Entry {
        name: pe.name_any(),
        repository: pe.spec.pull.repository.clone(),
        holds,
        waiting_since: pe
            .status
            .as_ref()
            .and_then(|s| s.queued_at)
            .filter(|_| !holds && pe.spec.desired == Desired::Deployed),
    }
}
