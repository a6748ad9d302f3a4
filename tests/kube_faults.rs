//! Kubernetes faults: the API server restarted and etcd paused under a running previewd. Its
//! watches recover and previews converge on what GitHub says. One test in a test binary of its
//! own (not a module of tests/e2e/), since it takes the shared control plane down for a moment
//! and no other test may run meanwhile; cargo runs test binaries one after another.

use std::process::Command;
use std::time::{Duration, Instant};

use previewd::model::crd::Phase;
use previewd_testkit::github::Pull;
use previewd_testkit::scenario::Scenario;

const CONVERGE: Duration = Duration::from_secs(120);
const HEAD_A: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1";
const HEAD_B: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb2";
const HEAD_C: &str = "ccccccccccccccccccccccccccccccccccccccc3";

/// Runs `scripts/cluster.sh <command>` on the cluster the tests use.
fn cluster(command: &str) {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/cluster.sh");
    let out = Command::new(script)
        .arg(command)
        .output()
        .expect("run scripts/cluster.sh");
    assert!(
        out.status.success(),
        "cluster.sh {command}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn previews_converge_after_an_apiserver_restart_and_an_etcd_pause() {
    let s = Scenario::start("kube-faults", |o| o.resync_secs = 2).await;
    let pull = |number: u64, sha: &str| Pull::new(&s.owner, &s.repo, number).head(sha, "feature");
    s.github.set_pull(pull(1, HEAD_A));
    s.wait_phase(1, Phase::Ready, Some(HEAD_A), CONVERGE).await;

    // While the API server restarts, PR 1 is merged and PR 2 opened; no webhook reaches previewd.
    s.github
        .update_pull(&s.owner, &s.repo, 1, |p| *p = p.clone().merged());
    s.github.set_pull(pull(2, HEAD_B));
    let restarted = Instant::now();
    cluster("restart-apiserver");
    let down_for = restarted.elapsed();
    s.wait_phase(2, Phase::Ready, Some(HEAD_B), CONVERGE).await;
    let opened = restarted.elapsed();
    s.wait_namespace_gone(1, CONVERGE).await;
    let after_restart = restarted.elapsed();

    // etcd paused for 5 s while PR 3 opens.
    s.github.set_pull(pull(3, HEAD_C));
    let paused = Instant::now();
    cluster("pause-etcd");
    tokio::time::sleep(Duration::from_secs(5)).await;
    cluster("resume-etcd");
    s.wait_phase(3, Phase::Ready, Some(HEAD_C), CONVERGE).await;
    let after_pause = paused.elapsed();
    println!(
        "apiserver down {:.1} s; PR 2 Ready {:.1} s and PR 1 gone {:.1} s after the restart began; etcd paused 5 s, PR 3 Ready {:.1} s after the pause began",
        down_for.as_secs_f64(),
        opened.as_secs_f64(),
        after_restart.as_secs_f64(),
        after_pause.as_secs_f64()
    );
    // Still one comment per PR.
    for number in [1, 2, 3] {
        s.sticky_comment(number);
    }
}
