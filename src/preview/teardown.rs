//! Ending a preview: delete its namespace (only if it is this preview's), wait until the API
//! server confirms it is gone, then say so in the PR comment and status.

use k8s_openapi::api::core::v1::Namespace;
use kube::api::DeleteParams;
use kube::runtime::controller::Action;
use kube::runtime::wait::{await_condition, conditions};
use kube::{Api, ResourceExt};

use super::controller::{Ctx, Error};
use super::crd::{DestroyReason, Phase, PreviewEnvironment};
use super::labels;
use super::report::{Observation, publish};

/// Drives `pe` to `Destroyed` for `reason`; returns only once the namespace is gone (or stuck).
pub async fn run(
    pe: &PreviewEnvironment,
    ctx: &Ctx,
    reason: DestroyReason,
) -> Result<Action, Error> {
    let name = pe.name_any();
    let uid = pe.uid().ok_or_else(|| Error::NoUid(name.clone()))?;
    let namespaces = Api::<Namespace>::all(ctx.client.clone());
    let base = Observation {
        namespace: Some(name.clone()),
        deployed_sha: pe.status.as_ref().and_then(|s| s.deployed_sha.clone()),
        ..Observation::default()
    };
    if let Some(ns) = namespaces.get_opt(&name).await? {
        if !labels::owned_by(
            ns.metadata.labels.as_ref(),
            ns.metadata.annotations.as_ref(),
            &ctx.settings.instance,
            &uid,
        ) {
            tracing::warn!(namespace = %name, "namespace is not this preview's; leaving it alone");
        } else {
            if ns.metadata.deletion_timestamp.is_none() {
                tracing::info!(namespace = %name, reason = reason.describe(), "deleting preview namespace");
                namespaces.delete(&name, &DeleteParams::default()).await?;
            }
            let ns_uid = ns.uid().unwrap_or_default();
            let gone = await_condition(namespaces.clone(), &name, conditions::is_deleted(&ns_uid));
            if tokio::time::timeout(ctx.settings.terminate_timeout, gone)
                .await
                .is_err()
            {
                let stuck = Observation {
                    phase: Phase::Terminating,
                    message: Some(format!(
                        "namespace {name} is still terminating after {}s; check its remaining objects and finalizers",
                        ctx.settings.terminate_timeout.as_secs()
                    )),
                    ..base
                };
                publish(pe, ctx, stuck).await?;
                return Err(Error::StillTerminating(name));
            }
        }
    }
    let destroyed = Observation {
        phase: Phase::Destroyed,
        message: Some(format!("destroyed because {}", reason.describe())),
        ..base
    };
    publish(pe, ctx, destroyed).await?;
    Ok(Action::await_change())
}
