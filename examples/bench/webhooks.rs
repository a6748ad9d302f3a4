//! Webhook answers under load, from a standby replica (the Lease is held elsewhere, so nothing
//! acts on what it records): redeliveries of intents already recorded, decided from the
//! replica's cache of the records; and new intents, each a PreviewEnvironment created, next to
//! a bare client creating PreviewEnvironments of the same size at the same rate.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::coordination::v1::Lease;
use kube::api::{DeleteParams, ListParams, ObjectMeta, Patch, PatchParams, PostParams};
use kube::{Api, Client};
use previewd::leader::lease_name;
use previewd::model::crd::PreviewEnvironment;
use previewd_testkit::github::GitHub;
use previewd_testkit::webhooks::Payload;
use tokio::task::JoinSet;

use crate::driven::{Driven, close_on_github, opened, preview_name};
use crate::stats::{ms, percentile};

const OPENED_SHA: &str = "ec26c3e57ca3a959ca5aad62de7213c562f8c821";
/// Pull requests recorded first, then redelivered in turn.
const RECORDED: u64 = 50;
const NAME: &str = "hooks";
/// Whom the Lease names as its holder: nobody that runs.
const HOLDER: &str = "bench-elsewhere";
/// New intents a second: each is a create at the API server, and this control plane on two
/// cores sustains far fewer creates a second than redeliveries (a bare client's creates at 500
/// a second queue for seconds).
const NEW_INTENT_RATE: u64 = 100;
/// What the new intents' p99 is to stay within, over the bare client's.
const NEW_INTENT_GOAL: f64 = 1.5;
/// What redeliveries' p99 is to stay within.
const REDELIVERY_GOAL: Duration = Duration::from_millis(10);

/// A delivery serialized beforehand, so the sender's own work stays out of the times.
struct Prepared {
    event: String,
    body: Vec<u8>,
    target: u64,
}

impl Prepared {
    fn of(payload: &Payload) -> Self {
        Prepared {
            event: payload.event.clone(),
            body: payload.bytes_sent_now(),
            target: payload
                .get("/repository/id")
                .and_then(serde_json::Value::as_u64)
                .unwrap_or(0),
        }
    }

    /// Whether `driven` recorded it (202, `recorded`).
    async fn recorded_by(&self, driven: &Driven) -> bool {
        let sent = driven.send_raw(&self.event, &self.body, self.target).await;
        sent.status == 202 && sent.body.starts_with("recorded")
    }
}

/// The opens of PRs `numbers`, serialized beforehand.
fn prepared_opens(gh: &GitHub, numbers: std::ops::Range<u64>) -> Vec<Prepared> {
    opened(gh, numbers, OPENED_SHA)
        .iter()
        .map(Prepared::of)
        .collect()
}

/// Answers of one stream of requests: each one's time from when it was due, and whether it
/// succeeded.
#[derive(Default)]
struct Answers {
    times: Vec<Duration>,
    errors: usize,
}

impl Answers {
    fn note(&mut self, took: Duration, ok: bool) {
        self.times.push(took);
        self.errors += usize::from(!ok);
    }

    fn line(&self, label: &str) -> String {
        format!(
            "| {label} | {} | {} | {} | {} | {} |",
            self.times.len(),
            ms_fine(percentile(&self.times, 0.5)),
            ms_fine(percentile(&self.times, 0.99)),
            ms(percentile(&self.times, 1.0)),
            self.errors
        )
    }
}

