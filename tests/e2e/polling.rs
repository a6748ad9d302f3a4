//! The polling mode, for clusters GitHub cannot deliver webhooks to: no webhook secret (every
//! delivery is refused), and the resync alone opens, runs `/preview` commands written as
//! comments, and tears down, each within a round; idle rounds cost only `304`s.

use std::time::{Duration, Instant};

use previewd::model::crd::{Desired, DestroyReason, Phase};
use previewd_testkit::github::Pull;
use previewd_testkit::scenario::Scenario;

const READY: Duration = Duration::from_secs(90);
const HEAD: &str = "ec26c3e57ca3a959ca5aad62de7213c562f8c821";
const ROUND_SECS: u64 = 1;

/// Waits until PR `number`'s record asks for `desired`.
async fn wait_desired(s: &Scenario, number: u64, desired: Desired) {
    let deadline = Instant::now() + READY;
    while s.preview(number).await.map(|pe| pe.spec.desired) != Some(desired.clone()) {
        assert!(
            Instant::now() < deadline,
            "never {desired:?}\n{}",
            s.previewd.logs()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn open_comment_commands_and_close_work_with_no_webhook_at_all() {
    let s = Scenario::start("polling", |o| {
        o.polling = true;
        o.resync_secs = ROUND_SECS;
    })
    .await;
    let refused = s.send(&s.payload("pr-opened", 1)).await;
    assert_eq!(refused.status, 401, "{}", refused.body);
    assert!(refused.body.contains("polling"), "{}", refused.body);

    let opened = Instant::now();
    s.github
        .set_pull(Pull::new(&s.owner, &s.repo, 1).head(HEAD, "feature/a"));
    s.wait_phase(1, Phase::Ready, Some(HEAD), READY).await;
    println!("opened → Ready in {:?}", opened.elapsed());
    s.github
        .set_permission(&s.owner, &s.repo, "maintainer", "write");

    // A command on the PR, one in a code block, and one on another issue: only the first runs.
    let commented = Instant::now();
    s.github.seed_comment(
        &s.owner,
        &s.repo,
        1,
        "maintainer",
        "```\n/preview deploy\n```",
    );
    let command = s
        .github
        .seed_comment(&s.owner, &s.repo, 1, "maintainer", "/preview destroy");
    s.github
        .seed_comment(&s.owner, &s.repo, 99, "maintainer", "/preview destroy");
    wait_desired(&s, 1, Desired::Destroyed(DestroyReason::Requested)).await;
    println!("/preview destroy → recorded in {:?}", commented.elapsed());
    let destroyed = s.wait_phase(1, Phase::Destroyed, None, READY).await;
    println!("/preview destroy → Destroyed in {:?}", commented.elapsed());
    assert_eq!(
        destroyed.spec.desired,
        Desired::Destroyed(DestroyReason::Requested)
    );
    s.wait_namespace_gone(1, READY).await;
    s.github
        .wait_for("the command's reaction", READY, |g| {
            (!g.reactions(command).is_empty()).then_some(())
        })
        .await;

    // The same comment is never run twice: a deploy brings the preview back, and it stays.
    s.github
        .seed_comment(&s.owner, &s.repo, 1, "maintainer", "/preview deploy");
    s.wait_phase(1, Phase::Ready, Some(HEAD), READY).await;
    tokio::time::sleep(Duration::from_secs(3 * ROUND_SECS)).await;
    assert_eq!(s.preview(1).await.unwrap().spec.desired, Desired::Deployed);

    // Idle rounds ask twice per repository (the list, the comments), both answered 304.
    let mark = s.github.requests().len();
    tokio::time::sleep(Duration::from_secs(4 * ROUND_SECS)).await;
    let idle: Vec<_> = s.github.requests().into_iter().skip(mark).collect();
    let feed = format!("/repos/{}/issues/comments", s.full_name());
    let list = format!("/repos/{}/pulls", s.full_name());
    let reads: Vec<_> = idle
        .iter()
        .filter(|r| r.path == feed || r.path == list)
        .collect();
    assert!(reads.len() >= 4, "{idle:#?}");
    assert!(
        reads.iter().all(|r| r.status == Some(304)),
        "an idle round costs no rate limit: {reads:#?}"
    );
    assert_eq!(
        reads.iter().filter(|r| r.path == feed).count(),
        reads.iter().filter(|r| r.path == list).count()
    );

    // Closed on GitHub: the next round asks, and the preview goes.
    let closing = Instant::now();
    s.github
        .update_pull(&s.owner, &s.repo, 1, |p| *p = p.clone().closed());
    wait_desired(&s, 1, Desired::Destroyed(DestroyReason::Closed)).await;
    println!("closed → recorded in {:?}", closing.elapsed());
    s.wait_phase(1, Phase::Destroyed, None, READY).await;
    s.wait_namespace_gone(1, READY).await;
    println!("closed → Destroyed in {:?}", closing.elapsed());
    let comments = s.comments(1);
    assert_eq!(
        comments
            .iter()
            .filter(|c| c.author == previewd_testkit::github::GitHub::LOGIN)
            .count(),
        1,
        "{comments:#?}"
    );
}
