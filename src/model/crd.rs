//! The `PreviewEnvironment` custom resource: one per pull request, cluster-scoped because it owns a
//! Namespace. Its spec is the desired state recorded from GitHub; its status is what the
//! controller observed on the API server.

use chrono::{DateTime, Utc};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::checks::ChecksReport;
use super::command::Command;
use super::pull::PullFacts;

/// A pull request's preview: what should run (spec) and what does (status).
#[derive(CustomResource, Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "previewd.dev",
    version = "v1alpha1",
    kind = "PreviewEnvironment",
    plural = "previewenvironments",
    singular = "previewenvironment",
    shortname = "preview",
    shortname = "previews",
    status = "PreviewEnvironmentStatus",
    printcolumn = r#"{"name":"Repo","type":"string","jsonPath":".spec.repository.fullName"}"#,
    printcolumn = r#"{"name":"PR","type":"integer","jsonPath":".spec.number"}"#,
    printcolumn = r#"{"name":"SHA","type":"string","jsonPath":".status.deployedSha"}"#,
    printcolumn = r#"{"name":"Phase","type":"string","jsonPath":".status.phase"}"#,
    printcolumn = r#"{"name":"URL","type":"string","jsonPath":".status.url"}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
#[serde(rename_all = "camelCase")]
#[schemars(transform = kubernetes_formats)]
pub struct PreviewEnvironmentSpec {
    /// The pull request as last recorded.
    #[serde(flatten)]
    pub pull: PullFacts,
    /// Whether the preview should exist, and if not, why.
    #[schemars(with = "DesiredRecord")]
    pub desired: Desired,
    /// Two deliveries carried the same `updated_at` but disagreed (GitHub's timestamps have
    /// one-second resolution), or a command arrived for a pull request previewd had not seen:
    /// the controller asks GitHub for the PR before acting.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub confirm_with_github: bool,
    /// A maintainer asked for this preview (`/preview deploy`): it deploys whatever the
    /// repository's automatic policy (auto-deploy, label, drafts, branches) says.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub requested: bool,
    /// The fork commit a maintainer approved; a fork's preview runs only this SHA.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approved_sha: Option<String>,
    /// The commit a maintainer asked to deploy without waiting for its CI checks
    /// (`/preview deploy --force`); a later push waits for its checks again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forced_sha: Option<String>,
    /// Last push (or open, reopen, deploy command): the time to live counts from here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_activity_at: Option<DateTime<Utc>>,
    /// `/preview extend` moved the expiry to at least this time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extended_until: Option<DateTime<Utc>>,
    /// `/preview pin`: the preview never expires.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub pinned: bool,
    /// Bumped by `/preview redeploy`: workloads restart with fresh pods.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub redeploys: u32,
    /// Commands recorded from PR comments, not yet run (the controller authorizes and runs them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub commands: Vec<PendingCommand>,
}

impl PreviewEnvironmentSpec {
    /// A preview of `pull` that should run, with nothing else asked.
    pub fn deployed(pull: PullFacts) -> Self {
        PreviewEnvironmentSpec {
            pull,
            desired: Desired::Deployed,
            confirm_with_github: false,
            requested: false,
            approved_sha: None,
            forced_sha: None,
            last_activity_at: None,
            extended_until: None,
            pinned: false,
            redeploys: 0,
            commands: Vec::new(),
        }
    }
}

/// Kubernetes knows the integer formats `int32` and `int64`; schemars names Rust's unsigned
/// widths, which `kubectl apply` warns about as unrecognized (the `minimum: 0` stays).
fn kubernetes_formats(schema: &mut schemars::Schema) {
    let known = match schema.get("format").and_then(|f| f.as_str()) {
        Some("uint64") => Some("int64"),
        Some("uint32" | "uint16" | "uint8") => Some("int32"),
        _ => None,
    };
    if let Some(format) = known {
        schema.insert("format".into(), format.into());
    }
    schemars::transform::transform_subschemas(&mut kubernetes_formats, schema);
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// A command from a PR comment, recorded by the webhook for the controller to run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PendingCommand {
    /// The comment's id: a command runs once per comment.
    pub comment_id: u64,
    /// Who wrote it (authorized by the controller, never by the payload's claims).
    pub login: String,
    /// What it asks.
    #[schemars(schema_with = "any_object")]
    pub command: Command,
    /// When the comment was written (GitHub's `created_at`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<DateTime<Utc>>,
}

