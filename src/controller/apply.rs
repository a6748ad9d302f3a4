//! Applying a preview's objects: resolve every kind before anything is written (namespaced,
//! served and allowed, or the whole set is refused), create or update the namespace without ever
//! adopting someone else's, server-side apply each object under one field manager, wait until
//! the namespace's quota is counted, and prune what is no longer rendered.

use std::collections::BTreeSet;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::{Namespace, ResourceQuota};
use kube::api::{DeleteParams, DynamicObject, ListParams, Patch, PatchParams};
use kube::runtime::wait::await_condition;
use kube::{Api, ResourceExt};
use serde_json::Value;

use crate::build::render::RenderedObject;
use crate::build::{apply_order, fence_objects};
use crate::config::TemplateKinds;
use crate::controller::kinds::ServedKind;
use crate::controller::{Ctx, Error};
use crate::metrics;
use crate::model::crd::PreviewEnvironment;
use crate::model::labels;
use crate::model::labels::FIELD_MANAGER;
use crate::timing;

/// Objects of one round applied at once, at most.
const APPLIED_AT_ONCE: usize = 8;

/// Resolves every object's kind before anything is applied; any cluster-scoped or unknown kind,
/// or one `allowed` does not list (when given), refuses the whole set.
async fn resolve_all(
    ctx: &Ctx,
    objects: &[RenderedObject],
    allowed: Option<&TemplateKinds>,
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
        let (group, resource) = (&served.resource.group, &served.resource.plural);
        if allowed.is_some_and(|allowed| !allowed.allows(group, resource)) {
            return Ok(Err(format!(
                "{shown}: templates may not produce {kind} (API group {group:?}, resource {resource}): it is not in previewd's templateKinds"
            )));
        }
        kinds.push(served);
    }
    Ok(Ok(kinds))
}

