//! The publisher: sends what reconciles left in the outbox of each preview's status (the PR
//! comment, reactions to command comments) and writes back what GitHub took, outside of any
//! reconcile, so that no deploy waits for GitHub's pace. One task per preview at a time, always
//! on the newest version of its record; only the leader runs it. A restart loses nothing: the
//! outbox is in the status, and a comment created just before a crash is found again by its
//! marker.

pub(crate) mod send;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use futures::StreamExt;
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, ResourceExt};
use tokio::sync::Notify;
use tokio::task::JoinSet;

use self::send::{Next, Sent};
use crate::controller::Ctx;
use crate::metrics;
use crate::model::crd::PreviewEnvironment;
use crate::model::labels;
use crate::records::without_managed_fields;

/// One preview's publishing: its newest record, what this process sent for it, whether a task
/// works on it.
struct Slot {
    latest: Arc<PreviewEnvironment>,
    sent: Sent,
    working: bool,
    newer: Arc<Notify>,
}

type Slots = Arc<Mutex<HashMap<String, Slot>>>;

/// Publishes the outbox of every preview of this installation until the future is dropped.
pub async fn run(ctx: Arc<Ctx>) {
    let api = Api::<PreviewEnvironment>::all(ctx.client.clone());
    let selector = labels::instance_selector(&ctx.settings.instance);
    let mut records = std::pin::pin!(
        watcher(api, watcher::Config::default().labels(&selector))
            .modify(without_managed_fields)
            .default_backoff()
    );
    let slots: Slots = Arc::default();
    // Dropped with this future: a lost leadership stops every task.
    let mut tasks = JoinSet::new();
    while let Some(event) = records.next().await {
        match event {
            Ok(watcher::Event::Apply(pe) | watcher::Event::InitApply(pe)) => {
                if let Some(name) = offer(&slots, Arc::new(pe)) {
                    tasks.spawn(work(ctx.clone(), slots.clone(), name));
                }
            }
            Ok(watcher::Event::Delete(pe)) => {
                lock(&slots).remove(&pe.name_any());
            }
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "publisher: watching the records failed"),
        }
        while tasks.try_join_next().is_some() {}
    }
}

/// Takes `pe` as its preview's newest record; the name when a task should start for it.
fn offer(slots: &Slots, pe: Arc<PreviewEnvironment>) -> Option<String> {
    let name = pe.name_any();
    let mut slots = lock(slots);
    match slots.get_mut(&name) {
        Some(slot) => {
            slot.latest = pe;
            if slot.working {
                slot.newer.notify_one();
                return None;
            }
            slot.working = true;
        }
        None => {
            slots.insert(
                name.clone(),
                Slot {
                    latest: pe,
                    sent: Sent::default(),
                    working: true,
                    newer: Arc::default(),
                },
            );
        }
    }
    Some(name)
}

/// Publishes preview `name` until its outbox is empty and no newer record came meanwhile.
async fn work(ctx: Arc<Ctx>, slots: Slots, name: String) {
    loop {
        let Some((pe, sent, newer)) = lock(&slots)
            .get(&name)
            .map(|s| (s.latest.clone(), s.sent.clone(), s.newer.clone()))
        else {
            return; // the record is gone
        };
        let (sent, next) = metrics::timed("publish", send::publish(&ctx, &pe, sent)).await;
        {
            let mut slots = lock(&slots);
            let Some(slot) = slots.get_mut(&name) else {
                return;
            };
            slot.sent = sent;
            if next == Next::Idle {
                if Arc::ptr_eq(&slot.latest, &pe) {
                    slot.working = false;
                    return;
                }
                continue;
            }
        }
        if let Next::At(at) = next {
            tokio::select! {
                () = tokio::time::sleep_until(at) => {}
                () = newer.notified() => {}
            }
        }
    }
}

fn lock(slots: &Slots) -> std::sync::MutexGuard<'_, HashMap<String, Slot>> {
    slots.lock().unwrap_or_else(|p| p.into_inner())
}
