//! Bringing a preview to its head SHA: the repository's policy decides whether it may run (a
//! closed gate takes a running preview down or, for a fork's unapproved push, keeps the approved
//! one running), the pause switch and the queue decide whether it may start now; then render (no
//! I/O), apply (see `apply`) and judge readiness from what the API server returned.

use std::collections::BTreeSet;
use std::time::Duration;

use chrono::Utc;
use k8s_openapi::api::core::v1::Namespace;
use kube::api::DynamicObject;
use kube::runtime::controller::Action;
use kube::{Api, ResourceExt};
use serde_json::Value;

use crate::build::fence_objects;
use crate::build::render::{self, Context, RenderedObject};
use crate::build::restart;
use crate::controller::apply::{
    Applied, apply_fenced, apply_namespace, kind_key, prune, resolve_fenced,
};
use crate::controller::report::{Observation, holds_deployment, publish};
use crate::controller::teardown::{self, Teardown};
use crate::controller::{Ctx, Error};
use crate::model::crd::{Phase, PreviewEnvironment};
use crate::model::labels;
use crate::rules::admission::{Admission, Facts, admit, needs_slot};
use crate::rules::expiry::preview_expires_at;
use crate::rules::gate::{Gate, gate};
use crate::rules::readiness::{Readiness, is_workload, readiness};

/// How long one reconcile waits for the quota controller to count a new ResourceQuota (it
/// usually takes well under a second); then it is awaited again on a requeue.
const QUOTA_WAIT: Duration = Duration::from_secs(10);

