//! The configuration file: which repositories previewd serves and what is set per repository.
//! Loaded and validated once at startup; a bad file stops startup with one line naming the setting.

use std::path::Path;

use serde::Deserialize;
use serde_json::Value;

pub(crate) mod branches;
pub(crate) mod cidr;
pub mod copies;
pub(crate) mod egress;
pub(crate) mod fences;
pub mod lane;
pub(crate) mod network_peers;
pub mod repository;
pub(crate) mod retention;
pub mod served;
pub(crate) mod template_kinds;

pub use cidr::Cidr;
pub use fences::FencesConfig;
pub use repository::RepositoryConfig;
pub use served::{Allowlist, Resolved, Serving};
pub use template_kinds::TemplateKinds;

/// A setting that is missing or invalid.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("config file {path}: {source}")]
    Read {
        /// File path.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not valid YAML of the expected shape.
    #[error("config file {path}: {message}")]
    Parse {
        /// File path.
        path: String,
        /// What the parser said (names the field and line).
        message: String,
    },
    /// A value is out of its range.
    #[error("config file {path}: {setting}: {message}")]
    Invalid {
        /// File path.
        path: String,
        /// The setting.
        setting: String,
        /// What is wrong.
        message: String,
    },
}

/// What the configuration file says.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FileConfig {
    /// The repositories previewd serves; events from others are ignored.
    #[serde(default)]
    pub repositories: Vec<RepositoryConfig>,
    /// At most this many previews deployed at once across all repositories.
    #[serde(default)]
    pub max_previews: Option<usize>,
    /// When true, nothing new is deployed; teardown still happens.
    #[serde(default)]
    pub paused: bool,
    /// Values every template sees as `values`, overridden per repository.
    #[serde(default)]
    pub values: Option<Value>,
    /// What every preview namespace is fenced with.
    #[serde(default)]
    pub fences: FencesConfig,
    /// The kinds templates may produce (API group and resource, as RBAC names them).
    #[serde(default)]
    pub template_kinds: TemplateKinds,
    /// How long a destroyed preview's record is kept before it is removed.
    #[serde(default)]
    pub keep_destroyed_for: retention::KeepDestroyedFor,
}

