//! The outbox: what previewd says on GitHub goes out from the PreviewEnvironment's status, not
//! from inside a reconcile. A slow GitHub never holds a deployment back, and a restart while a
//! comment is on its way loses nothing and never posts it twice.

use std::time::{Duration, Instant};

use previewd::model::crd::Phase;
use previewd_testkit::github::{Fault, Targeted};
use previewd_testkit::metrics::scrape;
use previewd_testkit::scenario::Scenario;

const READY: Duration = Duration::from_secs(90);
const NEW_SHA: &str = "d6fde92930d4715a2b49857d24b940956b26d2d3";
/// How long the stand-in holds each comment POST's answer (the comment is created at once).
const HOLD: Duration = Duration::from_secs(8);

fn comments_path(s: &Scenario, number: u64) -> String {
    format!("/repos/{}/issues/{number}/comments", s.full_name())
}

/// Waits until PR `number`'s status says Ready, whatever the comment says yet.
async fn wait_ready_in_cluster(s: &Scenario, number: u64) {
    let deadline = Instant::now() + READY;
    loop {
        let phase = s
            .preview(number)
            .await
            .and_then(|pe| pe.status)
            .map(|st| st.phase);
        if phase == Some(Phase::Ready) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "PR {number} never Ready\n{}",
            s.previewd.logs()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn slow_comments_do_not_hold_deployments_back() {
    let s = Scenario::start("outbox-slow", |_| {}).await;
    let numbers = [1, 2, 3];
    for number in numbers {
        s.github.inject(
            Fault::Slow(HOLD)
                .times(1)
                .on("POST", &comments_path(&s, number)),
        );
    }
    let sent = Instant::now();
    for number in numbers {
        s.deliver(&s.payload("pr-opened", number)).await;
    }
    for number in numbers {
        wait_ready_in_cluster(&s, number).await;
    }
    let all_ready = sent.elapsed();
    for number in numbers {
        s.wait_phase(number, Phase::Ready, None, READY).await;
    }
    let all_said = sent.elapsed();
    println!(
        "three previews Ready in the cluster after {all_ready:?}, all said on GitHub after {all_said:?}"
    );
    // Each POST's answer is held; the deployments did not wait for any of them.
    assert!(all_said >= HOLD, "{all_said:?}");
    assert!(
        all_ready < HOLD,
        "a deployment waited for a comment: Ready after {all_ready:?}"
    );
    for number in numbers {
        let comment = s.sticky_comment(number);
        assert!(comment.body.contains("Preview ready"), "{}", comment.body);
        let posts = s.github.requests_to("POST", &comments_path(&s, number));
        assert_eq!(posts.len(), 1, "{posts:#?}");
    }
}

#[tokio::test]
async fn a_restart_while_a_comment_is_on_its_way_posts_it_once() {
    let mut s = Scenario::start("outbox-restart", |_| {}).await;
    let path = comments_path(&s, 7);
    s.github.inject(
        Fault::Slow(Duration::from_secs(30))
            .times(1)
            .on("POST", &path),
    );
    s.deliver(&s.payload("pr-opened", 7)).await;
    // Ready in the cluster, the comment created on GitHub but its answer not yet back.
    wait_ready_in_cluster(&s, 7).await;
    let deadline = Instant::now() + READY;
    while s.comments(7).is_empty() {
        assert!(Instant::now() < deadline, "{}", s.previewd.logs());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let status = s.preview(7).await.unwrap().status.unwrap();
    assert_eq!(status.comment_id, None, "the answer is still held");
    assert!(!status.published(), "the outbox still holds the comment");

    s.previewd.restart(None).await;
    let ready = s.wait_phase(7, Phase::Ready, None, READY).await;
    let comment = s.sticky_comment(7);
    assert!(comment.body.contains("Preview ready"), "{}", comment.body);
    assert_eq!(ready.status.unwrap().comment_id, Some(comment.id));
    assert_eq!(
        s.github.requests_to("POST", &path).len(),
        1,
        "found again by its marker, not posted again"
    );
}

/// How many times previewd took `step`, from its `/metrics`.
async fn steps_taken(s: &Scenario, step: &str) -> f64 {
    scrape(&s.previewd.url)
        .await
        .value("previewd_step_duration_seconds_count", &[("step", step)])
}

#[tokio::test]
async fn a_deploy_under_way_is_read_again_not_applied_again() {
    let s = Scenario::start("outbox-recheck", |_| {}).await;
    s.deliver(&s.payload("pr-opened", 9)).await;
    s.wait_phase(9, Phase::Ready, None, READY).await;
    // Applied once; the Deployment's watch woke the preview until it was Ready, and each
    // wake-up read the workloads only (`workloads_read` counts those reads, taken in place of
    // an apply; at least the wake-up that found it Ready took one). A Ready preview is applied
    // again on each wake-up (that puts drift back), so the applies after Ready depend on how
    // many status changes the Deployment still makes and are not counted here.
    let read = steps_taken(&s, "workloads_read").await;
    assert!(read >= 1.0, "{read}");
    let applied = steps_taken(&s, "objects_apply").await;
    s.deliver(&s.payload("pr-synchronize-new-sha", 9)).await;
    s.wait_phase(9, Phase::Ready, Some(NEW_SHA), READY).await;
    assert!(
        steps_taken(&s, "objects_apply").await > applied,
        "a push applies"
    );
    assert!(
        steps_taken(&s, "workloads_read").await > read,
        "its rollout is read"
    );
}

#[tokio::test]
async fn reconciles_decide_on_the_cached_record_once_it_holds_their_last_status_write() {
    let s = Scenario::start("outbox-written", |_| {}).await;
    s.deliver(&s.payload("pr-opened", 10)).await;
    s.wait_phase(10, Phase::Ready, None, READY).await;
    s.deliver(&s.payload("pr-synchronize-new-sha", 10)).await;
    s.wait_phase(10, Phase::Ready, Some(NEW_SHA), READY).await;
    let metrics = scrape(&s.previewd.url).await;
    let reconciles = metrics.sum("previewd_reconcile_duration_seconds_count", &[]);
    let read = steps_taken(&s, "reconcile_read").await;
    assert!(
        read < reconciles,
        "every one of {reconciles} reconciles read its record ({read}): none was decided on \
         the cached record"
    );
}