/// Drives `pe` towards `Deployed`.
pub async fn run(pe: &PreviewEnvironment, ctx: &Ctx) -> Result<Action, Error> {
    let name = pe.name_any();
    let uid = pe.uid().ok_or_else(|| Error::NoUid(name.clone()))?;
    let config = &ctx.settings.config;
    let repository = config.policy(&pe.spec.pull.repository.full_name);
    let repository = repository.as_ref();
    let expires = preview_expires_at(pe, repository.ttl.0);
    let base = Observation {
        expires_at: expires,
        applied_kinds: pe
            .status
            .as_ref()
            .map(|s| s.applied_kinds.clone())
            .unwrap_or_default(),
        ..Observation::carried_over(pe)
    };
    let pending = |message: String| Observation {
        phase: Phase::Pending,
        message: Some(message),
        ..base.clone()
    };
    let failed = |message: String| Observation {
        phase: Phase::Failed,
        message: Some(message),
        ..base.clone()
    };

    let existing = Api::<Namespace>::all(ctx.client.clone())
        .get_opt(&name)
        .await?;
    let ours = existing
        .as_ref()
        .is_some_and(|ns| labels::owns(&ns.metadata, &ctx.settings.instance, &uid));
    let running_sha = pe
        .status
        .as_ref()
        .filter(|s| holds_deployment(s))
        .and_then(|s| s.deployed_sha.as_deref());
    if let Gate::Closed(closed) = gate(&pe.spec, repository) {
        if running_sha.is_some() && closed.keep_running {
            return hold(pe, ctx, &base, closed.reason).await;
        }
        let was_deployed = ours
            || pe
                .status
                .as_ref()
                .is_some_and(|s| holds_deployment(s) || s.phase == Phase::Destroyed);
        if was_deployed {
            let because = format!("not deployed: {}", closed.reason);
            return Ok(match teardown::run(pe, ctx, &because).await? {
                Teardown::Gone => Action::await_change(),
                Teardown::Terminating => Action::requeue(Duration::from_secs(10)),
            });
        }
        let waiting = Observation {
            quiet: !closed.announce,
            ..pending(closed.reason)
        };
        publish(pe, ctx, waiting).await?;
        return Ok(Action::await_change());
    }
    if let Some(ns) = &existing {
        if ns.metadata.deletion_timestamp.is_some() {
            publish(
                pe,
                ctx,
                pending(format!(
                    "waiting for the previous namespace {name} to finish terminating"
                )),
            )
            .await?;
            return Ok(Action::requeue(Duration::from_secs(2)));
        }
        if !ours {
            let why = format!(
                "namespace {name} already exists and does not belong to this preview; previewd will not touch it"
            );
            publish(pe, ctx, failed(why)).await?;
            return Ok(Action::requeue(Duration::from_secs(300)));
        }
    }
    // Wake up in time to expire it (never sooner than a second: no hot loop).
    let requeue = |after: Duration| {
        let until_expiry = expires
            .map(|at| (at - Utc::now()).to_std().unwrap_or_default())
            .unwrap_or(after);
        Action::requeue(after.min(until_expiry).max(Duration::from_secs(1)))
    };
    let queued_since = pe
        .status
        .as_ref()
        .and_then(|s| s.queued_at)
        .unwrap_or_else(Utc::now);
    let slot = match needs_slot(running_sha) {
        true => Some(ctx.queue.claim(pe, queued_since, config).await),
        false => None,
    };
    let facts = Facts {
        paused: config.paused,
        head_sha: &pe.spec.pull.head_sha,
        running_sha,
        slot,
    };
    match admit(&facts) {
        Admission::Proceed => {}
        Admission::Wait(why) => {
            publish(pe, ctx, pending(why)).await?;
            return Ok(Action::requeue(Duration::from_secs(10)));
        }
        Admission::Queue(why) => {
            let queued = Observation {
                queued_at: Some(queued_since),
                ..pending(why)
            };
            publish(pe, ctx, queued).await?;
            // Woken when a slot frees; the requeue is a backstop.
            return Ok(Action::requeue(Duration::from_secs(30)));
        }
        Admission::Hold(why) => return hold(pe, ctx, &base, why).await,
    }

    let pull = &pe.spec.pull;
    let values = ctx.settings.config.values_for(&pull.repository.full_name);
    let preview_labels = labels::preview_labels(
        &ctx.settings.instance,
        &name,
        pe.spec.pull.repository.id,
        pe.spec.pull.number,
    );
    let rendered =
        Context::new(pull, &name, &ctx.settings.host_pattern, values).and_then(|context| {
            render::render(&ctx.settings.templates, &context, &preview_labels).map(|o| (context, o))
        });
    let (context, mut objects) = match rendered {
        Ok(ok) => ok,
        Err(e) => {
            publish(pe, ctx, failed(e.to_string())).await?;
            return Ok(Action::await_change());
        }
    };
    restart::stamp(&mut objects, pe.spec.redeploys);
    let fenced = fence_objects::objects(&config.fences, &name, &preview_labels);
    let (kinds, fence_kinds) = match resolve_fenced(ctx, &objects, &fenced).await? {
        Ok(kinds) => kinds,
        Err(why) => {
            publish(pe, ctx, failed(why)).await?;
            return Ok(Action::await_change());
        }
    };

    let generation_changed =
        pe.status.as_ref().and_then(|s| s.observed_generation) != pe.metadata.generation;
    let started = match pe.status.as_ref().and_then(|s| s.deploy_started_at) {
        Some(at) if !generation_changed => at,
        _ => Utc::now(),
    };
    let elapsed = || (Utc::now() - started).to_std().unwrap_or_default();
    let mut namespace_labels = preview_labels.clone();
    namespace_labels.extend(fence_objects::namespace_labels(&config.fences));
    apply_namespace(
        pe,
        ctx,
        existing.as_ref(),
        &name,
        &uid,
        &preview_labels,
        &namespace_labels,
    )
    .await?;
    // From here on objects may run: the preview holds its slot until torn down.
    let partly = |why: String| Observation {
        deployed_sha: Some(pe.spec.pull.head_sha.clone()),
        applied_kinds: kinds_of(
            base.applied_kinds
                .iter()
                .cloned()
                .chain(objects.iter().map(kind_key)),
            &fenced,
        ),
        ..failed(why)
    };
    let applied = match apply_fenced(
        ctx,
        &name,
        (&fenced, &fence_kinds),
        (&objects, &kinds),
        QUOTA_WAIT,
    )
    .await?
    {
        Applied::All(applied) => applied,
        Applied::Refused(why) => {
            publish(pe, ctx, partly(why)).await?;
            return Ok(Action::requeue(Duration::from_secs(60)));
        }
        Applied::QuotaUncounted => {
            let what = format!(
                "ResourceQuota {}: not yet counted by the quota controller (kube-controller-manager); no pod can start before it is",
                fence_objects::NAME
            );
            if elapsed() >= ctx.settings.ready_timeout {
                publish(
                    pe,
                    ctx,
                    partly(format!("{}: {what}", fence_objects::SOURCE)),
                )
                .await?;
                return Ok(Action::requeue(Duration::from_secs(60)));
            }
            let waiting = Observation {
                phase: Phase::Deploying,
                message: Some(format!("waiting for {what}")),
                deploy_started_at: Some(started),
                ..partly(String::new())
            };
            publish(pe, ctx, waiting).await?;
            return Ok(Action::requeue(Duration::from_secs(2)));
        }
    };
    objects.extend(fenced);
    let applied_kinds = kinds_of(std::iter::empty(), &objects);
    prune(ctx, &name, &base.applied_kinds, &objects).await?;

    let mut seen = Observation {
        url: Some(context.url.clone()),
        deployed_sha: Some(pe.spec.pull.head_sha.clone()),
        applied_kinds,
        deploy_started_at: Some(started),
        ..base.clone()
    };
    let elapsed = elapsed();
    let verdict = judge(&applied);
    let action = match verdict {
        Readiness::Ready => {
            seen.phase = Phase::Ready;
            requeue(Duration::from_secs(600))
        }
        Readiness::Failed(why) => {
            seen.phase = Phase::Failed;
            seen.message = Some(why);
            requeue(Duration::from_secs(300))
        }
        Readiness::Waiting(what) if elapsed >= ctx.settings.ready_timeout => {
            seen.phase = Phase::Failed;
            seen.message = Some(format!(
                "not ready after {}s: {what}",
                ctx.settings.ready_timeout.as_secs()
            ));
            requeue(Duration::from_secs(300))
        }
        Readiness::Waiting(what) => {
            seen.phase = Phase::Deploying;
            seen.message = Some(format!("waiting for {what}"));
            Action::requeue(
                ctx.settings
                    .ready_timeout
                    .saturating_sub(elapsed)
                    .min(Duration::from_secs(30)),
            )
        }
    };
    publish(pe, ctx, seen).await?;
    Ok(action)
}

