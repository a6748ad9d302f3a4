//! GitHub writes per lifecycle (open, one push, close; token auth), with GitHub deployments off
//! and on: what each deployed SHA costs on top (issue budget: at most 3 more writes per
//! deployed SHA, i.e. 6 per lifecycle of two SHAs).

use std::time::Duration;

use previewd_testkit::github::GitHub;

use super::driven::{Driven, payload};
use super::{LIMIT, OPENED_SHA, OWNER, PUSHED_SHA, REPO};

/// Writes one series made, by kind.
#[derive(Default)]
struct Writes {
    comments: usize,
    reactions: usize,
    deployments: usize,
}

/// Runs `prs` lifecycles with deployments off, then on, from PR `first`; prints the writes.
pub async fn run(gh: &GitHub, prs: u64, first: u64) {
    println!("### GitHub writes per lifecycle (open, one push, close; {prs} PRs each)\n");
    println!("| | writes per lifecycle | comment writes | deployment writes |");
    println!("|---|---|---|---|");
    let mut per_lifecycle = Vec::new();
    for (label, deployments, from) in [
        ("deployments off", false, first),
        ("deployments on", true, first + prs),
    ] {
        let numbers = from..from + prs;
        let writes = series(gh, numbers, deployments).await;
        let total = writes.comments + writes.reactions + writes.deployments;
        let per = |n: usize| n as f64 / prs as f64;
        println!(
            "| {label} | {:.1} | {:.1} | {:.1} |",
            per(total),
            per(writes.comments),
            per(writes.deployments)
        );
        per_lifecycle.push(per(total));
    }
    if let [off, on] = per_lifecycle[..] {
        println!(
            "\nDeployments on cost {:.1} more writes per deployed SHA (two SHAs per lifecycle; budget 3).\n",
            (on - off) / 2.0
        );
    }
}

/// One series: open, push, close each PR of `numbers` in turn; the writes made for them.
async fn series(gh: &GitHub, numbers: std::ops::Range<u64>, deployments: bool) -> Writes {
    let name = if deployments {
        "deploy-on"
    } else {
        "deploy-off"
    };
    let repository = if deployments {
        "    deployments: true\n"
    } else {
        ""
    };
    let driven = Driven::start_serving(gh, name, 1, &[], repository).await;
    let seen = gh.requests().len() as u64;
    for number in numbers.clone() {
        let opened = payload(gh, "pr-opened", number, OPENED_SHA);
        driven.drive(gh, &opened, number, "Preview ready").await;
        let pushed = payload(gh, "pr-synchronize-new-sha", number, PUSHED_SHA);
        let needle = format!("`{}`", &PUSHED_SHA[..7]);
        driven.drive(gh, &pushed, number, &needle).await;
        let closed = payload(gh, "pr-closed-unmerged", number, PUSHED_SHA);
        driven.drive(gh, &closed, number, "Preview destroyed").await;
    }
    if deployments {
        settled(gh, (numbers.end - numbers.start) as usize).await;
    }
    let mut writes = Writes::default();
    for request in gh.writes().into_iter().filter(|r| r.seq >= seen) {
        let path = request.path.as_str();
        if !path.starts_with(&format!("/repos/{OWNER}/{REPO}/")) {
            continue;
        }
        match () {
            _ if path.contains("/deployments") => writes.deployments += 1,
            _ if path.contains("/reactions") => writes.reactions += 1,
            _ => writes.comments += 1,
        }
    }
    driven.stop(numbers).await;
    writes
}

/// Waits until the last deployment of each of `prs` PRs was made inactive (the publisher sends
/// it after the Destroyed comment).
async fn settled(gh: &GitHub, prs: usize) {
    let start = tokio::time::Instant::now();
    while start.elapsed() < LIMIT {
        let inactive = gh
            .deployments(OWNER, REPO)
            .iter()
            .filter(|d| {
                gh.deployment_statuses(d.id)
                    .last()
                    .is_some_and(|s| s.state == "inactive")
            })
            .count();
        if inactive >= 2 * prs {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
