//! Benchmark: previewd side by side with a minimal client that makes only the calls a preview
//! needs (`minimal.rs`), on the local control plane with the GitHub stand-in, their PRs
//! interleaved: PR opened → Ready comment, push → Ready comment, close → namespace gone and the
//! comment says so; where previewd's time goes; its GitHub writes per lifecycle and its memory.
//! Then a burst of PRs opened at once (`burst.rs`) and webhook answers under load
//! (`webhooks.rs`), previews at scale (`fleet.rs`) and the GitHub writes of a lifecycle with
//! deployments off and on (`budget.rs`). Run through
//! `scripts/bench.sh [PRS] [LIVE] [RUNS] [RATE] [BURST] [BUDGET]`.

mod budget;
mod burst;
mod driven;
mod fleet;
mod minimal;
mod stats;
mod webhooks;

use std::path::PathBuf;
use std::time::Duration;

use previewd::build::templates;
use previewd_testkit::github::GitHub;

use self::driven::{Driven, payload};
use self::minimal::Minimal;
use self::stats::{histogram_sums, ms, percentile, ratio, row};

pub const OWNER: &str = "bench";
pub const REPO: &str = "app";
pub const LIMIT: Duration = Duration::from_secs(300);
const OPENED_SHA: &str = "ec26c3e57ca3a959ca5aad62de7213c562f8c821";
const PUSHED_SHA: &str = "d6fde92930d4715a2b49857d24b940956b26d2d3";
/// How long each stream of webhook deliveries lasts.
const WEBHOOK_SECONDS: u64 = 4;
/// PR numbers the webhook part uses (past the runs').
const WEBHOOK_NUMBERS: u64 = 100_000;
/// The ratio previewd's medians are to stay within.
const GOAL: f64 = 1.5;

#[derive(Default)]
struct Series {
    answered: Vec<Duration>,
    open: Vec<Duration>,
    push: Vec<Duration>,
    close: Vec<Duration>,
    /// Delivery → first apply done (status Deploying), → Ready in the status, Ready → comment.
    to_deploying: Vec<Duration>,
    deploying_to_ready: Vec<Duration>,
    ready_to_comment: Vec<Duration>,
}

impl Series {
    fn phases(&mut self, timed: &driven::Timed) {
        if let (Some(deploying), Some(ready)) = (timed.deploying_at, timed.ready_at) {
            self.to_deploying.push(deploying);
            self.deploying_to_ready
                .push(ready.saturating_sub(deploying));
        }
        if let Some(ready) = timed.ready_at {
            self.ready_to_comment
                .push(timed.commented.saturating_sub(ready));
        }
    }
}

/// GitHub's pace for content writes, which previewd keeps.
const GITHUB_CONTENT_PACE: Duration = Duration::from_secs(1);

/// One run: `prs` lifecycles through previewd and as many through the minimal client.
struct Run {
    previewd: Series,
    minimal: Series,
    metrics: String,
    writes_per_pr: f64,
    rss_kib: u64,
}

