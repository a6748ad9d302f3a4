//! Templates → typed objects, with no I/O.
//!
//! Text that comes from GitHub (title, branch, author) is data, never structure: templates see it
//! as an opaque token, the rendered YAML is parsed, and only then are the tokens replaced inside
//! string scalars. Whatever a title contains (`{{`, `---`, newlines, quotes), it lands in the
//! object byte for byte and cannot add, remove or reshape objects.

use std::collections::BTreeMap;

use handlebars::Handlebars;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::model::pull::{PullFacts, Repository};

/// One template file: its name (as shown in errors) and its source.
#[derive(Clone, Debug)]
pub struct Template {
    /// File name relative to the templates directory.
    pub file: String,
    /// Handlebars source of a multi-document YAML stream.
    pub source: String,
}

/// Everything a template can refer to.
#[derive(Clone, Debug, Serialize)]
pub struct Context {
    /// Repository owner.
    pub owner: String,
    /// Repository name.
    pub repo: String,
    /// `owner/name`.
    pub repository: String,
    /// PR number.
    pub number: u64,
    /// Head commit SHA.
    pub sha: String,
    /// First 7 characters of the SHA.
    pub short_sha: String,
    /// Head branch (free text: only usable inside string values).
    pub branch: String,
    /// The branch as an RFC 1123 slug of at most 63 characters.
    pub branch_slug: String,
    /// Base branch (free text).
    pub base_branch: String,
    /// PR title (free text).
    pub title: String,
    /// PR author login (free text).
    pub author: String,
    /// Preview namespace.
    pub namespace: String,
    /// Preview host name.
    pub host: String,
    /// `https://{host}`.
    pub url: String,
    /// Operator-defined values from the configuration file.
    pub values: Value,
}

/// One rendered object and the file it came from.
#[derive(Clone, Debug, PartialEq)]
pub struct RenderedObject {
    /// Template file it was rendered from.
    pub file: String,
    /// The object, with namespace and previewd's labels set.
    pub object: Value,
}

/// Why rendering failed, with the file and line to look at.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum RenderError {
    /// Handlebars rejected the template or a variable.
    #[error("{file}:{line}:{column}: template error: {message}")]
    Template {
        /// Template file.
        file: String,
        /// 1-based line in the template.
        line: usize,
        /// 1-based column in the template.
        column: usize,
        /// What handlebars said.
        message: String,
    },
    /// The rendered text is not valid YAML.
    #[error("{file}: rendered line {line}: invalid YAML: {message}")]
    Yaml {
        /// Template file.
        file: String,
        /// 1-based line in the rendered output.
        line: usize,
        /// What the YAML parser said.
        message: String,
    },
    /// A document is not an object previewd may apply.
    #[error("{file}: document {document}: {message}")]
    Object {
        /// Template file.
        file: String,
        /// 1-based index of the YAML document in the file.
        document: usize,
        /// What is wrong with it.
        message: String,
    },
    /// The preview host pattern did not render to a DNS name.
    #[error("preview host pattern: {0}")]
    Host(String),
}

/// Free-text fields and the opaque tokens templates see in their place. A token holds `~`,
/// which no other variable can: slugs, GitHub owner and repository names, SHAs, the namespace
/// and the host never do. So a branch or repository named like a token is never replaced by
/// free text (as `branch_slug`, say), and only the four fields are.
const FREE_TEXT: [(&str, &str); 4] = [
    ("title", "x~previewd~title~x"),
    ("branch", "x~previewd~branch~x"),
    ("base_branch", "x~previewd~base-branch~x"),
    ("author", "x~previewd~author~x"),
];

impl Context {
    /// Builds the context for a PR, its namespace and the host pattern (a handlebars template
    /// over the same variables, without the free-text ones).
    pub fn new(
        pull: &PullFacts,
        namespace: &str,
        host_pattern: &str,
        values: Value,
    ) -> Result<Self, RenderError> {
        let (owner, repo) = pull.repository.owner_and_name();
        let mut ctx = Context {
            owner: owner.to_owned(),
            repo: repo.to_owned(),
            repository: pull.repository.full_name.clone(),
            number: pull.number,
            sha: pull.head_sha.clone(),
            short_sha: pull.head_sha.chars().take(7).collect(),
            branch: pull.branch.clone(),
            branch_slug: crate::model::names::slug(&pull.branch, crate::model::names::MAX_NAME_LEN),
            base_branch: pull.base_branch.clone(),
            title: pull.title.clone(),
            author: pull.author.clone(),
            namespace: namespace.to_owned(),
            host: String::new(),
            url: String::new(),
            values,
        };
        ctx.host = render_host(host_pattern, &ctx)?;
        ctx.url = format!("https://{}", ctx.host);
        Ok(ctx)
    }

