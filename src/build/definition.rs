//! A preview defined in the application's repository (pure): the files of its `.preview/`
//! directory, checked as untrusted input (relative paths only, no `..`, bounded in number and
//! size), its `preview.yaml` and the templates it names. Where the files come from is the
//! caller's business: a checkout on disk (`local`), or the base branch on GitHub.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use super::render::Template;

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
    /// A Helm chart (not supported yet).
    Helm,
    /// A Kustomize overlay (not supported yet).
    Kustomize,
}

/// `preview.yaml`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Settings {
    /// How the objects are rendered.
    #[serde(default)]
    pub source: SourceKind,
    /// The directory of the templates, relative to the definition's.
    #[serde(default = "default_templates")]
    pub templates: String,
    /// Template values, over those the operator sets for the repository.
    #[serde(default)]
    pub values: Option<Value>,
}

fn default_templates() -> String {
    "templates".to_owned()
}

/// A definition ready to render.
#[derive(Clone, Debug)]
pub struct Definition {
    /// Its settings.
    pub settings: Settings,
    /// Its templates, sorted by name (each named by its path in the definition, for errors).
    pub templates: Vec<Template>,
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

/// Reads the definition `files` hold: its `preview.yaml`, and the templates (`*.yaml`, `*.yml`,
/// `*.hbs`) directly in the directory it names. Errors name the file.
pub fn read(files: &Files) -> Result<Definition, String> {
    let raw = files
        .get(SETTINGS_FILE)
        .ok_or_else(|| format!("{SETTINGS_FILE}: missing"))?;
    let text = std::str::from_utf8(raw).map_err(|_| format!("{SETTINGS_FILE}: not UTF-8"))?;
    let settings: Settings =
        serde_yaml_ng::from_str(text).map_err(|e| format!("{SETTINGS_FILE}: {e}"))?;
    if settings.values.as_ref().is_some_and(|v| !v.is_object()) {
        return Err(format!(
            "{SETTINGS_FILE}: values: a mapping of names to values"
        ));
    }
    match settings.source {
        SourceKind::Handlebars => {}
        other => {
            return Err(format!(
                "{SETTINGS_FILE}: source {other:?} is not supported yet (handlebars is)"
            ));
        }
    }
    let dir = settings.templates.trim_end_matches('/');
    if dir != "." {
        check_path(dir).map_err(|e| format!("{SETTINGS_FILE}: templates: {e}"))?;
    }
    let prefix = if dir == "." {
        String::new()
    } else {
        format!("{dir}/")
    };
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
        templates.push(Template {
            file: path.to_owned(),
            source,
        });
    }
    if templates.is_empty() {
        return Err(format!(
            "{SETTINGS_FILE}: no *.yaml, *.yml or *.hbs template in {dir}/"
        ));
    }
    Ok(Definition {
        settings,
        templates,
    })
}

pub mod local;

#[cfg(test)]
mod tests;