async fn run(gh: &GitHub, minimal: &Minimal, prs: u64, first: u64) -> Run {
    let driven = Driven::start(gh, "series", 1).await;
    // This run's writes only (an edit's path names no PR: earlier runs' edits would count).
    let seen = gh.requests().len() as u64;
    let numbers = first..first + prs;
    let mut previewd = Series::default();
    let mut baseline = Series::default();
    let mut last_comment_post: Option<tokio::time::Instant> = None;
    for number in numbers.clone() {
        // GitHub asks for one content write a second, and previewd's comment POSTs keep that
        // pace. PRs opened back to back faster than that would time the pace (which the burst
        // measures), not the open path: each open comes a second after the previous one's.
        if let Some(posted) = last_comment_post {
            tokio::time::sleep_until(posted + GITHUB_CONTENT_PACE).await;
        }
        // Who goes first alternates, so neither always finds the cluster busier.
        let previewd_first = number % 2 == 0;
        if !previewd_first {
            baseline.open.push(minimal.open(number, OPENED_SHA).await);
        }
        let opened = payload(gh, "pr-opened", number, OPENED_SHA);
        let timed = driven.drive(gh, &opened, number, "Preview ready").await;
        last_comment_post = Some(tokio::time::Instant::now());
        previewd.answered.push(timed.answered);
        previewd.open.push(timed.commented);
        previewd.phases(&timed);
        if previewd_first {
            baseline.open.push(minimal.open(number, OPENED_SHA).await);
        }
        if !previewd_first {
            baseline.push.push(minimal.push(number, PUSHED_SHA).await);
        }
        let pushed = payload(gh, "pr-synchronize-new-sha", number, PUSHED_SHA);
        let needle = format!("`{}`", &PUSHED_SHA[..7]);
        let timed = driven.drive(gh, &pushed, number, &needle).await;
        previewd.answered.push(timed.answered);
        previewd.push.push(timed.commented);
        if previewd_first {
            baseline.push.push(minimal.push(number, PUSHED_SHA).await);
        }
    }
    // Closing takes the namespace controller ~10 s each: all at once, previewd's then the
    // minimal client's.
    let closes = numbers.clone().map(|number| {
        let closed = payload(gh, "pr-closed-unmerged", number, PUSHED_SHA);
        let driven = &driven;
        async move { driven.drive(gh, &closed, number, "Preview destroyed").await }
    });
    for timed in futures::future::join_all(closes).await {
        previewd.close.push(timed.commented);
    }
    let closes = numbers.clone().map(|number| minimal.close(number));
    baseline.close = futures::future::join_all(closes).await;
    let metrics = driven.metrics().await;
    let rss_kib = memory_kib(driven.pid(), "VmRSS:");
    let writes = gh
        .writes()
        .iter()
        .filter(|r| r.seq >= seen)
        .filter(|r| r.path.starts_with(&format!("/repos/{OWNER}/{REPO}/")))
        .filter(|r| {
            let number = r
                .path
                .rsplit('/')
                .nth(1)
                .and_then(|n| n.parse::<u64>().ok());
            number.is_none_or(|n| numbers.contains(&n))
        })
        .count();
    driven.stop(numbers.clone()).await;
    Run {
        previewd,
        minimal: baseline,
        metrics,
        writes_per_pr: writes as f64 / prs as f64,
        rss_kib,
    }
}

/// A `/proc/<pid>/status` field in KiB.
pub fn memory_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn print_run(index: usize, prs: u64, run: &Run) -> (f64, f64) {
    let (p, m) = (&run.previewd, &run.minimal);
    let open = ratio(&p.open, &m.open);
    let push = ratio(&p.push, &m.push);
    let close = ratio(&p.close, &m.close);
    println!("### Run {index}: {prs} PRs each, interleaved\n");
    println!("| | previewd p50 | p90 | minimal client p50 | p90 | ratio of p50s |");
    println!("|---|---|---|---|---|---|");
    for (label, a, b, r) in [
        ("PR opened → Ready comment", &p.open, &m.open, open),
        ("push → Ready comment", &p.push, &m.push, push),
        (
            "close → namespace gone, comment (all at once)",
            &p.close,
            &m.close,
            close,
        ),
    ] {
        println!(
            "| {label} | {} | {} | {} | {} | {r:.2}× |",
            ms(percentile(a, 0.5)),
            ms(percentile(a, 0.9)),
            ms(percentile(b, 0.5)),
            ms(percentile(b, 0.9)),
        );
    }
    println!("\nWhere previewd's open → Ready comment goes (from its status history):\n");
    println!("| | p50 | p90 |");
    println!("|---|---|---|");
    println!(
        "{}",
        row("webhook answered (202, intent recorded)", &p.answered)
    );
    println!(
        "{}",
        row(
            "delivery → objects applied (status Deploying)",
            &p.to_deploying
        )
    );
    println!(
        "{}",
        row("→ workloads ready (status Ready)", &p.deploying_to_ready)
    );
    println!(
        "{}",
        row("→ Ready comment at GitHub (publisher)", &p.ready_to_comment)
    );
    println!("\nMean time per lifecycle (open, push, close) in each step previewd timed:\n");
    print_steps(&run.metrics, prs);
    println!(
        "\nGitHub writes per lifecycle (open, push, close): {:.1}; previewd RSS after the series: {} MiB\n",
        run.writes_per_pr,
        run.rss_kib / 1024
    );
    (open, push)
}

