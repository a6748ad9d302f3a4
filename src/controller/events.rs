//! Kubernetes Events about previews (`kubectl get events -n <previewd's namespace>`): one for
//! every phase change and one for every new failure. PreviewEnvironments are cluster-scoped; their
//! Events live in previewd's own namespace, the only one it writes in besides its previews'. An Event that cannot be written is logged and
//! counted, never a reason to fail a reconcile.

use std::collections::HashMap;
use std::sync::Mutex;

use k8s_openapi::api::core::v1::{Namespace, ObjectReference};
use k8s_openapi::api::events::v1::Event;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::PostParams;
use kube::{Api, Client, Resource, ResourceExt};

use crate::metrics;
use crate::model::crd::PreviewEnvironment;
use crate::model::time;

/// The controller named in every Event.
pub(crate) const REPORTING_CONTROLLER: &str = "previewd.dev/controller";

/// Longest note the API server accepts.
const MAX_NOTE: usize = 1024;

/// Whether an Event is routine or calls for attention.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Severity {
    /// A phase change that went as expected.
    Normal,
    /// A failure.
    Warning,
}

/// Writes Events into previewd's namespace.
pub struct Recorder {
    client: Client,
    namespace: String,
    instance: String,
    /// The last failure reported per object, so a repeated failure is not reported again.
    last_failure: Mutex<HashMap<String, String>>,
}

impl Recorder {
    /// A recorder writing into `namespace` as `instance` (this replica's identity).
    pub fn new(client: Client, namespace: &str, instance: &str) -> Self {
        Recorder {
            client,
            namespace: namespace.to_owned(),
            instance: instance.to_owned(),
            last_failure: Mutex::new(HashMap::new()),
        }
    }

    /// Reports that `pe` entered `phase`, with `note` saying why or what is awaited.
    pub(crate) async fn phase_changed(
        &self,
        pe: &PreviewEnvironment,
        phase: &str,
        severity: Severity,
        note: &str,
    ) {
        self.last_failures().remove(&pe.name_any());
        self.publish(preview_reference(pe), severity, phase, "Reconcile", note)
            .await;
    }

    /// Reports that a reconcile of `pe` failed with `error`, unless that was the last failure
    /// reported for it.
    pub(crate) async fn failed(&self, pe: &PreviewEnvironment, error: &str) {
        if self.is_new_failure(pe.name_any(), error) {
            let regarding = preview_reference(pe);
            self.publish(
                regarding,
                Severity::Warning,
                "ReconcileFailed",
                "Reconcile",
                error,
            )
            .await;
        }
    }

    /// Reports what the orphan sweep did about `namespace` (`reason` `OrphanDeleted` or
    /// `OrphanReported`); a namespace reported again with the same note is not reported twice.
    pub(crate) async fn orphan(&self, namespace: &Namespace, reason: &str, note: &str) {
        let key = format!("namespace/{}", namespace.name_any());
        if self.is_new_failure(key, &format!("{reason}: {note}")) {
            let regarding = ObjectReference {
                api_version: Some("v1".into()),
                kind: Some("Namespace".into()),
                name: namespace.metadata.name.clone(),
                uid: namespace.metadata.uid.clone(),
                ..ObjectReference::default()
            };
            self.publish(regarding, Severity::Warning, reason, "Sweep", note)
                .await;
        }
    }

    fn last_failures(&self) -> std::sync::MutexGuard<'_, HashMap<String, String>> {
        self.last_failure.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn is_new_failure(&self, key: String, failure: &str) -> bool {
        let mut last = self.last_failures();
        if last.get(&key).map(String::as_str) == Some(failure) {
            return false;
        }
        last.insert(key, failure.to_owned());
        true
    }

