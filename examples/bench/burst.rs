//! A burst: PRs opened at once through previewd, then as many through the minimal client with
//! as many at once as previewd reconciles (its `--concurrency`): how long until every preview is
//! Ready in the cluster, and, for previewd, until every Ready comment is at GitHub (paced as
//! GitHub asks: one content write a second).

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use futures::StreamExt;
use previewd_testkit::github::{GitHub, Pull};

use crate::driven::{DELIVERED_AT_ONCE, Driven, close_on_github, opened, preview_name};
use crate::minimal::Minimal;
use crate::{LIMIT, OWNER, REPO, print_steps};

const NAME: &str = "burst";
const OPENED_SHA: &str = "ec26c3e57ca3a959ca5aad62de7213c562f8c821";
/// previewd's reconciles at once (its default `--concurrency`), and so the minimal client's.
const AT_ONCE: usize = 4;
/// What previewd's time to all Ready is to stay within, over the minimal client's.
const GOAL: f64 = 2.0;

/// The previews among `names` whose comment says Ready (created so, or edited: a preview that
/// took over 2 s was announced as deploying first), among requests after `seen`.
fn commented(gh: &GitHub, seen: usize, names: &[String]) -> BTreeSet<String> {
    let prefix = format!("/repos/{OWNER}/{REPO}/issues/");
    let bodies: Vec<String> = gh
        .requests()
        .into_iter()
        .skip(seen)
        .filter(|r| matches!(r.method.as_str(), "POST" | "PATCH") && r.path.starts_with(&prefix))
        .filter_map(|r| Some(r.body?["body"].as_str()?.to_owned()))
        .filter(|body| body.contains("Preview ready"))
        .collect();
    names
        .iter()
        .filter(|name| bodies.iter().any(|body| body.contains(name.as_str())))
        .cloned()
        .collect()
}

/// Waits until `done` says so, checking every 100 ms; how long it took from `start`.
pub async fn until(start: Instant, what: &str, mut done: impl AsyncFnMut() -> bool) -> Duration {
    while !done().await {
        assert!(
            start.elapsed() < LIMIT * 2,
            "burst: {what} not within {LIMIT:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    start.elapsed()
}

/// `count` PRs opened at once through previewd, then through the minimal client; prints both.
pub async fn run(gh: &GitHub, minimal: &Minimal, count: u64, first: u64) {
    let driven = Driven::start(gh, NAME, 1).await;
    let numbers = first..first + count;
    let payloads = opened(gh, numbers.clone(), OPENED_SHA);
    let seen = gh.requests().len();
    let start = Instant::now();
    driven.send_all(&payloads).await;
    let answered = start.elapsed();
    let want = count as usize;
    let all_ready = until(start, "previewd Ready", async || {
        driven.ready_count().await >= want
    })
    .await;
    let names: Vec<String> = numbers.clone().map(preview_name).collect();
    let all_said = until(start, "previewd's comments", async || {
        commented(gh, seen, &names).len() >= want
    })
    .await;
    let metrics = driven.metrics().await;
    driven.stop(numbers.clone()).await;
    close_on_github(gh, numbers.clone());

    let minimal_numbers = first + count..first + 2 * count;
    for number in minimal_numbers.clone() {
        gh.set_pull(Pull::new("bench", "minimal", number));
    }
    let start = Instant::now();
    futures::stream::iter(minimal_numbers.clone())
        .map(|number| minimal.open(number, OPENED_SHA))
        .buffer_unordered(AT_ONCE)
        .collect::<Vec<_>>()
        .await;
    let minimal_ready = start.elapsed();
    futures::future::join_all(minimal_numbers.map(|number| minimal.close(number))).await;

    let ratio = all_ready.as_secs_f64() / minimal_ready.as_secs_f64().max(1e-9);
    println!();
    println!(
        "A burst of {count} PRs opened at once ({DELIVERED_AT_ONCE} deliveries on their way at once; {AT_ONCE} deployed at a time by each):"
    );
    println!();
    println!("| | all Ready in the cluster | all Ready comments at GitHub |");
    println!("|---|---|---|");
    println!(
        "| previewd (all {count} deliveries answered in {:.2} s) | {:.1} s | {:.1} s |",
        answered.as_secs_f64(),
        all_ready.as_secs_f64(),
        all_said.as_secs_f64()
    );
    println!(
        "| minimal client | {:.1} s | (its comments are not paced) |",
        minimal_ready.as_secs_f64()
    );
    println!();
    println!(
        "previewd's time to all Ready {ratio:.2}× the minimal client's (within {GOAL}×: {}).",
        if ratio <= GOAL { "yes" } else { "no" }
    );
    println!("\nWhere previewd's time went in the burst, per preview:\n");
    print_steps(&metrics, count);
}
