//! Which API resource serves a kind, and whether it is namespaced, asked of the API server once
//! per kind and remembered.

use std::collections::HashMap;

use kube::Client;
use kube::core::GroupVersionKind;
use kube::discovery::{ApiResource, Scope, pinned_kind};
use tokio::sync::Mutex;

/// A kind the API server serves.
#[derive(Clone, Debug)]
pub(crate) struct ServedKind {
    /// How to address it.
    pub resource: ApiResource,
    /// Whether its objects live in a namespace.
    pub namespaced: bool,
}

/// Remembers discovery answers.
pub struct Kinds {
    client: Client,
    known: Mutex<HashMap<(String, String), ServedKind>>,
}

impl Kinds {
    /// An empty cache.
    pub fn new(client: Client) -> Self {
        Kinds {
            client,
            known: Mutex::new(HashMap::new()),
        }
    }

    /// The resource serving `api_version`/`kind`, or the API server's answer why not.
    pub(crate) async fn resolve(
        &self,
        api_version: &str,
        kind: &str,
    ) -> Result<ServedKind, kube::Error> {
        let key = (api_version.to_owned(), kind.to_owned());
        if let Some(found) = self.known.lock().await.get(&key) {
            return Ok(found.clone());
        }
        let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
        let gvk = GroupVersionKind::gvk(group, version, kind);
        let (resource, capabilities) = pinned_kind(&self.client, &gvk).await?;
        let served = ServedKind {
            resource,
            namespaced: capabilities.scope == Scope::Namespaced,
        };
        self.known.lock().await.insert(key, served.clone());
        Ok(served)
    }
}
