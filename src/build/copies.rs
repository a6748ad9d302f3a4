//! Copies of Secrets and ConfigMaps in a preview namespace, with no I/O: each source's data
//! under the copy's name with previewd's labels, and the image pull secrets of the namespace's
//! `default` ServiceAccount. Nothing here is ever logged or shown: a copy's data is a secret.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use crate::build::render::RenderedObject;
use crate::config::copies::Copy;

/// The ServiceAccount whose image pull secrets previewd sets.
pub const PULLING_SERVICE_ACCOUNT: &str = "default";
/// A Secret type whose copy Kubernetes would fill with a token of the preview namespace.
const SERVICE_ACCOUNT_TOKEN: &str = "kubernetes.io/service-account-token";

/// What is copied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A Secret (`copySecrets`).
    Secret,
    /// A ConfigMap (`copyConfigMaps`).
    ConfigMap,
}

impl Kind {
    /// The setting that lists copies of this kind.
    pub fn setting(self) -> &'static str {
        match self {
            Kind::Secret => "copySecrets",
            Kind::ConfigMap => "copyConfigMaps",
        }
    }

    fn fields(self) -> &'static [&'static str] {
        match self {
            Kind::Secret => &["type", "data"],
            Kind::ConfigMap => &["data", "binaryData"],
        }
    }

    fn name(self) -> &'static str {
        match self {
            Kind::Secret => "Secret",
            Kind::ConfigMap => "ConfigMap",
        }
    }
}

/// One copy and its source object as the API server returned it.
pub struct Sourced<'a> {
    /// What it is.
    pub kind: Kind,
    /// How it is copied.
    pub copy: &'a Copy,
    /// The source.
    pub source: &'a Value,
}

/// The copies in `namespace`, each with previewd's `labels`, and the `default` ServiceAccount
/// when a Secret is an image pull secret; `Err` names a source that cannot be copied.
pub fn objects(
    sourced: &[Sourced<'_>],
    namespace: &str,
    labels: &BTreeMap<String, String>,
) -> Result<Vec<RenderedObject>, String> {
    let mut objects = Vec::new();
    let mut pull_secrets = Vec::new();
    for Sourced { kind, copy, source } in sourced {
        let shown = format!("{} {} (previewd configuration)", kind.setting(), copy.from);
        if source.get("type").and_then(Value::as_str) == Some(SERVICE_ACCOUNT_TOKEN) {
            return Err(format!(
                "{shown}: a {SERVICE_ACCOUNT_TOKEN} Secret is not copied (its copy would hold a token of the preview namespace)"
            ));
        }
        let mut object = Map::new();
        object.insert("apiVersion".into(), json!("v1"));
        object.insert("kind".into(), json!(kind.name()));
        object.insert(
            "metadata".into(),
            json!({"name": copy.name(), "namespace": namespace, "labels": labels}),
        );
        for field in kind.fields() {
            if let Some(value) = source.get(*field) {
                object.insert((*field).to_owned(), value.clone());
            }
        }
        objects.push(RenderedObject {
            file: shown,
            object: Value::Object(object),
        });
        if *kind == Kind::Secret && copy.image_pull {
            pull_secrets.push(json!({"name": copy.name()}));
        }
    }
    if !pull_secrets.is_empty() {
        objects.push(RenderedObject {
            file: "copySecrets imagePull (previewd configuration)".to_owned(),
            object: json!({
                "apiVersion": "v1",
                "kind": "ServiceAccount",
                "metadata": {
                    "name": PULLING_SERVICE_ACCOUNT,
                    "namespace": namespace,
                    "labels": labels,
                },
                "imagePullSecrets": pull_secrets,
            }),
        });
    }
    Ok(objects)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn copy(from: &str, name: Option<&str>, image_pull: bool) -> Copy {
        serde_json::from_value(json!({"from": from, "name": name, "imagePull": image_pull}))
            .unwrap()
    }

    #[test]
    fn a_copy_holds_its_source_data_under_its_name_and_the_pull_secrets_reach_the_service_account()
    {
        let pull = copy("sources/registry", Some("pull"), true);
        let settings = copy("sources/settings", None, false);
        let secret = json!({"type": "kubernetes.io/dockerconfigjson", "data": {".dockerconfigjson": "e30="},
            "metadata": {"name": "registry", "namespace": "sources", "resourceVersion": "7", "uid": "u"}});
        let config_map = json!({"data": {"LOG": "debug"}, "binaryData": {"b": "AA=="},
            "metadata": {"name": "settings", "namespace": "sources"}});
        let labels = BTreeMap::from([("previewd.dev/preview".to_owned(), "p".to_owned())]);
        let objects = objects(
            &[
                Sourced {
                    kind: Kind::Secret,
                    copy: &pull,
                    source: &secret,
                },
                Sourced {
                    kind: Kind::ConfigMap,
                    copy: &settings,
                    source: &config_map,
                },
            ],
            "octo-app-pr1",
            &labels,
        )
        .unwrap();
        assert_eq!(
            objects[0].object,
            json!({"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/dockerconfigjson",
                "data": {".dockerconfigjson": "e30="},
                "metadata": {"name": "pull", "namespace": "octo-app-pr1", "labels": {"previewd.dev/preview": "p"}}})
        );
        assert_eq!(
            objects[0].file,
            "copySecrets sources/registry (previewd configuration)"
        );
        assert_eq!(objects[1].object["kind"], "ConfigMap");
        assert_eq!(objects[1].object["metadata"]["name"], "settings");
        assert_eq!(objects[1].object["binaryData"], json!({"b": "AA=="}));
        assert_eq!(objects[2].object["kind"], "ServiceAccount");
        assert_eq!(objects[2].object["metadata"]["name"], "default");
        assert_eq!(
            objects[2].object["imagePullSecrets"],
            json!([{"name": "pull"}])
        );
    }

    #[test]
    fn a_service_account_token_is_never_copied() {
        let token = copy("sources/token", None, false);
        let source =
            json!({"type": "kubernetes.io/service-account-token", "data": {"token": "dA=="}});
        let err = objects(
            &[Sourced {
                kind: Kind::Secret,
                copy: &token,
                source: &source,
            }],
            "ns",
            &BTreeMap::new(),
        )
        .unwrap_err();
        assert!(
            err.starts_with("copySecrets sources/token (previewd configuration): "),
            "{err}"
        );
        assert!(!err.contains("dA=="));
    }
}
