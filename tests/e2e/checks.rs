//! Gating on CI (repository setting `checks`): a commit deploys only once every gated check
//! passed. A first deploy waits and says what for; a running preview keeps its SHA while the
//! next one's checks run or after one failed; a check that never appears times out; a
//! maintainer's `/preview deploy --force` deploys the head now. Driven by `check_run` and
//! `status` deliveries (the recheck is set far off, so only they wake previewd), and, in the
//! polling mode, by reading the checks again.

use std::time::Duration;

use previewd::model::checks::ChecksOutcome;
use previewd::model::crd::{Phase, PreviewEnvironment};
use previewd_testkit::github::{CI_APP_ID, Pull, Required};
use previewd_testkit::previewd::Options;
use previewd_testkit::scenario::Scenario;

const READY: Duration = Duration::from_secs(90);
const QUICK: Duration = Duration::from_secs(30);
const OLD_SHA: &str = "ec26c3e57ca3a959ca5aad62de7213c562f8c821";
const NEW_SHA: &str = "d6fde92930d4715a2b49857d24b940956b26d2d3";

/// A scenario whose repository gates on `checks`, where only deliveries wake a wait.
async fn gated(
    prefix: &str,
    settings: serde_json::Value,
    adjust: impl FnOnce(&mut Options),
) -> Scenario {
    Scenario::start(prefix, |o| {
        o.repository_settings = settings;
        o.env
            .push(("PREVIEWD_CHECKS_RECHECK_SECS".into(), "600".into()));
        adjust(o);
    })
    .await
}

/// Waits until PR `number`'s record waits on `sha`'s checks with `outcome`, its comment sent.
async fn wait_checks(
    s: &Scenario,
    number: u64,
    sha: &str,
    outcome: ChecksOutcome,
) -> PreviewEnvironment {
    s.wait_preview(number, &format!("{outcome:?} on {sha}"), QUICK, |pe| {
        pe.status.as_ref().is_some_and(|st| {
            st.published()
                && st
                    .checks
                    .as_ref()
                    .is_some_and(|c| c.sha == sha && c.outcome == outcome)
        })
    })
    .await
}

/// The SHAs PR `number`'s preview ever deployed, from its history.
fn deployed_shas(pe: &PreviewEnvironment) -> Vec<String> {
    let status = pe.status.as_ref().unwrap();
    let mut shas: Vec<String> = status
        .history
        .iter()
        .filter_map(|h| h.sha.clone())
        .collect();
    shas.dedup();
    shas
}

#[tokio::test]
async fn a_first_deploy_waits_a_failed_check_blocks_and_a_passing_push_deploys() {
    let s = gated(
        "checks-first",
        serde_json::json!({"checks": ["build"]}),
        |_| {},
    )
    .await;
    s.deliver(&s.payload("pr-opened", 1)).await;
    let waiting = s.wait_phase(1, Phase::Pending, None, READY).await;
    assert!(waiting.status.unwrap().checks.is_some());
    let body = s.wait_comment(1, "`build`: not created yet").await;
    assert!(body.contains("⏳ Preview pending"), "{body}");
    assert!(s.namespace(1).await.is_none(), "nothing deploys before CI");

    let (run, sent) = s.start_check(OLD_SHA, "build").await;
    assert!(sent.body.contains("woken"), "{}", sent.body);
    s.wait_comment(1, "`build`: running").await;
    s.conclude_check((run, "build", OLD_SHA), "failure").await;
    wait_checks(&s, 1, OLD_SHA, ChecksOutcome::Failed).await;
    let body = s
        .wait_comment(
            1,
            &format!(
                "`build`: failure ([details](https://github.com/{}/runs/{run}))",
                s.full_name()
            ),
        )
        .await;
    assert!(body.contains("a check failed"), "{body}");
    assert!(s.namespace(1).await.is_none());

    // A push: its own checks are awaited; they pass and it deploys.
    s.deliver(&s.payload("pr-synchronize-new-sha", 1)).await;
    wait_checks(&s, 1, NEW_SHA, ChecksOutcome::Waiting).await;
    let (run, _) = s.start_check(NEW_SHA, "build").await;
    s.conclude_check((run, "build", NEW_SHA), "success").await;
    let ready = s.wait_phase(1, Phase::Ready, Some(NEW_SHA), READY).await;
    assert_eq!(ready.status.as_ref().unwrap().checks, None);
    assert_eq!(deployed_shas(&ready), [NEW_SHA], "the failed SHA never ran");
    // previewd read the checks of each SHA; it wrote nothing about them.
    let reads: Vec<String> = s
        .github
        .requests()
        .into_iter()
        .filter(|r| r.path.contains("/check-runs") || r.path.contains("/status"))
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    for sha in [OLD_SHA, NEW_SHA] {
        assert!(
            reads
                .iter()
                .any(|r| r == &format!("GET /repos/{}/commits/{sha}/check-runs", s.full_name())),
            "{reads:#?}"
        );
    }
    assert!(reads.iter().all(|r| r.starts_with("GET ")), "{reads:#?}");
}