    async fn publish(
        &self,
        regarding: ObjectReference,
        severity: Severity,
        reason: &str,
        action: &str,
        note: &str,
    ) {
        // The API server takes an Event about a cluster-scoped object only in the namespace its
        // reference names (or `default`); previewd may write only in its own namespace. So the
        // reference names previewd's namespace, where `kubectl get events` finds it.
        let regarding = ObjectReference {
            namespace: Some(self.namespace.clone()),
            ..regarding
        };
        let event = event_about(regarding, &self.instance, severity, reason, action, note);
        let api = Api::<Event>::namespaced(self.client.clone(), &self.namespace);
        if let Err(error) = api.create(&PostParams::default(), &event).await {
            metrics::get().error("event");
            tracing::warn!(%error, reason, "could not write a Kubernetes Event");
        }
    }
}

/// A reference to `pe` (cluster-scoped: no namespace).
fn preview_reference(pe: &PreviewEnvironment) -> ObjectReference {
    ObjectReference {
        api_version: Some(PreviewEnvironment::api_version(&()).into_owned()),
        kind: Some(PreviewEnvironment::kind(&()).into_owned()),
        name: pe.metadata.name.clone(),
        uid: pe.metadata.uid.clone(),
        resource_version: pe.metadata.resource_version.clone(),
        ..ObjectReference::default()
    }
}

/// The Event saying `reason` about `regarding`.
fn event_about(
    regarding: ObjectReference,
    instance: &str,
    severity: Severity,
    reason: &str,
    action: &str,
    note: &str,
) -> Event {
    Event {
        metadata: ObjectMeta {
            // A prefix ending in `-` is valid; one ending in `.` is not.
            generate_name: Some(format!(
                "{}-",
                regarding.name.as_deref().unwrap_or("previewd")
            )),
            ..ObjectMeta::default()
        },
        event_time: Some(time::to_k8s_micro(chrono::Utc::now())),
        type_: Some(
            match severity {
                Severity::Normal => "Normal",
                Severity::Warning => "Warning",
            }
            .to_owned(),
        ),
        reason: Some(reason.to_owned()),
        action: Some(action.to_owned()),
        note: Some(truncate(note, MAX_NOTE)),
        reporting_controller: Some(REPORTING_CONTROLLER.to_owned()),
        reporting_instance: Some(truncate(instance, 128)),
        regarding: Some(regarding),
        ..Event::default()
    }
}

/// `text` cut to at most `max` bytes on a character boundary.
fn truncate(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::crd::PreviewEnvironmentSpec;

    fn preview() -> PreviewEnvironment {
        let spec: PreviewEnvironmentSpec = serde_json::from_value(serde_json::json!({
            "repository": {"id": 1, "fullName": "o/r"}, "number": 7, "headSha": "b",
            "branch": "f", "baseBranch": "main", "title": "t", "author": "a",
            "desired": {"state": "Deployed"},
        }))
        .expect("a valid spec");
        let mut pe = PreviewEnvironment::new("o-r-pr-7", spec);
        pe.metadata.uid = Some("uid-1".into());
        pe
    }

    #[test]
    fn an_event_names_the_preview_it_is_about() {
        let event = event_about(
            preview_reference(&preview()),
            "replica-1",
            Severity::Warning,
            "Failed",
            "Reconcile",
            "boom",
        );
        let regarding = event.regarding.expect("regarding");
        assert_eq!(regarding.name.as_deref(), Some("o-r-pr-7"));
        assert_eq!(regarding.uid.as_deref(), Some("uid-1"));
        assert_eq!(regarding.kind.as_deref(), Some("PreviewEnvironment"));
        assert_eq!(
            regarding.api_version.as_deref(),
            Some("previewd.dev/v1alpha1")
        );
        assert_eq!(regarding.namespace, None);
        assert_eq!(event.type_.as_deref(), Some("Warning"));
        assert_eq!(event.metadata.generate_name.as_deref(), Some("o-r-pr-7-"));
    }

    #[test]
    fn a_long_note_is_cut_on_a_character_boundary() {
        let note = "é".repeat(600);
        let cut = truncate(&note, MAX_NOTE);
        assert!(cut.len() <= MAX_NOTE);
        assert!(note.starts_with(&cut));
    }
}
