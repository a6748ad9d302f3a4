//! Copies of a repository's Secrets and ConfigMaps in its previews: each source read by name
//! when a preview is applied, and watched by name (a field selector, so previewd needs no
//! grant beyond those objects) so that a change at a source reaches every preview holding a copy
//! at once. A source's data is never logged, nor put in a status, an Event or a comment.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use futures::StreamExt;
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Resource};
use serde_json::Value;

use crate::build::copies::{self, Kind, Sourced, Wanted};
use crate::build::render::RenderedObject;
use crate::config::RepositoryConfig;
use crate::config::copies::Source;
use crate::controller::{Ctx, Error};
use crate::model::crd::PreviewEnvironment;

/// The copies `pe`'s namespace gets (`wanted`, each read from its source; `repository` being
/// the settings of its repository), with previewd's `labels`; `Err` says which source cannot be
/// copied and why.
pub(crate) async fn objects(
    pe: &PreviewEnvironment,
    ctx: &Ctx,
    (repository, wanted): (&RepositoryConfig, &[Wanted]),
    namespace: &str,
    labels: &BTreeMap<String, String>,
) -> Result<Result<Vec<RenderedObject>, String>, Error> {
    if !copies_for(repository, pe) {
        return Ok(Ok(Vec::new()));
    }
    let mut sources = Vec::new();
    for wanted in wanted {
        match read(ctx, wanted).await? {
            Ok(source) => sources.push((wanted, source)),
            Err(why) => return Ok(Err(why)),
        }
    }
    let sourced: Vec<Sourced<'_>> = sources
        .iter()
        .map(|(wanted, source)| Sourced { wanted, source })
        .collect();
    Ok(copies::objects(&sourced, namespace, labels))
}

/// Whether `pe` gets copies: not a pull request from a fork, unless the operator says so.
fn copies_for(repository: &RepositoryConfig, pe: &PreviewEnvironment) -> bool {
    !pe.spec.pull.fork || repository.copy_to_forks
}

/// The source object, or why it cannot be read (missing, or not granted).
async fn read(ctx: &Ctx, wanted: &Wanted) -> Result<Result<Value, String>, Error> {
    let Wanted {
        kind,
        copy,
        asked_in,
    } = wanted;
    let from = &copy.from;
    let read = match kind {
        Kind::Secret => get::<Secret>(ctx, from).await,
        Kind::ConfigMap => get::<ConfigMap>(ctx, from).await,
    };
    let setting = kind.setting();
    match read {
        Ok(Some(source)) => Ok(Ok(source)),
        Ok(None) => Ok(Err(format!(
            "{}{setting}: the source {from} does not exist",
            asked_in_file(asked_in)
        ))),
        Err(kube::Error::Api(status)) if status.code == 403 => Ok(Err(format!(
            "{}{setting}: previewd may not read the source {from} (the chart grants get and watch on each source it finds in config.repositories)",
            asked_in_file(asked_in)
        ))),
        Err(e) => Err(e.into()),
    }
}

/// `asked_in` as the start of an error: nothing for the operator's configuration (as before
/// definitions could ask for copies), else the definition's file.
fn asked_in_file(asked_in: &str) -> String {
    if asked_in == copies::CONFIGURED {
        String::new()
    } else {
        format!("{asked_in}: ")
    }
}

async fn get<K>(ctx: &Ctx, from: &Source) -> Result<Option<Value>, kube::Error>
where
    K: Resource<Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + serde::de::DeserializeOwned
        + serde::Serialize
        + std::fmt::Debug,
    K::DynamicType: Default,
{
    let found = Api::<K>::namespaced(ctx.client.clone(), &from.namespace)
        .get_opt(&from.name)
        .await?;
    Ok(found.map(|object| serde_json::to_value(object).unwrap_or(Value::Null)))
}

/// Watches every source the configuration names until the future is dropped; a source that
/// changes wakes the previews holding a copy of it.
pub async fn watch(ctx: Arc<Ctx>) {
    let sources: BTreeSet<(Kind, Source)> = (ctx.settings.config.repositories.iter())
        .flat_map(copies::sources)
        .collect();
    let watches = sources.into_iter().map(|(kind, from)| {
        let ctx = ctx.clone();
        async move {
            match kind {
                Kind::Secret => watch_one::<Secret>(ctx, kind, from).await,
                Kind::ConfigMap => watch_one::<ConfigMap>(ctx, kind, from).await,
            }
        }
    });
    futures::future::join_all(watches).await;
}

async fn watch_one<K>(ctx: Arc<Ctx>, kind: Kind, from: Source)
where
    K: Resource<Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + serde::de::DeserializeOwned
        + std::fmt::Debug
        + Send
        + 'static,
    K::DynamicType: Default,
{
    let api = Api::<K>::namespaced(ctx.client.clone(), &from.namespace);
    let by_name = watcher::Config::default().fields(&format!("metadata.name={}", from.name));
    let mut events = std::pin::pin!(watcher(api, by_name).default_backoff());
    // The source's version last seen: a relist after a gap in the watch (410 Gone) brings the
    // changes made meanwhile as initial objects, which count as changes too.
    let mut seen: Option<String> = None;
    while let Some(event) = events.next().await {
        let (object, initial) = match event {
            Ok(watcher::Event::Apply(object)) => (object, false),
            Ok(watcher::Event::InitApply(object)) => (object, true),
            Ok(watcher::Event::Delete(_)) => {
                seen = None;
                continue;
            }
            Ok(_) => continue,
            Err(error) => {
                tracing::warn!(%error, source = %from, setting = kind.setting(), "watching a copied source failed");
                continue;
            }
        };
        let version = object.meta().resource_version.clone();
        let changed = version != seen && (!initial || seen.is_some());
        seen = version;
        if changed {
            wake_holders(&ctx, kind, &from).await;
        }
    }
}

/// Wakes the previews that may hold a copy of `from` (their repository copies it, or offers it
/// to its definition).
async fn wake_holders(ctx: &Ctx, kind: Kind, from: &Source) {
    let Some(records) = ctx.records.all(crate::timing::RECORDS_LISTED_WAIT).await else {
        return;
    };
    let settings = &ctx.settings;
    for pe in records {
        let repository = settings
            .config
            .repository_settings(&settings.allowlist, &pe.spec.pull.repository);
        let holds = copies_for(&repository, &pe) && copies::may_hold(&repository, kind, from);
        if holds && pe.metadata.deletion_timestamp.is_none() {
            ctx.queue.wake_now(&pe);
        }
    }
}