    /// The context as templates see it: free text replaced by tokens, empty text too (an empty
    /// plain scalar would be null, and an empty flow sequence item no item at all).
    fn tokenized(&self) -> Value {
        let mut value = serde_json::to_value(self).unwrap_or(Value::Null);
        if let Some(map) = value.as_object_mut() {
            for (field, token) in FREE_TEXT {
                map.insert(field.to_owned(), Value::String(token.to_owned()));
            }
        }
        value
    }

    fn free_text(&self) -> [(&'static str, &str); 4] {
        [
            (FREE_TEXT[0].1, self.title.as_str()),
            (FREE_TEXT[1].1, self.branch.as_str()),
            (FREE_TEXT[2].1, self.base_branch.as_str()),
            (FREE_TEXT[3].1, self.author.as_str()),
        ]
    }
}

fn strict_registry() -> Handlebars<'static> {
    let mut hb = Handlebars::new();
    hb.set_strict_mode(true);
    hb.register_escape_fn(handlebars::no_escape);
    hb
}

fn render_host(pattern: &str, ctx: &Context) -> Result<String, RenderError> {
    let mut data = serde_json::to_value(ctx).unwrap_or(Value::Null);
    if let Some(map) = data.as_object_mut() {
        for (field, _) in FREE_TEXT {
            map.remove(field);
        }
    }
    let host = strict_registry()
        .render_template(pattern, &data)
        .map_err(|e| RenderError::Host(e.to_string()))?;
    let valid = !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(crate::model::names::is_rfc1123_label);
    if valid {
        Ok(host)
    } else {
        Err(RenderError::Host(format!("{host:?} is not a DNS name")))
    }
}

/// Renders every template, parses its YAML documents and prepares each object for the preview
/// namespace: namespace set, previewd's `labels` added. Empty documents are skipped.
pub fn render(
    templates: &[Template],
    ctx: &Context,
    labels: &BTreeMap<String, String>,
) -> Result<Vec<RenderedObject>, RenderError> {
    let mut hb = strict_registry();
    let data = ctx.tokenized();
    let mut objects = Vec::new();
    for template in templates {
        hb.register_template_string(&template.file, &template.source)
            .map_err(|e| {
                let (line, column) = e.pos().unwrap_or((0, 0));
                RenderError::Template {
                    file: template.file.clone(),
                    line,
                    column,
                    message: e.reason().to_string(),
                }
            })?;
        let text = hb
            .render(&template.file, &data)
            .map_err(|e| RenderError::Template {
                file: template.file.clone(),
                line: e.line_no.unwrap_or(0),
                column: e.column_no.unwrap_or(0),
                message: e.reason().to_string(),
            })?;
        objects.extend(place_documents(
            &template.file,
            &text,
            &ctx.free_text(),
            &ctx.namespace,
            labels,
        )?);
    }
    Ok(objects)
}

/// Places the objects of the YAML stream `text`, which an upstream renderer (Helm) made from
/// `file`, in the preview namespace as `render` does. No free text from GitHub reached the
/// renderer, so there is none to substitute.
pub fn place(
    file: &str,
    text: &str,
    ctx: &Context,
    labels: &BTreeMap<String, String>,
) -> Result<Vec<RenderedObject>, RenderError> {
    place_documents(file, text, &[], &ctx.namespace, labels)
}

/// The objects of the YAML stream `text` rendered from `file`, free text substituted, each
/// checked and placed in `namespace` with `labels`.
fn place_documents(
    file: &str,
    text: &str,
    free_text: &[(&str, &str)],
    namespace: &str,
    labels: &BTreeMap<String, String>,
) -> Result<Vec<RenderedObject>, RenderError> {
    let mut objects = Vec::new();
    for (index, document) in parse_documents(file, text)?.into_iter().enumerate() {
        objects.extend(place_one(
            file, index, document, free_text, namespace, labels,
        )?);
    }
    Ok(objects)
}

/// Places `document`, the object an upstream renderer (Kustomize) made as the `index`th
/// (from 0) of `file`, in the preview namespace as `render` does (no free text to substitute).
pub fn place_object(
    file: &str,
    index: usize,
    document: Value,
    ctx: &Context,
    labels: &BTreeMap<String, String>,
) -> Result<Option<RenderedObject>, RenderError> {
    place_one(file, index, document, &[], &ctx.namespace, labels)
}

