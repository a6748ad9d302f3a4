//! Which kinds the templates may produce: an allowlist of API groups and resources, named the way
//! RBAC rules name them, so one list feeds both previewd and the ClusterRole that lets it apply
//! them (the chart's `rbac.templateKinds`).

use serde::{Deserialize, Serialize};

/// Resources of one API group.
#[derive(Clone, Debug, Deserialize, PartialEq, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TemplateKind {
    /// The API group (`""` for the core group, `apps`, `networking.k8s.io`).
    pub api_group: String,
    /// Plural resource names (`deployments`, `services`).
    pub resources: Vec<String>,
}

/// The allowlist.
#[derive(Clone, Debug, Deserialize, PartialEq, Serialize)]
#[serde(transparent)]
pub struct TemplateKinds(pub Vec<TemplateKind>);

impl Default for TemplateKinds {
    /// A web app's kinds. Not RBAC (a template could grant itself more), nor NetworkPolicy,
    /// ResourceQuota or LimitRange (a template could take its own fences down), nor Secrets
    /// (listing them for pruning reads every namespace's).
    fn default() -> Self {
        let kind = |group: &str, resources: &[&str]| TemplateKind {
            api_group: group.to_owned(),
            resources: resources.iter().map(|r| (*r).to_owned()).collect(),
        };
        TemplateKinds(vec![
            kind("apps", &["deployments", "statefulsets"]),
            kind("batch", &["jobs"]),
            kind("", &["services", "configmaps"]),
            kind("networking.k8s.io", &["ingresses"]),
        ])
    }
}

impl TemplateKinds {
    /// Whether objects of `resource` in `group` may come from a template.
    pub(crate) fn allows(&self, group: &str, resource: &str) -> bool {
        self.0
            .iter()
            .any(|k| k.api_group == group && k.resources.iter().any(|r| r == resource))
    }

    /// The first invalid entry, as `(setting, what is wrong)` below `templateKinds`.
    pub(crate) fn invalid(&self) -> Option<(String, String)> {
        for (i, kind) in self.0.iter().enumerate() {
            if kind.resources.is_empty() {
                return Some((format!("[{i}].resources"), "must not be empty".into()));
            }
            for (j, resource) in kind.resources.iter().enumerate() {
                let valid = !resource.is_empty()
                    && resource
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
                if !valid {
                    return Some((
                        format!("[{i}].resources[{j}]"),
                        format!(
                            "{resource:?} is not a plural resource name (lowercase, like deployments; wildcards are not accepted)"
                        ),
                    ));
                }
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_group_and_resource_exactly() {
        let kinds = TemplateKinds::default();
        assert!(kinds.allows("apps", "deployments"));
        assert!(kinds.allows("", "services"));
        assert!(
            !kinds.allows("apps", "services"),
            "group and resource match together"
        );
        assert!(!kinds.allows("extensions", "deployments"));
        for fenced in [
            ("rbac.authorization.k8s.io", "roles"),
            ("rbac.authorization.k8s.io", "rolebindings"),
            ("networking.k8s.io", "networkpolicies"),
            ("", "resourcequotas"),
            ("", "limitranges"),
            ("", "secrets"),
        ] {
            assert!(!kinds.allows(fenced.0, fenced.1), "{fenced:?}");
        }
    }

    #[test]
    fn the_default_is_the_charts_default() {
        let values: serde_json::Value =
            serde_yaml_ng::from_str(include_str!("../../charts/previewd/values.yaml")).unwrap();
        let chart: TemplateKinds =
            serde_json::from_value(values["rbac"]["templateKinds"].clone()).unwrap();
        assert_eq!(chart, TemplateKinds::default());
    }

    #[test]
    fn wildcards_and_empty_lists_are_refused() {
        let parse = |yaml: &str| serde_yaml_ng::from_str::<TemplateKinds>(yaml).unwrap();
        let star = parse("[{apiGroup: apps, resources: ['*']}]");
        assert_eq!(star.invalid().unwrap().0, "[0].resources[0]");
        let empty = parse("[{apiGroup: '', resources: []}]");
        assert_eq!(empty.invalid().unwrap().0, "[0].resources");
        assert_eq!(TemplateKinds::default().invalid(), None);
        assert!(serde_yaml_ng::from_str::<TemplateKinds>("[{group: apps}]").is_err());
    }
}