/// The time of each step previewd timed and of each GitHub call, from its `/metrics`, per PR
/// of `prs`.
pub fn print_steps(metrics: &str, prs: u64) {
    println!("| step | calls per PR | ms per call | ms per PR |");
    println!("|---|---|---|---|");
    let steps = histogram_sums(metrics, "previewd_step_duration_seconds", "step");
    let calls = histogram_sums(
        metrics,
        "previewd_github_api_call_duration_seconds",
        "endpoint",
    );
    let reconciles = histogram_sums(metrics, "previewd_reconcile_duration_seconds", "outcome");
    let labelled = reconciles
        .iter()
        .map(|(outcome, sum, count)| (format!("reconcile ({outcome})"), sum, count))
        .chain(
            steps
                .iter()
                .map(|(step, sum, count)| (step.clone(), sum, count)),
        )
        .chain(
            calls
                .iter()
                .map(|(endpoint, sum, count)| (format!("GitHub {endpoint}"), sum, count)),
        );
    for (label, sum, count) in labelled {
        println!(
            "| {label} | {:.1} | {:.1} | {:.1} |",
            count / prs as f64,
            sum * 1000.0 / count.max(1.0),
            sum * 1000.0 / prs as f64
        );
    }
}

fn arg(n: usize, default: u64) -> u64 {
    std::env::args()
        .nth(n)
        .and_then(|a| a.parse().ok())
        .unwrap_or(default)
}

#[tokio::main]
async fn main() {
    let (prs, live, runs, rate, burst) = (arg(1, 30), arg(2, 0), arg(3, 1), arg(4, 500), arg(5, 0));
    let budget = arg(6, 3);
    let first = 1000 + u64::from(std::process::id() % 100) * 1000;
    let gh = GitHub::start().await;
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let templates = templates::load(&root.join("templates")).expect("templates");
    let minimal = Minimal::new(templates, &gh.url(), GitHub::TOKEN, "bench/minimal").await;
    let mut held = Vec::new();
    for index in 1..=runs {
        eprintln!(
            "bench: run {index} of {runs}: {prs} PRs through previewd and the minimal client"
        );
        let base = first + (index - 1) * prs;
        for number in base..base + prs {
            gh.set_pull(previewd_testkit::github::Pull::new(
                "bench", "minimal", number,
            ));
        }
        let run = run(&gh, &minimal, prs, base).await;
        held.push(print_run(index as usize, prs, &run));
    }
    let holds = |pick: fn(&(f64, f64)) -> f64| held.iter().all(|r| pick(r) <= GOAL);
    if !held.is_empty() {
        println!(
            "Ratios of p50s per run: open {}; push {}. Within {GOAL}× in every run: open {}, push {}.",
            held.iter()
                .map(|r| format!("{:.2}×", r.0))
                .collect::<Vec<_>>()
                .join(", "),
            held.iter()
                .map(|r| format!("{:.2}×", r.1))
                .collect::<Vec<_>>()
                .join(", "),
            if holds(|r| r.0) { "yes" } else { "no" },
            if holds(|r| r.1) { "yes" } else { "no" },
        );
    }
    let after_runs = first + runs * prs;
    if burst > 0 {
        eprintln!("bench: a burst of {burst} PRs, through previewd then the minimal client");
        burst::run(&gh, &minimal, burst, after_runs + 2 * WEBHOOK_NUMBERS).await;
    }
    if rate > 0 {
        eprintln!("bench: webhook answers at {rate} deliveries/s");
        webhooks::run(&gh, after_runs, rate, WEBHOOK_SECONDS).await;
    }
    if budget > 0 {
        eprintln!("bench: GitHub writes of {budget} lifecycles, deployments off and on");
        budget::run(&gh, budget, after_runs + 4 * WEBHOOK_NUMBERS).await;
    }
    if live > 0 {
        eprintln!("bench: {live} previews open at once");
        fleet::run(&gh, live, after_runs + 3 * WEBHOOK_NUMBERS).await;
    }
}
