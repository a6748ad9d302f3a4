//! `helm template` on a definition's chart: the chart's files and the preview's values written
//! to a scratch directory, rendered client-side only (no cluster: `lookup` finds nothing), with
//! no hooks, no tests, no JSON schema validation (a schema's `$ref` can name a URL), and only
//! the dependencies vendored in the chart's `charts/`.

use std::ffi::OsString;

use serde_json::Value;

use std::sync::Arc;

use super::Renderers;
use super::outputs::Key;
use super::run::run;
use crate::build::definition::chart::{self, Chart};

/// The name errors give a helm run.
const WHAT: &str = "helm template";

/// What `helm template` prints for `chart` with `values` in `namespace` (kept for the same
/// inputs), or why it failed (with the chart's files named as `shown`, where the chart is in the
/// repository).
pub async fn template(
    renderers: &Renderers,
    chart: &Chart,
    values: &Value,
    namespace: &str,
    shown: &str,
) -> Result<Arc<String>, String> {
    let archive = match &chart.remote {
        Some(remote) => Some(renderers.chart_repositories.archive(remote).await?),
        None => None,
    };
    let values = values.to_string();
    let key = Key::default()
        .with("helm release", chart.release.as_bytes())
        .with("namespace", namespace.as_bytes())
        .with("values", values.as_bytes())
        .with("archive", archive.as_deref().map_or(&[][..], Vec::as_slice))
        .with_files(&chart.files);
    let rendered = render(renderers, chart, archive, &values, namespace, shown);
    renderers.outputs.get_or_render(key, rendered).await
}

async fn render(
    renderers: &Renderers,
    chart: &Chart,
    archive: Option<Arc<Vec<u8>>>,
    values: &str,
    namespace: &str,
    shown: &str,
) -> Result<String, String> {
    let (_turn, scratch) = renderers.begin(WHAT).await?;
    let chart_dir = match archive {
        Some(archive) => {
            let path = scratch.path().join("chart.tgz");
            scratch.write_new(&path, &archive)?;
            path
        }
        None => scratch.write_files("chart", &chart.files)?,
    };
    let values_file = scratch.path().join("values.json");
    scratch.write_new(&values_file, values.as_bytes())?;
    let args: Vec<OsString> = [
        "template",
        &chart.release,
        "--namespace",
        namespace,
        "--no-hooks",
        "--skip-tests",
        "--dry-run=client",
        // A values.schema.json may `$ref` a URL, which helm would fetch (loopback included).
        "--skip-schema-validation",
        "--values",
    ]
    .into_iter()
    .map(OsString::from)
    .chain([values_file.into_os_string()])
    .chain([chart_dir.into_os_string()])
    .collect();
    let program = Renderers::resolve(&renderers.helm);
    run(&program, &args, &scratch, &renderers.limits, WHAT)
        .await
        .map_err(|why| {
            let scratch_path = format!("{}/", scratch.path().display());
            chart::explain(chart, shown, &why.replace(&scratch_path, ""))
        })
}
