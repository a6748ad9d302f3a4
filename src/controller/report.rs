//! Reporting what a reconcile found: the status, with what the PR comment should say and the
//! awaited commands' reactions in its outbox (the publisher sends them, outside the reconcile),
//! written once and only when it changed; then an Event for a new phase, and a wake-up for the
//! queue when a slot freed.

use chrono::Utc;
use kube::api::{Patch, PatchParams};
use kube::{Api, ResourceExt};
use serde_json::json;

use crate::controller::commands::settle_awaiting;
use crate::controller::events::Severity;
use crate::controller::{Ctx, Error};
use crate::metrics;
use crate::model::crd::{Phase, PreviewEnvironment, PreviewEnvironmentStatus};
use crate::model::labels::FIELD_MANAGER;
use crate::rules::outbox::{PUBLISHER_FIELDS, wanted_comment};
use crate::rules::status::{Observation, holds_deployment, holds_phase, next_status};

/// Reports `seen` for `pe`: writes the status if it changed (the comment wanted and reactions
/// due included) and returns it.
pub(crate) async fn report(
    pe: &PreviewEnvironment,
    ctx: &Ctx,
    seen: Observation,
) -> Result<PreviewEnvironmentStatus, Error> {
    let name = pe.name_any();
    let current = pe.status.clone().unwrap_or_default();
    let at_head = seen.deployed_sha.as_deref() == Some(pe.spec.pull.head_sha.as_str());
    let phase = seen.phase;
    let wanted = wanted_comment(&current, &seen, &name, &pe.spec.pull.head_sha);
    let mut next = next_status(&current, pe.metadata.generation, seen, wanted, Utc::now());
    settle_awaiting(
        &mut next,
        pe.metadata.generation.unwrap_or(0),
        phase,
        at_head,
    );
    if next != current {
        write_status(ctx, &name, &next).await?;
    }
    announce(pe, ctx, &current, &next).await;
    Ok(next)
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

/// Writes the whole status but the publisher's fields under previewd's field manager
/// (server-side apply), so a field left out is a field removed; returns the object as the API
/// server stored it.
pub(crate) async fn write_status(
    ctx: &Ctx,
    name: &str,
    status: &PreviewEnvironmentStatus,
) -> Result<PreviewEnvironment, Error> {
    let mut fields = serde_json::to_value(status).unwrap_or_default();
    if let Some(fields) = fields.as_object_mut() {
        for field in PUBLISHER_FIELDS {
            fields.remove(field);
        }
    }
    let patch = json!({
        "apiVersion": "previewd.dev/v1alpha1",
        "kind": "PreviewEnvironment",
        "status": fields,
    });
    let api = Api::<PreviewEnvironment>::all(ctx.client.clone());
    let params = PatchParams::apply(FIELD_MANAGER).force();
    let patch = Patch::Apply(&patch);
    let written = metrics::timed("status_write", api.patch_status(name, &params, &patch)).await?;
    ctx.own_writes.note_written(&written);
    Ok(written)
}
