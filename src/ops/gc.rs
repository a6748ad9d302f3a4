//! `previewd gc`: what the controller's own rules remove, for an operator to see (`--dry-run`) or
//! to do while previewd is down: records of destroyed previews kept past `keepDestroyedFor`, and
//! this installation's namespaces whose PreviewEnvironment is confirmed gone. The CLI runs with
//! the operator's credentials, outside the admission policy's lane, so it makes every check the
//! controller and the policy make: the installation's labels, the owner uid, and a delete only of
//! the version it judged.

use std::time::Duration;

use chrono::{DateTime, Utc};
use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{DeleteParams, ListParams, Preconditions};
use kube::{Api, Client, ResourceExt};

use super::age;
use crate::intake::orphans::{Owner, owner};
use crate::model::crd::{Desired, Phase, PreviewEnvironment};
use crate::model::labels;
use crate::rules::plan::retention;

/// What gc looks at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A PreviewEnvironment.
    Record,
    /// A preview namespace.
    Namespace,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Record => "PreviewEnvironment",
            Kind::Namespace => "Namespace",
        }
    }
}

/// An object to delete, the version judged, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Removal {
    /// What it is.
    pub kind: Kind,
    /// Its name.
    pub name: String,
    /// Its uid, a precondition of the delete.
    pub uid: Option<String>,
    /// Its resourceVersion, a precondition of the delete: changed since, it is left alone.
    pub resource_version: Option<String>,
    /// Why the controller's rules remove it.
    pub why: String,
}

/// An object that looks like gc's business but is left alone, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Kept {
    /// What it is.
    pub kind: Kind,
    /// Its name.
    pub name: String,
    /// Why it stays.
    pub why: String,
}

/// What gc would do.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    /// To delete.
    pub remove: Vec<Removal>,
    /// Left alone, worth telling.
    pub kept: Vec<Kept>,
}

/// What gc would do with `instance`'s `previews` and `namespaces`, records being kept for `keep`
/// (pure).
pub fn plan(
    previews: &[PreviewEnvironment],
    namespaces: &[Namespace],
    instance: &str,
    keep: Duration,
    now: DateTime<Utc>,
) -> Plan {
    let ours = |meta: &ObjectMeta| labels::in_lane(meta.labels.as_ref(), instance);
    let mut found = Plan::default();
    for pe in previews.iter().filter(|pe| ours(&pe.metadata)) {
        let name = pe.name_any();
        let status = pe.status.clone().unwrap_or_default();
        let Desired::Destroyed(reason) = pe.spec.desired else {
            continue;
        };
        let namespace_left = namespaces.iter().any(|ns| ns.name_any() == name);
        if pe.metadata.deletion_timestamp.is_some()
            || status.phase != Phase::Destroyed
            || namespace_left
        {
            continue;
        }
        if retention(&pe.spec, &status, keep, now).is_some_and(|left| left.is_zero()) {
            let destroyed = status.last_transition_at.unwrap_or(now);
            found.remove.push(Removal {
                kind: Kind::Record,
                name,
                uid: pe.uid(),
                resource_version: pe.resource_version(),
                why: format!(
                    "destroyed ({reason:?}) {} ago; records are kept {}",
                    age(destroyed, now),
                    crate::model::duration::format(keep)
                ),
            });
        }
    }
    for ns in namespaces.iter().filter(|ns| ours(&ns.metadata)) {
        let name = ns.name_any();
        if ns.metadata.deletion_timestamp.is_some() {
            continue;
        }
        let preview = previews.iter().find(|pe| pe.name_any() == name);
        let annotated = ns.annotations().get(labels::OWNER_UID).map(String::as_str);
        match owner(annotated, preview.and_then(|p| p.uid()).as_deref()) {
            Owner::Present => {}
            Owner::Gone => found.remove.push(Removal {
                kind: Kind::Namespace,
                name,
                uid: ns.uid(),
                resource_version: ns.resource_version(),
                why: format!(
                    "orphan: its PreviewEnvironment (uid {}) is gone",
                    annotated.unwrap_or_default()
                ),
            }),
            Owner::Unknown => found.kept.push(Kept {
                kind: Kind::Namespace,
                name,
                why: "carries this installation's labels but names no owner uid".to_owned(),
            }),
        }
    }
    found
}