/// An object the API server stores as given (the command's own serde shape).
fn any_object(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "type": "object",
        "x-kubernetes-preserve-unknown-fields": true
    })
}

/// The desired state: deployed, or destroyed for a stated reason that later events respect.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "DesiredRecord", try_from = "DesiredRecord")]
pub enum Desired {
    /// The head SHA should be running.
    Deployed,
    /// The preview should not exist, for this reason.
    Destroyed(DestroyReason),
}

/// How `Desired` is stored: a structural schema (`state`, and `reason` when destroyed).
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct DesiredRecord {
    /// `Deployed` or `Destroyed`.
    pub state: DesiredState,
    /// Why it was destroyed (only with `Destroyed`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<DestroyReason>,
}

/// The two desired states.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum DesiredState {
    /// Should run.
    Deployed,
    /// Should not exist.
    Destroyed,
}

impl From<Desired> for DesiredRecord {
    fn from(desired: Desired) -> Self {
        match desired {
            Desired::Deployed => DesiredRecord {
                state: DesiredState::Deployed,
                reason: None,
            },
            Desired::Destroyed(reason) => DesiredRecord {
                state: DesiredState::Destroyed,
                reason: Some(reason),
            },
        }
    }
}

impl TryFrom<DesiredRecord> for Desired {
    type Error = &'static str;

    fn try_from(record: DesiredRecord) -> Result<Self, Self::Error> {
        match (record.state, record.reason) {
            (DesiredState::Deployed, _) => Ok(Desired::Deployed),
            (DesiredState::Destroyed, Some(reason)) => Ok(Desired::Destroyed(reason)),
            (DesiredState::Destroyed, None) => Err("desired state Destroyed needs a reason"),
        }
    }
}

/// Why a preview was destroyed; each reason is cleared only by its own counter-event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum DestroyReason {
    /// The pull request was closed without merging (cleared by a reopen).
    Closed,
    /// The pull request was merged (cleared by a reopen).
    Merged,
    /// The PreviewEnvironment itself was deleted (nothing clears it: the record is gone).
    Deleted,
    /// `/preview destroy` (cleared by `/preview deploy`).
    Requested,
    /// Idle past its time to live (cleared by `/preview deploy`).
    Expired,
    /// Label mode: the label was removed (cleared by adding it back or `/preview deploy`).
    LabelRemoved,
    /// The repository was transferred to an owner previewd does not serve (cleared by
    /// `/preview deploy` once it is served again).
    Transferred,
}

impl DestroyReason {
    /// How the reason reads in a PR comment.
    pub(crate) fn describe(self) -> &'static str {
        match self {
            DestroyReason::Closed => "the pull request was closed",
            DestroyReason::Merged => "the pull request was merged",
            DestroyReason::Deleted => "its PreviewEnvironment was deleted",
            DestroyReason::Requested => "a maintainer asked for it (`/preview destroy`)",
            DestroyReason::Expired => "it was idle past its time to live",
            DestroyReason::LabelRemoved => "the preview label was removed",
            DestroyReason::Transferred => {
                "the repository was transferred to an owner previewd does not serve"
            }
        }
    }

    /// Whether a maintainer's `/preview deploy` clears this reason (a closed pull request
    /// cannot be deployed, and a deleted record is gone).
    pub(crate) fn cleared_by_deploy_command(self) -> bool {
        matches!(
            self,
            DestroyReason::Requested
                | DestroyReason::Expired
                | DestroyReason::LabelRemoved
                | DestroyReason::Transferred
        )
    }
}

