//! Applying a preview: render its objects (no I/O), resolve every kind, create or update its
//! namespace, apply the fences and then the objects, prune what is no longer rendered, and judge
//! readiness from what the API server returned. The plan (`rules::plan`) turns the outcome into
//! a phase.

use std::collections::BTreeSet;

use k8s_openapi::api::core::v1::Namespace;
use kube::ResourceExt;
use serde_json::Value;

use crate::build::copies::{self as build_copies, Wanted};
use crate::build::definition::{self, Source, chart::Chart, overlay::Overlay};
use crate::build::render::{Context, RenderedObject, Template};
use crate::build::{fence_objects, restart};
use crate::config::RepositoryConfig;
use crate::controller::apply::{
    Applied, apply_fenced, apply_namespace, kind_key, prune, resolve_fenced,
};
use crate::controller::{Ctx, Error, copies, recheck};
use crate::github::definition::Fetched;
use crate::metrics;
use crate::model::crd::{Phase, PreviewEnvironment};
use crate::model::labels;
use crate::rules::plan::ApplyOutcome;
use crate::rules::readiness;
use crate::sandbox::Rendering;
use crate::timing;

/// How a deploy step came to its outcome.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Came {
    /// Everything applied.
    Applied,
    /// A deploy under way, its workloads read again (see `recheck`).
    Reread,
}

/// Applies `pe`'s objects at its head SHA into its namespace (`checked`: the namespace as it
/// was read, this preview's or absent), or reads a deploy under way again.
pub(crate) async fn apply(
    pe: &PreviewEnvironment,
    ctx: &Ctx,
    checked: Option<&Namespace>,
    uid: &str,
) -> Result<(ApplyOutcome, Came), Error> {
    let mut came = Came::Applied;
    let outcome = apply_or_reread(pe, ctx, checked, uid, &mut came).await?;
    Ok((outcome, came))
}