impl FileConfig {
    /// Reads and validates the file at `path`.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: shown.clone(),
            source,
        })?;
        Self::parse(&shown, &text)
    }

    /// Parses and validates configuration text; `path` only labels errors.
    pub(crate) fn parse(path: &str, text: &str) -> Result<Self, ConfigError> {
        let config: FileConfig = serde_yaml_ng::from_str(text).map_err(|e| ConfigError::Parse {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
        let invalid = |setting: String, message: &str| ConfigError::Invalid {
            path: path.to_owned(),
            setting,
            message: message.to_owned(),
        };
        for (i, repo) in config.repositories.iter().enumerate() {
            let plain = |text: &str| !text.is_empty() && !text.contains(['/', '*']);
            let valid = repo
                .name
                .split_once('/')
                .is_some_and(|(owner, name)| plain(owner) && (plain(name) || name == "*"));
            if !valid {
                return Err(invalid(
                    format!("repositories[{i}].name"),
                    "must be owner/name, or owner/* for all of an owner's repositories",
                ));
            }
            if repo.values.as_ref().is_some_and(|v| !v.is_object()) {
                return Err(invalid(
                    format!("repositories[{i}].values"),
                    "must be a mapping",
                ));
            }
        }
        if config.values.as_ref().is_some_and(|v| !v.is_object()) {
            return Err(invalid("values".into(), "must be a mapping"));
        }
        for (i, repo) in config.repositories.iter().enumerate() {
            if repo.max_previews == Some(0) {
                return Err(invalid(
                    format!("repositories[{i}].maxPreviews"),
                    "must be at least 1 (use autoDeploy: false to deploy only on request)",
                ));
            }
            if let Some(why) = copies::invalid(&repo.copy_secrets, &repo.copy_config_maps) {
                return Err(invalid(format!("repositories[{i}]"), &why));
            }
            let offers_without_definition = !repo.defined_in_repository
                && (!repo.copyable_secrets.is_empty() || !repo.copyable_config_maps.is_empty());
            if offers_without_definition {
                return Err(invalid(
                    format!("repositories[{i}]"),
                    "copyableSecrets and copyableConfigMaps are for a repository that defines its previews (definedInRepository: true)",
                ));
            }
            if repo.label.as_deref().is_some_and(|l| l.trim().is_empty()) {
                return Err(invalid(
                    format!("repositories[{i}].label"),
                    "must not be empty",
                ));
            }
        }
        if config.max_previews == Some(0) {
            return Err(invalid(
                "maxPreviews".into(),
                "must be at least 1 (use paused: true to stop deploying)",
            ));
        }
        if let Some((setting, message)) = config.fences.invalid() {
            return Err(invalid(format!("fences.{setting}"), &message));
        }
        if let Some((setting, message)) = config.template_kinds.invalid() {
            return Err(invalid(format!("templateKinds{setting}"), &message));
        }
        Ok(config)
    }

    /// Template values of a repository served with `entry`: the global mapping with the
    /// entry's keys over it.
    pub fn values_for(&self, entry: Option<&RepositoryConfig>) -> Value {
        let mut merged = self
            .values
            .clone()
            .unwrap_or_else(|| Value::Object(Default::default()));
        if let (Some(target), Some(Value::Object(own))) = (
            merged.as_object_mut(),
            entry.and_then(|r| r.values.as_ref()),
        ) {
            for (k, v) in own {
                target.insert(k.clone(), v.clone());
            }
        }
        merged
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_repositories_and_merges_values() {
        let config = FileConfig::parse(
            "c.yaml",
            "repositories:\n  - name: Octo/App\n    values: {image: app}\nmaxPreviews: 5\nvalues: {image: base, port: 80}\n",
        )
        .unwrap();
        let allowlist = served::Allowlist::unresolved(1);
        let repo = |full_name: &str| crate::model::pull::Repository {
            id: 1,
            full_name: full_name.to_owned(),
        };
        let app = config.repository(&allowlist, &repo("octo/app"));
        assert!(app.is_some());
        assert!(config.repository(&allowlist, &repo("octo/other")).is_none());
        assert_eq!(config.values_for(app), json!({"image": "app", "port": 80}));
        assert_eq!(
            config.values_for(None),
            json!({"image": "base", "port": 80})
        );
    }

    #[test]
    fn errors_name_the_setting() {
        let err = FileConfig::parse("c.yaml", "repositories:\n  - name: nope\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "config file c.yaml: repositories[0].name: must be owner/name, or owner/* for all of an owner's repositories"
        );
        for bad in ["'*/*'", "o/a*", "o/*/x", "/*", "o/"] {
            let text = format!("repositories:\n  - name: {bad}\n");
            assert!(FileConfig::parse("c.yaml", &text).is_err(), "{bad}");
        }
        let owner = FileConfig::parse("c.yaml", "repositories:\n  - name: octo-org/*\n").unwrap();
        assert_eq!(owner.repositories[0].owner_pattern(), Some("octo-org"));
        let err = FileConfig::parse("c.yaml", "maxPreviews: 0\n").unwrap_err();
        assert!(err.to_string().contains("maxPreviews"), "{err}");
        let err = FileConfig::parse("c.yaml", "repos: []\n").unwrap_err();
        assert!(err.to_string().contains("repos"), "{err}");
        let err = FileConfig::parse("c.yaml", "fences: {resourceQuota: {hard: {pods: many}}}\n")
            .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("config file c.yaml: fences.resourceQuota.hard.pods: "),
            "{err}"
        );
        let err = FileConfig::parse(
            "c.yaml",
            "templateKinds: [{apiGroup: '', resources: ['*']}]\n",
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("config file c.yaml: templateKinds[0].resources[0]: "),
            "{err}"
        );
    }

    #[test]
    fn copies_offered_to_definitions_are_sources_of_a_defining_repository() {
        let offering = |defined: bool, source: &str| {
            FileConfig::parse(
                "c.yaml",
                &format!(
                    "repositories:\n  - name: octo/app\n    definedInRepository: {defined}\n    copyableSecrets: [{source}]\n"
                ),
            )
        };
        let config = offering(true, "sources/db").unwrap();
        assert_eq!(
            config.repositories[0].copyable_secrets[0].to_string(),
            "sources/db"
        );
        let err = offering(false, "sources/db").unwrap_err().to_string();
        assert!(err.contains("definedInRepository: true"), "{err}");
        assert!(offering(true, "db").is_err());
    }

    #[test]
    fn fences_and_template_kinds_default_when_left_out() {
        let config = FileConfig::parse("c.yaml", "repositories: []\n").unwrap();
        assert_eq!(config.fences, FencesConfig::default());
        assert_eq!(config.template_kinds, TemplateKinds::default());
        assert_eq!(config, FileConfig::default());
    }
}