/// Lifecycle phase shown to users.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum Phase {
    /// Recorded, not yet acted on (or waiting for an old namespace to go).
    #[default]
    Pending,
    /// Objects applied, waiting for them to become ready.
    Deploying,
    /// Every workload is ready at the deployed SHA.
    Ready,
    /// Rendering, applying or becoming ready failed; the message says why.
    Failed,
    /// The namespace is being deleted; the API server has not confirmed it gone yet.
    Terminating,
    /// The namespace is gone; the preview stays destroyed until its reason is cleared.
    Destroyed,
}

impl Phase {
    /// The phase's name as shown in status and comments.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Phase::Pending => "Pending",
            Phase::Deploying => "Deploying",
            Phase::Ready => "Ready",
            Phase::Failed => "Failed",
            Phase::Terminating => "Terminating",
            Phase::Destroyed => "Destroyed",
        }
    }
}

/// What the controller last observed and reported.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(transform = kubernetes_formats)]
pub struct PreviewEnvironmentStatus {
    /// Lifecycle phase.
    #[serde(default)]
    pub phase: Phase,
    /// Preview namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Where the preview answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// SHA of the objects the API server accepted last.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployed_sha: Option<String>,
    /// Why the phase is what it is (failure reason, what is awaited).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Kubernetes-style conditions (`Ready`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    /// Id of previewd's sticky PR comment (written by the publisher).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment_id: Option<u64>,
    /// Fingerprint of what the comment on GitHub says (written by the publisher).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commented: Option<String>,
    /// Why GitHub did not take the latest comment, if it did not (written by the publisher).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment_failure: Option<String>,
    /// The outbox: what the PR comment should say. The publisher sends it when it differs from
    /// `commented`, outside of any reconcile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment_wanted: Option<WantedComment>,
    /// The GitHub deployment of the SHA the comment is about, and the state it was last given
    /// (written by the publisher; repositories with `deployments` on).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment: Option<DeploymentReport>,
    /// The head SHA's wait for the CI checks its repository gates on (none once they passed,
    /// or when nothing is gated).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checks: Option<ChecksReport>,
    /// The outbox: reactions to command comments, sent by the publisher in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reactions: Vec<QueuedReaction>,
    /// Every queued reaction up to this number is on GitHub (written by the publisher).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reacted_up_to: Option<u64>,
    /// Kinds applied into the namespace (`group/version/Kind`), for pruning.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub applied_kinds: Vec<String>,
    /// When the current deployment attempt started (bounds the wait for readiness).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deploy_started_at: Option<DateTime<Utc>>,
    /// When the preview last became ready.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ready_at: Option<DateTime<Utc>>,
    /// Last phase change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_transition_at: Option<DateTime<Utc>>,
    /// The spec generation this status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// Ids of the command comments already taken (newest last, bounded): a redelivered
    /// comment runs nothing, also after a restart.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub processed_commands: Vec<u64>,
    /// Every command comment id up to this one counts as taken: ids that no longer fit in
    /// `processedCommands` raise it, so no comment runs twice however many come in between.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub processed_up_to: Option<u64>,
    /// Users whose commands were refused lately, and when: one 👎 and one line per user per
    /// hour.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub refusals: Vec<Refusal>,
    /// The answer to the last command, shown in the PR comment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notice: Option<String>,
    /// Accepted commands whose 🚀 (or 😕) waits for the preview to get there.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub awaiting: Vec<AwaitedCommand>,
    /// Since when the preview waits in the queue for a free slot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queued_at: Option<DateTime<Utc>>,
    /// The last phase changes, oldest first (bounded).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<PhaseChange>,
}

