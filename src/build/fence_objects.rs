//! The fences of a preview namespace, built from the configuration with no I/O: a ResourceQuota
//! and a LimitRange (one preview cannot starve the others), a NetworkPolicy (no preview reaches
//! another, nor the cluster's private addresses) and the Pod Security Admission label. They are
//! applied like templated objects, with previewd's labels, before any of them.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::build::network_fence;
use crate::build::render::RenderedObject;
use crate::config::FencesConfig;

/// Shown where a template's file name would be, in messages about a fence object.
pub(crate) const SOURCE: &str = "fences (previewd configuration)";
/// The name of every fence object.
pub(crate) const NAME: &str = "previewd";
/// The Pod Security Admission label previewd sets.
pub(crate) const POD_SECURITY_ENFORCE: &str = "pod-security.kubernetes.io/enforce";

/// The fence objects of `namespace`, each with previewd's `labels`; the ResourceQuota first.
pub fn objects(
    config: &FencesConfig,
    namespace: &str,
    labels: &BTreeMap<String, String>,
) -> Vec<RenderedObject> {
    let mut objects = Vec::new();
    let quota = &config.resource_quota;
    if quota.enabled {
        objects.push(("v1", "ResourceQuota", json!({"hard": quota.hard})));
    }
    let limits = &config.limit_range;
    if limits.enabled {
        let mut limit = json!({"type": "Container"});
        if !limits.default_request.is_empty() {
            limit["defaultRequest"] = json!(limits.default_request);
        }
        if !limits.default.is_empty() {
            limit["default"] = json!(limits.default);
        }
        objects.push(("v1", "LimitRange", json!({"limits": [limit]})));
    }
    let network = &config.network_policy;
    if network.enabled {
        objects.push((
            "networking.k8s.io/v1",
            "NetworkPolicy",
            network_fence::policy_spec(network),
        ));
    }
    objects
        .into_iter()
        .map(|(api_version, kind, spec)| RenderedObject {
            file: SOURCE.to_owned(),
            object: json!({
                "apiVersion": api_version,
                "kind": kind,
                "metadata": {"name": NAME, "namespace": namespace, "labels": labels},
                "spec": spec,
            }),
        })
        .collect()
}

/// The grant previewd's own ServiceAccount gets in each preview namespace: a RoleBinding to the
/// ClusterRole `role` that lets it read (list) and prune (delete) the template kinds there, so
/// those reads need no cluster-wide grant.
#[derive(Clone, Debug, PartialEq)]
pub struct ReadBinding {
    /// The ClusterRole bound (the chart's `<fullname>-preview`).
    pub role: String,
    /// previewd's ServiceAccount: its namespace and name.
    pub service_account: (String, String),
}

/// The RoleBinding `binding` describes, in `namespace`, with previewd's `labels`.
pub(crate) fn read_binding(
    binding: &ReadBinding,
    namespace: &str,
    labels: &BTreeMap<String, String>,
) -> RenderedObject {
    let (account_namespace, account) = &binding.service_account;
    RenderedObject {
        file: SOURCE.to_owned(),
        object: json!({
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": {"name": NAME, "namespace": namespace, "labels": labels},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": binding.role,
            },
            "subjects": [{
                "kind": "ServiceAccount",
                "name": account,
                "namespace": account_namespace,
            }],
        }),
    }
}

/// Labels the namespace carries besides previewd's own.
pub(crate) fn namespace_labels(config: &FencesConfig) -> BTreeMap<String, String> {
    let pod_security = &config.pod_security;
    pod_security
        .enabled
        .then(|| {
            (
                POD_SECURITY_ENFORCE.to_owned(),
                pod_security.enforce.as_str().to_owned(),
            )
        })
        .into_iter()
        .collect()
}

/// The fence labels `current` carries that `wanted` no longer has (a fence turned off).
pub(crate) fn stale_namespace_labels(
    current: &BTreeMap<String, String>,
    wanted: &BTreeMap<String, String>,
) -> Vec<String> {
    [POD_SECURITY_ENFORCE]
        .into_iter()
        .filter(|key| current.contains_key(*key) && !wanted.contains_key(*key))
        .map(str::to_owned)
        .collect()
}

