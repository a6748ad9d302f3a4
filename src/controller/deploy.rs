//! Applying a preview: render its objects (no I/O), resolve every kind, create or update its
//! namespace, apply the fences and then the objects, prune what is no longer rendered, and judge
//! readiness from what the API server returned. The plan (`rules::plan`) turns the outcome into
//! a phase.

use std::collections::BTreeSet;

use k8s_openapi::api::core::v1::Namespace;
use kube::ResourceExt;
use serde_json::Value;

use crate::build::render::{self, Context, RenderedObject};
use crate::build::{fence_objects, restart};
use crate::controller::apply::{
    Applied, apply_fenced, apply_namespace, kind_key, prune, resolve_fenced,
};
use crate::controller::{Ctx, Error};
use crate::model::crd::PreviewEnvironment;
use crate::model::labels;
use crate::rules::plan::ApplyOutcome;
use crate::rules::readiness;
use crate::timing;

/// Applies `pe`'s objects at its head SHA into its namespace (`checked`: the namespace as it
/// was read, this preview's or absent).
pub(crate) async fn apply(
    pe: &PreviewEnvironment,
    ctx: &Ctx,
    checked: Option<&Namespace>,
    uid: &str,
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
    let rendered =
        Context::new(pull, &name, &ctx.settings.host_pattern, values).and_then(|context| {
            render::render(&ctx.settings.templates, &context, &preview_labels).map(|o| (context, o))
        });
    let (context, mut objects) = match rendered {
        Ok(ok) => ok,
        Err(e) => return Ok(ApplyOutcome::Invalid(e.to_string())),
    };
    restart::stamp(&mut objects, pe.spec.redeploys);
    let mut fenced = fence_objects::objects(&config.fences, &name, &preview_labels);
    fenced.extend(
        ctx.settings
            .read_binding
            .as_ref()
            .map(|binding| fence_objects::read_binding(binding, &name, &preview_labels)),
    );
    let (kinds, fence_kinds) = match resolve_fenced(ctx, &objects, &fenced).await? {
        Ok(kinds) => kinds,
        Err(why) => return Ok(ApplyOutcome::Invalid(why)),
    };

    let mut namespace_labels = preview_labels.clone();
    namespace_labels.extend(fence_objects::namespace_labels(&config.fences));
    apply_namespace(pe, ctx, checked, &name, uid, &namespace_labels).await?;
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
        Applied::All(applied) => applied,
        Applied::Refused(why) => {
            return Ok(ApplyOutcome::Refused {
                why,
                kinds: partly_kinds(),
            });
        }
        Applied::QuotaUncounted => {
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

/// The sorted, distinct `apiVersion/kind`s of `known` and `objects` (what pruning looks at).
fn kinds_of(known: impl Iterator<Item = String>, objects: &[RenderedObject]) -> Vec<String> {
    known
        .chain(objects.iter().map(kind_key))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}
