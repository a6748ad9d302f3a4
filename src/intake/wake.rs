//! Waking records when something they wait on changed on GitHub: a commit's CI (`check_run`,
//! `check_suite`, `status`), or the base branch a repository defines its previews on (`push`).
//! The records concerned get an annotation saying what changed, which the controller reconciles
//! on. Nothing else is written: the controller reads what changed from GitHub itself, so a
//! delivery cannot claim that a check passed or what a definition holds.

use std::sync::Arc;

use kube::api::{ListParams, Patch, PatchParams};
use kube::{Api, Client, ResourceExt};

use crate::model::crd::PreviewEnvironment;
use crate::model::labels;
use crate::records::Records;

/// What changed, and which records it concerns.
pub struct Change<'a> {
    /// The repository's id.
    pub repository_id: u64,
    /// The annotation to set.
    pub annotation: &'static str,
    /// Its value: the change, the same text for a redelivery (which then writes nothing).
    pub value: &'a str,
}

/// Wakes `instance`'s records of `change`'s repository that `concerned` picks; returns their
/// names.
pub async fn wake(
    client: &Client,
    records: &Records,
    instance: &str,
    change: &Change<'_>,
    concerned: impl Fn(&PreviewEnvironment) -> bool,
) -> Result<Vec<String>, kube::Error> {
    let api = Api::<PreviewEnvironment>::all(client.clone());
    let of_repository = match records.of_repository(change.repository_id) {
        Some(cached) => cached,
        None => {
            let selector = format!(
                "{},{}={}",
                labels::instance_selector(instance),
                labels::REPOSITORY_ID,
                change.repository_id
            );
            let listed = api.list(&ListParams::default().labels(&selector)).await?;
            listed.items.into_iter().map(Arc::new).collect()
        }
    };
    let mut woken = Vec::new();
    for pe in of_repository {
        let told =
            pe.annotations().get(change.annotation).map(String::as_str) == Some(change.value);
        if told || pe.metadata.deletion_timestamp.is_some() || !concerned(&pe) {
            continue;
        }
        let patch = serde_json::json!({
            "metadata": {"annotations": {change.annotation: change.value}}
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
