//! A preview defined in the application's repository (pure): the files of its `.preview/`
//! directory, checked as untrusted input (relative paths only, no `..`, bounded in number and
//! size), its `preview.yaml` and the templates it names. Where the files come from is the
//! caller's business: a checkout on disk (`local`), or the base branch on GitHub.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use super::render::Template;
use crate::config::copies::Copy;
use chart::Chart;
use overlay::Overlay;

/// The directory of a repository that holds its preview's definition, unless configured.
pub const DEFAULT_DIR: &str = crate::config::repository::DEFAULT_DEFINITION_DIR;
/// The definition's settings file, at the top of the directory.
pub const SETTINGS_FILE: &str = "preview.yaml";

/// Files a definition holds at most.
pub const MAX_FILES: usize = 256;
/// Bytes one file holds at most.
pub const MAX_FILE_BYTES: usize = 256 * 1024;
/// Bytes all files hold at most.
pub const MAX_TOTAL_BYTES: usize = 2 * 1024 * 1024;

/// The files of a definition, by path relative to its directory (`/`-separated), each path
/// checked and the whole within the limits.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Files(BTreeMap<String, Vec<u8>>);

impl Files {
    /// Adds `content` at `path`, refusing a path that could leave the directory and anything
    /// past the limits.
    pub fn add(&mut self, path: &str, content: Vec<u8>) -> Result<(), String> {
        check_path(path)?;
        if self.0.len() >= MAX_FILES {
            return Err(format!("more than {MAX_FILES} files"));
        }
        if content.len() > MAX_FILE_BYTES {
            return Err(format!(
                "{path}: {} bytes, more than {MAX_FILE_BYTES}",
                content.len()
            ));
        }
        let total: usize = self.0.values().map(Vec::len).sum::<usize>() + content.len();
        if total > MAX_TOTAL_BYTES {
            return Err(format!("more than {MAX_TOTAL_BYTES} bytes in all"));
        }
        self.0.insert(path.to_owned(), content);
        Ok(())
    }

    /// The file at `path`, if there is one.
    pub fn get(&self, path: &str) -> Option<&[u8]> {
        self.0.get(path).map(Vec::as_slice)
    }

    /// The YAML file at `path` (named `shown` in errors; `missing` says more when it is
    /// absent), parsed.
    pub fn yaml<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        shown: &str,
        missing: &str,
    ) -> Result<T, String> {
        let raw = self
            .get(path)
            .ok_or_else(|| format!("{shown}: missing{missing}"))?;
        let text = std::str::from_utf8(raw).map_err(|_| format!("{shown}: not UTF-8"))?;
        crate::build::yaml_guard::refuse_aliases(shown, text)?;
        serde_yaml_ng::from_str(text).map_err(|e| format!("{shown}: {e}"))
    }

    /// The paths, sorted.
    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }
}

/// Whether `path` names a file inside the directory: relative, `/`-separated, with no empty,
/// `.` or `..` segment, no backslash and no control character.
pub fn check_path(path: &str) -> Result<(), String> {
    let refuse = |why: &str| Err(format!("{path:?}: {why}"));
    if path.is_empty() {
        return refuse("an empty path");
    }
    if path.starts_with('/') {
        return refuse("an absolute path is refused");
    }
    if path.contains('\\') || path.chars().any(char::is_control) {
        return refuse("backslashes and control characters are refused");
    }
    if path
        .split('/')
        .any(|segment| segment.is_empty() || segment == "." || segment == "..")
    {
        return refuse("empty, `.` and `..` segments are refused");
    }
    Ok(())
}

/// How a definition renders its objects.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum SourceKind {
    /// Handlebars templates, as previewd's own (free text from GitHub stays data).
    #[default]
    Handlebars,
    /// A Helm chart in the definition, rendered by `helm template`.
    Helm,
    /// A Kustomize overlay, built by `kustomize build`.
    Kustomize,
}

/// `preview.yaml`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Settings {
    /// How the objects are rendered.
    #[serde(default)]
    pub source: SourceKind,
    /// The directory of the templates, relative to the definition's (source `handlebars`).
    #[serde(default = "default_templates")]
    pub templates: String,
    /// The chart (source `helm`): a directory relative to the definition's, or a chart of an
    /// HTTP chart repository the operator allows.
    #[serde(default = "default_chart")]
    pub chart: ChartSetting,
    /// The chart's release name (source `helm`).
    #[serde(default = "default_release")]
    pub release: String,
    /// The directory of the kustomization, relative to the definition's (source `kustomize`).
    #[serde(default = "default_overlay")]
    pub overlay: String,
    /// Images whose tag becomes the head commit's SHA (source `kustomize`).
    #[serde(default)]
    pub images: Vec<String>,
    /// Kustomize replacements from the generated `preview` ConfigMap (source `kustomize`).
    #[serde(default)]
    pub replacements: Option<Value>,
    /// The workloads that decide whether the preview is ready (`Kind/name`; default: every
    /// Deployment, StatefulSet and Job rendered).
    #[serde(default)]
    pub readiness: Option<Vec<String>>,
    /// Template values, over those the operator sets for the repository.
    #[serde(default)]
    pub values: Option<Value>,
    /// Secrets copied into the preview namespace, from sources the operator offers.
    #[serde(default)]
    pub copy_secrets: Vec<Copy>,
    /// ConfigMaps copied into the preview namespace, from sources the operator offers.
    #[serde(default)]
    pub copy_config_maps: Vec<Copy>,
}

