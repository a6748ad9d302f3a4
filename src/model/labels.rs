//! Ownership: labels, annotations, the field manager, and the check that an object is this
//! preview's (pure).

use std::collections::BTreeMap;

use crate::model::crd::PreviewEnvironment;

/// Marks everything previewd manages.
pub const MANAGED_BY: &str = "app.kubernetes.io/managed-by";
/// Value of [`MANAGED_BY`].
pub const MANAGER: &str = "previewd";
/// Which previewd installation owns the object (two installations never touch each other's).
pub const INSTANCE: &str = "previewd.dev/instance";
/// The owning PreviewEnvironment's name.
pub(crate) const PREVIEW: &str = "previewd.dev/preview";
/// GitHub's repository id.
pub(crate) const REPOSITORY_ID: &str = "previewd.dev/repository-id";
/// PR number.
pub(crate) const PULL_REQUEST: &str = "previewd.dev/pull-request";
/// Annotation: the owning PreviewEnvironment's uid; only its end may delete the namespace.
pub const OWNER_UID: &str = "previewd.dev/owner-uid";
/// Annotation: the PR's web address.
pub(crate) const PULL_REQUEST_URL: &str = "previewd.dev/pull-request-url";
/// Annotation: `owner/name`.
pub(crate) const REPOSITORY: &str = "previewd.dev/repository";
/// Annotation: the deployed head SHA.
pub(crate) const SHA: &str = "previewd.dev/sha";
/// Annotation a `check_run`, `check_suite` or `status` delivery sets on the records waiting on
/// that commit's checks (the change it reported): the controller reconciles on it.
pub const CHECKS_CHANGED: &str = "previewd.dev/checks-changed";
/// Annotation a `push` to a base branch sets on the records of pull requests into it, in a
/// repository that defines its previews (the commit pushed): the controller renders them again.
pub const BASE_CHANGED: &str = "previewd.dev/base-changed";

/// Annotation on a workload: `ignored` when it does not decide whether the preview is ready
/// (set by a template, or by previewd for the workloads a definition's `readiness` leaves out).
pub const READINESS: &str = "previewd.dev/readiness";
/// The value of `READINESS` that leaves a workload out.
pub const READINESS_IGNORED: &str = "ignored";

/// Label selector for everything an installation manages.
pub fn instance_selector(instance: &str) -> String {
    format!("{MANAGED_BY}={MANAGER},{INSTANCE}={instance}")
}

/// Label selector for the record of one pull request of an installation, whatever its name.
pub(crate) fn record_selector(instance: &str, repository_id: u64, number: u64) -> String {
    format!(
        "{},{REPOSITORY_ID}={repository_id},{PULL_REQUEST}={number}",
        instance_selector(instance)
    )
}

/// Whether `pe`'s labels say it records pull request `number` of repository `repository_id`.
pub(crate) fn is_record_of(pe: &PreviewEnvironment, repository_id: u64, number: u64) -> bool {
    record_key(pe) == Some((repository_id, number))
}

/// The (repository id, pull request number) `pe`'s labels say it records.
pub(crate) fn record_key(pe: &PreviewEnvironment) -> Option<(u64, u64)> {
    let labels = pe.metadata.labels.as_ref()?;
    let number = |key: &str| labels.get(key)?.parse().ok();
    Some((number(REPOSITORY_ID)?, number(PULL_REQUEST)?))
}

/// Field manager of everything previewd's controller applies.
pub(crate) const FIELD_MANAGER: &str = "previewd";

/// Field manager of the publisher's own status fields (the comment's id and text, the reactions
/// sent), apart from the reconcile's so neither removes the other's.
pub(crate) const PUBLISHER_FIELD_MANAGER: &str = "previewd-publisher";

