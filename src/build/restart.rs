//! `/preview redeploy`: workloads get fresh pods by a counter in their pod template (pure), the
//! way `kubectl rollout restart` does it with a timestamp.

use serde_json::{Value, json};

use crate::build::render::RenderedObject;

/// Pod-template annotation carrying the redeploy counter.
pub(crate) const ANNOTATION: &str = "previewd.dev/redeploy";

/// Kinds whose pod template is at `spec.template` (a Job with a new template is replaced, so
/// it runs again).
const WORKLOADS: [(&str, &str); 4] = [
    ("apps/v1", "Deployment"),
    ("apps/v1", "StatefulSet"),
    ("apps/v1", "DaemonSet"),
    ("batch/v1", "Job"),
];

/// Stamps `count` on every workload's pod template (nothing when it is 0, so templates render
/// exactly as written until the first redeploy).
pub(crate) fn stamp(objects: &mut [RenderedObject], count: u32) {
    if count == 0 {
        return;
    }
    for object in objects {
        let kind = (
            object.object["apiVersion"].as_str().unwrap_or(""),
            object.object["kind"].as_str().unwrap_or(""),
        );
        if !WORKLOADS.contains(&kind) {
            continue;
        }
        let Some(template) = object
            .object
            .pointer_mut("/spec/template")
            .and_then(Value::as_object_mut)
        else {
            continue;
        };
        let metadata = template.entry("metadata").or_insert_with(|| json!({}));
        if let Some(metadata) = metadata.as_object_mut() {
            let annotations = metadata.entry("annotations").or_insert_with(|| json!({}));
            if let Some(annotations) = annotations.as_object_mut() {
                annotations.insert(ANNOTATION.into(), json!(count.to_string()));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(value: Value) -> RenderedObject {
        RenderedObject {
            file: "t.yaml".into(),
            object: value,
        }
    }

    #[test]
    fn stamps_workload_pod_templates_only() {
        let mut objects = vec![
            object(json!({"apiVersion": "apps/v1", "kind": "Deployment",
                "spec": {"template": {"metadata": {"labels": {"a": "b"}}, "spec": {}}}})),
            object(json!({"apiVersion": "apps/v1", "kind": "StatefulSet",
                "spec": {"template": {"spec": {}}}})),
            object(json!({"apiVersion": "v1", "kind": "Service", "spec": {}})),
            object(json!({"apiVersion": "batch/v1", "kind": "Job",
                "spec": {"template": {"spec": {}}}})),
        ];
        let before = objects[2].object.clone();
        stamp(&mut objects, 0);
        assert!(
            objects[0]
                .object
                .pointer("/spec/template/metadata/annotations")
                .is_none()
        );
        stamp(&mut objects, 2);
        assert_eq!(
            objects[0].object["spec"]["template"]["metadata"],
            json!({"labels": {"a": "b"}, "annotations": {"previewd.dev/redeploy": "2"}})
        );
        assert_eq!(
            objects[1].object["spec"]["template"]["metadata"]["annotations"][ANNOTATION],
            "2"
        );
        assert_eq!(objects[2].object, before);
        assert_eq!(
            objects[3].object["spec"]["template"]["metadata"]["annotations"][ANNOTATION],
            "2"
        );
    }
}
