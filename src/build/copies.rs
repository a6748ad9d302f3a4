//! Copies of Secrets and ConfigMaps in a preview namespace, with no I/O: each source's data
//! under the copy's name with previewd's labels, and the image pull secrets of the namespace's
//! `default` ServiceAccount. Nothing here is ever logged or shown: a copy's data is a secret.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use crate::build::render::RenderedObject;
use crate::config::RepositoryConfig;
use crate::config::copies::{Copy, Source, invalid};

/// The ServiceAccount whose image pull secrets previewd sets.
pub const PULLING_SERVICE_ACCOUNT: &str = "default";
/// A Secret type whose copy Kubernetes would fill with a token of the preview namespace.
const SERVICE_ACCOUNT_TOKEN: &str = "kubernetes.io/service-account-token";

/// Where the operator's own copies are asked for, as errors show it.
pub const CONFIGURED: &str = "previewd configuration";

/// What is copied.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
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

    /// The operator's setting that lists the sources of this kind definitions may copy.
    pub fn offers(self) -> &'static str {
        match self {
            Kind::Secret => "copyableSecrets",
            Kind::ConfigMap => "copyableConfigMaps",
        }
    }

    fn fields(self) -> &'static [&'static str] {
        match self {
            Kind::Secret => &["type", "data"],
            Kind::ConfigMap => &["data", "binaryData"],
        }
    }

    /// The object's kind.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Secret => "Secret",
            Kind::ConfigMap => "ConfigMap",
        }
    }
}

/// One copy a preview gets, and where it was asked for (shown in errors).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Wanted {
    /// What it is.
    pub kind: Kind,
    /// How it is copied.
    pub copy: Copy,
    /// The operator's configuration, or the definition's settings file.
    pub asked_in: String,
}

/// The copies the operator's configuration gives every preview of `repository`, Secrets first.
pub fn configured(repository: &RepositoryConfig) -> Vec<Wanted> {
    let secrets = repository.copy_secrets.iter().map(|c| (Kind::Secret, c));
    let config_maps = (repository.copy_config_maps.iter()).map(|c| (Kind::ConfigMap, c));
    secrets
        .chain(config_maps)
        .map(|(kind, copy)| Wanted {
            kind,
            copy: copy.clone(),
            asked_in: CONFIGURED.to_owned(),
        })
        .collect()
}

/// The copies a definition asks for (`secrets` and `config_maps`, written in `shown`) added to
/// the operator's (`repository`'s), each from a source the operator offers definitions
/// (`copyableSecrets`, `copyableConfigMaps`); `Err` says which is refused, naming `shown`.
pub fn requested(
    repository: &RepositoryConfig,
    secrets: &[Copy],
    config_maps: &[Copy],
    shown: &str,
) -> Result<Vec<Wanted>, String> {
    let mut wanted = configured(repository);
    for (kind, asked) in [(Kind::Secret, secrets), (Kind::ConfigMap, config_maps)] {
        let (_, offered) = listed(repository, kind);
        if let Some(copy) = asked.iter().find(|c| !offered.contains(&c.from)) {
            return Err(format!(
                "{shown}: {}: the source {} is not among those the operator offers definitions ({})",
                kind.setting(),
                copy.from,
                kind.offers()
            ));
        }
        wanted.extend(asked.iter().map(|copy| Wanted {
            kind,
            copy: copy.clone(),
            asked_in: shown.to_owned(),
        }));
    }
    let of_kind = |kind| -> Vec<Copy> {
        (wanted.iter().filter(|w| w.kind == kind))
            .map(|w| w.copy.clone())
            .collect()
    };
    match invalid(&of_kind(Kind::Secret), &of_kind(Kind::ConfigMap)) {
        Some(why) => Err(format!("{shown}: {why}")),
        None => Ok(wanted),
    }
}

/// Whether a preview of `repository` may hold a copy of `from`: the operator copies it, or
/// offers it to definitions.
pub fn may_hold(repository: &RepositoryConfig, kind: Kind, from: &Source) -> bool {
    let (copied, offered) = listed(repository, kind);
    offered.contains(from) || copied.iter().any(|c| &c.from == from)
}

/// `repository`'s copies of `kind`, and the sources of that kind it offers definitions.
fn listed(repository: &RepositoryConfig, kind: Kind) -> (&[Copy], &[Source]) {
    match kind {
        Kind::Secret => (&repository.copy_secrets, &repository.copyable_secrets),
        Kind::ConfigMap => (
            &repository.copy_config_maps,
            &repository.copyable_config_maps,
        ),
    }
}

/// Every source `repository`'s previews may hold a copy of.
pub fn sources(repository: &RepositoryConfig) -> impl Iterator<Item = (Kind, Source)> + '_ {
    let offered_secrets = (repository.copyable_secrets.iter()).map(|s| (Kind::Secret, s.clone()));
    let offered_config_maps =
        (repository.copyable_config_maps.iter()).map(|s| (Kind::ConfigMap, s.clone()));
    configured(repository)
        .into_iter()
        .map(|w| (w.kind, w.copy.from))
        .chain(offered_secrets)
        .chain(offered_config_maps)
}

