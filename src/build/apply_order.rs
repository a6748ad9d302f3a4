//! In which rounds a preview's objects are applied (pure). Objects of one round go to the API
//! server at once; a round starts when the one before is applied. What pods use by name comes
//! first, so no pod is created before its ServiceAccount, ConfigMap, Secret, claim or grants
//! (a ReplicaSet whose pod is refused for a missing ServiceAccount retries only after a
//! backoff); everything else, workloads included, follows in one round.

use super::render::RenderedObject;

/// `(group, kind)` of what pods use by name.
const USED_BY_PODS: [(&str, &str); 6] = [
    ("", "ServiceAccount"),
    ("", "ConfigMap"),
    ("", "Secret"),
    ("", "PersistentVolumeClaim"),
    ("rbac.authorization.k8s.io", "Role"),
    ("rbac.authorization.k8s.io", "RoleBinding"),
];

/// The group of an `apiVersion` (`""` for the core group's `v1`).
fn group(api_version: &str) -> &str {
    api_version.rsplit_once('/').map_or("", |(group, _)| group)
}

fn used_by_pods(object: &RenderedObject) -> bool {
    let field = |name: &str| object.object[name].as_str().unwrap_or("");
    let (group, kind) = (group(field("apiVersion")), field("kind"));
    USED_BY_PODS.contains(&(group, kind))
}

/// The indices of `objects`, round by round, each round in the objects' own order (so the
/// first refusal reported is the first in the templates); empty rounds are left out.
pub(crate) fn rounds(objects: &[RenderedObject]) -> Vec<Vec<usize>> {
    let (first, rest): (Vec<usize>, Vec<usize>) =
        (0..objects.len()).partition(|&i| used_by_pods(&objects[i]));
    [first, rest]
        .into_iter()
        .filter(|r| !r.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(api_version: &str, kind: &str) -> RenderedObject {
        RenderedObject {
            file: format!("{kind}.yaml"),
            object: serde_json::json!({"apiVersion": api_version, "kind": kind}),
        }
    }

    #[test]
    fn what_pods_use_by_name_goes_first_and_the_rest_together() {
        let objects = [
            object("apps/v1", "Deployment"),
            object("v1", "Service"),
            object("v1", "ConfigMap"),
            object("networking.k8s.io/v1", "Ingress"),
            object("v1", "ServiceAccount"),
            object("rbac.authorization.k8s.io/v1", "RoleBinding"),
            object("batch/v1", "Job"),
        ];
        assert_eq!(rounds(&objects), [vec![2, 4, 5], vec![0, 1, 3, 6]]);
    }

    #[test]
    fn a_kind_of_another_group_with_the_same_name_is_not_mistaken() {
        let objects = [
            object("example.com/v1", "ConfigMap"),
            object("apps/v1", "Deployment"),
        ];
        assert_eq!(rounds(&objects), [vec![0, 1]]);
    }

    #[test]
    fn nothing_to_apply_is_no_round() {
        assert!(rounds(&[]).is_empty());
        assert_eq!(rounds(&[object("v1", "Secret")]), [vec![0]]);
    }
}