fn default_templates() -> String {
    "templates".to_owned()
}

fn default_chart() -> ChartSetting {
    ChartSetting::Dir("chart".to_owned())
}

/// Where a definition's chart is.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(untagged)]
pub enum ChartSetting {
    /// A directory of the definition.
    Dir(String),
    /// A chart of an HTTP chart repository.
    Remote(RemoteChart),
}

/// A chart of an HTTP chart repository, at an exact version.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RemoteChart {
    /// The repository's URL (where its `index.yaml` is).
    pub repository: String,
    /// The chart's name in the repository.
    pub name: String,
    /// Its exact version.
    pub version: String,
}

fn default_overlay() -> String {
    "overlay".to_owned()
}

fn default_release() -> String {
    "preview".to_owned()
}

/// What a definition renders its objects from.
#[derive(Clone, Debug)]
pub enum Source {
    /// Handlebars templates, sorted by name (each named by its path in the definition).
    Templates(Vec<Template>),
    /// A Helm chart.
    Chart(Chart),
    /// A Kustomize overlay.
    Overlay(Overlay),
}

/// A definition ready to render.
#[derive(Clone, Debug)]
pub struct Definition {
    /// Its settings.
    pub settings: Settings,
    /// What it renders from.
    pub source: Source,
}

impl Definition {
    /// The template values: `operator`'s (the operator's values for the repository) with the
    /// definition's keys over them.
    pub fn values(&self, operator: Value) -> Value {
        let mut merged = operator;
        if let (Some(target), Some(Value::Object(own))) =
            (merged.as_object_mut(), self.settings.values.as_ref())
        {
            for (key, value) in own {
                target.insert(key.clone(), value.clone());
            }
        }
        merged
    }
}

/// Reads the definition `files` hold: its `preview.yaml`, and what it renders from: the
/// templates (`*.yaml`, `*.yml`, `*.hbs`) directly in the directory it names, or its chart.
/// Errors name the file.
pub fn read(files: &Files) -> Result<Definition, String> {
    let settings: Settings = files.yaml(SETTINGS_FILE, SETTINGS_FILE, "")?;
    if settings.values.as_ref().is_some_and(|v| !v.is_object()) {
        return Err(format!(
            "{SETTINGS_FILE}: values: a mapping of names to values"
        ));
    }
    let source = match settings.source {
        SourceKind::Handlebars => Source::Templates(templates(files, &settings.templates)?),
        SourceKind::Helm => Source::Chart(chart::read(files, &settings.chart, &settings.release)?),
        SourceKind::Kustomize => Source::Overlay(overlay::read(files, &settings)?),
    };
    Ok(Definition { settings, source })
}

/// The directory `dir` names (relative to the definition; `.` for its top), checked, as a
/// prefix of the paths under it (`""` for the top).
fn subdirectory(setting: &str, dir: &str) -> Result<String, String> {
    let dir = dir.trim_end_matches('/');
    if dir == "." {
        return Ok(String::new());
    }
    check_path(dir).map_err(|e| format!("{SETTINGS_FILE}: {setting}: {e}"))?;
    Ok(format!("{dir}/"))
}

/// `inside` (a directory of the definition, `""` for its top) as a path of the repository, the
/// definition being in `definition_dir`.
fn joined(definition_dir: &str, inside: &str) -> String {
    match (definition_dir.trim_end_matches('/'), inside) {
        ("" | ".", "") => ".".to_owned(),
        ("" | ".", inside) => inside.to_owned(),
        (definition, "") => definition.to_owned(),
        (definition, inside) => format!("{definition}/{inside}"),
    }
}

/// The templates (`*.yaml`, `*.yml`, `*.hbs`) directly in `dir`.
fn templates(files: &Files, dir: &str) -> Result<Vec<Template>, String> {
    let prefix = subdirectory("templates", dir)?;
    let mut templates = Vec::new();
    for path in files.paths() {
        let Some(name) = path.strip_prefix(prefix.as_str()) else {
            continue;
        };
        let is_template = !name.contains('/')
            && [".yaml", ".yml", ".hbs"].iter().any(|e| name.ends_with(e))
            && path != SETTINGS_FILE;
        if !is_template {
            continue;
        }
        let source = std::str::from_utf8(files.get(path).unwrap_or_default())
            .map_err(|_| format!("{path}: not UTF-8"))?
            .to_owned();
        crate::build::yaml_guard::refuse_aliases(path, &source)?;
        templates.push(Template {
            file: path.to_owned(),
            source,
        });
    }
    if templates.is_empty() {
        return Err(format!(
            "{SETTINGS_FILE}: no *.yaml, *.yml or *.hbs template in {}/",
            dir.trim_end_matches('/')
        ));
    }
    Ok(templates)
}

pub mod chart;
pub mod local;
pub mod overlay;
pub mod readiness;
#[cfg(test)]
pub(crate) mod testing;

#[cfg(test)]
mod tests;