/// The sorted, distinct `apiVersion/kind`s of `known` and `objects` (what pruning looks at).
fn kinds_of(known: impl Iterator<Item = String>, objects: &[RenderedObject]) -> Vec<String> {
    known
        .chain(objects.iter().map(kind_key))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

/// Keeps what runs running and says why nothing new is deployed.
async fn hold(
    pe: &PreviewEnvironment,
    ctx: &Ctx,
    base: &Observation,
    why: String,
) -> Result<Action, Error> {
    let current = pe.status.clone().unwrap_or_default();
    let held = Observation {
        phase: current.phase,
        message: Some(why),
        url: current.url,
        ..base.clone()
    };
    publish(pe, ctx, held).await?;
    Ok(Action::requeue(Duration::from_secs(60)))
}

/// The first workload that is not ready decides; all ready means Ready.
fn judge(applied: &[DynamicObject]) -> Readiness {
    let mut waiting = None;
    for object in applied {
        let Some(types) = &object.types else { continue };
        if !is_workload(&types.api_version, &types.kind) {
            continue;
        }
        let value = serde_json::to_value(object).unwrap_or(Value::Null);
        match readiness(&types.kind, &value) {
            Readiness::Ready => {}
            Readiness::Failed(why) => {
                return Readiness::Failed(format!("{} {}: {why}", types.kind, object.name_any()));
            }
            Readiness::Waiting(what) => {
                waiting
                    .get_or_insert_with(|| format!("{} {}: {what}", types.kind, object.name_any()));
            }
        }
    }
    waiting.map_or(Readiness::Ready, Readiness::Waiting)
}
