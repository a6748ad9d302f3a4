//! Recording intent: the only thing the webhook handler writes. Reads the recorded
//! PreviewEnvironment, decides (pure), and writes the new spec with optimistic concurrency, so
//! concurrent or repeated deliveries settle on the newest state and repeats change nothing.

use chrono::Utc;
use kube::api::{ObjectMeta, PostParams};
use kube::{Api, Client, ResourceExt};

use crate::model::crd::PreviewEnvironment;
use crate::model::event::{CommandEvent, PullRequestEvent};
use crate::model::labels;
use crate::model::names;
use crate::model::pull::PullFacts;
use crate::rules::intent::{Decision, decide, with_command};

/// Field manager of the webhook side.
const WEBHOOK_MANAGER: &str = "previewd-webhook";

/// What recording an event did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// The desired state was written (`changed`) or already said the same.
    Recorded {
        /// PreviewEnvironment name.
        name: String,
        /// Whether anything was written.
        changed: bool,
    },
    /// Nothing recorded, for this reason.
    Ignored(&'static str),
}

/// Records the desired state after `event` for this installation; `mode_label` is the
/// repository's label-mode label, if any.
pub(crate) async fn record_pull_request(
    client: &Client,
    instance: &str,
    event: &PullRequestEvent,
    mode_label: Option<&str>,
) -> Result<Outcome, kube::Error> {
    let key = Key::new(&event.pull);
    record(client, instance, key, |existing| {
        decide(existing.map(|e| &e.spec), event, mode_label, Utc::now())
    })
    .await
}

/// Records a command from a PR comment for the controller to authorize and run.
pub(crate) async fn record_command(
    client: &Client,
    instance: &str,
    event: &CommandEvent,
) -> Result<Outcome, kube::Error> {
    let key = Key::new(&event.pull);
    record(client, instance, key, |existing| {
        let processed = existing
            .and_then(|e| e.status.as_ref())
            .map(|s| s.processed_commands.as_slice())
            .unwrap_or_default();
        with_command(existing.map(|e| &e.spec), processed, event)
    })
    .await
}

/// Which pull request a record is about.
struct Key<'a> {
    repository_id: u64,
    full_name: &'a str,
    number: u64,
}

impl<'a> Key<'a> {
    fn new(pull: &'a PullFacts) -> Self {
        Key {
            repository_id: pull.repository.id,
            full_name: &pull.repository.full_name,
            number: pull.number,
        }
    }
}

/// Reads the record, decides, and writes with optimistic concurrency, deciding again on what
/// a concurrent writer wrote.
async fn record(
    client: &Client,
    instance: &str,
    key: Key<'_>,
    decide: impl Fn(Option<&PreviewEnvironment>) -> Decision,
) -> Result<Outcome, kube::Error> {
    let api = Api::<PreviewEnvironment>::all(client.clone());
    let name = names::preview_name(key.full_name, key.number);
    let params = PostParams {
        field_manager: Some(WEBHOOK_MANAGER.into()),
        ..Default::default()
    };
    let mut attempts = 0;
    loop {
        attempts += 1;
        let existing = api.get_opt(&name).await?;
        if let Some(existing) = &existing
            && existing.labels().get(labels::INSTANCE).map(String::as_str) != Some(instance)
        {
            return Ok(Outcome::Ignored(
                "recorded by another previewd installation",
            ));
        }
        let spec = match decide(existing.as_ref()) {
            Decision::Record(spec) => *spec,
            Decision::Ignore(why) => return Ok(Outcome::Ignored(why)),
        };
        let written = match existing {
            Some(existing) if existing.spec == spec => {
                return Ok(Outcome::Recorded {
                    name,
                    changed: false,
                });
            }
            Some(mut existing) => {
                existing.spec = spec;
                api.replace(&name, &params, &existing).await
            }
            None => {
                let mut fresh = PreviewEnvironment::new(&name, spec);
                fresh.metadata = ObjectMeta {
                    name: Some(name.clone()),
                    labels: Some(labels::preview_labels(
                        instance,
                        &name,
                        key.repository_id,
                        key.number,
                    )),
                    ..ObjectMeta::default()
                };
                api.create(&params, &fresh).await
            }
        };
        match written {
            Ok(_) => {
                return Ok(Outcome::Recorded {
                    name,
                    changed: true,
                });
            }
            // Someone wrote in between: decide again on what they wrote.
            Err(kube::Error::Api(status)) if status.code == 409 && attempts < 5 => continue,
            Err(e) => return Err(e),
        }
    }
}
