//! Recording intent: the only thing the webhook handler writes. Looks the recorded
//! PreviewEnvironment up (in the replica's cache, else the API server), decides (pure:
//! `decide`), and writes the new spec with optimistic concurrency, so concurrent or repeated
//! deliveries settle on the newest state and repeats change nothing.

use chrono::{DateTime, Utc};
use kube::api::{ListParams, ObjectMeta, PostParams};
use kube::{Api, Client, ResourceExt};

use crate::controller::FINALIZER;
use crate::metrics;
use crate::model::crd::PreviewEnvironment;
use crate::model::event::{CommandEvent, PullRequestEvent};
use crate::model::labels;
use crate::model::names;
use crate::model::pull::{PullFacts, Repository};
use crate::records::{Cached, Records};
use crate::rules::command_limits;
use crate::rules::intent::{self, with_command};

pub use crate::rules::intent::Decision;

/// Reads and writes one delivery may take before it is answered 503.
const RECORD_ATTEMPTS: u32 = 10;

/// Field manager of the webhook side.
const WEBHOOK_MANAGER: &str = "previewd-webhook";

/// What previewd learned that may change a preview's desired state.
#[derive(Clone, Copy, Debug)]
pub enum Delivery<'a> {
    /// Something happened to the pull request (a delivery, or what the resync found);
    /// `mode_label` is its repository's label-mode label, if it has one.
    Pull {
        /// What happened.
        event: &'a PullRequestEvent,
        /// The repository's label-mode label.
        mode_label: Option<&'a str>,
    },
    /// A maintainer's command in a new comment.
    Command(&'a CommandEvent),
}

impl Delivery<'_> {
    /// The pull request it is about.
    fn pull(&self) -> &PullFacts {
        match self {
            Delivery::Pull { event, .. } => &event.pull,
            Delivery::Command(event) => &event.pull,
        }
    }
}

/// What `delivery`, arriving `now`, means for the preview `existing` records for this
/// `instance` (pure): the spec to record, or why nothing changes.
pub fn decide(
    existing: Option<&PreviewEnvironment>,
    instance: &str,
    delivery: &Delivery<'_>,
    now: DateTime<Utc>,
) -> Decision {
    if let Some(existing) = existing
        && existing.labels().get(labels::INSTANCE).map(String::as_str) != Some(instance)
    {
        return Decision::Ignore("recorded by another previewd installation");
    }
    let spec = existing.map(|e| &e.spec);
    match delivery {
        Delivery::Pull { event, mode_label } => intent::decide(spec, event, *mode_label, now),
        Delivery::Command(event) => {
            let status = existing.and_then(|e| e.status.as_ref());
            let taken = |id| {
                status.is_some_and(|s| {
                    command_limits::taken(&s.processed_commands, s.processed_up_to, id)
                })
            };
            with_command(spec, taken, event, now)
        }
    }
}

/// What recording a delivery did.
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

/// The record of `repository`'s pull request `number` and its name, or the name a new record
/// gets. A record is found under the name derived from the repository's id, else by its labels
/// (its repository was renamed or transferred since, or it was named from the full name, as
/// before ids were used). `None` when the derived name is another pull request's.
async fn find(
    api: &Api<PreviewEnvironment>,
    instance: &str,
    repository: &Repository,
    number: u64,
) -> Result<Option<(String, Option<PreviewEnvironment>)>, kube::Error> {
    let derived = names::preview_name(repository, number);
    let under_derived = api.get_opt(&derived).await?;
    if let Some(found) = &under_derived
        && labels::is_record_of(found, repository.id, number)
    {
        return Ok(Some((derived, under_derived)));
    }
    let selector = labels::record_selector(instance, repository.id, number);
    let mut labelled = api
        .list(&ListParams::default().labels(&selector))
        .await?
        .items;
    // Two records of one pull request cannot be made by previewd; were one made by hand, the
    // oldest stands.
    labelled.sort_by_key(|pe| pe.metadata.creation_timestamp.clone().map(|t| t.0));
    match labelled.into_iter().next() {
        Some(pe) => Ok(Some((pe.name_any(), Some(pe)))),
        None if under_derived.is_some() => Ok(None),
        None => Ok(Some((derived, None))),
    }
}