/// The served kinds of the templated objects (which `templateKinds` must allow) and of the
/// fences, or why the set is refused; nothing is applied either way.
pub(crate) async fn resolve_fenced(
    ctx: &Ctx,
    templated: &[RenderedObject],
    fenced: &[RenderedObject],
) -> Result<Result<(Vec<ServedKind>, Vec<ServedKind>), String>, Error> {
    if let Some(why) = fence_objects::clash(templated, fenced) {
        return Ok(Err(why));
    }
    let allowed = &ctx.settings.config.template_kinds;
    let kinds = match resolve_all(ctx, templated, Some(allowed)).await? {
        Ok(kinds) => kinds,
        Err(why) => return Ok(Err(why)),
    };
    Ok(resolve_all(ctx, fenced, None).await?.map(|f| (kinds, f)))
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

/// Creates the preview's namespace with all its `labels` in the one request (so it never
/// exists without its Pod Security label), or updates `checked` (the namespace as read, this
/// preview's) at the version read, never adopting one created meanwhile. A fence label no
/// longer wanted is removed: the create, not the apply, set it.
pub(crate) async fn apply_namespace(
    pe: &PreviewEnvironment,
    ctx: &Ctx,
    checked: Option<&Namespace>,
    name: &str,
    uid: &str,
    labels: &std::collections::BTreeMap<String, String>,
) -> Result<(), Error> {
    let namespace = Namespace {
        metadata: kube::api::ObjectMeta {
            name: Some(name.to_owned()),
            labels: Some(labels.clone()),
            annotations: Some(labels::namespace_annotations(pe, uid)),
            resource_version: checked.and_then(|ns| ns.metadata.resource_version.clone()),
            ..Default::default()
        },
        ..Default::default()
    };
    let api = Api::<Namespace>::all(ctx.client.clone());
    let Some(checked) = checked else {
        let params = kube::api::PostParams {
            field_manager: Some(FIELD_MANAGER.into()),
            ..Default::default()
        };
        api.create(&params, &namespace).await?;
        return Ok(());
    };
    let applied = api
        .patch(
            name,
            &PatchParams::apply(FIELD_MANAGER).force(),
            &Patch::Apply(&namespace),
        )
        .await?;
    let stale = fence_objects::stale_namespace_labels(checked.labels(), labels);
    if !stale.is_empty() {
        let removed: serde_json::Map<String, Value> =
            stale.into_iter().map(|key| (key, Value::Null)).collect();
        let patch = serde_json::json!({
            "metadata": {
                "resourceVersion": applied.metadata.resource_version,
                "labels": removed,
            }
        });
        api.patch(name, &PatchParams::default(), &Patch::Merge(&patch))
            .await?;
    }
    Ok(())
}

/// How far applying a preview's objects got.
#[derive(Debug)]
pub(crate) enum Applied {
    /// All of them; the templated ones as the API server returned them.
    All(Vec<DynamicObject>),
    /// The API server refused one: its file, kind and name, and the API server's reason.
    Refused(String),
    /// The fences are applied, but the quota controller has not counted the ResourceQuota
    /// within `quota_wait`; no templated object is applied yet.
    QuotaUncounted,
}

/// Applies the fence objects, waits up to `quota_wait` until the quota is counted (so no pod
/// is refused for an unknown quota status), then the templated objects; each set in the
/// rounds of `apply_order`, the objects of a round at once, stopping after the first round
/// with a refusal.
pub(crate) async fn apply_fenced(
    ctx: &Ctx,
    namespace: &str,
    fences: (&[RenderedObject], &[ServedKind]),
    templated: (&[RenderedObject], &[ServedKind]),
    quota_wait: Duration,
) -> Result<Applied, Error> {
    let fenced = apply_in_rounds(ctx, namespace, fences.0, fences.1);
    let fence_objects = match metrics::timed("fences_apply", fenced).await {
        Ok(applied) => applied,
        Err(why) => return Ok(Applied::Refused(why)),
    };
    let counted = await_quota(ctx, namespace, &fence_objects, quota_wait);
    if !metrics::timed("quota_wait", counted).await? {
        return Ok(Applied::QuotaUncounted);
    }
    let templated = apply_in_rounds(ctx, namespace, templated.0, templated.1);
    Ok(match metrics::timed("objects_apply", templated).await {
        Ok(applied) => Applied::All(applied),
        Err(why) => Applied::Refused(why),
    })
}

/// Applies `objects` (of `kinds`) round by round; what the API server returned, in the
/// objects' order, or the first refusal of the first round refused (file, kind, name, why).
async fn apply_in_rounds(
    ctx: &Ctx,
    namespace: &str,
    objects: &[RenderedObject],
    kinds: &[ServedKind],
) -> Result<Vec<DynamicObject>, String> {
    let mut applied: Vec<Option<DynamicObject>> = vec![None; objects.len()];
    for round in apply_order::rounds(objects) {
        let results = futures::stream::iter(round)
            .map(|i| async move {
                (
                    i,
                    apply_object(ctx, namespace, &objects[i], &kinds[i]).await,
                )
            })
            .buffered(APPLIED_AT_ONCE)
            .collect::<Vec<_>>()
            .await;
        for (i, result) in results {
            let object = &objects[i];
            match result {
                Ok(returned) => applied[i] = Some(returned),
                Err(e) => {
                    return Err(format!(
                        "{}: {} {}: {}",
                        object.file,
                        object.object["kind"].as_str().unwrap_or(""),
                        object_name(&object.object),
                        api_message(&e)
                    ));
                }
            }
        }
    }
    Ok(applied.into_iter().flatten().collect())
}

/// Waits up to `bound` until the quota controller has counted the fence ResourceQuota among
/// `applied` (if there is one), watching it so the count is seen the moment it is written.
async fn await_quota(
    ctx: &Ctx,
    namespace: &str,
    applied: &[DynamicObject],
    bound: Duration,
) -> Result<bool, Error> {
    let Some(quota) = applied
        .iter()
        .map(|o| serde_json::to_value(o).unwrap_or(Value::Null))
        .find(fence_objects::is_quota)
    else {
        return Ok(true);
    };
    if fence_objects::quota_counted(&quota) {
        return Ok(true);
    }
    let api = Api::<ResourceQuota>::namespaced(ctx.client.clone(), namespace);
    let is_counted = |q: Option<&ResourceQuota>| {
        q.is_some_and(|q| {
            fence_objects::quota_counted(&serde_json::to_value(q).unwrap_or(Value::Null))
        })
    };
    match tokio::time::timeout(
        bound,
        await_condition(api.clone(), fence_objects::NAME, is_counted),
    )
    .await
    {
        Ok(Ok(_)) => Ok(true),
        Err(_elapsed) => Ok(false),
        Ok(Err(error)) => {
            // Watching failed (a grant without `watch`, say): one look decides.
            tracing::warn!(%error, "could not watch the ResourceQuota; reading it once");
            Ok(is_counted(api.get_opt(fence_objects::NAME).await?.as_ref()))
        }
    }
}

/// Server-side applies `object`. A Job whose pod template changed (a push, a redeploy) cannot
/// be updated, its template being immutable: it is deleted and created again, as
/// `kubectl replace --force` does.
async fn apply_object(
    ctx: &Ctx,
    namespace: &str,
    object: &RenderedObject,
    kind: &ServedKind,
) -> Result<DynamicObject, kube::Error> {
    let api = Api::<DynamicObject>::namespaced_with(ctx.client.clone(), namespace, &kind.resource);
    let name = object_name(&object.object);
    let (params, patch) = (
        PatchParams::apply(FIELD_MANAGER).force(),
        Patch::Apply(&object.object),
    );
    let apply = || api.patch(name, &params, &patch);
    match apply().await {
        Err(e) if replaced_when_refused(kind, &e) => {
            tracing::info!(kind = %kind.resource.kind, %name, "pod template changed: replacing");
            let old = api.get_opt(name).await?.and_then(|o| o.metadata.uid);
            // Its pods go first, so the old run and the new never overlap.
            api.delete(name, &DeleteParams::foreground()).await?;
            await_gone(&api, name, old).await?;
            apply().await
        }
        result => result,
    }
}

/// Waits, within `REPLACE_WAIT`, until the object `name` with uid `old` is gone. If it is not
/// by then, applying again is refused as before, and the reconcile retries.
async fn await_gone(
    api: &Api<DynamicObject>,
    name: &str,
    old: Option<String>,
) -> Result<(), kube::Error> {
    let deadline = tokio::time::Instant::now() + timing::REPLACE_WAIT;
    let mut pause = timing::REPLACE_LOOK_FIRST;
    while tokio::time::Instant::now() < deadline {
        let now = api.get_opt(name).await?;
        if now.is_none_or(|o| o.metadata.uid != old) {
            return Ok(());
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(timing::REPLACE_LOOK_MAX);
    }
    Ok(())
}

/// Whether the API server refused an update of `kind` only because a field it never lets
/// change did change, and the kind is one that is replaced then: a Job (its pod template).
fn replaced_when_refused(kind: &ServedKind, error: &kube::Error) -> bool {
    let resource = &kind.resource;
    let is_job = resource.group == "batch" && resource.kind == "Job";
    matches!(error, kube::Error::Api(status)
        if is_job && status.code == 422 && status.message.contains("field is immutable"))
}

/// Deletes objects labelled as this preview's, of kinds applied before or now, that this round
/// did not render.
pub(crate) async fn prune(
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

pub(crate) fn kind_key(object: &RenderedObject) -> String {
    format!(
        "{}/{}",
        object.object["apiVersion"].as_str().unwrap_or(""),
        object.object["kind"].as_str().unwrap_or("")
    )
}

pub(crate) fn object_name(object: &Value) -> &str {
    object
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("")
}

/// The API server's own message for a failed call.
pub(crate) fn api_message(error: &kube::Error) -> String {
    match error {
        kube::Error::Api(status) => status.message.clone(),
        other => other.to_string(),
    }
}
