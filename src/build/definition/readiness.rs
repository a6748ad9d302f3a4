//! Which workloads decide whether a preview is ready (pure): a definition's `readiness` names
//! them (`Deployment/web`); every other rendered workload is annotated as ignored, which the
//! readiness judge (`rules::readiness`) reads on the object the API server returns.

use serde_json::{Map, Value};

use super::SETTINGS_FILE;
use crate::build::render::RenderedObject;
use crate::model::labels::{READINESS, READINESS_IGNORED};
use crate::rules::readiness::is_workload;

/// Annotates every workload of `objects` that `wanted` (`Kind/name` entries) does not name as
/// ignored; `Err` names an entry that names no rendered workload.
pub fn select(wanted: &[String], objects: &mut [RenderedObject]) -> Result<(), String> {
    for entry in wanted {
        if !objects
            .iter()
            .any(|o| named(&o.object).as_ref() == Some(entry))
        {
            return Err(format!(
                "{SETTINGS_FILE}: readiness: {entry:?} names no rendered Deployment, StatefulSet or Job"
            ));
        }
    }
    for object in objects.iter_mut() {
        let Some(name) = named(&object.object) else {
            continue;
        };
        if wanted.contains(&name) {
            continue;
        }
        let metadata = object
            .object
            .pointer_mut("/metadata")
            .and_then(Value::as_object_mut)
            .expect("a rendered object has metadata");
        let annotations = metadata
            .entry("annotations")
            .or_insert_with(|| Value::Object(Map::new()));
        if let Some(annotations) = annotations.as_object_mut() {
            annotations.insert(READINESS.to_owned(), Value::from(READINESS_IGNORED));
        }
    }
    Ok(())
}

/// `Kind/name` of `object` when it is a workload.
fn named(object: &Value) -> Option<String> {
    let text = |pointer| object.pointer(pointer).and_then(Value::as_str);
    let (api_version, kind) = (text("/apiVersion")?, text("/kind")?);
    if !is_workload(api_version, kind) {
        return None;
    }
    Some(format!("{kind}/{}", text("/metadata/name")?))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn object(api_version: &str, kind: &str, name: &str) -> RenderedObject {
        RenderedObject {
            file: "f".into(),
            object: json!({"apiVersion": api_version, "kind": kind, "metadata": {"name": name}}),
        }
    }

    #[test]
    fn the_workloads_not_named_are_ignored() {
        let mut objects = vec![
            object("apps/v1", "Deployment", "web"),
            object("apps/v1", "Deployment", "worker"),
            object("batch/v1", "Job", "migrate"),
            object("v1", "Service", "web"),
        ];
        select(&["Deployment/web".to_owned()], &mut objects).unwrap();
        let ignored: Vec<bool> = objects
            .iter()
            .map(|o| o.object["metadata"]["annotations"][READINESS] == READINESS_IGNORED)
            .collect();
        assert_eq!(ignored, [false, true, true, false]);
    }

    #[test]
    fn an_entry_naming_no_workload_is_refused() {
        let mut objects = vec![object("v1", "Service", "web")];
        let err = select(&["Service/web".to_owned()], &mut objects).unwrap_err();
        assert!(
            err.starts_with("preview.yaml: readiness: \"Service/web\""),
            "{err}"
        );
    }
}
