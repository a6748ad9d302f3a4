//! Publishing what a reconcile found: the sticky PR comment first (so its id is known), then
//! the awaited commands' reactions, then the status, written once and only when it changed;
//! then an Event for a new phase, and a wake-up for the queue when a slot freed.

use chrono::Utc;
use kube::api::{Patch, PatchParams};
use kube::{Api, ResourceExt};
use serde_json::json;

use crate::controller::commands::settle_awaiting;
use crate::controller::events::Severity;
use crate::controller::{Ctx, Error, comment};
use crate::model::crd::{Phase, PreviewEnvironment, PreviewEnvironmentStatus};
use crate::model::labels::FIELD_MANAGER;
use crate::rules::status::{Observation, holds_deployment, holds_phase, next_status};

/// Publishes `seen` for `pe`: the PR comment if what it shows changed, then the status if it
/// changed. A GitHub failure is recorded in the status and returned after it is written.
pub(crate) async fn publish(
    pe: &PreviewEnvironment,
    ctx: &Ctx,
    seen: Observation,
) -> Result<(), Error> {
    let name = pe.name_any();
    let current = pe.status.clone().unwrap_or_default();
    let (comment, github_failure) = comment::sync(pe, ctx, &seen, &current).await;
    let at_head = seen.deployed_sha.as_deref() == Some(pe.spec.pull.head_sha.as_str());
    let awaiting = settle_awaiting(pe, ctx, &current.awaiting, seen.phase, at_head).await;
    let mut next = next_status(&current, pe.metadata.generation, seen, comment, Utc::now());
    next.awaiting = awaiting;
    if next != current {
        write_status(ctx, &name, &next).await?;
    }
    announce(pe, ctx, &current, &next).await;
    match github_failure {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// An Event for a new phase; a wake-up of the queue when the preview gave its slot back.
async fn announce(
    pe: &PreviewEnvironment,
    ctx: &Ctx,
    before: &PreviewEnvironmentStatus,
    after: &PreviewEnvironmentStatus,
) {
    if after.phase != before.phase {
        let severity = match after.phase {
            Phase::Failed => Severity::Warning,
            _ => Severity::Normal,
        };
        let note = after.message.as_deref().unwrap_or(after.phase.as_str());
        ctx.events
            .phase_changed(pe, after.phase.as_str(), severity, note)
            .await;
    }
    if holds_deployment(before) && !holds_phase(after.phase) {
        // A slot is free: the first in the queue may take it.
        ctx.queue.wake();
    }
}

/// Writes the whole status under previewd's one field manager (server-side apply), so a field
/// left out is a field removed; returns the object as the API server stored it.
pub(crate) async fn write_status(
    ctx: &Ctx,
    name: &str,
    status: &PreviewEnvironmentStatus,
) -> Result<PreviewEnvironment, Error> {
    let patch = json!({
        "apiVersion": "previewd.dev/v1alpha1",
        "kind": "PreviewEnvironment",
        "status": status,
    });
    Ok(Api::<PreviewEnvironment>::all(ctx.client.clone())
        .patch_status(
            name,
            &PatchParams::apply(FIELD_MANAGER).force(),
            &Patch::Apply(&patch),
        )
        .await?)
}
