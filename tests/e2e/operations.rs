//! Operating previewd: `/metrics` in the Prometheus text format with counters that move, an
//! Event for every phase change, and the Lease that lets exactly one replica reconcile while
//! every replica takes webhooks.

use std::time::{Duration, Instant};

use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::events::v1::Event;
use kube::Api;
use kube::api::ListParams;
use previewd::leader::lease_name;
use previewd::model::crd::Phase;
use previewd_testkit::github::GitHub;
use previewd_testkit::metrics::{Scrape, scrape};
use previewd_testkit::previewd::Previewd;
use previewd_testkit::scenario::Scenario;
use previewd_testkit::webhooks::{Delivery, Payload, Sent, Upload};

const READY: Duration = Duration::from_secs(90);
const GONE: Duration = Duration::from_secs(90);
const COMMENTS: &str = "POST /repos/{owner}/{repo}/issues/{number}/comments";

async fn deliver_to(previewd: &Previewd, payload: &Payload) -> Sent {
    previewd_testkit::scenario::deliver_to(previewd, payload, "replica").await
}

/// Scrapes `previewd` until `check` holds, for up to 20 s.
async fn scrape_until(previewd: &Previewd, check: impl Fn(&Scrape) -> bool) -> Scrape {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let now = scrape(&previewd.url).await;
        if check(&now) {
            return now;
        }
        assert!(
            Instant::now() < deadline,
            "metrics never matched; last scrape {now:#?}\n{}",
            previewd.logs()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn reconciles(scrape: &Scrape) -> f64 {
    scrape.sum("previewd_reconcile_duration_seconds_count", &[])
}

#[tokio::test]
async fn metrics_and_events_follow_a_lifecycle() {
    let s = Scenario::start("ops-metrics", |_| {}).await;
    let before = scrape_until(&s.previewd, |m| m.value("previewd_leader", &[]) == 1.0).await;
    assert_eq!(before.sum("previewd_webhook_deliveries_total", &[]), 0.0);

    s.deliver(&s.payload("pr-opened", 1)).await;
    s.wait_phase(1, Phase::Ready, None, READY).await;
    let refused = Delivery::new(&s.previewd.webhook_url(), b"not-the-secret")
        .send(&s.payload("pr-opened", 1))
        .await;
    assert_eq!(refused.status, 401);
    // Read while still sending: previewd answers before it reads the body.
    let too_large = Upload::at_once(26 * 1024 * 1024)
        .send(&s.previewd.url)
        .await;
    assert_eq!(too_large.status, 413);
    s.deliver(&s.payload("pr-closed-unmerged", 1)).await;
    s.wait_phase(1, Phase::Destroyed, None, GONE).await;

    let after = scrape_until(&s.previewd, |m| {
        m.value("previewd_previews", &[("phase", "Destroyed")]) == 1.0
    })
    .await;
    let delivered = |result: &str| {
        after.value(
            "previewd_webhook_deliveries_total",
            &[("event", "pull_request"), ("result", result)],
        )
    };
    assert_eq!(delivered("recorded"), 2.0);
    assert_eq!(delivered("unauthorized"), 1.0);
    assert_eq!(delivered("too_large"), 1.0);
    assert!(reconciles(&after) >= 3.0, "{after:#?}");
    assert_eq!(after.value("previewd_leader", &[]), 1.0);
    // previewd counts each GitHub call as the stand-in saw it.
    let path = format!("/repos/{}/issues/1/comments", s.full_name());
    let posted = s.github.requests_to("POST", &path).len() as f64;
    assert_eq!(
        after.sum("previewd_github_api_calls_total", &[("endpoint", COMMENTS)]),
        posted
    );
    assert_eq!(
        after.value(
            "previewd_github_api_calls_total",
            &[("endpoint", COMMENTS), ("status", "201")]
        ),
        1.0
    );
    let remaining = after.value("previewd_github_rate_limit_remaining", &[]);
    assert!(remaining >= 0.0, "rate limit never read: {remaining}");

    // One Event per phase change, about the preview, in previewd's namespace.
    let name = s.preview_name(1);
    let events = Api::<Event>::namespaced(s.kube.clone(), "default")
        .list(&ListParams::default())
        .await
        .expect("list Events");
    let reasons: Vec<String> = events
        .items
        .iter()
        .filter(|e| {
            e.regarding
                .as_ref()
                .is_some_and(|r| r.name.as_deref() == Some(name.as_str()))
        })
        .inspect(|e| {
            assert_eq!(
                e.reporting_controller.as_deref(),
                Some("previewd.dev/controller")
            )
        })
        .filter_map(|e| e.reason.clone())
        .collect();
    for phase in ["Deploying", "Ready", "Destroyed"] {
        assert!(
            reasons.iter().any(|r| r == phase),
            "no {phase} Event among {reasons:?}"
        );
    }
}

#[tokio::test]
async fn only_the_lease_holder_reconciles_and_a_standby_finishes_after_sigkill() {
    let mut s = Scenario::start("ops-ha", |_| {}).await;
    scrape_until(&s.previewd, |m| m.value("previewd_leader", &[]) == 1.0).await;
    let mut options = s.previewd.options().clone();
    options.replica = 1;
    let standby = Previewd::start(options).await;
    let on_standby = scrape(&standby.url).await;
    assert_eq!(on_standby.value("previewd_leader", &[]), 0.0);

    // A delivery to the standby is recorded there and deployed by the leader.
    deliver_to(&standby, &s.payload("pr-opened", 1)).await;
    s.wait_phase(1, Phase::Ready, None, READY).await;
    assert_eq!(reconciles(&scrape(&standby.url).await), 0.0);
    assert!(reconciles(&scrape(&s.previewd.url).await) > 0.0);

    // The leader dies right after creating PR 2's comment: the standby takes over, finishes the
    // deployment and edits that comment instead of posting a second one.
    deliver_to(&standby, &s.payload("pr-opened", 2)).await;
    let path = format!("/repos/{}/issues/2/comments", s.full_name());
    s.github
        .wait_for("PR 2's comment", Duration::from_secs(60), |g| {
            (!g.requests_to("POST", &path).is_empty()).then_some(())
        })
        .await;
    s.previewd.kill();
    let killed = Instant::now();
    scrape_until(&standby, |m| m.value("previewd_leader", &[]) == 1.0).await;
    let took_over = killed.elapsed();
    s.wait_phase(2, Phase::Ready, None, READY).await;
    println!(
        "standby led {:.1} s after the SIGKILL; PR 2 Ready {:.1} s after it",
        took_over.as_secs_f64(),
        killed.elapsed().as_secs_f64()
    );
    assert!(took_over < Duration::from_secs(10), "{took_over:?}");
    for number in [1, 2] {
        let mine = s
            .comments(number)
            .into_iter()
            .filter(|c| c.author == GitHub::LOGIN)
            .count();
        assert_eq!(mine, 1, "PR {number} has {mine} previewd comments");
    }
    assert!(
        s.sticky_comment(2).body.contains("Preview ready"),
        "{}",
        s.sticky_comment(2).body
    );

    // The survivor also tears down.
    deliver_to(&standby, &s.payload("pr-closed-unmerged", 1)).await;
    s.wait_namespace_gone(1, GONE).await;
}

#[tokio::test]
async fn sigterm_finishes_in_flight_work_and_releases_the_lease() {
    let mut s = Scenario::start("ops-term", |_| {}).await;
    scrape_until(&s.previewd, |m| m.value("previewd_leader", &[]) == 1.0).await;
    let mut options = s.previewd.options().clone();
    options.replica = 1;
    let standby = Previewd::start(options).await;

    s.deliver(&s.payload("pr-opened", 1)).await;
    s.wait_phase(1, Phase::Ready, None, READY).await;
    let status = s
        .previewd
        .terminate(Duration::from_secs(20))
        .await
        .expect("previewd exits within 20 s of SIGTERM");
    assert!(status.success(), "exit status {status}");
    assert!(
        s.previewd.logs().contains("lease released"),
        "{}",
        s.previewd.logs()
    );
    let lease = Api::<Lease>::namespaced(s.kube.clone(), "default")
        .get(&lease_name(s.previewd.instance()))
        .await
        .expect("the Lease");
    let holder = lease.spec.and_then(|l| l.holder_identity);
    assert_ne!(
        holder.as_deref(),
        Some(format!("{}-0", s.previewd.instance()).as_str()),
        "the Lease still names the replica that shut down"
    );
    // The standby leads and serves the next change.
    scrape_until(&standby, |m| m.value("previewd_leader", &[]) == 1.0).await;
    deliver_to(&standby, &s.payload("pr-closed-unmerged", 1)).await;
    s.wait_namespace_gone(1, GONE).await;
}
