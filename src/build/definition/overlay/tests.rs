use std::collections::BTreeMap;

use serde_json::json;

use super::*;
use crate::build::definition::testing::{self, read_entries};
use crate::build::definition::{Definition, Source};

fn overlay_of(definition: &Definition) -> &Overlay {
    match &definition.source {
        Source::Overlay(overlay) => overlay,
        _ => panic!("not an overlay"),
    }
}

fn context() -> Context {
    testing::context(json!({"image": "registry.test/app", "replicas": 2, "nested": {"a": 1}}))
}

#[test]
fn the_wrapper_places_the_overlay_and_gives_it_the_preview_facts() {
    let definition = read_entries(&[
        (
            "preview.yaml",
            "source: kustomize\noverlay: preview\nimages: [registry.test/app]\nreplacements: [{source: {kind: ConfigMap, name: preview, fieldPath: data.host}, targets: []}]\n",
        ),
        ("preview/kustomization.yaml", "resources: [../base]\n"),
        ("base/kustomization.yaml", "resources: [web.yaml]\n"),
        ("base/web.yaml", "kind: Deployment"),
    ])
    .unwrap();
    let overlay = overlay_of(&definition);
    assert_eq!(overlay.dir, "preview");
    let wrapper = wrapper(overlay, &context());
    assert_eq!(wrapper["namespace"], "octo-app-pr12");
    assert_eq!(wrapper["resources"], json!(["../definition/preview"]));
    assert_eq!(wrapper["buildMetadata"], json!(["originAnnotations"]));
    assert_eq!(
        wrapper["images"],
        json!([{"name": "registry.test/app", "newTag": "abcdef0123456789abcdef0123456789abcdef01"}])
    );
    assert_eq!(wrapper["replacements"][0]["source"]["name"], "preview");
    let literals = wrapper["configMapGenerator"][0]["literals"].clone();
    let literals: Vec<&str> = literals
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    assert_eq!(
        literals,
        [
            "host=octo-app-pr12.preview.test",
            "image=registry.test/app",
            "namespace=octo-app-pr12",
            "number=12",
            "owner=octo",
            "replicas=2",
            "repo=app",
            "repository=octo/app",
            "sha=abcdef0123456789abcdef0123456789abcdef01",
            "shortSha=abcdef0",
            "url=https://octo-app-pr12.preview.test",
        ]
    );
}

#[test]
fn a_kustomization_reaching_out_of_the_definition_is_refused() {
    let cases: [(&str, &str); 13] = [
        (
            "Resources: [\"https://example.com/a.yaml\"]\n",
            "only files",
        ),
        ("HELMCHARTS: [{name: x}]\n", "use source helm"),
        ("<<: {resources: [x]}\n", "merge keys are refused"),
        (
            "resources: [../../elsewhere]\n",
            "only files and directories",
        ),
        (
            "patches: [{path: \"http://127.0.0.1:8081/api/previews\"}]\n",
            "URLs are refused",
        ),
        (
            "configMapGenerator: [{name: x, files: [\"m=http://localhost:8080/metrics\"]}]\n",
            "URLs are refused",
        ),
        (
            "resources: [github.com/org/repo//deploy?ref=v1]\n",
            "only files and directories of the definition",
        ),
        (
            "resources: [\"https://example.com/all.yaml\"]\n",
            "only files",
        ),
        ("components: [git@github.com:org/repo.git]\n", "only files"),
        ("resources: [/etc/kubernetes]\n", "only files"),
        ("transformers: [\"https://x/t.yaml\"]\n", "only files"),
        ("helmCharts: [{name: x}]\n", "use source helm"),
        ("- a list\n", "not a mapping"),
    ];
    for (kustomization, expected) in cases {
        let err = read_entries(&[
            ("preview.yaml", "source: kustomize\n"),
            ("overlay/kustomization.yaml", "resources: [../base]\n"),
            ("base/kustomization.yaml", kustomization),
        ])
        .unwrap_err();
        assert!(
            err.starts_with("base/kustomization.yaml: ") && err.contains(expected),
            "{kustomization}: {err}"
        );
    }
    let missing = read_entries(&[("preview.yaml", "source: kustomize\n")]).unwrap_err();
    assert!(
        missing.starts_with("overlay/kustomization.yaml: missing"),
        "{missing}"
    );
    let tagged = read_entries(&[
        ("preview.yaml", "source: kustomize\nimages: [\"app:1.0\"]\n"),
        ("overlay/kustomization.yaml", "resources: []\n"),
    ])
    .unwrap_err();
    assert!(tagged.contains("images: \"app:1.0\""), "{tagged}");
}

#[test]
fn objects_are_named_by_their_origin_and_lose_the_annotation() {
    let output = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: preview\n  namespace: octo-app-pr12\ndata: {sha: x}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  annotations:\n    config.kubernetes.io/origin: |\n      path: ../definition/base/web.yaml\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  annotations:\n    keep: me\n    config.kubernetes.io/origin: |\n      path: ../definition/base/web.yaml\n";
    let labels = BTreeMap::from([("previewd.dev/pr".to_owned(), "12".to_owned())]);
    let objects = objects(".preview", output, &context(), &labels).unwrap();
    let named: Vec<(&str, &str)> = objects
        .iter()
        .map(|o| (o.file.as_str(), o.object["kind"].as_str().unwrap()))
        .collect();
    assert_eq!(
        named,
        [
            (".preview: generated by kustomize", "ConfigMap"),
            (".preview/base/web.yaml", "Deployment"),
            (".preview/base/web.yaml", "Service"),
        ]
    );
    assert!(objects[1].object["metadata"].get("annotations").is_none());
    assert_eq!(
        objects[2].object["metadata"]["annotations"],
        json!({"keep": "me"})
    );
    assert_eq!(
        objects[1].object["metadata"]["labels"]["previewd.dev/pr"],
        "12"
    );
    let elsewhere = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  namespace: kube-system\n  annotations:\n    config.kubernetes.io/origin: |\n      path: ../definition/base/x.yaml\n";
    let err = objects_err(elsewhere);
    assert!(
        err.starts_with(".preview/base/x.yaml: document 1:"),
        "{err}"
    );
}

fn objects_err(output: &str) -> String {
    objects(".preview", output, &context(), &BTreeMap::new())
        .unwrap_err()
        .to_string()
}
