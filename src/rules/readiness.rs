//! Whether an applied workload is ready, judged only from the object the API server returned
//! (pure). Kinds without a notion of readiness are ready once applied.

use serde_json::Value;

use crate::model::labels::{READINESS, READINESS_IGNORED};

/// A workload's readiness.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Readiness {
    /// Ready at its current generation.
    Ready,
    /// Not ready yet; what is awaited.
    Waiting(String),
    /// Will not become ready by itself; why.
    Failed(String),
}

/// Kinds whose readiness previewd waits for.
pub fn is_workload(api_version: &str, kind: &str) -> bool {
    matches!(
        (api_version, kind),
        ("apps/v1", "Deployment" | "StatefulSet") | ("batch/v1", "Job")
    )
}

/// Readiness of an object of the given kind.
pub fn readiness(kind: &str, object: &Value) -> Readiness {
    match kind {
        "Deployment" => deployment(object),
        "StatefulSet" => stateful_set(object),
        "Job" => job(object),
        _ => Readiness::Ready,
    }
}

/// The readiness of a set of applied objects (as the API server returned them): the first
/// workload that failed decides, else the first that is not ready; all ready means Ready.
/// A workload annotated `previewd.dev/readiness: ignored` does not count.
pub(crate) fn overall(applied: &[Value]) -> Readiness {
    let mut waiting = None;
    for object in applied {
        let text = |pointer| {
            object
                .pointer(pointer)
                .and_then(Value::as_str)
                .unwrap_or("")
        };
        let (api_version, kind) = (text("/apiVersion"), text("/kind"));
        let ignored = object
            .pointer("/metadata/annotations")
            .and_then(|a| a.get(READINESS))
            .and_then(Value::as_str)
            == Some(READINESS_IGNORED);
        if !is_workload(api_version, kind) || ignored {
            continue;
        }
        let name = text("/metadata/name");
        match readiness(kind, object) {
            Readiness::Ready => {}
            Readiness::Failed(why) => return Readiness::Failed(format!("{kind} {name}: {why}")),
            Readiness::Waiting(what) => {
                waiting.get_or_insert_with(|| format!("{kind} {name}: {what}"));
            }
        }
    }
    waiting.map_or(Readiness::Ready, Readiness::Waiting)
}

fn int(value: &Value, pointer: &str) -> i64 {
    value.pointer(pointer).and_then(Value::as_i64).unwrap_or(0)
}

fn condition<'a>(object: &'a Value, kind: &str) -> Option<&'a Value> {
    object
        .pointer("/status/conditions")?
        .as_array()?
        .iter()
        .find(|c| c.get("type").and_then(Value::as_str) == Some(kind))
}

fn condition_is(object: &Value, kind: &str, status: &str) -> bool {
    condition(object, kind)
        .and_then(|c| c.get("status"))
        .and_then(Value::as_str)
        == Some(status)
}

fn condition_text(object: &Value, kind: &str) -> Option<String> {
    let c = condition(object, kind)?;
    let reason = c.get("reason").and_then(Value::as_str).unwrap_or("");
    let message = c.get("message").and_then(Value::as_str).unwrap_or("");
    Some(
        format!("{reason}: {message}")
            .trim_matches([' ', ':'])
            .to_owned(),
    )
}

fn generation_observed(object: &Value) -> bool {
    int(object, "/status/observedGeneration") >= int(object, "/metadata/generation")
}

fn deployment(object: &Value) -> Readiness {
    let desired = object
        .pointer("/spec/replicas")
        .and_then(Value::as_i64)
        .unwrap_or(1);
    // Conditions describe the observed generation only: judge nothing older.
    if !generation_observed(object) {
        return Readiness::Waiting("rollout not yet observed by the deployment controller".into());
    }
    if condition_is(object, "Progressing", "False") {
        let why = condition_text(object, "Progressing").unwrap_or_default();
        return Readiness::Failed(format!("rollout stopped: {why}"));
    }
    let updated = int(object, "/status/updatedReplicas");
    let available = int(object, "/status/availableReplicas");
    let total = int(object, "/status/replicas");
    if updated == desired && available == desired && total == desired {
        return Readiness::Ready;
    }
    let mut waiting =
        format!("{available}/{desired} replicas available, {updated}/{desired} updated");
    if let Some(failure) = condition_text(object, "ReplicaFailure")
        .filter(|_| condition_is(object, "ReplicaFailure", "True"))
    {
        if is_refused_for_good(&failure) {
            return Readiness::Failed(format!("pods refused: {failure}"));
        }
        waiting.push_str(&format!(" ({failure})"));
    }
    Readiness::Waiting(waiting)
}

/// Whether the API server refused a workload's pods for a reason that holds until the template
/// or the namespace's fences change: over the ResourceQuota, against the Pod Security level, or
/// invalid (e.g. a request above the LimitRange's default limit). Other refusals pass by
/// themselves (the namespace's ServiceAccount not created yet) and are only waited on.
fn is_refused_for_good(failure: &str) -> bool {
    const FOR_GOOD: [&str; 3] = ["exceeded quota", "violates PodSecurity", " is invalid: "];
    FOR_GOOD.iter().any(|reason| failure.contains(reason))
}

