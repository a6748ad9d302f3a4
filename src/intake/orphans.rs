//! Orphan namespaces: a namespace labelled as this installation's whose owning
//! PreviewEnvironment (the uid in its annotation) is confirmed gone by the API server is deleted;
//! anything less certain is reported and left alone.

use k8s_openapi::api::core::v1::Namespace;
use kube::api::{DeleteParams, ListParams};
use kube::{Api, ResourceExt};

use crate::controller::Ctx;
use crate::metrics::{self, Orphan};
use crate::model::crd::PreviewEnvironment;
use crate::model::labels;

fn count(action: &str) {
    metrics::get()
        .orphans
        .get_or_create(&Orphan {
            action: action.to_owned(),
        })
        .inc();
}

/// What a sweep found.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Sweep {
    /// Namespaces whose owner is confirmed gone, deleted.
    pub deleted: Vec<String>,
    /// Namespaces that look like ours but cannot be tied to an owner, left alone.
    pub reported: Vec<String>,
}

/// Who owns a namespace, as far as the API server can tell.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Owner {
    /// The PreviewEnvironment of that uid exists.
    Present,
    /// No PreviewEnvironment has that uid (none of that name, or one with another uid).
    Gone,
    /// The namespace names no owner uid: not certainly previewd's.
    Unknown,
}

/// Judges a namespace's owner from its annotation and the PreviewEnvironment of its name (pure).
pub(crate) fn owner(annotated_uid: Option<&str>, preview_uid: Option<&str>) -> Owner {
    match (annotated_uid, preview_uid) {
        (None, _) => Owner::Unknown,
        (Some(owner), Some(current)) if owner == current => Owner::Present,
        (Some(_), _) => Owner::Gone,
    }
}

/// Deletes this installation's namespaces whose PreviewEnvironment is confirmed gone.
pub(crate) async fn sweep(ctx: &Ctx) -> Result<Sweep, kube::Error> {
    let namespaces = Api::<Namespace>::all(ctx.client.clone());
    let previews = Api::<PreviewEnvironment>::all(ctx.client.clone());
    let selector = labels::instance_selector(&ctx.settings.instance);
    let mut found = Sweep::default();
    for ns in namespaces
        .list(&ListParams::default().labels(&selector))
        .await?
        .items
    {
        let name = ns.name_any();
        if ns.metadata.deletion_timestamp.is_some() {
            continue;
        }
        // Asked of the API server itself, never of a cache that may not have synced.
        let preview = previews.get_opt(&name).await?;
        let annotated = ns.annotations().get(labels::OWNER_UID).map(String::as_str);
        match owner(annotated, preview.as_ref().and_then(|p| p.uid()).as_deref()) {
            Owner::Present => {}
            Owner::Gone => {
                tracing::warn!(namespace = %name, "orphan preview namespace: its PreviewEnvironment is gone; deleting it");
                namespaces.delete(&name, &DeleteParams::default()).await?;
                count("deleted");
                let note = "its PreviewEnvironment is gone: deleted";
                ctx.events.orphan(&ns, "OrphanDeleted", note).await;
                found.deleted.push(name);
            }
            Owner::Unknown => {
                tracing::warn!(namespace = %name, "namespace carries previewd's labels but names no owner; left alone");
                count("reported");
                let note = "carries this instance's labels but names no owner uid: left alone";
                ctx.events.orphan(&ns, "OrphanReported", note).await;
                found.reported.push(name);
            }
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_confirmed_gone_owner_makes_an_orphan() {
        assert_eq!(owner(Some("a"), Some("a")), Owner::Present);
        assert_eq!(owner(Some("a"), None), Owner::Gone);
        assert_eq!(owner(Some("a"), Some("b")), Owner::Gone);
        assert_eq!(owner(None, None), Owner::Unknown);
        assert_eq!(owner(None, Some("a")), Owner::Unknown);
    }
}