/// A phase the preview entered.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PhaseChange {
    /// The phase entered.
    pub phase: Phase,
    /// When.
    pub at: DateTime<Utc>,
    /// The SHA deployed then, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha: Option<String>,
    /// Why, cut short.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// A user's command refused for lack of permission.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Refusal {
    /// Who asked.
    pub login: String,
    /// When the refusal was last answered.
    pub at: DateTime<Utc>,
}

/// What the PR comment should show (the comment's text is rendered from it when it is sent).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct WantedComment {
    /// The phase shown.
    pub phase: Phase,
    /// Preview URL, once known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The SHA the phase refers to.
    pub sha: String,
    /// Preview namespace.
    pub namespace: String,
    /// Failure reason, what is awaited, or why it was destroyed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// When the preview expires, if it does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
    /// The answer to the last command.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notice: Option<String>,
    /// The gated CI checks the SHA waits for, if it waits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checks: Option<ChecksReport>,
}

/// A GitHub deployment previewd made for a preview, and what it reported on it last.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentReport {
    /// The commit deployed.
    pub sha: String,
    /// GitHub's id of the deployment.
    pub id: u64,
    /// The state of its last status (`in_progress`, `success`, `failure`, `inactive`); none
    /// yet right after it was created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// Earlier deployments of the preview still to be made inactive.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub retiring: Vec<u64>,
}

/// A reaction to a command comment, waiting in the outbox.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct QueuedReaction {
    /// Its place in the outbox (increasing).
    pub number: u64,
    /// The command comment's id.
    pub comment_id: u64,
    /// GitHub's reaction name (`eyes`, `rocket`, `confused`, `-1`).
    pub content: String,
}

/// A command that is done when the preview reaches a phase.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AwaitedCommand {
    /// The command comment's id (where the reaction goes).
    pub comment_id: u64,
    /// Done at this phase (`Ready` or `Destroyed`); a `Failed` preview fails a deploy.
    pub until: Phase,
    /// Judged only from this spec generation on (the one the command wrote).
    pub generation: i64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube::CustomResourceExt;

    #[test]
    fn crd_is_cluster_scoped_with_printer_columns() {
        let crd = PreviewEnvironment::crd();
        assert_eq!(crd.spec.scope, "Cluster");
        let version = &crd.spec.versions[0];
        let columns: Vec<_> = version
            .additional_printer_columns
            .iter()
            .flatten()
            .map(|c| c.name.as_str())
            .collect();
        assert_eq!(columns, ["Repo", "PR", "SHA", "Phase", "URL", "Age"]);
        assert!(
            crd.spec
                .names
                .short_names
                .iter()
                .flatten()
                .any(|n| n == "previews")
        );
    }

    #[test]
    fn the_committed_crd_is_what_previewd_crd_prints() {
        let printed = serde_yaml_ng::to_string(&PreviewEnvironment::crd()).unwrap();
        let committed = include_str!("../../charts/previewd/files/crd.yaml");
        assert!(
            printed == committed,
            "charts/previewd/files/crd.yaml is stale: previewd crd > charts/previewd/files/crd.yaml"
        );
    }

    #[test]
    fn every_format_is_one_kubernetes_knows() {
        // The formats the API server's OpenAPI validation recognizes for these types.
        let known = ["int32", "int64", "date-time"];
        let printed = serde_yaml_ng::to_string(&PreviewEnvironment::crd()).unwrap();
        let formats: Vec<&str> = printed
            .lines()
            .filter_map(|line| line.trim().strip_prefix("format: "))
            .collect();
        assert!(formats.contains(&"int64") && formats.contains(&"int32"));
        for format in formats {
            assert!(
                known.contains(&format),
                "format {format} is unknown to Kubernetes"
            );
        }
    }

    #[test]
    fn desired_state_serializes_with_reason() {
        let v = serde_json::to_value(Desired::Destroyed(DestroyReason::Merged)).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"state": "Destroyed", "reason": "Merged"})
        );
        let v = serde_json::to_value(Desired::Deployed).unwrap();
        assert_eq!(v, serde_json::json!({"state": "Deployed"}));
    }
}