async fn apply_or_reread(
    pe: &PreviewEnvironment,
    ctx: &Ctx,
    checked: Option<&Namespace>,
    uid: &str,
    came: &mut Came,
) -> Result<ApplyOutcome, Error> {
    let name = pe.name_any();
    let config = &ctx.settings.config;
    let pull = &pe.spec.pull;
    let preview_labels = labels::preview_labels(
        &ctx.settings.instance,
        &name,
        pull.repository.id,
        pull.number,
    );
    let values = config.values_for(config.repository(&ctx.settings.allowlist, &pull.repository));
    let repository = config.repository_settings(&ctx.settings.allowlist, &pull.repository);
    let Chosen {
        defined,
        values,
        readiness,
        copies: wanted_copies,
    } = match defined(pe, ctx, &repository, values).await? {
        Ok(chosen) => chosen,
        Err(why) => return Ok(ApplyOutcome::Invalid(why)),
    };
    let context = match Context::new(pull, &name, &ctx.settings.host_pattern, values) {
        Ok(context) => context,
        Err(e) => return Ok(ApplyOutcome::Invalid(e.to_string())),
    };
    let started = std::time::Instant::now();
    let rendered = defined
        .rendering()
        .objects(&ctx.settings.renderers, &context, &preview_labels)
        .await;
    metrics::get().step("render", started.elapsed());
    let mut objects = match rendered {
        Ok(objects) => objects,
        Err(why) => return Ok(ApplyOutcome::Invalid(why)),
    };
    if let Some((wanted, dir)) = &readiness
        && let Err(why) = definition::readiness::select(wanted, &mut objects)
    {
        return Ok(ApplyOutcome::Invalid(format!("{dir}/{why}")));
    }
    restart::stamp(&mut objects, pe.spec.redeploys);
    let mut fenced = fence_objects::objects(&config.fences, &name, &preview_labels);
    fenced.extend(
        ctx.settings
            .read_binding
            .as_ref()
            .map(|binding| fence_objects::read_binding(binding, &name, &preview_labels)),
    );
    let wanted_copies = (repository.as_ref(), wanted_copies.as_slice());
    match copies::objects(pe, ctx, wanted_copies, &name, &preview_labels).await? {
        Ok(copied) => fenced.extend(copied),
        Err(why) => return Ok(ApplyOutcome::Invalid(why)),
    }
    let (kinds, fence_kinds) = match resolve_fenced(ctx, &objects, &fenced).await? {
        Ok(kinds) => kinds,
        Err(why) => return Ok(ApplyOutcome::Invalid(why)),
    };

    let applying = recheck::hash_of(objects.iter().chain(&fenced));
    let generation = pe.metadata.generation;
    if let Some(outcome) = recheck(pe, ctx, checked, &objects, applying, &context.url).await? {
        *came = Came::Reread;
        return Ok(outcome);
    }
    let mut namespace_labels = preview_labels.clone();
    namespace_labels.extend(fence_objects::namespace_labels(&config.fences));
    let namespace = apply_namespace(pe, ctx, checked, &name, uid, &namespace_labels);
    metrics::timed("namespace_apply", namespace).await?;
    let previous_kinds = pe
        .status
        .as_ref()
        .map(|s| s.applied_kinds.clone())
        .unwrap_or_default();
    // Partly applied: what was applied before may still run, so its kinds stay known.
    let partly_kinds = || {
        kinds_of(
            previous_kinds
                .iter()
                .cloned()
                .chain(objects.iter().map(kind_key)),
            &fenced,
        )
    };
    let applied = apply_fenced(
        ctx,
        &name,
        (&fenced, &fence_kinds),
        (&objects, &kinds),
        timing::QUOTA_WAIT,
    )
    .await?;
    let applied = match applied {
        Applied::All(applied) => {
            ctx.applied.note(&name, uid, generation, applying, &applied);
            applied
        }
        Applied::Refused(why) => {
            ctx.applied.forget(&name);
            return Ok(ApplyOutcome::Refused {
                why,
                kinds: partly_kinds(),
            });
        }
        Applied::QuotaUncounted => {
            ctx.applied.forget(&name);
            return Ok(ApplyOutcome::QuotaUncounted {
                what: format!(
                    "ResourceQuota {}: not yet counted by the quota controller (kube-controller-manager); no pod can start before it is",
                    fence_objects::NAME
                ),
                source: fence_objects::SOURCE.to_owned(),
                kinds: partly_kinds(),
            });
        }
    };
    objects.extend(fenced);
    // A namespace created just now holds nothing to prune (and previewd's reads there may wait
    // for its RoleBinding to reach the authorizer).
    if checked.is_some() {
        prune(ctx, &name, &previous_kinds, &objects).await?;
    }
    let returned: Vec<Value> = applied
        .iter()
        .map(|o| serde_json::to_value(o).unwrap_or(Value::Null))
        .collect();
    Ok(ApplyOutcome::Applied {
        url: context.url,
        kinds: kinds_of(std::iter::empty(), &objects),
        readiness: readiness::overall(&returned),
    })
}

/// What a preview renders from: previewd's templates, or its repository's definition (its
/// files named by their path in the repository).
enum Defined<'a> {
    Own(&'a [Template]),
    Templates(Vec<Template>),
    Chart { chart: Chart, shown: String },
    Overlay { overlay: Overlay, shown: String },
}

impl Defined<'_> {
    fn rendering(&self) -> Rendering<'_> {
        match self {
            Defined::Own(templates) => Rendering::Templates(templates),
            Defined::Templates(templates) => Rendering::Templates(templates),
            Defined::Chart { chart, shown } => Rendering::Chart { chart, shown },
            Defined::Overlay { overlay, shown } => Rendering::Overlay { overlay, shown },
        }
    }
}

/// What a preview renders from, with which values, (from a definition that names them) which
/// workloads decide its readiness, with the definition's directory, and the copies it gets.
struct Chosen<'a> {
    defined: Defined<'a>,
    values: Value,
    readiness: Option<(Vec<String>, String)>,
    copies: Vec<Wanted>,
}

