//! GitHub's own OpenAPI description (`@octokit/openapi`, pinned in fixtures/): the schema of
//! every REST response and of every webhook payload, to check the stand-in's answers and the
//! webhook fixtures against. Used by the tests, not by the stand-in itself.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::{Value, json};

const SPEC: &str = "fixtures/node_modules/@octokit/openapi/generated/api.github.com.json";

/// GitHub's OpenAPI document with OpenAPI 3.0's `nullable: true` rewritten as JSON Schema
/// 2020-12 says it (`type: [T, "null"]`, or `anyOf` with null where there is no `type`).
pub(crate) fn spec() -> &'static Value {
    static SPEC_JSON: OnceLock<Value> = OnceLock::new();
    SPEC_JSON.get_or_init(|| {
        let path = crate::repo_root().join(SPEC);
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "cannot read {}: {e}; run `cd fixtures && npm ci`",
                path.display()
            )
        });
        let mut spec: Value = serde_json::from_str(&text).expect("the OpenAPI document parses");
        let version = spec["openapi"].as_str().unwrap_or_default().to_owned();
        assert!(
            version.starts_with("3.0"),
            "expected OpenAPI 3.0 (nullable), got {version}: revisit the conversion"
        );
        nullable_to_json_schema(&mut spec);
        spec
    })
}

fn nullable_to_json_schema(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for child in map.values_mut() {
                nullable_to_json_schema(child);
            }
            // Only the keyword: a property *named* "nullable" holds a schema, not `true`.
            if map.get("nullable") != Some(&Value::Bool(true)) {
                return;
            }
            map.remove("nullable");
            if let Some(Value::String(kind)) = map.get("type").cloned() {
                map.insert("type".to_owned(), json!([kind, "null"]));
                if let Some(Value::Array(allowed)) = map.get_mut("enum")
                    && !allowed.contains(&Value::Null)
                {
                    allowed.push(Value::Null);
                }
            } else if !map.is_empty() {
                let inner = Value::Object(std::mem::take(map));
                map.insert("anyOf".to_owned(), json!([{"type": "null"}, inner]));
            }
        }
        Value::Array(items) => items.iter_mut().for_each(nullable_to_json_schema),
        _ => {}
    }
}

/// Every operation: (method, path template, operation).
fn operations() -> impl Iterator<Item = (&'static str, &'static str, &'static Value)> {
    spec()["paths"]
        .as_object()
        .expect("paths")
        .iter()
        .flat_map(|(template, item)| {
            item.as_object()
                .into_iter()
                .flat_map(move |methods| methods.iter())
                .map(move |(method, op)| (method.as_str(), template.as_str(), op))
        })
}

/// The `operationId` of the operation serving `method` on the concrete `path` (no query):
/// `GET /repos/acme/shop/pulls/7` → `pulls/get`. Literal segments win over parameters.
pub fn operation_id(method: &str, path: &str) -> Option<&'static str> {
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    let method = method.to_ascii_lowercase();
    operations()
        .filter(|(m, _, _)| *m == method)
        .filter_map(|(_, template, op)| {
            let parts: Vec<&str> = template.split('/').collect();
            if parts.len() != segments.len() {
                return None;
            }
            let mut literal = 0;
            for (part, segment) in parts.iter().zip(&segments) {
                if part.starts_with('{') && part.ends_with('}') {
                    if segment.is_empty() {
                        return None;
                    }
                } else if part == segment {
                    literal += 1;
                } else {
                    return None;
                }
            }
            Some((literal, op["operationId"].as_str()?))
        })
        .max_by_key(|(literal, _)| *literal)
        .map(|(_, id)| id)
}

/// The compiled schema of one operation's response (`issues/create-comment`, "201").
pub fn validator(operation_id: &str, status: &str) -> Arc<jsonschema::Validator> {
    cached(&format!("operation {operation_id} {status}"), || {
        let (_, _, operation) = operations()
            .find(|(_, _, op)| op["operationId"] == operation_id)
            .unwrap_or_else(|| panic!("no operation {operation_id} in the spec"));
        let mut response = &operation["responses"][status];
        if let Some(reference) = response["$ref"].as_str() {
            response = spec().pointer(&reference[1..]).expect("a response $ref");
        }
        response["content"]["application/json"]["schema"].clone()
    })
}

/// A schema from `components/schemas`, e.g. `issue-comment`.
pub fn component(name: &str) -> Arc<jsonschema::Validator> {
    cached(
        &format!("component {name}"),
        || json!({"$ref": format!("#/components/schemas/{name}")}),
    )
}

/// The schema of a webhook delivery's body: event `pull_request`, action `labeled` →
/// `x-webhooks/pull-request-labeled`.
pub fn webhook(event: &str, action: &str) -> Arc<jsonschema::Validator> {
    let name = format!("{event}-{action}").replace('_', "-");
    cached(&format!("webhook {name}"), || {
        spec()["x-webhooks"][&name]["post"]["requestBody"]["content"]["application/json"]["schema"]
            .clone()
    })
}

fn cached(key: &str, schema: impl FnOnce() -> Value) -> Arc<jsonschema::Validator> {
    static CACHE: OnceLock<Mutex<HashMap<String, Arc<jsonschema::Validator>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(found) = cache.lock().unwrap().get(key) {
        return found.clone();
    }
    let schema = schema();
    assert!(!schema.is_null(), "no JSON schema for {key}");
    // `$ref`s point into `#/components/schemas`, so the document carries them along.
    let root = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "components": {"schemas": spec()["components"]["schemas"].clone()},
        "allOf": [schema],
    });
    let validator = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .should_validate_formats(true)
        .build(&root)
        .unwrap_or_else(|e| panic!("the schema for {key} compiles: {e}"));
    let validator = Arc::new(validator);
    cache
        .lock()
        .unwrap()
        .insert(key.to_owned(), validator.clone());
    validator
}

/// Every way `body` breaks the schema, one line each (`/path: message`).
pub fn schema_errors(validator: &jsonschema::Validator, body: &Value) -> Vec<String> {
    validator
        .iter_errors(body)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

/// Panics with every error unless `body` is a valid `status` answer of `operation_id`.
#[track_caller]
pub fn assert_matches(operation_id: &str, status: u16, body: &Value) {
    let errors = schema_errors(&validator(operation_id, &status.to_string()), body);
    assert!(
        errors.is_empty(),
        "{operation_id} {status} does not match GitHub's schema:\n{}",
        errors.join("\n")
    );
}