fn ms_fine(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

/// Starts `count` requests at `rate` a second, each when due whether or not earlier ones were
/// answered (so a slow answer does not slow the sender), timed from when it was due.
async fn at_rate<F, Fut>(rate: u64, count: u64, request: F) -> Answers
where
    F: Fn(u64) -> Fut,
    Fut: Future<Output = bool> + Send + 'static,
{
    let mut answers = Answers::default();
    for (_, took, ok) in timed_at_rate(rate, count, request).await {
        answers.note(took, ok);
    }
    answers
}

/// The same, each answer with its request's index.
async fn timed_at_rate<F, Fut>(rate: u64, count: u64, request: F) -> Vec<(u64, Duration, bool)>
where
    F: Fn(u64) -> Fut,
    Fut: Future<Output = bool> + Send + 'static,
{
    let start = tokio::time::Instant::now();
    let interval = Duration::from_secs_f64(1.0 / rate as f64);
    let mut running = JoinSet::new();
    for i in 0..count {
        let due = start + interval * i as u32;
        tokio::time::sleep_until(due).await;
        let sent = request(i);
        running.spawn(async move {
            let ok = sent.await;
            (i, due.elapsed(), ok)
        });
    }
    running.join_all().await
}

/// Holds previewd's Lease for `instance` in the namespace previewd defaults to, for an hour.
async fn hold_lease(kube: &Client, instance: &str) -> Api<Lease> {
    let leases = Api::<Lease>::default_namespaced(kube.clone());
    let lease: Lease = serde_json::from_value(serde_json::json!({
        "metadata": {"name": lease_name(instance)},
        "spec": {
            "holderIdentity": HOLDER,
            "leaseDurationSeconds": 3600,
            "acquireTime": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            "renewTime": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        }
    }))
    .expect("a Lease");
    let _ = leases
        .delete(&lease_name(instance), &DeleteParams::default())
        .await;
    leases
        .create(&PostParams::default(), &lease)
        .await
        .expect("hold the Lease");
    leases
}

/// Removes every record of `instance` (no controller runs for it: their finalizer goes too).
async fn remove_records(kube: &Client, instance: &str) {
    let records = Api::<PreviewEnvironment>::all(kube.clone());
    let selector = format!("previewd.dev/instance={instance}");
    let listed = records
        .list_metadata(&ListParams::default().labels(&selector))
        .await
        .map(|l| l.items)
        .unwrap_or_default();
    let unfinalized = Patch::Merge(serde_json::json!({"metadata": {"finalizers": null}}));
    for record in listed {
        let name = record.metadata.name.unwrap_or_default();
        let _ = records
            .patch(&name, &PatchParams::default(), &unfinalized)
            .await;
    }
    let _ = records
        .delete_collection(
            &DeleteParams::default(),
            &ListParams::default().labels(&selector),
        )
        .await;
}

/// Redeliveries at `rate` a second and new intents at `NEW_INTENT_RATE`, `seconds` each, and
/// the bare client's creates at the new intents' rate; prints the table.
pub async fn run(gh: &GitHub, first: u64, rate: u64, seconds: u64) {
    let instance = format!("bench-{NAME}");
    let kube = Client::try_default().await.expect("kube client");
    let leases = hold_lease(&kube, &instance).await;
    let driven = Arc::new(Driven::start(gh, NAME, 1).await);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let recorded = prepared_opens(gh, first..first + RECORDED);
    for open in &recorded {
        assert!(open.recorded_by(&driven).await, "an open is recorded");
    }
    tokio::time::sleep(Duration::from_secs(1)).await;

    let recorded = Arc::new(recorded);
    let redeliveries = at_rate(rate, rate * seconds, |i| {
        let (driven, recorded) = (driven.clone(), recorded.clone());
        async move { recorded[(i % RECORDED) as usize].recorded_by(&driven).await }
    })
    .await;

    let count = NEW_INTENT_RATE * seconds;
    let fresh = first + RECORDED;
    let new_payloads = Arc::new(prepared_opens(gh, fresh..fresh + count));
    // The bare client: the same record under another instance and name, created at the same
    // rate, its creates interleaved with previewd's deliveries so both meet the same load.
    let records = Api::<PreviewEnvironment>::all(kube.clone());
    let model = records
        .get(&preview_name(first))
        .await
        .expect("a recorded PreviewEnvironment");
    let bare_instance = "bench-bare";
    let mut labels = model.metadata.labels.clone().unwrap_or_default();
    labels.insert("previewd.dev/instance".into(), bare_instance.into());
    let both = timed_at_rate(2 * NEW_INTENT_RATE, 2 * count, |i| {
        let (driven, payloads, records) = (driven.clone(), new_payloads.clone(), records.clone());
        let mut made = PreviewEnvironment::new(&format!("bench-bare-{i}"), model.spec.clone());
        made.metadata = ObjectMeta {
            name: Some(format!("bench-bare-{i}")),
            labels: Some(labels.clone()),
            ..ObjectMeta::default()
        };
        async move {
            if i % 2 == 0 {
                payloads[(i / 2) as usize].recorded_by(&driven).await
            } else {
                records.create(&PostParams::default(), &made).await.is_ok()
            }
        }
    })
    .await;
    let (mut new_intents, mut bare) = (Answers::default(), Answers::default());
    for (i, took, ok) in both {
        let side = if i % 2 == 0 {
            &mut new_intents
        } else {
            &mut bare
        };
        side.note(took, ok);
    }

    let metrics = driven.metrics().await;
    let lookups = |source: &str| {
        metrics
            .lines()
            .find(|l| {
                l.starts_with(&format!(
                    "previewd_record_lookups_total{{source=\"{source}\"}}"
                ))
            })
            .and_then(|l| l.rsplit(' ').next())
            .unwrap_or("0")
            .to_owned()
    };
    println!();
    println!("Webhook answers on a standby replica, {seconds} s of each:");
    println!();
    println!("| | requests | p50 | p99 | max | errors |");
    println!("|---|---|---|---|---|---|");
    println!(
        "{}",
        redeliveries.line(&format!("redelivery of a recorded intent, {rate}/s"))
    );
    println!(
        "{}",
        new_intents.line(&format!(
            "new intent (a record created), {NEW_INTENT_RATE}/s"
        ))
    );
    println!(
        "{}",
        bare.line(&format!(
            "bare client: create a PreviewEnvironment, {NEW_INTENT_RATE}/s"
        ))
    );
    let p99 = |a: &Answers| percentile(&a.times, 0.99);
    let new_ratio = p99(&new_intents).as_secs_f64() / p99(&bare).as_secs_f64().max(1e-9);
    println!();
    println!(
        "Redelivery p99 within {}: {}. New intent p99 {new_ratio:.2}× the bare client's (within {NEW_INTENT_GOAL}×: {}). Records looked up in the cache {}, at the API server {}.",
        ms(REDELIVERY_GOAL),
        if p99(&redeliveries) <= REDELIVERY_GOAL {
            "yes"
        } else {
            "no"
        },
        if new_ratio <= NEW_INTENT_GOAL {
            "yes"
        } else {
            "no"
        },
        lookups("cache"),
        lookups("api_server"),
    );
    close_on_github(gh, first..first + RECORDED + count);
    remove_records(&kube, &instance).await;
    remove_records(&kube, bare_instance).await;
    let _ = leases
        .delete(&lease_name(&instance), &DeleteParams::default())
        .await;
    if let Ok(driven) = Arc::try_unwrap(driven) {
        driven.stop(std::iter::empty()).await;
    }
}
