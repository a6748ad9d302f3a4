//! Deliveries are decided on each replica's own cache of the records (a watch indexed by
//! repository id and PR): a redelivery of what is recorded is answered without a call to the
//! API server, on the leader and on a standby alike; and a cache that lags behind the API
//! server never drops or reverts an intent (deliveries, commands, an open and its close).

use std::time::Duration;

use previewd::model::crd::{Desired, Phase};
use previewd_testkit::metrics::{Scrape, scrape};
use previewd_testkit::previewd::Previewd;
use previewd_testkit::scenario::{Scenario, deliver_to};

const READY: Duration = Duration::from_secs(90);
const GONE: Duration = Duration::from_secs(120);
const NEW_SHA: &str = "d6fde92930d4715a2b49857d24b940956b26d2d3";
/// More than the `records-lag` failpoint's 3 s: its cache has listed by then.
const LISTED_UNDER_LAG: Duration = Duration::from_secs(4);

fn lookups(metrics: &Scrape, source: &str) -> f64 {
    metrics.value("previewd_record_lookups_total", &[("source", source)])
}

#[tokio::test]
async fn a_redelivery_is_answered_from_each_replicas_cache() {
    let s = Scenario::start("cache-hit", |_| {}).await;
    let opened = s.payload("pr-opened", 1);
    s.deliver(&opened).await;
    let ready = s.wait_phase(1, Phase::Ready, None, READY).await;
    let version = ready.metadata.resource_version.clone();

    let mut options = s.previewd.options().clone();
    options.replica = 1;
    let standby = Previewd::start(options).await;
    for replica in [&s.previewd, &standby] {
        let before = scrape(&replica.url).await;
        for _ in 0..20 {
            let answer = deliver_to(replica, &opened, "redelivery").await;
            assert!(answer.body.contains("recorded"), "{}", answer.body);
        }
        let after = scrape(&replica.url).await;
        assert_eq!(
            lookups(&after, "cache") - lookups(&before, "cache"),
            20.0,
            "{}",
            replica.logs()
        );
        assert_eq!(
            lookups(&after, "api_server"),
            lookups(&before, "api_server"),
            "no redelivery asked the API server"
        );
    }
    let now = s.preview(1).await.expect("recorded");
    assert_eq!(
        now.metadata.resource_version, version,
        "40 redeliveries wrote nothing"
    );
}

#[tokio::test]
async fn a_lagging_cache_never_drops_or_reverts_an_intent() {
    let s = Scenario::start("cache-lag", |o| o.failpoint = Some("records-lag".into())).await;
    tokio::time::sleep(LISTED_UNDER_LAG).await;

    // Open, push, and the open again, each before the cache saw the one before: the push is
    // written over the record the cache does not know yet, and the late open does not undo it.
    let opened = s.payload("pr-opened", 1);
    s.deliver(&opened).await;
    s.deliver(&s.payload("pr-synchronize-new-sha", 1)).await;
    let late = s.deliver(&opened).await;
    assert!(late.body.contains("ignored"), "{}", late.body);
    let recorded = s.preview(1).await.expect("recorded");
    assert_eq!(recorded.spec.pull.head_sha, NEW_SHA);
    s.wait_phase(1, Phase::Ready, Some(NEW_SHA), READY).await;

    // Two commands a moment apart: the second is decided on a cache without the first, and
    // its write is refused until decided again on the record that has both.
    let pin = s.maintainer_says(1, "/preview pin").await;
    let status = s.maintainer_says(1, "/preview status").await;
    for command in [pin, status] {
        s.wait_reaction(command, "rocket", READY).await;
    }
    assert!(s.preview(1).await.expect("recorded").spec.pinned);

    // PR 2 opens and closes before the cache knows its record: the close is not ignored as
    // a close "without a preview".
    s.deliver(&s.payload("pr-opened", 2)).await;
    s.deliver(&s.payload("pr-closed-unmerged", 2)).await;
    let closed = s.wait_phase(2, Phase::Destroyed, None, READY).await;
    assert!(matches!(closed.spec.desired, Desired::Destroyed(_)));

    // The close, then the push again while the cache still shows the preview deployed: the
    // push changes nothing there, and the close stands.
    s.deliver(&s.payload("pr-closed-unmerged", 1)).await;
    s.deliver(&s.payload("pr-synchronize-new-sha", 1)).await;
    s.wait_namespace_gone(1, GONE).await;
    let destroyed = s.wait_phase(1, Phase::Destroyed, None, READY).await;
    assert!(matches!(destroyed.spec.desired, Desired::Destroyed(_)));
    assert!(
        s.sticky_comment(1)
            .body
            .contains(NEW_SHA.get(..7).unwrap_or_default()),
        "{}",
        s.sticky_comment(1).body
    );
    let metrics = scrape(&s.previewd.url).await;
    assert!(
        lookups(&metrics, "api_server") >= 2.0,
        "the lag was met by asking the API server:\n{}",
        s.previewd.logs()
    );
}