/// What `pe` renders from and with which values: its repository's own definition (read from
/// the pull request's base branch, never its head) when the operator lets the repository
/// define its previews and it does, else previewd's templates; `Err` says why the definition
/// is refused, naming the file.
async fn defined<'a>(
    pe: &PreviewEnvironment,
    ctx: &'a Ctx,
    repository: &RepositoryConfig,
    values: Value,
) -> Result<Result<Chosen<'a>, String>, Error> {
    let settings = &ctx.settings;
    let own = |values| Chosen {
        defined: Defined::Own(&settings.templates),
        values,
        readiness: None,
        copies: build_copies::configured(repository),
    };
    if !repository.defined_in_repository {
        return Ok(Ok(own(values)));
    }
    let dir = repository.definition_dir.trim_end_matches('/');
    let pull = &pe.spec.pull;
    let read = ctx.github.definition(
        &pull.repository,
        &pull.base_branch,
        dir,
        (&ctx.definitions, &ctx.branches),
    );
    let files = match metrics::timed("github_definition", read).await? {
        Fetched::Absent => return Ok(Ok(own(values))),
        Fetched::Refused(why) => return Ok(Err(format!("{dir}/{why}"))),
        Fetched::Found { files, .. } => files,
    };
    let found = match definition::read(&files) {
        Ok(found) => found,
        Err(why) => return Ok(Err(format!("{dir}/{why}"))),
    };
    let values = found.values(values);
    let copies = match build_copies::requested(
        repository,
        &found.settings.copy_secrets,
        &found.settings.copy_config_maps,
        &format!("{dir}/{}", definition::SETTINGS_FILE),
    ) {
        Ok(copies) => copies,
        Err(why) => return Ok(Err(why)),
    };
    let defined = match found.source {
        Source::Templates(templates) => Defined::Templates(
            templates
                .into_iter()
                .map(|t| Template {
                    file: format!("{dir}/{}", t.file),
                    source: t.source,
                })
                .collect(),
        ),
        Source::Chart(chart) => {
            if let Some(remote) = &chart.remote {
                let allowed = |url: &String| {
                    url.trim_end_matches('/') == remote.repository.trim_end_matches('/')
                };
                if !repository.chart_repositories.iter().any(allowed) {
                    return Ok(Err(format!(
                        "{dir}/{}: chart: the repository {} is not among those the operator allows (chartRepositories)",
                        definition::SETTINGS_FILE,
                        remote.repository
                    )));
                }
            }
            let shown = chart.shown_in(dir);
            Defined::Chart { chart, shown }
        }
        Source::Overlay(overlay) => Defined::Overlay {
            overlay,
            shown: dir.to_owned(),
        },
    };
    let readiness = found
        .settings
        .readiness
        .map(|wanted| (wanted, dir.to_owned()));
    Ok(Ok(Chosen {
        defined,
        values,
        readiness,
        copies,
    }))
}

/// A deploy under way at the head SHA whose objects this process applied, unchanged since (see
/// `recheck`): the outcome from its workloads as they are, without applying again (`None`:
/// apply in full). A Ready preview is applied in full on each wake-up: that is how drift is
/// put back.
async fn recheck(
    pe: &PreviewEnvironment,
    ctx: &Ctx,
    checked: Option<&Namespace>,
    objects: &[RenderedObject],
    applying: u64,
    url: &str,
) -> Result<Option<ApplyOutcome>, Error> {
    let name = pe.name_any();
    let Some(status) = pe.status.as_ref() else {
        return Ok(None);
    };
    let under_way = status.phase == Phase::Deploying
        && status.deployed_sha.as_deref() == Some(pe.spec.pull.head_sha.as_str())
        && checked.is_some_and(|ns| ns.metadata.deletion_timestamp.is_none());
    let uid = pe.uid().unwrap_or_default();
    if !under_way
        || !ctx
            .applied
            .unchanged(&name, &uid, pe.metadata.generation, applying)
    {
        return Ok(None);
    }
    let read = recheck::workloads(&ctx.applied, &ctx.client, &name, objects);
    let Some(workloads) = metrics::timed("workloads_read", read).await? else {
        return Ok(None);
    };
    Ok(Some(ApplyOutcome::Applied {
        url: url.to_owned(),
        kinds: status.applied_kinds.clone(),
        readiness: readiness::overall(&workloads),
    }))
}

/// The sorted, distinct `apiVersion/kind`s of `known` and `objects` (what pruning looks at).
fn kinds_of(known: impl Iterator<Item = String>, objects: &[RenderedObject]) -> Vec<String> {
    known
        .chain(objects.iter().map(kind_key))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}
