//! A deploy under way whose objects this process applied and nothing changed since (not the
//! record, not the rendered objects, not a workload's spec, and less than `READY_RECHECK` ago):
//! its readiness is read from the workloads as they are (one LIST per workload kind in the
//! namespace) rather than by applying the namespace, the fences and every object again. What was
//! applied is remembered per preview in memory, so a restart, a new leader or new templates
//! apply in full once. An edited workload spec (its generation moved) is applied again at once.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Mutex;
use std::time::Instant;

use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::batch::v1::Job;
use kube::api::{DynamicObject, ListParams};
use kube::{Api, Client, Resource};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::build::render::RenderedObject;
use crate::rules::readiness::is_workload;
use crate::timing::READY_RECHECK;

/// What this process applied last, by preview name.
#[derive(Debug, Default)]
pub struct Applied {
    memos: Mutex<HashMap<String, Memo>>,
}

#[derive(Debug)]
struct Memo {
    record: Record,
    at: Instant,
    /// The workloads' names and generations as the API server returned them.
    workloads: Vec<(String, Option<i64>)>,
}

/// What a memo is of: the record's uid and generation, the hash of the objects applied.
#[derive(Debug, PartialEq, Eq)]
struct Record {
    uid: String,
    generation: Option<i64>,
    objects: u64,
}

impl Applied {
    /// Notes that `objects` (their hash) were applied for `name` at record `uid`, `generation`,
    /// the API server returning `applied`.
    pub(crate) fn note(
        &self,
        name: &str,
        uid: &str,
        generation: Option<i64>,
        objects: u64,
        applied: &[DynamicObject],
    ) {
        let workloads = applied
            .iter()
            .filter(|o| {
                o.types
                    .as_ref()
                    .is_some_and(|t| is_workload(&t.api_version, &t.kind))
            })
            .map(|o| {
                (
                    key(
                        o.types.as_ref().map_or("", |t| &t.kind),
                        &o.metadata.name.clone().unwrap_or_default(),
                    ),
                    o.metadata.generation,
                )
            })
            .collect();
        let memo = Memo {
            record: Record {
                uid: uid.to_owned(),
                generation,
                objects,
            },
            at: Instant::now(),
            workloads,
        };
        self.lock().insert(name.to_owned(), memo);
    }

    /// Forgets what was applied for `name` (the next deploy applies in full).
    pub(crate) fn forget(&self, name: &str) {
        self.lock().remove(name);
    }

    /// Whether exactly these objects were applied for this record and generation, lately.
    pub(crate) fn unchanged(
        &self,
        name: &str,
        uid: &str,
        generation: Option<i64>,
        objects: u64,
    ) -> bool {
        let record = Record {
            uid: uid.to_owned(),
            generation,
            objects,
        };
        self.lock()
            .get(name)
            .is_some_and(|m| m.record == record && m.at.elapsed() < READY_RECHECK)
    }

    /// Whether each of `workloads` (as read now) has the generation it had when applied.
    fn untouched(&self, name: &str, workloads: &[Value]) -> bool {
        let memos = self.lock();
        let Some(memo) = memos.get(name) else {
            return false;
        };
        workloads.iter().all(|w| {
            let kind = w["kind"].as_str().unwrap_or_default();
            let object = w["metadata"]["name"].as_str().unwrap_or_default();
            let generation = w["metadata"]["generation"].as_i64();
            memo.workloads.contains(&(key(kind, object), generation))
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Memo>> {
        self.memos.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn key(kind: &str, name: &str) -> String {
    format!("{kind}/{name}")
}

/// A hash of what is applied (the rendered objects and the fences, in order).
pub(crate) fn hash_of<'a>(objects: impl Iterator<Item = &'a RenderedObject>) -> u64 {
    let mut hasher = DefaultHasher::new();
    for object in objects {
        object.object.to_string().hash(&mut hasher);
    }
    hasher.finish()
}

/// The rendered workloads of `objects` as they are in `namespace`; `None` when one is missing
/// or its spec changed since `applied` noted it (apply in full).
pub(crate) async fn workloads(
    applied: &Applied,
    client: &Client,
    namespace: &str,
    objects: &[RenderedObject],
) -> Result<Option<Vec<Value>>, kube::Error> {
    let wanted: Vec<(&str, &str)> = objects
        .iter()
        .filter_map(|o| {
            let text = |pointer| o.object.pointer(pointer).and_then(Value::as_str);
            let (api_version, kind) = (text("/apiVersion")?, text("/kind")?);
            is_workload(api_version, kind).then_some((kind, text("/metadata/name")?))
        })
        .collect();
    let mut found = Vec::new();
    for kind in ["Deployment", "StatefulSet", "Job"] {
        if !wanted.iter().any(|(k, _)| *k == kind) {
            continue;
        }
        let listed = match kind {
            "Deployment" => listed::<Deployment>(client, namespace).await?,
            "StatefulSet" => listed::<StatefulSet>(client, namespace).await?,
            _ => listed::<Job>(client, namespace).await?,
        };
        for (_, name) in wanted.iter().filter(|(k, _)| *k == kind) {
            match listed.iter().find(|o| o["metadata"]["name"] == *name) {
                Some(object) => found.push(object.clone()),
                None => return Ok(None),
            }
        }
    }
    Ok(applied.untouched(namespace, &found).then_some(found))
}

/// Every `K` in `namespace`, as JSON with its `apiVersion` and `kind`.
async fn listed<K>(client: &Client, namespace: &str) -> Result<Vec<Value>, kube::Error>
where
    K: Resource<Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + DeserializeOwned
        + Serialize
        + std::fmt::Debug,
    K::DynamicType: Default,
{
    let api = Api::<K>::namespaced(client.clone(), namespace);
    Ok(api
        .list(&ListParams::default())
        .await?
        .items
        .into_iter()
        .map(|o| {
            let mut value = serde_json::to_value(&o).unwrap_or(Value::Null);
            value["apiVersion"] = K::api_version(&Default::default()).into_owned().into();
            value["kind"] = K::kind(&Default::default()).into_owned().into();
            value
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn deployment(generation: i64) -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
               "metadata": {"name": "web", "generation": generation}})
    }

    #[test]
    fn only_the_same_record_generation_and_objects_count_as_unchanged() {
        let applied = Applied::default();
        let returned: DynamicObject = serde_json::from_value(deployment(3)).unwrap();
        applied.note("p", "uid-1", Some(2), 42, &[returned]);
        assert!(applied.unchanged("p", "uid-1", Some(2), 42));
        assert!(
            !applied.unchanged("p", "uid-1", Some(3), 42),
            "the spec changed"
        );
        assert!(
            !applied.unchanged("p", "uid-1", Some(2), 43),
            "other objects"
        );
        assert!(
            !applied.unchanged("p", "uid-2", Some(2), 42),
            "another record"
        );
        assert!(!applied.unchanged("q", "uid-1", Some(2), 42));
        assert!(applied.untouched("p", &[deployment(3)]));
        assert!(!applied.untouched("p", &[deployment(4)]), "edited by hand");
        applied.forget("p");
        assert!(!applied.unchanged("p", "uid-1", Some(2), 42));
    }
}
