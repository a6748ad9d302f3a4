//! Secrets and ConfigMaps a repository's previews get copies of (`copySecrets`,
//! `copyConfigMaps`): named sources in namespaces the operator names, each copied into every
//! preview namespace of the repository under a name, kept in sync with its source, and gone with
//! the preview. Not for pull requests from forks, unless `copyToForks` says so.

use serde::{Deserialize, Deserializer};

/// One copied object.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Copy {
    /// The source.
    pub from: Source,
    /// The copy's name in the preview namespace (default: the source's).
    #[serde(default)]
    pub name: Option<String>,
    /// Secrets only: also an image pull secret of the preview namespace's `default`
    /// ServiceAccount.
    #[serde(default)]
    pub image_pull: bool,
}

impl Copy {
    /// The copy's name in the preview namespace.
    pub fn name(&self) -> &str {
        self.name.as_deref().unwrap_or(&self.from.name)
    }
}

/// A source, written `namespace/name`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Source {
    /// Its namespace.
    pub namespace: String,
    /// Its name.
    pub name: String,
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.namespace, self.name)
    }
}

impl<'de> Deserialize<'de> for Source {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        parse_source(&text).map_err(serde::de::Error::custom)
    }
}

fn parse_source(text: &str) -> Result<Source, String> {
    let wrong = || format!("from: {text:?} is not `namespace/name`");
    let (namespace, name) = text.split_once('/').ok_or_else(wrong)?;
    let valid_namespace = crate::model::names::is_rfc1123_label(namespace);
    let valid_name = !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(crate::model::names::is_rfc1123_label);
    if valid_namespace && valid_name {
        Ok(Source {
            namespace: namespace.to_owned(),
            name: name.to_owned(),
        })
    } else {
        Err(wrong())
    }
}

/// Why `copy_secrets` and `copy_config_maps` cannot be used: a copy name that is not a valid
/// object name, two copies of one kind under one name, an image pull ConfigMap.
pub(crate) fn invalid(copy_secrets: &[Copy], copy_config_maps: &[Copy]) -> Option<String> {
    for (setting, copies) in [
        ("copySecrets", copy_secrets),
        ("copyConfigMaps", copy_config_maps),
    ] {
        let mut names = std::collections::BTreeSet::new();
        for copy in copies {
            let name = copy.name();
            if !name.split('.').all(crate::model::names::is_rfc1123_label) || name.len() > 253 {
                return Some(format!("{setting}: name {name:?} is not an object name"));
            }
            if !names.insert(name) {
                return Some(format!("{setting}: two copies are named {name:?}"));
            }
        }
    }
    if copy_config_maps.iter().any(|c| c.image_pull) {
        return Some("copyConfigMaps: imagePull is for Secrets only".into());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_source_is_a_namespace_and_a_name() {
        let source = parse_source("previewd-sources/registry.pull").unwrap();
        assert_eq!(source.namespace, "previewd-sources");
        assert_eq!(source.to_string(), "previewd-sources/registry.pull");
        for bad in ["registry", "/x", "ns/", "NS/x", "ns/x/y", "ns/X"] {
            assert!(parse_source(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn copies_are_named_once_and_only_secrets_pull_images() {
        let copy = |from: &str, name: Option<&str>, image_pull: bool| Copy {
            from: parse_source(from).unwrap(),
            name: name.map(str::to_owned),
            image_pull,
        };
        assert_eq!(
            invalid(&[copy("a/x", None, true)], &[copy("a/x", None, false)]),
            None
        );
        assert!(
            invalid(&[copy("a/x", None, false), copy("b/x", None, false)], &[])
                .unwrap()
                .contains("two copies are named \"x\"")
        );
        assert!(
            invalid(&[], &[copy("a/x", None, true)])
                .unwrap()
                .contains("imagePull is for Secrets only")
        );
        assert!(invalid(&[copy("a/x", Some("Bad_Name"), false)], &[]).is_some());
    }
}
