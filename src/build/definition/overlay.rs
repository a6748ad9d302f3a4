//! A Kustomize overlay in a definition (pure): its kustomizations checked for what reaches out
//! of the definition, the wrapping kustomization previewd generates for a preview (its
//! namespace, its images at the head commit, a `preview` ConfigMap of its facts and the
//! replacements that read it), and `kustomize build`'s output read back as objects, each named
//! by the file it came from. Running `kustomize` is the sandbox's business (`crate::sandbox`).

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::{Files, SETTINGS_FILE, Settings, subdirectory};
use crate::build::render::{Context, RenderError, RenderedObject, parse_documents};

/// The names Kustomize reads a kustomization from.
const KUSTOMIZATION_FILES: [&str; 3] = ["kustomization.yaml", "kustomization.yml", "Kustomization"];
/// The generated ConfigMap of the preview's facts.
pub const PREVIEW_CONFIG_MAP: &str = "preview";
/// The annotation `buildMetadata: [originAnnotations]` puts on each object.
const ORIGIN: &str = "config.kubernetes.io/origin";
/// Where, relative to the wrapping kustomization, the definition's files are.
pub const DEFINITION_FROM_WRAPPER: &str = "../definition";

/// Fields of a kustomization that name other files or directories to load.
const LOADING_FIELDS: [&str; 8] = [
    "resources",
    "bases",
    "components",
    "generators",
    "transformers",
    "validators",
    "crds",
    "configurations",
];
/// Fields refused outright: they inflate charts or run plugins.
const REFUSED_FIELDS: [(&str, &str); 2] = [
    (
        "helmCharts",
        "a chart inside a kustomization is refused (use source helm)",
    ),
    (
        "helmChartInflationGenerator",
        "a chart inside a kustomization is refused (use source helm)",
    ),
];

/// An overlay ready for `kustomize build`.
#[derive(Clone, Debug)]
pub struct Overlay {
    /// Its directory, relative to the definition's (`""` for the top).
    pub dir: String,
    /// Images whose tag becomes the head commit's SHA.
    pub images: Vec<String>,
    /// Replacements from the `preview` ConfigMap, as `preview.yaml` gives them.
    pub replacements: Option<Value>,
    /// The whole definition (an overlay's bases are elsewhere in it).
    pub files: Files,
}

/// The overlay `settings` name in the definition `files`: every kustomization in the
/// definition loads only local files, none inflates a chart.
pub fn read(files: &Files, settings: &Settings) -> Result<Overlay, String> {
    let prefix = subdirectory("overlay", &settings.overlay)?;
    let has_kustomization = KUSTOMIZATION_FILES
        .iter()
        .any(|name| files.get(&format!("{prefix}{name}")).is_some());
    if !has_kustomization {
        return Err(format!(
            "{prefix}kustomization.yaml: missing (source kustomize builds the overlay in `{}`)",
            settings.overlay
        ));
    }
    for path in files.paths() {
        let name = path.rsplit('/').next().unwrap_or(path);
        if KUSTOMIZATION_FILES.contains(&name) {
            let kustomization: Value = files.yaml(path, path, "")?;
            check_kustomization(files, path, &kustomization)?;
        }
    }
    for image in &settings.images {
        let valid = !image.is_empty()
            && !image.contains(char::is_whitespace)
            && !image.contains(':')
            && !image.contains('@');
        if !valid {
            return Err(format!(
                "{SETTINGS_FILE}: images: {image:?} is not an image name without tag or digest"
            ));
        }
    }
    if let Some(replacements) = &settings.replacements {
        refuse_urls(&format!("{SETTINGS_FILE}: replacements"), replacements)?;
        let from_file = replacements.as_array().into_iter().flatten().any(|r| {
            r.as_object()
                .is_some_and(|r| r.keys().any(|k| k.eq_ignore_ascii_case("path")))
        });
        if from_file {
            return Err(format!(
                "{SETTINGS_FILE}: replacements: `path` is refused (write the replacement here)"
            ));
        }
    }
    if settings
        .replacements
        .as_ref()
        .is_some_and(|r| !r.is_array())
    {
        return Err(format!(
            "{SETTINGS_FILE}: replacements: a list of Kustomize replacements"
        ));
    }
    Ok(Overlay {
        dir: prefix.trim_end_matches('/').to_owned(),
        images: settings.images.clone(),
        replacements: settings.replacements.clone(),
        files: files.clone(),
    })
}

