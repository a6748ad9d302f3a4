//! Applying a preview's objects: resolve every kind before anything is written (namespaced and
//! served, or the whole set is refused), create or update the namespace without ever adopting
//! someone else's, server-side apply each object under one field manager, and prune what is no
//! longer rendered.

use std::collections::BTreeSet;

use k8s_openapi::api::core::v1::Namespace;
use kube::api::{DeleteParams, DynamicObject, ListParams, Patch, PatchParams};
use kube::{Api, ResourceExt};
use serde_json::Value;

use super::controller::{Ctx, Error};
use super::crd::PreviewEnvironment;
use super::kinds::ServedKind;
use super::labels;
use super::labels::FIELD_MANAGER;
use super::render::RenderedObject;

/// Resolves every object's kind before anything is applied; any cluster-scoped or unknown kind
/// refuses the whole set.
pub async fn resolve_all(
    ctx: &Ctx,
    objects: &[RenderedObject],
) -> Result<Result<Vec<ServedKind>, String>, Error> {
    let mut kinds = Vec::with_capacity(objects.len());
    for object in objects {
        let api_version = object.object["apiVersion"].as_str().unwrap_or_default();
        let kind = object.object["kind"].as_str().unwrap_or_default();
        let shown = format!("{}: {kind} {}", object.file, object_name(&object.object));
        let served = match ctx.kinds.resolve(api_version, kind).await {
            Ok(served) => served,
            Err(e) if is_not_served(&e) => {
                return Ok(Err(format!(
                    "{shown}: {api_version} {kind} is not served by the API server"
                )));
            }
            // Anything else may pass (API server restarting): retried, not reported as final.
            Err(e) => return Err(e.into()),
        };
        if !served.namespaced {
            return Ok(Err(format!(
                "{shown}: {kind} is cluster-scoped; templates may only create namespaced objects in the preview namespace"
            )));
        }
        kinds.push(served);
    }
    Ok(Ok(kinds))
}

/// Whether discovery positively said the kind does not exist.
fn is_not_served(error: &kube::Error) -> bool {
    use kube::error::DiscoveryError;
    match error {
        kube::Error::Api(status) => status.code == 404,
        kube::Error::Discovery(
            DiscoveryError::MissingKind(_)
            | DiscoveryError::MissingApiGroup(_)
            | DiscoveryError::MissingResource(_),
        ) => true,
        _ => false,
    }
}

/// Creates the namespace, or updates the one checked as this preview's. Either way the API
/// server refuses (409) if someone else's namespace appeared or changed since the check, so a
/// namespace is never adopted by accident.
pub async fn apply_namespace(
    pe: &PreviewEnvironment,
    ctx: &Ctx,
    checked: Option<&Namespace>,
    name: &str,
    uid: &str,
    preview_labels: &std::collections::BTreeMap<String, String>,
) -> Result<(), Error> {
    let namespace = Namespace {
        metadata: kube::api::ObjectMeta {
            name: Some(name.to_owned()),
            labels: Some(preview_labels.clone()),
            annotations: Some(labels::namespace_annotations(pe, uid)),
            resource_version: checked.and_then(|ns| ns.metadata.resource_version.clone()),
            ..Default::default()
        },
        ..Default::default()
    };
    let api = Api::<Namespace>::all(ctx.client.clone());
    if namespace.metadata.resource_version.is_none() {
        let params = kube::api::PostParams {
            field_manager: Some(FIELD_MANAGER.into()),
            ..Default::default()
        };
        api.create(&params, &namespace).await?;
    } else {
        api.patch(
            name,
            &PatchParams::apply(FIELD_MANAGER).force(),
            &Patch::Apply(&namespace),
        )
        .await?;
    }
    Ok(())
}

pub async fn apply_object(
    ctx: &Ctx,
    namespace: &str,
    object: &RenderedObject,
    kind: &ServedKind,
) -> Result<DynamicObject, kube::Error> {
    let api = Api::<DynamicObject>::namespaced_with(ctx.client.clone(), namespace, &kind.resource);
    api.patch(
        object_name(&object.object),
        &PatchParams::apply(FIELD_MANAGER).force(),
        &Patch::Apply(&object.object),
    )
    .await
}

/// Deletes objects labelled as this preview's, of kinds applied before or now, that this round
/// did not render.
pub async fn prune(
    ctx: &Ctx,
    namespace: &str,
    previous_kinds: &[String],
    objects: &[RenderedObject],
) -> Result<(), Error> {
    let keep: BTreeSet<(String, String)> = objects
        .iter()
        .map(|o| (kind_key(o), object_name(&o.object).to_owned()))
        .collect();
    let selector = format!("{}={namespace}", labels::PREVIEW);
    let kinds: BTreeSet<String> = previous_kinds
        .iter()
        .cloned()
        .chain(objects.iter().map(kind_key))
        .collect();
    for key in kinds {
        let Some((api_version, kind)) = key.rsplit_once('/') else {
            continue;
        };
        let Ok(served) = ctx.kinds.resolve(api_version, kind).await else {
            continue;
        };
        let api =
            Api::<DynamicObject>::namespaced_with(ctx.client.clone(), namespace, &served.resource);
        for existing in api
            .list_metadata(&ListParams::default().labels(&selector))
            .await?
            .items
        {
            let existing_name = existing.name_any();
            if !keep.contains(&(key.clone(), existing_name.clone())) {
                tracing::info!(kind, name = %existing_name, "pruning object no longer rendered");
                api.delete(&existing_name, &DeleteParams::background())
                    .await?;
            }
        }
    }
    Ok(())
}

pub fn kind_key(object: &RenderedObject) -> String {
    format!(
        "{}/{}",
        object.object["apiVersion"].as_str().unwrap_or(""),
        object.object["kind"].as_str().unwrap_or("")
    )
}

pub fn object_name(object: &Value) -> &str {
    object
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("")
}

/// The API server's own message for a failed call.
pub fn api_message(error: &kube::Error) -> String {
    match error {
        kube::Error::Api(status) => status.message.clone(),
        other => other.to_string(),
    }
}