/// The record as the cache has it, when it can be decided on: present and not being removed
/// (the API server is asked about one being removed), or absent and then made under its
/// derived name.
fn cached(
    records: &Records,
    repository: &Repository,
    number: u64,
) -> Option<(String, Option<PreviewEnvironment>)> {
    match records.lookup(repository.id, number) {
        Cached::Unknown => None,
        Cached::Absent => Some((names::preview_name(repository, number), None)),
        Cached::Found(pe) if pe.metadata.deletion_timestamp.is_some() => None,
        Cached::Found(pe) => Some((pe.name_any(), Some(PreviewEnvironment::clone(&pe)))),
    }
}

/// Whether `decision`, made on the cached record `cached`, may be answered without asking the
/// API server. A decision to write may (the write carries the cached resourceVersion, refused
/// when the record moved). One to write nothing may when the record already says the same:
/// a later record cannot need it either (`tests/intake.rs` checks this over every sequence of
/// GitHub's deliveries); or when it is ignored for good. Any other ignore may be the cache's
/// lag (a record made a moment ago, fewer commands waiting now).
pub fn cache_vouches_for(cached: Option<&PreviewEnvironment>, decision: &Decision) -> bool {
    match (cached, decision) {
        (_, Decision::Record(_)) => true,
        (Some(_), Decision::Ignore(why)) => intent::ignored_for_good(why),
        (None, Decision::Ignore(_)) => false,
    }
}

/// Decides on the cached record first and writes with optimistic concurrency; when a write is
/// refused (someone wrote in between, or the cache lagged), reads the record from the API
/// server and decides again.
pub(crate) async fn record(
    client: &Client,
    records: &Records,
    instance: &str,
    delivery: Delivery<'_>,
) -> Result<Outcome, kube::Error> {
    let api = Api::<PreviewEnvironment>::all(client.clone());
    let pull = delivery.pull();
    let params = PostParams {
        field_manager: Some(WEBHOOK_MANAGER.into()),
        ..Default::default()
    };
    let mut attempts = 0;
    loop {
        attempts += 1;
        let cached = if attempts == 1 {
            cached(records, &pull.repository, pull.number)
        } else {
            None
        };
        let from_cache = cached.is_some();
        metrics::get().record_lookup(from_cache);
        let found = match cached {
            Some(found) => Some(found),
            None => {
                metrics::timed(
                    "record_read",
                    find(&api, instance, &pull.repository, pull.number),
                )
                .await?
            }
        };
        let Some((name, existing)) = found else {
            return Ok(Outcome::Ignored(
                "the preview's name is taken by an object of another pull request",
            ));
        };
        if existing
            .as_ref()
            .is_some_and(|e| e.metadata.deletion_timestamp.is_some())
            && attempts < RECORD_ATTEMPTS
        {
            // Its record is being removed (a tombstone past its time): record anew once gone.
            tokio::time::sleep(crate::timing::REMOVED_RECORD_POLL).await;
            continue;
        }
        let decision = decide(existing.as_ref(), instance, &delivery, Utc::now());
        if from_cache && !cache_vouches_for(existing.as_ref(), &decision) {
            // Only the API server can say this changes nothing.
            continue;
        }
        let spec = match decision {
            Decision::Record(spec) => *spec,
            Decision::Ignore(why) => return Ok(Outcome::Ignored(why)),
        };
        let started = std::time::Instant::now();
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
                        pull.repository.id,
                        pull.number,
                    )),
                    // With its finalizer from the start, the first reconcile goes to work at
                    // once instead of adding it first (a write and a wake-up more).
                    finalizers: Some(vec![FINALIZER.to_owned()]),
                    ..ObjectMeta::default()
                };
                api.create(&params, &fresh).await
            }
        };
        metrics::get().step("record_write", started.elapsed());
        match written {
            Ok(_) => {
                return Ok(Outcome::Recorded {
                    name,
                    changed: true,
                });
            }
            // Someone wrote in between (or the cache lagged): decide again on what they wrote.
            Err(kube::Error::Api(status)) if status.code == 409 && attempts < RECORD_ATTEMPTS => {
                continue;
            }
            // The cached record was removed meanwhile.
            Err(kube::Error::Api(status)) if status.code == 404 && from_cache => continue,
            Err(e) => return Err(e),
        }
    }
}
