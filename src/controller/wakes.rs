//! Which changes of a preview's namespace and workloads wake it: a new object, a deletion, or a
//! change of what a reconcile looks at. For a workload: its spec (generation), labels,
//! annotations or readiness; the Deployment controller updates a workload's status several more
//! times after it is ready (observed generation, condition reasons and times). For a namespace:
//! its labels, annotations, deletion and phase; previewd's own first server-side apply to the
//! namespace it created changes only its managed fields. A Ready preview woken by any of those
//! would be applied in full again for nothing.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};

use futures::{Stream, StreamExt};
use kube::runtime::reflector::ObjectRef;
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Resource};
use serde::Serialize;
use serde::de::DeserializeOwned;

use k8s_openapi::api::core::v1::Namespace;

use crate::controller::watch_backoff::WatchBackoff;
use crate::rules::readiness::readiness;

/// What of a namespace can wake its preview, hashed.
pub(crate) fn namespace_key(namespace: &Namespace) -> u64 {
    let meta = &namespace.metadata;
    let mut hasher = DefaultHasher::new();
    (
        &meta.uid,
        &meta.labels,
        &meta.annotations,
        meta.deletion_timestamp.as_ref().map(|t| t.0.to_string()),
        namespace.status.as_ref().and_then(|s| s.phase.as_deref()),
    )
        .hash(&mut hasher);
    hasher.finish()
}

/// What of a workload can wake its preview, hashed.
pub(crate) fn workload_key<K: Resource<DynamicType = ()> + Serialize>(workload: &K) -> u64 {
    let meta = workload.meta();
    let kind = K::kind(&()).into_owned();
    let object = serde_json::to_value(workload).unwrap_or_default();
    let mut hasher = DefaultHasher::new();
    (
        &meta.uid,
        meta.generation,
        &meta.labels,
        &meta.annotations,
        meta.deletion_timestamp.as_ref().map(|t| t.0.to_string()),
        readiness(&kind, &object),
    )
        .hash(&mut hasher);
    hasher.finish()
}

/// The objects of `api` that `config` selects, each time one appears, goes, or changes what
/// `key` hashes.
pub(crate) fn changes<K>(
    api: Api<K>,
    config: watcher::Config,
    key: fn(&K) -> u64,
) -> impl Stream<Item = Result<K, watcher::Error>> + Send + 'static
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Serialize + std::fmt::Debug,
    K: Send + Sync + 'static,
{
    let mut seen: HashMap<ObjectRef<K>, u64> = HashMap::new();
    watcher(api, config)
        .backoff(WatchBackoff::default())
        .filter_map(move |event| {
            let passed = match event {
                Ok(watcher::Event::Apply(object) | watcher::Event::InitApply(object)) => {
                    let hashed = key(&object);
                    let before = seen.insert(ObjectRef::from_obj(&object), hashed);
                    (before != Some(hashed)).then_some(Ok(object))
                }
                Ok(watcher::Event::Delete(object)) => {
                    seen.remove(&ObjectRef::from_obj(&object));
                    Some(Ok(object))
                }
                Ok(watcher::Event::Init | watcher::Event::InitDone) => None,
                Err(error) => Some(Err(error)),
            };
            futures::future::ready(passed)
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::apps::v1::Deployment;

    fn deployment(status: serde_json::Value, annotations: serde_json::Value) -> Deployment {
        serde_json::from_value(serde_json::json!({
            "metadata": {"name": "web", "uid": "u", "generation": 1, "annotations": annotations},
            "spec": {"replicas": 1, "selector": {}, "template": {}},
            "status": status,
        }))
        .unwrap()
    }

    #[test]
    fn only_changes_that_can_matter_to_a_reconcile_wake_the_preview() {
        let available = serde_json::json!({"observedGeneration": 1, "replicas": 1,
            "updatedReplicas": 1, "availableReplicas": 1, "readyReplicas": 1,
            "conditions": [{"type": "Progressing", "status": "True", "reason": "ReplicaSetUpdated"}]});
        let ready = workload_key(&deployment(available.clone(), serde_json::json!({})));
        // The controller's later bookkeeping: the same readiness.
        let mut settled = available.clone();
        settled["conditions"][0]["reason"] = "NewReplicaSetAvailable".into();
        settled["conditions"][0]["lastUpdateTime"] = "2026-12-04T00:00:00Z".into();
        assert_eq!(
            workload_key(&deployment(settled, serde_json::json!({}))),
            ready
        );
        // A pod gone: readiness changes.
        let mut fewer = available.clone();
        fewer["availableReplicas"] = 0.into();
        assert_ne!(
            workload_key(&deployment(fewer, serde_json::json!({}))),
            ready
        );
        // A hand edit of the metadata.
        let edited = deployment(available.clone(), serde_json::json!({"by": "hand"}));
        assert_ne!(workload_key(&edited), ready);
        // A new generation (a spec edit).
        let mut respecced = deployment(available, serde_json::json!({}));
        respecced.metadata.generation = Some(2);
        assert_ne!(workload_key(&respecced), ready);
    }

    #[test]
    fn a_namespace_wakes_its_preview_on_metadata_deletion_and_phase_not_managed_fields() {
        let namespace = |extra: serde_json::Value| -> Namespace {
            let mut object = serde_json::json!({
                "metadata": {"name": "p", "uid": "n", "labels": {"a": "1"}},
                "status": {"phase": "Active"},
            });
            for (key, value) in extra.as_object().unwrap() {
                object["metadata"][key] = value.clone();
            }
            serde_json::from_value(object).unwrap()
        };
        let created = namespace_key(&namespace(serde_json::json!({})));
        let applied = namespace(serde_json::json!({"resourceVersion": "9",
            "managedFields": [{"manager": "previewd", "operation": "Apply"}]}));
        assert_eq!(namespace_key(&applied), created);
        let relabelled = namespace(serde_json::json!({"labels": {"a": "2"}}));
        assert_ne!(namespace_key(&relabelled), created);
        let deleting = namespace(serde_json::json!({"deletionTimestamp": "2026-12-04T00:00:00Z"}));
        assert_ne!(namespace_key(&deleting), created);
        let mut terminating = namespace(serde_json::json!({}));
        terminating.status.as_mut().unwrap().phase = Some("Terminating".into());
        assert_ne!(namespace_key(&terminating), created);
    }
}