#[tokio::test]
async fn a_push_while_checks_run_keeps_the_old_sha_serving() {
    let s = gated(
        "checks-push",
        serde_json::json!({"checks": ["build"]}),
        |_| {},
    )
    .await;
    s.deliver(&s.payload("pr-opened", 2)).await;
    let (run, _) = s.start_check(OLD_SHA, "build").await;
    s.conclude_check((run, "build", OLD_SHA), "success").await;
    s.wait_phase(2, Phase::Ready, Some(OLD_SHA), READY).await;

    s.deliver(&s.payload("pr-synchronize-new-sha", 2)).await;
    let (run, _) = s.start_check(NEW_SHA, "build").await;
    let held = wait_checks(&s, 2, NEW_SHA, ChecksOutcome::Waiting).await;
    let status = held.status.unwrap();
    assert_eq!(
        (status.phase, status.deployed_sha.as_deref()),
        (Phase::Ready, Some(OLD_SHA)),
        "the old SHA keeps serving"
    );
    let body = s.wait_comment(2, "deploys when its checks pass").await;
    assert!(body.contains("✅ Preview ready"), "{body}");
    let image = s.web_image(2).await;
    assert!(image.ends_with(OLD_SHA), "{image}");

    s.conclude_check((run, "build", NEW_SHA), "success").await;
    s.wait_phase(2, Phase::Ready, Some(NEW_SHA), READY).await;
}

#[tokio::test]
async fn a_check_that_never_appears_times_out_and_deploys_nothing() {
    let s = gated(
        "checks-timeout",
        serde_json::json!({"checks": ["build"], "checksTimeout": "3s"}),
        |_| {},
    )
    .await;
    s.deliver(&s.payload("pr-opened", 3)).await;
    wait_checks(&s, 3, OLD_SHA, ChecksOutcome::Waiting).await;
    let timed_out = wait_checks(&s, 3, OLD_SHA, ChecksOutcome::TimedOut).await;
    let message = timed_out.status.unwrap().message.unwrap();
    assert!(
        message.starts_with("checks did not finish within 3s: build (not created yet)"),
        "{message}"
    );
    s.wait_comment(3, "its checks did not finish in time").await;
    // Given up: a check appearing now wakes nothing.
    let (_, sent) = s.start_check(OLD_SHA, "build").await;
    assert!(sent.body.contains("no preview waits"), "{}", sent.body);
    assert!(s.namespace(3).await.is_none());
}

#[tokio::test]
async fn a_forced_deploy_runs_the_head_without_its_checks() {
    let s = gated(
        "checks-force",
        serde_json::json!({"checks": ["build"]}),
        |_| {},
    )
    .await;
    s.deliver(&s.payload("pr-opened", 4)).await;
    wait_checks(&s, 4, OLD_SHA, ChecksOutcome::Waiting).await;
    let id = s.maintainer_says(4, "/preview deploy --force").await;
    s.wait_phase(4, Phase::Ready, Some(OLD_SHA), READY).await;
    s.wait_reaction(id, "rocket", QUICK).await;
    let body = s
        .wait_comment(4, "without waiting for its CI checks (`--force`)")
        .await;
    assert!(body.contains("`/preview deploy --force`"), "{body}");
    assert!(s.github.check_runs(&s.owner, &s.repo).is_empty());
    // The next push waits for its checks again, the forced SHA serving meanwhile.
    s.deliver(&s.payload("pr-synchronize-new-sha", 4)).await;
    let held = wait_checks(&s, 4, NEW_SHA, ChecksOutcome::Waiting).await;
    assert_eq!(held.status.unwrap().deployed_sha.as_deref(), Some(OLD_SHA));
}

#[tokio::test]
async fn required_checks_come_from_the_base_branch_rules_and_protection() {
    let s = gated(
        "checks-required",
        serde_json::json!({"checks": "required"}),
        |_| {},
    )
    .await;
    s.github.require_checks(
        &s.owner,
        &s.repo,
        "master",
        Required {
            protection: vec![("build".into(), Some(CI_APP_ID))],
            rules: vec![("ci/jenkins".into(), None)],
        },
    );
    let opened = s.payload("pr-opened", 5);
    assert_eq!(
        opened.str("/pull_request/base/ref").as_deref(),
        Some("master")
    );
    s.deliver(&opened).await;
    let waiting = wait_checks(&s, 5, OLD_SHA, ChecksOutcome::Waiting).await;
    let names: Vec<String> = waiting
        .status
        .unwrap()
        .checks
        .unwrap()
        .checks
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert_eq!(names, ["ci/jenkins", "build"]);
    s.set_status(OLD_SHA, "ci/jenkins", "success").await;
    let (run, _) = s.start_check(OLD_SHA, "build").await;
    s.conclude_check((run, "build", OLD_SHA), "success").await;
    s.wait_phase(5, Phase::Ready, Some(OLD_SHA), READY).await;
}

#[tokio::test]
async fn the_polling_mode_reads_checks_with_no_webhook() {
    let s = Scenario::start("checks-polling", |o| {
        o.polling = true;
        o.resync_secs = 1;
        o.repository_settings = serde_json::json!({"checks": ["build"]});
        o.env
            .push(("PREVIEWD_CHECKS_RECHECK_SECS".into(), "1".into()));
    })
    .await;
    s.github
        .set_pull(Pull::new(&s.owner, &s.repo, 6).head(OLD_SHA, "feature/a"));
    wait_checks(&s, 6, OLD_SHA, ChecksOutcome::Waiting).await;
    let run = s.start_check_quietly(OLD_SHA, "build");
    s.github.conclude_check_run(run, "success");
    s.wait_phase(6, Phase::Ready, Some(OLD_SHA), READY).await;
}