/// Refuses a kustomization that loads anything from outside the definition (a URL anywhere in
/// it, a git repository, an absolute path, a `..` path leaving the definition), inflates a
/// chart, or hides a field (keys are matched as kustomize does, ignoring case; YAML merge keys
/// are refused). The generator, transformer and validator configurations it lists are held to
/// the same rule on URLs.
fn check_kustomization(files: &Files, path: &str, kustomization: &Value) -> Result<(), String> {
    let Some(fields) = kustomization.as_object() else {
        return Err(format!("{path}: not a mapping"));
    };
    let dir = path.rsplit_once('/').map_or("", |(dir, _)| dir);
    for (key, value) in fields {
        if key == "<<" {
            return Err(format!("{path}: YAML merge keys are refused"));
        }
        if let Some((field, why)) = REFUSED_FIELDS
            .iter()
            .find(|(field, _)| field.eq_ignore_ascii_case(key))
        {
            return Err(format!("{path}: {field}: {why}"));
        }
        let Some(field) = LOADING_FIELDS.iter().find(|f| f.eq_ignore_ascii_case(key)) else {
            continue;
        };
        for target in value
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            let inside = within(dir, target);
            if is_remote(target) || target.starts_with('/') || inside.is_none() {
                return Err(format!(
                    "{path}: {field}: {target:?}: only files and directories of the definition may be loaded"
                ));
            }
            let is_config = ["generators", "transformers", "validators"].contains(field);
            if let (true, Some(listed)) = (is_config, inside) {
                if let Ok(config) = files.yaml::<Value>(&listed, &listed, "") {
                    refuse_urls(&listed, &config)?;
                }
            }
        }
    }
    refuse_urls(path, kustomization)
}

/// Refuses a URL anywhere in `value` (kustomize fetches `http(s)` paths of patches,
/// generators, replacements and plugin configurations; a proxy cannot stop loopback).
pub(crate) fn refuse_urls(path: &str, value: &Value) -> Result<(), String> {
    let refused = |text: &str| is_remote(text) || text.split('=').skip(1).any(is_remote);
    match value {
        Value::String(text) if refused(text) => Err(format!(
            "{path}: {text:?}: URLs are refused (kustomize would fetch them)"
        )),
        Value::Array(items) => items.iter().try_for_each(|v| refuse_urls(path, v)),
        Value::Object(map) => map.iter().try_for_each(|(key, v)| {
            if refused(key) {
                return Err(format!("{path}: {key:?}: URLs are refused"));
            }
            refuse_urls(path, v)
        }),
        _ => Ok(()),
    }
}

/// `target` relative to the kustomization's directory `dir`, as a path of the definition;
/// `None` when it leaves the definition.
fn within(dir: &str, target: &str) -> Option<String> {
    let mut parts: Vec<&str> = dir.split('/').filter(|p| !p.is_empty()).collect();
    for part in target.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            other => parts.push(other),
        }
    }
    Some(parts.join("/"))
}

/// Whether Kustomize would fetch `target` over the network (a URL, a git repository).
fn is_remote(target: &str) -> bool {
    let lower = target.trim().to_ascii_lowercase();
    lower.contains("://")
        || lower.starts_with("git@")
        || lower.contains("?ref=")
        || lower.contains("?version=")
        || ["github.com", "gitlab.com", "bitbucket.org"]
            .iter()
            .any(|host| lower.starts_with(host))
}

/// The facts of a preview an overlay can read, as the `preview` ConfigMap holds them, with the
/// scalar values of the repository (the operator's, with the definition's over them) besides.
/// Free text from GitHub (title, branches, author) is never among them.
pub fn facts(ctx: &Context) -> BTreeMap<String, String> {
    let mut facts: BTreeMap<String, String> = ctx
        .values
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(key, value)| match value {
            Value::String(s) => Some((key.clone(), s.clone())),
            Value::Number(n) => Some((key.clone(), n.to_string())),
            Value::Bool(b) => Some((key.clone(), b.to_string())),
            _ => None,
        })
        .collect();
    for (key, value) in [
        ("repository", ctx.repository.clone()),
        ("owner", ctx.owner.clone()),
        ("repo", ctx.repo.clone()),
        ("number", ctx.number.to_string()),
        ("sha", ctx.sha.clone()),
        ("shortSha", ctx.short_sha.clone()),
        ("namespace", ctx.namespace.clone()),
        ("host", ctx.host.clone()),
        ("url", ctx.url.clone()),
    ] {
        facts.insert(key.to_owned(), value);
    }
    facts
}

