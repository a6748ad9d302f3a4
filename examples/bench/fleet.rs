//! Many live previews: previewd's memory with none and with `live` open at once (no pods: the
//! fake node runs 110), what one resync round costs then (GitHub calls, API writes,
//! reconciles), and what a push costs with 10 previews live and with all of them.

use std::time::{Duration, Instant};

use previewd_testkit::github::{GitHub, Recorded};

use crate::burst::until;
use crate::driven::{Driven, opened, payload};
use crate::stats::histogram_sums;
use crate::{OWNER, REPO, memory_kib};

const NAME: &str = "fleet";
const OPENED_SHA: &str = "ec26c3e57ca3a959ca5aad62de7213c562f8c821";
const PUSHED_SHAS: [&str; 2] = [
    "d6fde92930d4715a2b49857d24b940956b26d2d3",
    "ec26c3e57ca3a959ca5aad62de7213c562f8c821",
];
/// Seconds between resyncs here (previewd's default is 300).
const RESYNC_SECS: &str = "15";
/// Previews live for the small measurement.
const FEW: u64 = 10;
/// Pushes timed at each size.
const PUSHES: usize = 6;

/// What the pushes at one size cost: time to Ready in the status, and per push the reconciles
/// and the API calls of each step.
struct PushCost {
    to_ready: Vec<Duration>,
    reconcile_ms: f64,
    reconciles: f64,
    api_calls: f64,
}

/// Reconcile time and count, and the calls of every step but rendering (each an API call).
fn counters(metrics: &str) -> (f64, f64, f64) {
    let reconciles = histogram_sums(metrics, "previewd_reconcile_duration_seconds", "outcome");
    let steps = histogram_sums(metrics, "previewd_step_duration_seconds", "step");
    let calls = steps
        .iter()
        .filter(|(step, _, _)| !matches!(step.as_str(), "render" | "publish" | "quota_wait"))
        .map(|(_, _, count)| count)
        .sum();
    (
        reconciles.iter().map(|(_, sum, _)| sum).sum(),
        reconciles.iter().map(|(_, _, count)| count).sum(),
        calls,
    )
}

/// Pushes PR `number` `PUSHES` times, each once the one before is Ready.
async fn pushes(gh: &GitHub, driven: &Driven, number: u64) -> PushCost {
    let before = counters(&driven.metrics().await);
    let mut to_ready = Vec::new();
    for i in 0..PUSHES {
        let sha = PUSHED_SHAS[i % 2];
        // Each push later than the one before (the fixture's own time is one for all).
        let at = chrono::Utc::now() + chrono::Duration::seconds(i as i64);
        let pushed = payload(gh, "pr-synchronize-new-sha", number, sha)
            .updated_at(&at.format("%Y-%m-%dT%H:%M:%SZ").to_string());
        let start = Instant::now();
        let sent = driven.send(&pushed).await;
        assert_eq!(sent.status, 202, "{}", sent.body);
        to_ready.push(
            until(start, "push Ready", async || {
                driven.ready_at(number, sha).await
            })
            .await,
        );
    }
    let after = counters(&driven.metrics().await);
    let per_push = |a: f64, b: f64| (a - b) / PUSHES as f64;
    PushCost {
        to_ready,
        reconcile_ms: per_push(after.0, before.0) * 1000.0,
        reconciles: per_push(after.1, before.1),
        api_calls: per_push(after.2, before.2),
    }
}

/// The requests of one resync round: from one first page of the open pull requests to the
/// next, leaving out the comments still being sent.
async fn one_round(gh: &GitHub) -> Vec<Recorded> {
    let list = format!("/repos/{OWNER}/{REPO}/pulls");
    let first_page = |r: &Recorded| {
        r.path == list
            && r.query
                .as_deref()
                .is_some_and(|q| q.contains("page=1&") || q.ends_with("page=1"))
    };
    let starts = |gh: &GitHub| gh.requests().iter().filter(|r| first_page(r)).count();
    let seen = starts(gh);
    until(Instant::now(), "a resync round", async || starts(gh) > seen).await;
    let from = gh.requests().iter().rposition(first_page).unwrap_or(0);
    until(Instant::now(), "the next resync round", async || {
        starts(gh) > seen + 1
    })
    .await;
    let requests = gh.requests();
    let to = requests
        .iter()
        .rposition(first_page)
        .unwrap_or(requests.len());
    requests[from..to]
        .iter()
        .filter(|r| !r.path.contains("/issues/"))
        .cloned()
        .collect()
}

fn print_push(label: &str, cost: &PushCost) {
    let mut sorted = cost.to_ready.clone();
    sorted.sort();
    println!(
        "| {label} | {:.0} ms | {:.1} | {:.1} ms | {:.1} |",
        sorted[sorted.len() / 2].as_secs_f64() * 1000.0,
        cost.reconciles,
        cost.reconcile_ms / cost.reconciles.max(1.0),
        cost.api_calls,
    );
}

/// previewd with no preview, with `FEW`, and with `live` open at once.
pub async fn run(gh: &GitHub, live: u64, first: u64) {
    let driven = Driven::start_with(gh, NAME, 0, &[("PREVIEWD_RESYNC_SECS", RESYNC_SECS)]).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let idle_rss = memory_kib(driven.pid(), "VmRSS:");
    let open = async |numbers: std::ops::Range<u64>| {
        driven
            .send_all(&opened(gh, numbers.clone(), OPENED_SHA))
            .await;
        let want = (numbers.end - first) as usize;
        until(Instant::now(), "all Ready", async || {
            driven.ready_count().await >= want
        })
        .await
    };
    open(first..first + FEW).await;
    let few = pushes(gh, &driven, first).await;
    let start = Instant::now();
    let all_ready = open(first + FEW..first + live).await;
    let live_rss = memory_kib(driven.pid(), "VmRSS:");
    let opened_in = start.elapsed();
    let round_before = counters(&driven.metrics().await);
    let round = one_round(gh).await;
    let round_after = counters(&driven.metrics().await);
    let many = pushes(gh, &driven, first).await;

    println!();
    println!(
        "{live} live previews (no pods): opened {:.0} s after the first delivery (all Ready {:.0} s); RSS {} MiB with none, {} MiB with {live} (peak {} MiB)",
        opened_in.as_secs_f64(),
        all_ready.as_secs_f64(),
        idle_rss / 1024,
        live_rss / 1024,
        memory_kib(driven.pid(), "VmHWM:") / 1024,
    );
    let mut calls: Vec<String> = round
        .iter()
        .map(|r| format!("{} {} → {}", r.method, r.path, r.status.unwrap_or(0)))
        .collect();
    calls.sort();
    calls.dedup_by(|a, b| a == b);
    println!(
        "One resync round with {live} live: {} GitHub calls ({}), {:.0} reconciles and {:.0} API calls by the steps meanwhile",
        round.len(),
        calls.join(", "),
        round_after.1 - round_before.1,
        round_after.2 - round_before.2,
    );
    println!();
    println!(
        "| a push with | push → Ready (status), p50 | reconciles per push | ms per reconcile | API calls per push |"
    );
    println!("|---|---|---|---|---|");
    print_push(&format!("{FEW} live"), &few);
    print_push(&format!("{live} live"), &many);
    driven.stop(first..first + live).await;
}
