//! `helm template` on a definition's chart: the chart's files and the preview's values written
//! to a scratch directory, rendered client-side only (no cluster: `lookup` finds nothing), with
//! no hooks and no tests, and only the dependencies vendored in the chart's `charts/`.

use std::ffi::OsString;

use serde_json::Value;

use super::Renderers;
use super::run::run;
use crate::build::definition::chart::{self, Chart};

/// The name errors give a helm run.
const WHAT: &str = "helm template";

/// What `helm template` prints for `chart` with `values` in `namespace`, or why it failed (with
/// the chart's files named as `shown`, where the chart is in the repository).
pub async fn template(
    renderers: &Renderers,
    chart: &Chart,
    values: &Value,
    namespace: &str,
    shown: &str,
) -> Result<String, String> {
    let (_turn, scratch) = renderers.begin(WHAT).await?;
    let chart_dir = scratch.write_files("chart", &chart.files)?;
    let values_file = scratch.path().join("values.json");
    scratch.write_new(&values_file, values.to_string().as_bytes())?;
    let args: Vec<OsString> = [
        "template",
        &chart.release,
        "--namespace",
        namespace,
        "--no-hooks",
        "--skip-tests",
        "--dry-run=client",
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