/// What `--dry-run` prints: what would be deleted and why, and what is kept.
pub fn describe(plan: &Plan) -> String {
    let lines = plan
        .remove
        .iter()
        .map(|r| format!("would delete {} {}: {}", r.kind.as_str(), r.name, r.why));
    report(lines.collect(), plan)
}

/// `done`, one line per object, then what is kept; or that there was nothing to do.
fn report(done: Vec<String>, plan: &Plan) -> String {
    let kept = plan
        .kept
        .iter()
        .map(|k| format!("kept {} {}: {}", k.kind.as_str(), k.name, k.why));
    let lines: Vec<String> = done.into_iter().chain(kept).collect();
    match lines.is_empty() {
        true => "nothing to collect\n".to_owned(),
        false => lines.join("\n") + "\n",
    }
}

/// Reads what gc judges: `instance`'s records and namespaces.
pub async fn read(
    client: &Client,
    instance: &str,
) -> Result<(Vec<PreviewEnvironment>, Vec<Namespace>), kube::Error> {
    let selector = labels::instance_selector(instance);
    let previews = super::previews(client, instance).await?;
    let namespaces = Api::<Namespace>::all(client.clone())
        .list(&ListParams::default().labels(&selector))
        .await?
        .items;
    Ok((previews, namespaces))
}

/// Deletes what `plan` says, each only in the version judged; an orphan namespace only once the
/// API server confirms again that its PreviewEnvironment is gone. Says what it did, one line
/// per object.
pub async fn execute(client: &Client, plan: &Plan) -> String {
    let previews = Api::<PreviewEnvironment>::all(client.clone());
    let namespaces = Api::<Namespace>::all(client.clone());
    let mut said = Vec::new();
    for r in &plan.remove {
        let params = DeleteParams {
            preconditions: Some(Preconditions {
                uid: r.uid.clone(),
                resource_version: r.resource_version.clone(),
            }),
            ..DeleteParams::default()
        };
        let deleted = match r.kind {
            Kind::Record => previews.delete(&r.name, &params).await.map(|_| ()),
            Kind::Namespace => match confirmed_orphan(&previews, &namespaces, &r.name).await {
                Ok(true) => namespaces.delete(&r.name, &params).await.map(|_| ()),
                Ok(false) => {
                    said.push(format!("kept Namespace {}: its owner is back", r.name));
                    continue;
                }
                Err(e) => Err(e),
            },
        };
        said.push(match deleted {
            Ok(()) => format!("deleted {} {}: {}", r.kind.as_str(), r.name, r.why),
            Err(kube::Error::Api(status)) if status.code == 409 || status.code == 404 => format!(
                "kept {} {}: changed or gone since it was read",
                r.kind.as_str(),
                r.name
            ),
            Err(e) => format!("failed {} {}: {e}", r.kind.as_str(), r.name),
        });
    }
    report(said, plan)
}

/// Whether namespace `name`'s annotated owner is still confirmed gone, asked again of the API
/// server right before the delete.
async fn confirmed_orphan(
    previews: &Api<PreviewEnvironment>,
    namespaces: &Api<Namespace>,
    name: &str,
) -> Result<bool, kube::Error> {
    let Some(ns) = namespaces.get_opt(name).await? else {
        return Ok(false);
    };
    let preview = previews.get_opt(name).await?;
    let annotated = ns.annotations().get(labels::OWNER_UID).map(String::as_str);
    Ok(owner(annotated, preview.and_then(|p| p.uid()).as_deref()) == Owner::Gone)
}

#[cfg(test)]
mod tests;
