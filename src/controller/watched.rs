//! The controller's caches of what it watches anyway to be woken: its namespaces and
//! workloads. The reads a reconcile makes on the critical path (the namespace before applying,
//! the workloads of a deploy under way) come from here instead of a GET or a LIST. A cache may
//! be a moment behind; every write decided on it carries a precondition (the namespace's
//! `resourceVersion` when applied, its uid when deleted, a create that fails when it exists),
//! so a cache behind costs a retry, never a wrong write. Reconciles woken by a change of one
//! of these objects see that change here: the caches are updated before the reconcile is
//! triggered.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use futures::FutureExt;
use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Namespace;
use kube::runtime::reflector::{ObjectRef, Store};
use serde::Serialize;
use serde_json::Value;

use crate::model::crd::PreviewEnvironment;

/// What a cached Deployment keeps: no pod template (readiness reads its replicas, generation
/// and status).
pub(crate) fn slim_deployment(deployment: &mut Deployment) {
    if let Some(spec) = deployment.spec.as_mut() {
        spec.template = Default::default();
    }
}

/// What a cached StatefulSet keeps: no pod or claim templates.
pub(crate) fn slim_stateful_set(set: &mut StatefulSet) {
    if let Some(spec) = set.spec.as_mut() {
        spec.template = Default::default();
        spec.volume_claim_templates = None;
    }
}

/// What a cached Job keeps: no pod template.
pub(crate) fn slim_job(job: &mut Job) {
    if let Some(spec) = job.spec.as_mut() {
        spec.template = Default::default();
    }
}

/// The caches of one term as leader.
#[derive(Clone)]
pub(crate) struct Stores {
    pub namespaces: Store<Namespace>,
    pub deployments: Store<Deployment>,
    pub stateful_sets: Store<StatefulSet>,
    pub jobs: Store<Job>,
}

/// Where the controller finds its caches (none outside a running controller).
#[derive(Default)]
pub struct Watched {
    stores: Mutex<Option<Stores>>,
    /// The resourceVersion each record (by uid) had after this process's last status write.
    written: Mutex<HashMap<String, String>>,
}

/// Records whose last status write is remembered, at most (past it, all are forgotten: a
/// forgotten one is only read from the API server once more).
const WRITES_REMEMBERED: usize = 10_000;

/// Whether `store` has listed its objects (an empty store before that knows nothing).
fn listed<K: kube::Resource + Clone + 'static>(store: &Store<K>) -> bool
where
    K::DynamicType: Eq + std::hash::Hash + Clone,
{
    matches!(store.wait_until_ready().now_or_never(), Some(Ok(())))
}

/// The object `name` in `namespace` as JSON (with its `apiVersion` and `kind`), `None` when
/// absent; `None` outside when `store` has not listed.
fn cached<K>(store: &Store<K>, namespace: &str, name: &str) -> Option<Option<Value>>
where
    K: kube::Resource<DynamicType = ()> + Clone + Serialize + 'static,
{
    listed(store).then(|| {
        store
            .get(&ObjectRef::new(name).within(namespace))
            .map(|object: Arc<K>| serde_json::to_value(&*object).unwrap_or(Value::Null))
    })
}

impl Watched {
    /// Uses `stores` from now on (a new term as leader brings new ones).
    pub(crate) fn attach(&self, stores: Stores) {
        *self.lock() = Some(stores);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Stores>> {
        self.stores.lock().unwrap_or_else(|p| p.into_inner())
    }

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

    /// The namespace `name` as the cache has it; `None` when there is no listed cache.
    pub(crate) fn namespace(&self, name: &str) -> Option<Option<Namespace>> {
        let stores = self.lock().clone()?;
        listed(&stores.namespaces).then(|| {
            stores
                .namespaces
                .get(&ObjectRef::new(name))
                .map(|ns| Namespace::clone(&ns))
        })
    }

    /// The workloads `wanted` (kind, name) in `namespace` as the cache has them, each `None`
    /// when absent; `None` when there is no listed cache of one of their kinds.
    pub(crate) fn workloads(
        &self,
        namespace: &str,
        wanted: &[(&str, &str)],
    ) -> Option<Vec<Option<Value>>> {
        let stores = self.lock().clone()?;
        wanted
            .iter()
            .map(|&(kind, name)| match kind {
                "Deployment" => cached(&stores.deployments, namespace, name),
                "StatefulSet" => cached(&stores.stateful_sets, namespace, name),
                "Job" => cached(&stores.jobs, namespace, name),
                _ => None,
            })
            .collect()
    }
}