fn stateful_set(object: &Value) -> Readiness {
    let desired = object
        .pointer("/spec/replicas")
        .and_then(Value::as_i64)
        .unwrap_or(1);
    if !generation_observed(object) {
        return Readiness::Waiting("rollout not yet observed by the statefulset controller".into());
    }
    let ready = int(object, "/status/readyReplicas");
    let updated = int(object, "/status/updatedReplicas");
    let available = int(object, "/status/availableReplicas");
    if ready == desired && updated == desired && available == desired {
        Readiness::Ready
    } else {
        Readiness::Waiting(format!(
            "{ready}/{desired} replicas ready, {updated}/{desired} updated"
        ))
    }
}

fn job(object: &Value) -> Readiness {
    if condition_is(object, "Complete", "True") {
        Readiness::Ready
    } else if condition_is(object, "Failed", "True") {
        Readiness::Failed(format!(
            "job failed: {}",
            condition_text(object, "Failed").unwrap_or_default()
        ))
    } else {
        Readiness::Waiting(format!(
            "job running: {} succeeded",
            int(object, "/status/succeeded")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn deploy(
        generation: i64,
        observed: i64,
        replicas: i64,
        updated: i64,
        available: i64,
    ) -> Value {
        json!({
            "metadata": {"generation": generation},
            "spec": {"replicas": replicas},
            "status": {"observedGeneration": observed, "replicas": replicas,
                       "updatedReplicas": updated, "availableReplicas": available}
        })
    }

    #[test]
    fn deployment_needs_observed_generation_and_all_replicas() {
        assert_eq!(
            readiness("Deployment", &deploy(2, 2, 2, 2, 2)),
            Readiness::Ready
        );
        assert!(matches!(
            readiness("Deployment", &deploy(3, 2, 2, 2, 2)),
            Readiness::Waiting(_)
        ));
        assert!(matches!(
            readiness("Deployment", &deploy(2, 2, 2, 2, 1)),
            Readiness::Waiting(_)
        ));
        assert!(matches!(
            readiness("Deployment", &deploy(2, 2, 2, 1, 2)),
            Readiness::Waiting(_)
        ));
    }

    #[test]
    fn deployment_reports_replica_failures_and_deadlines() {
        let mut d = deploy(1, 1, 1, 0, 0);
        d["status"]["conditions"] = json!([{"type": "ReplicaFailure", "status": "True",
            "reason": "FailedCreate", "message": "pods \"x\" is forbidden: exceeded quota: q"}]);
        let Readiness::Failed(why) = readiness("Deployment", &d) else {
            panic!("a quota refusal is final")
        };
        assert_eq!(
            why,
            "pods refused: FailedCreate: pods \"x\" is forbidden: exceeded quota: q"
        );
        for (message, fails) in [
            (
                "pods \"x\" is forbidden: violates PodSecurity \"baseline:latest\": privileged",
                true,
            ),
            (
                "Pod \"x\" is invalid: spec.containers[0].resources.requests: Invalid value",
                true,
            ),
            (
                "pods \"x\" is forbidden: error looking up service account ns/default",
                false,
            ),
        ] {
            d["status"]["conditions"][0]["message"] = json!(message);
            let verdict = readiness("Deployment", &d);
            assert_eq!(
                matches!(verdict, Readiness::Failed(_)),
                fails,
                "{verdict:?}"
            );
            let (Readiness::Failed(why) | Readiness::Waiting(why)) = verdict else {
                panic!()
            };
            assert!(why.contains(message), "{why}");
        }
        d["status"]["conditions"][0]["status"] = json!("False");
        d["status"]["conditions"][0]["message"] = json!("exceeded quota: q");
        assert!(
            matches!(readiness("Deployment", &d), Readiness::Waiting(_)),
            "a cleared condition decides nothing"
        );
        d["status"]["conditions"] = json!([{"type": "Progressing", "status": "False",
            "reason": "ProgressDeadlineExceeded", "message": "too slow"}]);
        d["metadata"]["generation"] = json!(2);
        assert!(
            matches!(readiness("Deployment", &d), Readiness::Waiting(_)),
            "a stale condition decides nothing"
        );
        d["metadata"]["generation"] = json!(1);
        assert!(
            matches!(readiness("Deployment", &d), Readiness::Failed(m) if m.contains("ProgressDeadlineExceeded"))
        );
    }

    #[test]
    fn jobs_and_statefulsets() {
        let done = json!({"status": {"conditions": [{"type": "Complete", "status": "True"}]}});
        assert_eq!(readiness("Job", &done), Readiness::Ready);
        let failed = json!({"status": {"conditions": [{"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded"}]}});
        assert!(matches!(readiness("Job", &failed), Readiness::Failed(_)));
        assert!(matches!(
            readiness("Job", &json!({})),
            Readiness::Waiting(_)
        ));
        let sts = json!({"metadata": {"generation": 1}, "spec": {"replicas": 1},
            "status": {"observedGeneration": 1, "readyReplicas": 1, "updatedReplicas": 1, "availableReplicas": 1}});
        assert_eq!(readiness("StatefulSet", &sts), Readiness::Ready);
        assert_eq!(readiness("ConfigMap", &json!({})), Readiness::Ready);
    }
}
