//! A Helm chart in a definition (pure): its files, the values previewd gives it for a preview,
//! and `helm template`'s output read back as objects, each named by the chart file it came
//! from. Running `helm` is the sandbox's business (`crate::sandbox`).

use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::{ChartSetting, Files, RemoteChart, SETTINGS_FILE, subdirectory};
use crate::build::render::{Context, RenderError, RenderedObject};
use crate::build::yaml_guard::{REFUSED, first_alias};

/// The chart's own description, at the top of its directory.
pub const CHART_FILE: &str = "Chart.yaml";
/// A release name is at most this long (Helm's own limit).
const MAX_RELEASE_LEN: usize = 53;

/// A chart ready for `helm template`.
#[derive(Clone, Debug)]
pub struct Chart {
    /// Its directory, relative to the definition's (`.` for the top).
    pub dir: String,
    /// Its name, as `Chart.yaml` says (`helm template` names its files with it).
    pub name: String,
    /// The release name.
    pub release: String,
    /// Its files, by path relative to its directory (none for a chart of a repository).
    pub files: Files,
    /// The chart repository it comes from, instead of the definition.
    pub remote: Option<RemoteChart>,
}

impl Chart {
    /// Where the chart is in the repository, its definition being in `definition_dir`.
    pub fn shown_in(&self, definition_dir: &str) -> String {
        match &self.remote {
            Some(remote) => format!(
                "{}/{}-{}",
                remote.repository.trim_end_matches('/'),
                remote.name,
                remote.version
            ),
            None => super::joined(definition_dir, &self.dir),
        }
    }
}

#[derive(Deserialize)]
struct ChartFile {
    name: Option<String>,
}

/// The chart in directory `dir` of the definition `files`, released as `release`.
pub fn read(files: &Files, setting: &ChartSetting, release: &str) -> Result<Chart, String> {
    let valid_release =
        release.len() <= MAX_RELEASE_LEN && crate::model::names::is_rfc1123_label(release);
    if !valid_release {
        return Err(format!(
            "{SETTINGS_FILE}: release: {release:?} is not a DNS label of at most {MAX_RELEASE_LEN} characters"
        ));
    }
    let dir = match setting {
        ChartSetting::Dir(dir) => dir,
        ChartSetting::Remote(remote) => return remote_chart(remote, release),
    };
    let prefix = subdirectory("chart", dir)?;
    let mut chart = Files::default();
    for path in files.paths() {
        if let Some(inside) = path.strip_prefix(prefix.as_str()) {
            if path != SETTINGS_FILE {
                chart.add(inside, files.get(path).unwrap_or_default().to_vec())?;
            }
        }
    }
    let described = format!("{prefix}{CHART_FILE}");
    let parsed: ChartFile = chart.yaml(
        CHART_FILE,
        &described,
        &format!(" (source helm reads the chart in `{dir}`)"),
    )?;
    let name = parsed
        .name
        .filter(|n| !n.is_empty() && !n.contains('/'))
        .ok_or_else(|| format!("{described}: `name` is missing or holds a `/`"))?;
    Ok(Chart {
        dir: prefix.trim_end_matches('/').to_owned(),
        name,
        release: release.to_owned(),
        files: chart,
        remote: None,
    })
}

/// A chart of an HTTP chart repository: an `http(s)://` URL, a plain name, an exact version
/// (a range could pick a version published after the review).
fn remote_chart(remote: &RemoteChart, release: &str) -> Result<Chart, String> {
    let refuse = |why: String| Err(format!("{SETTINGS_FILE}: chart: {why}"));
    let url = &remote.repository;
    if !(url.starts_with("https://") || url.starts_with("http://")) || url.contains(['?', '#']) {
        return refuse(format!("repository {url:?} is not an http(s) URL"));
    }
    let plain = |text: &str| {
        !text.is_empty()
            && text
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '+'))
    };
    if !plain(&remote.name) {
        return refuse(format!("name {:?} is not a chart name", remote.name));
    }
    if !plain(&remote.version) || !remote.version.starts_with(|c: char| c.is_ascii_digit()) {
        return refuse(format!(
            "version {:?} is not an exact version (ranges are refused)",
            remote.version
        ));
    }
    Ok(Chart {
        dir: String::new(),
        name: remote.name.clone(),
        release: release.to_owned(),
        files: Files::default(),
        remote: Some(remote.clone()),
    })
}

/// The values a preview's chart is given: the repository's values (the operator's, with the
/// definition's over them) and, under `preview`, this preview's facts. Free text from GitHub
/// (title, branches, author) is never among them.
pub fn values(ctx: &Context) -> Value {
    let mut values = match &ctx.values {
        Value::Object(map) => map.clone(),
        _ => Map::new(),
    };
    values.insert(
        "preview".to_owned(),
        json!({
            "repository": ctx.repository,
            "owner": ctx.owner,
            "repo": ctx.repo,
            "number": ctx.number,
            "sha": ctx.sha,
            "shortSha": ctx.short_sha,
            "namespace": ctx.namespace,
            "host": ctx.host,
            "url": ctx.url,
        }),
    );
    Value::Object(values)
}

/// The path `helm template` prints for a file of `chart` (`name/templates/x.yaml`) as its path in
/// the repository (`shown/templates/x.yaml`, `shown` being where the chart is shown from).
fn shown_path(chart: &Chart, shown: &str, printed: &str) -> String {
    match printed.strip_prefix(&format!("{}/", chart.name)) {
        Some(inside) => format!("{shown}/{inside}"),
        None => format!("{shown}: {printed}"),
    }
}

/// Helm's message with the chart's name in file paths replaced by where the chart is shown
/// from, so that an error names the repository's file.
pub fn explain(chart: &Chart, shown: &str, message: &str) -> String {
    message.replace(&format!("{}/", chart.name), &format!("{shown}/"))
}

/// `helm template`'s `output` as objects placed in the preview namespace (see
/// `render::place`), each named by the chart file its `# Source:` line gives.
pub fn objects(
    chart: &Chart,
    shown: &str,
    output: &str,
    ctx: &Context,
    labels: &std::collections::BTreeMap<String, String>,
) -> Result<Vec<RenderedObject>, RenderError> {
    let mut objects = Vec::new();
    for (source, text) in by_source(output) {
        let file = match source {
            Some(printed) => shown_path(chart, shown, printed),
            None => format!("{shown}: helm template's output"),
        };
        if let Some(line) = first_alias(&text) {
            return Err(RenderError::Yaml {
                file,
                line,
                message: REFUSED.to_owned(),
            });
        }
        objects.extend(crate::build::render::place(&file, &text, ctx, labels)?);
    }
    Ok(objects)
}

/// `output` cut at each `# Source: PATH` line: (the path, the text up to the next one). Text
/// before the first such line has no path.
fn by_source(output: &str) -> Vec<(Option<&str>, String)> {
    let mut parts: Vec<(Option<&str>, String)> = vec![(None, String::new())];
    for line in output.lines() {
        if let Some(path) = line.strip_prefix("# Source: ") {
            parts.push((Some(path.trim()), String::new()));
            continue;
        }
        if let Some((_, text)) = parts.last_mut() {
            text.push_str(line);
            text.push('\n');
        }
    }
    parts
        .into_iter()
        .filter(|(source, text)| {
            source.is_some() || !text.trim().trim_matches('-').trim().is_empty()
        })
        .collect()
}

#[cfg(test)]
mod tests;