fn place_one(
    file: &str,
    index: usize,
    document: Value,
    free_text: &[(&str, &str)],
    namespace: &str,
    labels: &BTreeMap<String, String>,
) -> Result<Option<RenderedObject>, RenderError> {
    let object =
        prepare(document, free_text, namespace, labels).map_err(|message| RenderError::Object {
            file: file.to_owned(),
            document: index + 1,
            message,
        })?;
    Ok(object.map(|object| RenderedObject {
        file: file.to_owned(),
        object,
    }))
}

/// Renders the templates for a sample pull request, so that a broken template or host pattern
/// stops startup instead of failing the first preview. Returns how many objects they make.
pub fn check(
    templates: &[Template],
    host_pattern: &str,
    values: Value,
) -> Result<usize, RenderError> {
    let sample = PullFacts {
        repository: Repository {
            id: 1,
            full_name: "example/repository".into(),
        },
        number: 1,
        head_sha: "0".repeat(40),
        branch: "feature".into(),
        base_branch: "main".into(),
        title: "Sample".into(),
        author: "octocat".into(),
        ..PullFacts::default()
    };
    let ctx = Context::new(&sample, "example-repository-pr1", host_pattern, values)?;
    Ok(render(templates, &ctx, &BTreeMap::new())?.len())
}

pub(crate) fn parse_documents(file: &str, text: &str) -> Result<Vec<Value>, RenderError> {
    use serde::Deserialize;
    serde_yaml_ng::Deserializer::from_str(text)
        .map(|doc| {
            Value::deserialize(doc).map_err(|e| RenderError::Yaml {
                file: file.to_owned(),
                line: e.location().map_or(0, |l| l.line()),
                message: e.to_string(),
            })
        })
        .collect()
}

/// Substitutes free text, checks the object's shape and places it in the namespace.
/// `Ok(None)` for an empty document.
fn prepare(
    document: Value,
    free_text: &[(&str, &str)],
    namespace: &str,
    labels: &BTreeMap<String, String>,
) -> Result<Option<Value>, String> {
    if document.is_null() {
        return Ok(None);
    }
    let mut object = substitute(document, free_text);
    let map = object
        .as_object_mut()
        .ok_or("a document must be a mapping (a Kubernetes object)")?;
    for field in ["apiVersion", "kind"] {
        if map
            .get(field)
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
        {
            return Err(format!("`{field}` is missing or not a string"));
        }
    }
    if map.get("kind").and_then(Value::as_str) == Some("Namespace") {
        return Err(
            "a template may not create a Namespace: previewd creates the preview namespace itself"
                .into(),
        );
    }
    let metadata = map
        .entry("metadata")
        .or_insert_with(|| Value::Object(Map::new()))
        .as_object_mut()
        .ok_or("`metadata` must be a mapping")?;
    if metadata
        .get("name")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        return Err("`metadata.name` is missing or not a string".into());
    }
    match metadata.get("namespace").and_then(Value::as_str) {
        None => {}
        Some(ns) if ns == namespace => {}
        Some(other) => {
            return Err(format!(
                "object is placed in namespace {other:?}; templates may only create objects in the preview namespace"
            ));
        }
    }
    metadata.insert("namespace".into(), Value::String(namespace.to_owned()));
    let object_labels = metadata
        .entry("labels")
        .or_insert_with(|| Value::Object(Map::new()))
        .as_object_mut()
        .ok_or("`metadata.labels` must be a mapping")?;
    for (key, value) in labels {
        object_labels.insert(key.clone(), Value::String(value.clone()));
    }
    Ok(Some(object))
}

/// Replaces free-text tokens inside every string (keys included), in one pass, so a value that
/// happens to contain a token is never expanded again.
fn substitute(value: Value, free_text: &[(&str, &str)]) -> Value {
    match value {
        Value::String(s) => Value::String(replace_tokens(&s, free_text)),
        Value::Array(items) => Value::Array(
            items
                .into_iter()
                .map(|v| substitute(v, free_text))
                .collect(),
        ),
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (replace_tokens(&k, free_text), substitute(v, free_text)))
                .collect(),
        ),
        other => other,
    }
}

fn replace_tokens(text: &str, free_text: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    'scan: while !rest.is_empty() {
        for (token, value) in free_text {
            if let Some(after) = rest.strip_prefix(token) {
                out.push_str(value);
                rest = after;
                continue 'scan;
            }
        }
        let mut chars = rest.chars();
        if let Some(c) = chars.next() {
            out.push(c);
        }
        rest = chars.as_str();
    }
    out
}

#[cfg(test)]
mod properties;

#[cfg(test)]
mod tests;