/// The kustomization previewd builds: the overlay (in `DEFINITION_FROM_WRAPPER`) placed in
/// the preview namespace, its images at the head commit, the `preview` ConfigMap and the
/// overlay's replacements, each object annotated with the file it came from.
pub fn wrapper(overlay: &Overlay, ctx: &Context) -> Value {
    let overlay_path = if overlay.dir.is_empty() {
        DEFINITION_FROM_WRAPPER.to_owned()
    } else {
        format!("{DEFINITION_FROM_WRAPPER}/{}", overlay.dir)
    };
    let literals: Vec<String> = facts(ctx)
        .into_iter()
        .map(|(key, value)| format!("{key}={value}"))
        .collect();
    let mut wrapper = json!({
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "namespace": ctx.namespace,
        "resources": [overlay_path],
        "buildMetadata": ["originAnnotations"],
        "configMapGenerator": [{
            "name": PREVIEW_CONFIG_MAP,
            "literals": literals,
            "options": {"disableNameSuffixHash": true},
        }],
    });
    let map = wrapper.as_object_mut().expect("an object");
    if !overlay.images.is_empty() {
        let images: Vec<Value> = overlay
            .images
            .iter()
            .map(|name| json!({"name": name, "newTag": ctx.sha}))
            .collect();
        map.insert("images".to_owned(), Value::Array(images));
    }
    if let Some(replacements) = &overlay.replacements {
        map.insert("replacements".to_owned(), replacements.clone());
    }
    wrapper
}

/// `kustomize build`'s `output` as objects placed in the preview namespace, each named by the
/// file its origin annotation gives (under `shown`, where the definition is in the
/// repository); the annotation itself is not applied.
pub fn objects(
    shown: &str,
    output: &str,
    ctx: &Context,
    labels: &BTreeMap<String, String>,
) -> Result<Vec<RenderedObject>, RenderError> {
    let whole = format!("{shown}: kustomize build's output");
    if let Some(line) = crate::build::yaml_guard::first_alias(output) {
        return Err(RenderError::Yaml {
            file: whole,
            line,
            message: crate::build::yaml_guard::REFUSED.to_owned(),
        });
    }
    let documents = parse_documents(&whole, output)?;
    let mut objects = Vec::new();
    let mut seen_in: BTreeMap<String, usize> = BTreeMap::new();
    for mut object in documents {
        let file = origin(&mut object, shown);
        let index = seen_in.entry(file.clone()).or_default();
        objects.extend(crate::build::render::place_object(
            &file, *index, object, ctx, labels,
        )?);
        *index += 1;
    }
    Ok(objects)
}

/// The file `object` came from (its origin annotation, which is removed), or what made it.
fn origin(object: &mut Value, shown: &str) -> String {
    let Some(annotations) = object
        .pointer_mut("/metadata/annotations")
        .and_then(Value::as_object_mut)
    else {
        return format!("{shown}: generated by kustomize");
    };
    let said = annotations.remove(ORIGIN);
    if annotations.is_empty() {
        if let Some(metadata) = object
            .pointer_mut("/metadata")
            .and_then(Value::as_object_mut)
        {
            metadata.remove("annotations");
        }
    }
    let path = said
        .as_ref()
        .and_then(Value::as_str)
        .and_then(|text| serde_yaml_ng::from_str::<Map<String, Value>>(text).ok())
        .and_then(|origin| {
            origin
                .get("path")
                .and_then(Value::as_str)
                .map(str::to_owned)
        });
    match path {
        Some(path) => match path.strip_prefix(&format!("{DEFINITION_FROM_WRAPPER}/")) {
            Some(inside) => format!("{shown}/{inside}"),
            None => format!("{shown}: generated by kustomize"),
        },
        None => format!("{shown}: generated by kustomize"),
    }
}

#[cfg(test)]
mod tests;
