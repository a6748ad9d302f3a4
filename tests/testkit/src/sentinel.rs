//! Watching what must stay: a task lists an installation's PreviewEnvironments and namespaces
//! every 200 ms and notes each time a kept preview is missing, replaced (another uid), wanted
//! destroyed, or its namespace missing, replaced or being deleted. A namespace's deletion cannot
//! be undone, so a check at the end also catches what fell between two looks; the task catches
//! a wrongful intent that was reverted before it reached the namespace.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Namespace;
use kube::api::ListParams;
use kube::{Api, Client, ResourceExt};
use previewd::model::crd::{Desired, PreviewEnvironment};
use previewd::model::labels::instance_selector;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::chaos::Seed;
use super::scenario::Scenario;

/// A preview that must stay as it is: its PR, name and the uids of it and its namespace.
#[derive(Clone, Debug, PartialEq)]
pub struct Kept {
    /// PR number.
    pub(crate) number: u64,
    /// PreviewEnvironment and namespace name.
    pub(crate) name: String,
    /// The PreviewEnvironment's uid.
    pub(crate) preview_uid: String,
    /// The namespace's uid.
    pub(crate) namespace_uid: String,
}

impl Scenario {
    /// PRs `numbers`' previews and namespaces as they are now (all must exist).
    pub async fn keep(&self, numbers: &[u64]) -> Vec<Kept> {
        let mut kept = Vec::new();
        for &number in numbers {
            let pe = self.preview(number).await.expect("a preview to keep");
            let ns = self.namespace(number).await.expect("a namespace to keep");
            kept.push(Kept {
                number,
                name: self.preview_name(number),
                preview_uid: pe.metadata.uid.expect("a stored preview has a uid"),
                namespace_uid: ns.metadata.uid.expect("a stored namespace has a uid"),
            });
        }
        kept
    }

    /// Panics unless each kept preview and namespace is still the same object, not being
    /// deleted.
    pub async fn assert_still(&self, seed: &Seed, kept: &[Kept]) {
        for k in kept {
            let pe = self.preview(k.number).await.and_then(|pe| pe.metadata.uid);
            let ns = self.namespace(k.number).await;
            let deleting = ns
                .as_ref()
                .is_some_and(|ns| ns.metadata.deletion_timestamp.is_some());
            let ns = ns.and_then(|ns| ns.metadata.uid);
            assert!(
                pe.as_ref() == Some(&k.preview_uid)
                    && ns.as_ref() == Some(&k.namespace_uid)
                    && !deleting,
                "{seed}: PR {} had to stay: preview uid {pe:?}, namespace uid {ns:?} (deleting: \
                 {deleting}), kept {k:?}",
                k.number
            );
        }
    }
}

/// What is wrong with `kept` given the installation's current previews and namespaces (pure).
pub(crate) fn faults_of(
    kept: &Kept,
    previews: &BTreeMap<String, PreviewEnvironment>,
    namespaces: &BTreeMap<String, Namespace>,
) -> Vec<String> {
    let mut found = Vec::new();
    match previews.get(&kept.name) {
        None => found.push(format!("{}: preview gone", kept.name)),
        Some(pe) if pe.metadata.uid.as_deref() != Some(kept.preview_uid.as_str()) => {
            found.push(format!("{}: preview replaced", kept.name))
        }
        Some(pe) if pe.spec.desired != Desired::Deployed => found.push(format!(
            "{}: preview wanted {:?}",
            kept.name, pe.spec.desired
        )),
        Some(_) => {}
    }
    match namespaces.get(&kept.name) {
        None => found.push(format!("{}: namespace gone", kept.name)),
        Some(ns) if ns.metadata.uid.as_deref() != Some(kept.namespace_uid.as_str()) => {
            found.push(format!("{}: namespace replaced", kept.name))
        }
        Some(ns) if ns.metadata.deletion_timestamp.is_some() => {
            found.push(format!("{}: namespace being deleted", kept.name))
        }
        Some(_) => {}
    }
    found
}

/// The watching task.
pub struct Sentinel {
    stop: watch::Sender<bool>,
    task: JoinHandle<Vec<String>>,
}

impl Sentinel {
    /// Starts watching `kept`, which belong to installation `instance`.
    pub fn start(kube: Client, instance: &str, kept: Vec<Kept>) -> Sentinel {
        let (stop, mut stopped) = watch::channel(false);
        let selector = instance_selector(instance);
        let task = tokio::spawn(async move {
            let started = Instant::now();
            let mut seen: Vec<String> = Vec::new();
            loop {
                // A failed look (the API server busy) is simply the next look's to make.
                if let Some((previews, namespaces)) = snapshot(&kube, &selector).await {
                    for fault in kept
                        .iter()
                        .flat_map(|k| faults_of(k, &previews, &namespaces))
                    {
                        if !seen.iter().any(|s| s.ends_with(&fault)) {
                            let at = started.elapsed().as_secs_f64();
                            seen.push(format!("at {at:.1} s: {fault}"));
                        }
                    }
                }
                if *stopped.borrow() {
                    return seen;
                }
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_millis(200)) => {}
                    _ = stopped.changed() => {}
                }
            }
        });
        Sentinel { stop, task }
    }

    /// Stops watching (after one last look); returns every fault seen, with when first seen.
    pub async fn stop(self) -> Vec<String> {
        let _ = self.stop.send(true);
        self.task.await.expect("the sentinel task")
    }
}

async fn snapshot(
    kube: &Client,
    selector: &str,
) -> Option<(
    BTreeMap<String, PreviewEnvironment>,
    BTreeMap<String, Namespace>,
)> {
    let params = ListParams::default().labels(selector);
    let previews = Api::<PreviewEnvironment>::all(kube.clone())
        .list(&params)
        .await
        .ok()?;
    let namespaces = Api::<Namespace>::all(kube.clone())
        .list(&params)
        .await
        .ok()?;
    Some((
        previews.into_iter().map(|p| (p.name_any(), p)).collect(),
        namespaces.into_iter().map(|n| (n.name_any(), n)).collect(),
    ))
}