/// Labels on a PreviewEnvironment, its namespace and every object applied into it.
pub fn preview_labels(
    instance: &str,
    name: &str,
    repository_id: u64,
    number: u64,
) -> BTreeMap<String, String> {
    BTreeMap::from([
        (MANAGED_BY.to_owned(), MANAGER.to_owned()),
        (INSTANCE.to_owned(), instance.to_owned()),
        (PREVIEW.to_owned(), name.to_owned()),
        (REPOSITORY_ID.to_owned(), repository_id.to_string()),
        (PULL_REQUEST.to_owned(), number.to_string()),
    ])
}

/// Annotations on a preview's namespace.
pub(crate) fn namespace_annotations(
    pe: &PreviewEnvironment,
    uid: &str,
) -> BTreeMap<String, String> {
    BTreeMap::from([
        (OWNER_UID.to_owned(), uid.to_owned()),
        (
            PULL_REQUEST_URL.to_owned(),
            pe.spec.pull.pull_request_url.clone(),
        ),
        (
            REPOSITORY.to_owned(),
            pe.spec.pull.repository.full_name.clone(),
        ),
        (SHA.to_owned(), pe.spec.pull.head_sha.clone()),
    ])
}

/// Whether objects with these labels are in installation `instance`'s lane (managed by previewd,
/// with its instance label).
pub(crate) fn in_lane(labels: Option<&BTreeMap<String, String>>, instance: &str) -> bool {
    let label = |k: &str| labels.and_then(|l| l.get(k)).map(String::as_str);
    label(MANAGED_BY) == Some(MANAGER) && label(INSTANCE) == Some(instance)
}

/// Whether a namespace with these labels and annotations belongs to this installation and to the
/// PreviewEnvironment with `uid`: the only namespaces previewd may change or delete.
pub(crate) fn owned_by(
    labels: Option<&BTreeMap<String, String>>,
    annotations: Option<&BTreeMap<String, String>>,
    instance: &str,
    uid: &str,
) -> bool {
    in_lane(labels, instance)
        && annotations
            .and_then(|a| a.get(OWNER_UID))
            .map(String::as_str)
            == Some(uid)
}

/// [`owned_by`] on an object's metadata.
pub(crate) fn owns(
    meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
    instance: &str,
    uid: &str,
) -> bool {
    owned_by(
        meta.labels.as_ref(),
        meta.annotations.as_ref(),
        instance,
        uid,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn ownership_needs_labels_instance_and_uid() {
        let labels = map(&[(MANAGED_BY, MANAGER), (INSTANCE, "a")]);
        let annotations = map(&[(OWNER_UID, "u1")]);
        assert!(owned_by(Some(&labels), Some(&annotations), "a", "u1"));
        assert!(!owned_by(Some(&labels), Some(&annotations), "b", "u1"));
        assert!(!owned_by(Some(&labels), Some(&annotations), "a", "u2"));
        assert!(!owned_by(None, Some(&annotations), "a", "u1"));
        assert!(!owned_by(
            Some(&map(&[(INSTANCE, "a")])),
            Some(&annotations),
            "a",
            "u1"
        ));
        assert!(!owned_by(Some(&labels), None, "a", "u1"));
    }

    #[test]
    fn a_record_is_known_by_its_repository_id_and_number_labels() {
        let mut pe = PreviewEnvironment::new(
            "any-name",
            crate::model::crd::PreviewEnvironmentSpec::deployed(Default::default()),
        );
        pe.metadata.labels = Some(preview_labels("a", "any-name", 9, 4));
        assert!(is_record_of(&pe, 9, 4));
        assert!(!is_record_of(&pe, 9, 5));
        assert!(!is_record_of(&pe, 10, 4));
        pe.metadata.labels = None;
        assert!(!is_record_of(&pe, 9, 4));
        assert_eq!(
            record_selector("a", 9, 4),
            "app.kubernetes.io/managed-by=previewd,previewd.dev/instance=a,\
             previewd.dev/repository-id=9,previewd.dev/pull-request=4"
        );
    }
}