/// One copy and its source object as the API server returned it.
pub struct Sourced<'a> {
    /// The copy.
    pub wanted: &'a Wanted,
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
    for Sourced { wanted, source } in sourced {
        let Wanted {
            kind,
            copy,
            asked_in,
        } = wanted;
        let shown = format!("{} {} ({asked_in})", kind.setting(), copy.from);
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
            file: "copySecrets imagePull".to_owned(),
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

    fn configured_copy(kind: Kind, copy: Copy) -> Wanted {
        Wanted {
            kind,
            copy,
            asked_in: CONFIGURED.to_owned(),
        }
    }

    fn repository(settings: Value) -> RepositoryConfig {
        let mut all = json!({"name": "octo/app"});
        all.as_object_mut()
            .unwrap()
            .extend(settings.as_object().unwrap().clone());
        serde_json::from_value(all).unwrap()
    }

    #[test]
    fn a_definition_copies_only_what_the_operator_offers_and_names_its_file() {
        let repository = repository(json!({
            "copySecrets": [{"from": "sources/registry", "name": "pull", "imagePull": true}],
            "copyableSecrets": ["sources/db"],
            "copyableConfigMaps": ["sources/settings"],
        }));
        let shown = ".preview/preview.yaml";
        let db = copy("sources/db", Some("database"), false);
        let settings = copy("sources/settings", None, false);
        let asked = (std::slice::from_ref(&db), std::slice::from_ref(&settings));
        let wanted = requested(&repository, asked.0, asked.1, shown).unwrap();
        assert_eq!(wanted.len(), 3);
        assert_eq!(wanted[0].asked_in, CONFIGURED);
        assert_eq!(
            wanted[1],
            Wanted {
                kind: Kind::Secret,
                copy: db.clone(),
                asked_in: shown.to_owned()
            }
        );
        assert_eq!(wanted[2].kind, Kind::ConfigMap);

        // A source the operator copies but does not offer, or offers as the other kind.
        for (secrets, config_maps) in [
            (vec![copy("sources/registry", Some("again"), false)], vec![]),
            (vec![copy("sources/settings", None, false)], vec![]),
            (vec![], vec![copy("sources/db", None, false)]),
        ] {
            let err = requested(&repository, &secrets, &config_maps, shown).unwrap_err();
            assert!(
                err.starts_with(".preview/preview.yaml: copy")
                    && err.contains("is not among those the operator offers definitions (copyable"),
                "{err}"
            );
        }
        // A name the operator's copy has already.
        let clash = copy("sources/db", Some("pull"), false);
        let err = requested(&repository, &[clash], &[], shown).unwrap_err();
        assert_eq!(
            err,
            ".preview/preview.yaml: copySecrets: two copies are named \"pull\""
        );
        let pulling_config_map = copy("sources/settings", None, true);
        assert!(requested(&repository, &[], &[pulling_config_map], shown).is_err());
    }

    #[test]
    fn a_preview_may_hold_what_is_copied_or_offered() {
        let repository = repository(json!({
            "copySecrets": [{"from": "sources/registry"}],
            "copyableConfigMaps": ["sources/settings"],
        }));
        let source = |text: &str| copy(text, None, false).from;
        assert!(may_hold(
            &repository,
            Kind::Secret,
            &source("sources/registry")
        ));
        assert!(may_hold(
            &repository,
            Kind::ConfigMap,
            &source("sources/settings")
        ));
        assert!(!may_hold(
            &repository,
            Kind::Secret,
            &source("sources/settings")
        ));
        assert!(!may_hold(
            &repository,
            Kind::ConfigMap,
            &source("sources/registry")
        ));
        let all: Vec<_> = sources(&repository).collect();
        assert_eq!(
            all,
            [
                (Kind::Secret, source("sources/registry")),
                (Kind::ConfigMap, source("sources/settings"))
            ]
        );
    }

    #[test]
    fn a_copy_holds_its_source_data_under_its_name_and_the_pull_secrets_reach_the_service_account()
    {
        let pull = configured_copy(Kind::Secret, copy("sources/registry", Some("pull"), true));
        let settings = configured_copy(Kind::ConfigMap, copy("sources/settings", None, false));
        let secret = json!({"type": "kubernetes.io/dockerconfigjson", "data": {".dockerconfigjson": "e30="},
            "metadata": {"name": "registry", "namespace": "sources", "resourceVersion": "7", "uid": "u"}});
        let config_map = json!({"data": {"LOG": "debug"}, "binaryData": {"b": "AA=="},
            "metadata": {"name": "settings", "namespace": "sources"}});
        let labels = BTreeMap::from([("previewd.dev/preview".to_owned(), "p".to_owned())]);
        let objects = objects(
            &[
                Sourced {
                    wanted: &pull,
                    source: &secret,
                },
                Sourced {
                    wanted: &settings,
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
        let token = configured_copy(Kind::Secret, copy("sources/token", None, false));
        let source =
            json!({"type": "kubernetes.io/service-account-token", "data": {"token": "dA=="}});
        let err = objects(
            &[Sourced {
                wanted: &token,
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
