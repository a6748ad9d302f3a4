//! Sources of copied Secrets (`copySecrets`) and what previews hold of them.

use std::collections::BTreeMap;

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::{Secret, ServiceAccount};
use kube::api::{Patch, PatchParams, PostParams};
use kube::{Api, Client};

use crate::cluster::TestNamespace;

/// Creates Secret `name` in `ns` holding `token` under the key `token`.
pub async fn create_source(ns: &TestNamespace, name: &str, token: &str) {
    let secret: Secret = serde_json::from_value(serde_json::json!({
        "metadata": {"name": name},
        "type": "Opaque",
        "stringData": {"token": token},
    }))
    .expect("a Secret");
    Api::<Secret>::namespaced(ns.client.clone(), &ns.name)
        .create(&PostParams::default(), &secret)
        .await
        .expect("create the source Secret");
}

/// Sets the `token` of Secret `name` in `ns`.
pub async fn rotate_source(ns: &TestNamespace, name: &str, token: &str) {
    let rotate = serde_json::json!({"stringData": {"token": token}});
    Api::<Secret>::namespaced(ns.client.clone(), &ns.name)
        .patch(name, &PatchParams::default(), &Patch::Merge(&rotate))
        .await
        .expect("rotate the source Secret");
}

/// The `token` of Secret `name` in `namespace`, if it is there.
pub async fn copied_token(kube: &Client, namespace: &str, name: &str) -> Option<String> {
    let secret = Api::<Secret>::namespaced(kube.clone(), namespace)
        .get_opt(name)
        .await
        .expect("read the copy")?;
    let data: BTreeMap<String, ByteString> = secret.data.unwrap_or_default();
    data.get("token")
        .map(|b| String::from_utf8_lossy(&b.0).into_owned())
}

/// The image pull secrets of `namespace`'s `default` ServiceAccount.
pub async fn pull_secrets(kube: &Client, namespace: &str) -> Vec<String> {
    Api::<ServiceAccount>::namespaced(kube.clone(), namespace)
        .get("default")
        .await
        .expect("the default ServiceAccount")
        .image_pull_secrets
        .unwrap_or_default()
        .into_iter()
        .map(|r| r.name)
        .collect()
}
