//! A commit's CI changed (a `check_run`, `check_suite` or `status` delivery): the records whose
//! head is that commit and which wait for its checks are woken, by an annotation that the
//! controller reconciles on. Nothing else is written: the controller reads the checks from
//! GitHub itself, so a delivery cannot claim that a check passed.

use std::sync::Arc;

use kube::api::{ListParams, Patch, PatchParams};
use kube::{Api, Client, ResourceExt};

use crate::model::crd::PreviewEnvironment;
use crate::model::event::ChecksEvent;
use crate::model::labels::{self, CHECKS_CHANGED};
use crate::records::Records;
use crate::rules::checks::waits_on;

/// Wakes `instance`'s records that wait on `event`'s commit; returns their names.
pub async fn wake(
    client: &Client,
    records: &Records,
    instance: &str,
    event: &ChecksEvent,
) -> Result<Vec<String>, kube::Error> {
    let api = Api::<PreviewEnvironment>::all(client.clone());
    let of_repository = match records.of_repository(event.repository.id) {
        Some(cached) => cached,
        None => {
            let selector = format!(
                "{},{}={}",
                labels::instance_selector(instance),
                labels::REPOSITORY_ID,
                event.repository.id
            );
            let listed = api.list(&ListParams::default().labels(&selector)).await?;
            listed.items.into_iter().map(Arc::new).collect()
        }
    };
    let mut woken = Vec::new();
    for pe in of_repository {
        let waits = waits_on(&pe.spec, pe.status.as_ref(), &event.sha);
        let told = pe.annotations().get(CHECKS_CHANGED) == Some(&event.change);
        if !waits || told || pe.metadata.deletion_timestamp.is_some() {
            continue;
        }
        let patch = serde_json::json!({
            "metadata": {"annotations": {CHECKS_CHANGED: event.change}}
        });
        let name = pe.name_any();
        match api
            .patch(&name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
        {
            Ok(_) => woken.push(name),
            // Removed meanwhile: nothing waits any more.
            Err(kube::Error::Api(status)) if status.code == 404 => {}
            Err(e) => return Err(e),
        }
    }
    Ok(woken)
}
