//! Ending a preview: delete its namespace (only if it is this preview's), report Terminating
//! until the API server confirms it is gone (the namespace watch wakes the controller), then say
//! Destroyed in the PR comment and status. Never waits inside a reconcile.

use chrono::Utc;
use k8s_openapi::api::core::v1::Namespace;
use kube::api::DeleteParams;
use kube::{Api, ResourceExt};

use crate::controller::report::{Observation, publish};
use crate::controller::{Ctx, Error};
use crate::model::crd::{Phase, PreviewEnvironment};
use crate::model::labels;

/// Where a teardown stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Teardown {
    /// The namespace is gone and that was reported.
    Gone,
    /// The namespace is still terminating.
    Terminating,
}

/// Drives `pe` to `Destroyed`; `because` is the status message once it is (why it went).
pub async fn run(pe: &PreviewEnvironment, ctx: &Ctx, because: &str) -> Result<Teardown, Error> {
    let name = pe.name_any();
    let uid = pe.uid().ok_or_else(|| Error::NoUid(name.clone()))?;
    let namespaces = Api::<Namespace>::all(ctx.client.clone());
    let base = Observation::carried_over(pe);
    let mut note = String::new();
    if let Some(ns) = namespaces.get_opt(&name).await? {
        if labels::owns(&ns.metadata, &ctx.settings.instance, &uid) {
            let since = match &ns.metadata.deletion_timestamp {
                Some(at) => {
                    chrono::DateTime::from_timestamp(at.0.as_second(), 0).unwrap_or_else(Utc::now)
                }
                None => {
                    tracing::info!(namespace = %name, because, "deleting preview namespace");
                    namespaces.delete(&name, &DeleteParams::default()).await?;
                    Utc::now()
                }
            };
            let waited = (Utc::now() - since).to_std().unwrap_or_default();
            let stuck = (waited > ctx.settings.terminate_timeout).then(|| {
                format!(
                    "namespace {name} is still terminating after {}s; check its remaining objects and finalizers",
                    ctx.settings.terminate_timeout.as_secs()
                )
            });
            let terminating = Observation {
                phase: Phase::Terminating,
                message: stuck,
                ..base
            };
            publish(pe, ctx, terminating).await?;
            return Ok(Teardown::Terminating);
        }
        tracing::warn!(namespace = %name, "namespace is not this preview's; leaving it alone");
        note = format!("; namespace {name} was never this preview's and was left alone");
    }
    let destroyed = Observation {
        phase: Phase::Destroyed,
        message: Some(format!("{because}{note}")),
        ..base
    };
    publish(pe, ctx, destroyed).await?;
    Ok(Teardown::Gone)
}
