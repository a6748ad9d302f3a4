use std::collections::BTreeMap;

use serde_json::json;

use super::*;
use crate::build::definition::testing::{self, read_entries};
use crate::build::definition::{Definition, Source};

fn definition(entries: &[(&str, &str)]) -> Definition {
    read_entries(entries).unwrap()
}

fn chart_of(definition: &Definition) -> &Chart {
    match &definition.source {
        Source::Chart(chart) => chart,
        _ => panic!("not a chart"),
    }
}

fn context() -> Context {
    testing::context(json!({"image": "registry.test/app"}))
}

#[test]
fn the_chart_is_its_directory_named_by_chart_yaml() {
    let read = definition(&[
        (
            "preview.yaml",
            "source: helm\nchart: deploy/chart\nrelease: web\n",
        ),
        (
            "deploy/chart/Chart.yaml",
            "apiVersion: v2\nname: app\nversion: 0.1.0\n",
        ),
        ("deploy/chart/templates/web.yaml", "kind: Deployment"),
        ("deploy/other.yaml", "kind: Job"),
    ]);
    let chart = chart_of(&read);
    assert_eq!(chart.dir, "deploy/chart");
    assert_eq!(chart.name, "app");
    assert_eq!(chart.release, "web");
    assert_eq!(
        chart.files.paths().collect::<Vec<_>>(),
        ["Chart.yaml", "templates/web.yaml"]
    );
    let top = definition(&[
        ("preview.yaml", "source: helm\nchart: .\n"),
        ("Chart.yaml", "name: app\n"),
    ]);
    assert_eq!(chart_of(&top).dir, "");
    assert_eq!(chart_of(&top).release, "preview");
    assert_eq!(
        chart_of(&top).files.paths().collect::<Vec<_>>(),
        ["Chart.yaml"]
    );
}

#[test]
fn the_values_hold_the_preview_facts_and_no_free_text() {
    let values = values(&context());
    assert_eq!(values["image"], "registry.test/app");
    assert_eq!(
        values["preview"],
        json!({
            "repository": "octo/app", "owner": "octo", "repo": "app", "number": 12,
            "sha": "abcdef0123456789abcdef0123456789abcdef01", "shortSha": "abcdef0",
            "namespace": "octo-app-pr12", "host": "octo-app-pr12.preview.test",
            "url": "https://octo-app-pr12.preview.test",
        })
    );
    let text = values.to_string();
    for free in ["a title", "feature", "mallory", "main"] {
        assert!(!text.contains(free), "{free} reached the chart: {text}");
    }
}

#[test]
fn helm_output_is_placed_and_named_by_its_source_file() {
    let read = definition(&[
        ("preview.yaml", "source: helm\n"),
        ("chart/Chart.yaml", "name: app\n"),
    ]);
    let chart = chart_of(&read);
    let output = "---\n# Source: app/templates/web.yaml\napiVersion: v1\nkind: Service\nmetadata:\n  name: web\n---\n# Source: app/charts/db/templates/db.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: db\n  namespace: octo-app-pr12\n";
    let labels = BTreeMap::from([("previewd.dev/pr".to_owned(), "12".to_owned())]);
    let objects = objects(chart, ".preview/chart", output, &context(), &labels).unwrap();
    let named: Vec<(&str, &str)> = objects
        .iter()
        .map(|o| {
            (
                o.file.as_str(),
                o.object["metadata"]["name"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        named,
        [
            (".preview/chart/templates/web.yaml", "web"),
            (".preview/chart/charts/db/templates/db.yaml", "db"),
        ]
    );
    for object in &objects {
        assert_eq!(object.object["metadata"]["namespace"], "octo-app-pr12");
        assert_eq!(object.object["metadata"]["labels"]["previewd.dev/pr"], "12");
    }
    let elsewhere = "---\n# Source: app/templates/role.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  namespace: kube-system\n";
    let err = objects_err(chart, elsewhere);
    assert!(
        err.starts_with(".preview/chart/templates/role.yaml: document 1:"),
        "{err}"
    );
    assert!(err.contains("kube-system"), "{err}");
}

fn objects_err(chart: &Chart, output: &str) -> String {
    objects(
        chart,
        ".preview/chart",
        output,
        &context(),
        &BTreeMap::new(),
    )
    .unwrap_err()
    .to_string()
}

#[test]
fn helm_errors_name_the_repository_file() {
    let read = definition(&[
        ("preview.yaml", "source: helm\n"),
        ("chart/Chart.yaml", "name: app\n"),
    ]);
    assert_eq!(
        explain(
            chart_of(&read),
            ".preview/chart",
            "helm template: template: app/templates/web.yaml:3:9: executing \"app/templates/web.yaml\""
        ),
        "helm template: template: .preview/chart/templates/web.yaml:3:9: executing \".preview/chart/templates/web.yaml\""
    );
}

#[test]
fn aliases_in_helm_output_are_refused_before_parsing() {
    let read = definition(&[
        ("preview.yaml", "source: helm\n"),
        ("chart/Chart.yaml", "name: app\n"),
    ]);
    let laughs = "---\n# Source: app/templates/lol.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: lol}\nx: &a [1, 1, 1, 1, 1, 1, 1, 1, 1]\ny: [*a, *a, *a, *a, *a, *a, *a, *a]\n";
    let err = objects_err(chart_of(&read), laughs);
    assert_eq!(
        err,
        ".preview/chart/templates/lol.yaml: rendered line 5: invalid YAML: YAML aliases (*name) are refused"
    );
}
