//! Records as the controller leaves them, for the verbs' tests.

use std::collections::BTreeMap;

use chrono::{DateTime, TimeZone, Utc};
use k8s_openapi::api::core::v1::Namespace;

use crate::model::crd::{
    Desired, DestroyReason, Phase, PreviewEnvironment, PreviewEnvironmentSpec,
    PreviewEnvironmentStatus,
};
use crate::model::labels;
use crate::model::pull::{PullFacts, Repository};
use crate::model::time::to_k8s;

pub(crate) const INSTANCE: &str = "prod";

/// Noon, 10 January 2026.
pub(crate) fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 10, 12, 0, 0).unwrap()
}

pub(crate) fn days_ago(days: i64) -> DateTime<Utc> {
    now() - chrono::Duration::days(days)
}

/// PR `number` of `repository`, recorded by `INSTANCE` a day ago, in `phase`.
pub(crate) fn preview(repository: &str, number: u64, phase: Phase) -> PreviewEnvironment {
    let name = format!("{}-pr{number}", repository.replace('/', "-"));
    let pull = PullFacts {
        repository: Repository {
            id: 7,
            full_name: repository.to_owned(),
        },
        number,
        head_sha: "a".repeat(40),
        title: format!("Change {number}"),
        author: "octocat".into(),
        pull_request_url: format!("https://github.com/{repository}/pull/{number}"),
        ..PullFacts::default()
    };
    let mut pe = PreviewEnvironment::new(&name, PreviewEnvironmentSpec::deployed(pull));
    pe.metadata.uid = Some(format!("uid-{name}"));
    pe.metadata.resource_version = Some("42".into());
    pe.metadata.creation_timestamp = Some(to_k8s(days_ago(1)));
    pe.metadata.labels = Some(labels::preview_labels(INSTANCE, &name, 7, number));
    pe.status = Some(PreviewEnvironmentStatus {
        phase,
        namespace: Some(name.clone()),
        url: Some(format!("https://{name}.preview.test")),
        deployed_sha: Some("a".repeat(40)),
        deploy_started_at: Some(days_ago(1)),
        last_transition_at: Some(days_ago(1)),
        ..PreviewEnvironmentStatus::default()
    });
    pe
}

/// The same preview destroyed for `reason` `days` ago, its namespace gone.
pub(crate) fn destroyed(
    mut pe: PreviewEnvironment,
    reason: DestroyReason,
    days: i64,
) -> PreviewEnvironment {
    pe.spec.desired = Desired::Destroyed(reason);
    pe.spec.pull.pr_updated_at = Some(days_ago(days));
    let status = pe.status.get_or_insert_with(Default::default);
    status.phase = Phase::Destroyed;
    status.last_transition_at = Some(days_ago(days));
    status.url = None;
    pe
}

/// A namespace with `INSTANCE`'s labels, annotated as owned by `owner_uid` (if any).
pub(crate) fn namespace(name: &str, owner_uid: Option<&str>) -> Namespace {
    let mut ns = Namespace::default();
    ns.metadata.name = Some(name.to_owned());
    ns.metadata.uid = Some(format!("ns-uid-{name}"));
    ns.metadata.resource_version = Some("9".into());
    ns.metadata.labels = Some(BTreeMap::from([
        (labels::MANAGED_BY.to_owned(), labels::MANAGER.to_owned()),
        (labels::INSTANCE.to_owned(), INSTANCE.to_owned()),
    ]));
    ns.metadata.annotations =
        owner_uid.map(|uid| BTreeMap::from([(labels::OWNER_UID.to_owned(), uid.to_owned())]));
    ns
}