/// Whether `object` is the fence ResourceQuota.
pub(crate) fn is_quota(object: &Value) -> bool {
    object["apiVersion"] == "v1"
        && object["kind"] == "ResourceQuota"
        && object.pointer("/metadata/name").and_then(Value::as_str) == Some(NAME)
}

/// Whether the quota controller has counted a ResourceQuota as the API server returned it: its
/// `status.hard` is its `spec.hard`. Until then the API server refuses every pod of the
/// namespace ("status unknown for quota").
pub fn quota_counted(object: &Value) -> bool {
    let hard = object.pointer("/spec/hard");
    hard.is_none_or(|h| h.as_object().is_some_and(|m| m.is_empty()))
        || hard == object.pointer("/status/hard")
}

/// A templated object that would be a fence object (same group, kind and name), if any: both
/// would be applied under previewd's one field manager and overwrite each other.
pub(crate) fn clash(templated: &[RenderedObject], fences: &[RenderedObject]) -> Option<String> {
    let identity = |o: &Value| {
        let api_version = o["apiVersion"].as_str().unwrap_or_default();
        let group = api_version.rsplit_once('/').map_or("", |(group, _)| group);
        (
            group.to_owned(),
            o["kind"].as_str().unwrap_or_default().to_owned(),
            o.pointer("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
        )
    };
    let fenced: Vec<_> = fences.iter().map(|f| identity(&f.object)).collect();
    templated.iter().find_map(|object| {
        let (_, kind, name) = identity(&object.object);
        fenced.contains(&identity(&object.object)).then(|| {
            format!(
                "{}: {kind} {name}: this name is previewd's own fence in every preview namespace; rename the object",
                object.file
            )
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::fences::PodSecurityLevel;

    fn labels() -> BTreeMap<String, String> {
        BTreeMap::from([("previewd.dev/preview".to_owned(), "o-r-pr1".to_owned())])
    }

    fn by_kind<'a>(objects: &'a [RenderedObject], kind: &str) -> &'a Value {
        &objects
            .iter()
            .find(|o| o.object["kind"] == kind)
            .unwrap_or_else(|| panic!("no {kind}"))
            .object
    }

    #[test]
    fn every_fence_by_default_quota_first_with_labels_and_namespace() {
        let config = FencesConfig::default();
        let objects = objects(&config, "o-r-pr1", &labels());
        let kinds: Vec<_> = objects.iter().map(|o| o.object["kind"].clone()).collect();
        assert_eq!(kinds, ["ResourceQuota", "LimitRange", "NetworkPolicy"]);
        assert!(is_quota(&objects[0].object));
        for object in &objects {
            assert_eq!(object.file, SOURCE);
            assert_eq!(object.object["metadata"]["namespace"], "o-r-pr1");
            assert_eq!(object.object["metadata"]["name"], NAME);
            assert_eq!(object.object["metadata"]["labels"], json!(labels()));
        }
        assert_eq!(
            objects[0].object["spec"]["hard"],
            json!(config.resource_quota.hard)
        );
        assert_eq!(
            by_kind(&objects, "LimitRange")["spec"]["limits"],
            json!([{"type": "Container",
                    "defaultRequest": config.limit_range.default_request,
                    "default": config.limit_range.default}])
        );
        assert_eq!(
            namespace_labels(&config),
            BTreeMap::from([(POD_SECURITY_ENFORCE.to_owned(), "baseline".to_owned())])
        );
    }

    #[test]
    fn the_network_policy_is_the_network_fence() {
        let config = FencesConfig::default();
        let objects = objects(&config, "ns", &labels());
        let policy = by_kind(&objects, "NetworkPolicy");
        assert_eq!(policy["apiVersion"], "networking.k8s.io/v1");
        assert_eq!(
            policy["spec"],
            network_fence::policy_spec(&config.network_policy)
        );
    }

    #[test]
    fn disabled_fences_are_left_out() {
        let mut config = FencesConfig::default();
        config.resource_quota.enabled = false;
        config.network_policy.enabled = false;
        config.pod_security.enabled = false;
        config.limit_range.default.clear();
        let objects = objects(&config, "ns", &labels());
        assert_eq!(objects.len(), 1);
        assert_eq!(
            objects[0].object["spec"]["limits"],
            json!([{"type": "Container", "defaultRequest": config.limit_range.default_request}])
        );
        assert!(namespace_labels(&config).is_empty());
        config.pod_security.enabled = true;
        config.pod_security.enforce = PodSecurityLevel::Restricted;
        assert_eq!(
            namespace_labels(&config)[POD_SECURITY_ENFORCE],
            "restricted"
        );
    }

    #[test]
    fn the_read_binding_binds_the_role_to_previewd_alone() {
        let binding = ReadBinding {
            role: "previewd-preview".into(),
            service_account: ("previewd".into(), "previewd".into()),
        };
        let object = read_binding(&binding, "o-r-pr1", &labels()).object;
        assert_eq!(object["kind"], "RoleBinding");
        assert_eq!(object["metadata"]["namespace"], "o-r-pr1");
        assert_eq!(object["metadata"]["labels"], json!(labels()));
        assert_eq!(
            object["roleRef"],
            json!({"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                   "name": "previewd-preview"})
        );
        assert_eq!(
            object["subjects"],
            json!([{"kind": "ServiceAccount", "name": "previewd", "namespace": "previewd"}])
        );
    }

    #[test]
    fn a_fence_label_turned_off_is_stale_and_other_labels_are_not() {
        let current = BTreeMap::from([
            (POD_SECURITY_ENFORCE.to_owned(), "baseline".to_owned()),
            ("team".to_owned(), "web".to_owned()),
        ]);
        let mut config = FencesConfig::default();
        assert!(stale_namespace_labels(&current, &namespace_labels(&config)).is_empty());
        config.pod_security.enabled = false;
        assert_eq!(
            stale_namespace_labels(&current, &namespace_labels(&config)),
            [POD_SECURITY_ENFORCE]
        );
    }

    #[test]
    fn a_quota_is_counted_once_its_status_hard_is_its_spec_hard() {
        let hard = json!({"pods": "20", "requests.cpu": "2"});
        let mut quota = json!({"apiVersion": "v1", "kind": "ResourceQuota",
            "metadata": {"name": NAME}, "spec": {"hard": hard}});
        assert!(!quota_counted(&quota), "not yet counted");
        quota["status"] = json!({"hard": {"pods": "10", "requests.cpu": "2"}, "used": {}});
        assert!(!quota_counted(&quota), "counted for an older spec");
        quota["status"]["hard"] = hard;
        assert!(quota_counted(&quota));
        assert!(is_quota(&quota));
        quota["metadata"]["name"] = json!("someone-elses");
        assert!(!is_quota(&quota));
        assert!(quota_counted(&json!({"spec": {"hard": {}}})));
    }

    #[test]
    fn a_templated_object_named_like_a_fence_clashes() {
        let fences = objects(&FencesConfig::default(), "ns", &labels());
        let templated = |api_version: &str, kind: &str, name: &str| RenderedObject {
            file: "policy.yaml".into(),
            object: json!({"apiVersion": api_version, "kind": kind, "metadata": {"name": name}}),
        };
        let same = templated("networking.k8s.io/v1", "NetworkPolicy", NAME);
        let why = clash(&[same], &fences).unwrap();
        assert!(
            why.starts_with("policy.yaml: NetworkPolicy previewd:"),
            "{why}"
        );
        let others = [
            templated("networking.k8s.io/v1", "NetworkPolicy", "allow-web"),
            templated("v1", "ConfigMap", NAME),
            templated("apps/v1", "Deployment", NAME),
        ];
        assert_eq!(clash(&others, &fences), None);
    }
}
