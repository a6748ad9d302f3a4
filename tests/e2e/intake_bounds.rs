//! What an outsider can send costs previewd a bounded amount: metric labels come from a fixed
//! set, bodies are read within a size limit and a deadline, deliveries in flight are bounded and
//! the excess refused at once, and a signed delivery that can never succeed gets 4xx, not 503.

use std::time::{Duration, Instant};

use futures::StreamExt;

use previewd::model::crd::Phase;
use previewd_testkit::metrics::scrape;
use previewd_testkit::scenario::Scenario;
use previewd_testkit::webhooks::{Delivery, Signing, Upload};

const READY: Duration = Duration::from_secs(90);
const MIB: usize = 1024 * 1024;

async fn metrics_text(base_url: &str) -> String {
    reqwest::get(format!("{base_url}/metrics"))
        .await
        .expect("GET /metrics")
        .text()
        .await
        .expect("metrics text")
}

/// Deliveries counted in `/metrics` with this `event` and `result`.
async fn delivered(s: &Scenario, event: &str, result: &str) -> f64 {
    scrape(&s.previewd.url).await.value(
        "previewd_webhook_deliveries_total",
        &[("event", event), ("result", result)],
    )
}

#[tokio::test]
async fn random_event_headers_do_not_grow_the_metrics() {
    let s = Scenario::start("intake-labels", |_| {}).await;
    let unsigned = Delivery::new(&s.previewd.webhook_url(), b"").signing(Signing::Unsigned);
    let send_random = |i: usize| {
        let unsigned = unsigned.clone();
        async move {
            let event = format!("evt-{}-{i}", uuid::Uuid::new_v4().simple());
            unsigned.send_raw(&event, b"{}", 1).await.status
        }
    };
    assert_eq!(send_random(0).await, 401);
    let after_one = metrics_text(&s.previewd.url).await;
    // 16 at a time: under the in-flight bound, so each is judged by its signature.
    let statuses: Vec<u16> = futures::stream::iter((1..300).map(send_random))
        .buffer_unordered(16)
        .collect()
        .await;
    assert!(statuses.iter().all(|status| *status == 401), "{statuses:?}");
    let after_many = metrics_text(&s.previewd.url).await;
    // Only the counter's digits differ.
    assert!(
        after_many.len() <= after_one.len() + 2,
        "/metrics grew from {} to {} bytes:\n{after_many}",
        after_one.len(),
        after_many.len()
    );
    assert!(!after_many.contains("evt-"), "{after_many}");
    assert_eq!(delivered(&s, "other", "unauthorized").await, 300.0);
}

#[tokio::test]
async fn slow_uploads_neither_hold_memory_nor_delay_a_signed_delivery() {
    let s = Scenario::start("intake-slow", |_| {}).await;
    let idle = s.previewd.resident_bytes();
    // Twelve unsigned 20 MiB uploads at 256 KiB a second, without a declared length, so each
    // is read until it passes the limit or the deadline.
    let slow = Upload {
        length: 20 * MIB,
        declared: false,
        chunk: 64 * 1024,
        pause: Duration::from_millis(250),
    };
    let uploads: Vec<_> = (0..12)
        .map(|_| tokio::spawn(slow.send(&s.previewd.url)))
        .collect();
    let sampling = async {
        let mut peak = 0;
        for _ in 0..30 {
            peak = peak.max(s.previewd.resident_bytes());
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        peak
    };
    let signed = async {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let started = Instant::now();
        let sent = s.send(&s.payload("pr-opened", 1)).await;
        (sent, started.elapsed())
    };
    let (peak, (sent, took)) = tokio::join!(sampling, signed);
    eprintln!(
        "12 slow uploads: RSS idle {:.1} MiB, peak {:.1} MiB; signed delivery answered in {took:?}",
        idle as f64 / MIB as f64,
        peak as f64 / MIB as f64
    );
    assert_eq!(sent.status, 202, "{}", sent.body);
    assert!(
        took < Duration::from_secs(1),
        "the signed delivery took {took:?}"
    );
    assert!(
        peak < 64 * MIB as u64,
        "RSS peaked at {} MiB (idle {} MiB)",
        peak / MIB as u64,
        idle / MIB as u64
    );
    for upload in uploads {
        let answered = upload.await.expect("upload task");
        assert_eq!(answered.status, 413, "{answered:?}");
        // 1 MiB at 256 KiB a second.
        assert!(answered.after < Duration::from_secs(8), "{answered:?}");
    }
    let declared = Upload {
        pause: Duration::from_secs(1),
        ..Upload::at_once(20 * MIB)
    };
    let answered = declared.send(&s.previewd.url).await;
    assert_eq!(answered.status, 413);
    assert!(answered.after < Duration::from_secs(1), "{answered:?}");
    s.wait_phase(1, Phase::Ready, None, READY).await;
}

#[tokio::test]
async fn a_body_slower_than_githubs_wait_is_cut_off() {
    let s = Scenario::start("intake-deadline", |_| {}).await;
    let trickle = Upload {
        length: 64 * 1024,
        declared: true,
        chunk: 1024,
        pause: Duration::from_millis(500),
    };
    let answered = trickle.send(&s.previewd.url).await;
    assert_eq!(answered.status, 408, "{answered:?}");
    assert!(
        (Duration::from_secs(9)..Duration::from_secs(12)).contains(&answered.after),
        "{answered:?}"
    );
}

#[tokio::test]
async fn deliveries_over_the_in_flight_bound_are_refused_at_once() {
    let s = Scenario::start("intake-busy", |options| {
        options
            .env
            .push(("PREVIEWD_MAX_DELIVERIES_IN_FLIGHT".into(), "3".into()));
    })
    .await;
    let holding = Upload {
        length: 64 * 1024,
        declared: true,
        chunk: 1024,
        pause: Duration::from_millis(100),
    };
    let held: Vec<_> = (0..3)
        .map(|_| tokio::spawn(holding.send(&s.previewd.url)))
        .collect();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let started = Instant::now();
    let refused = s.send(&s.payload("pr-opened", 2)).await;
    assert_eq!(refused.status, 503, "{}", refused.body);
    assert!(started.elapsed() < Duration::from_secs(1));
    for upload in held {
        upload.abort();
    }
    assert_eq!(delivered(&s, "pull_request", "busy").await, 1.0);
    // Room again once the held uploads are gone.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(s.send(&s.payload("pr-opened", 2)).await.status, 202);
}

#[tokio::test]
async fn a_delivery_that_can_never_succeed_gets_4xx_naming_the_field() {
    let s = Scenario::start("intake-invalid", |_| {}).await;
    let huge = s
        .payload("pr-opened", 3)
        .set("/number", serde_json::json!(1u64 << 63));
    let sent = s.send(&huge).await;
    assert_eq!(sent.status, 422, "{}", sent.body);
    assert!(
        sent.body.contains("number: 9223372036854775808"),
        "{}",
        sent.body
    );
    let no_sha = s
        .payload("pr-opened", 3)
        .set("/pull_request/head/sha", serde_json::json!("not-a-sha"));
    let sent = s.send(&no_sha).await;
    assert_eq!(sent.status, 422, "{}", sent.body);
    assert!(sent.body.contains("pull_request.head.sha"), "{}", sent.body);
    let wrong_type = s
        .payload("pr-opened", 3)
        .set("/pull_request/title", serde_json::json!(["a", "list"]));
    let sent = s.send(&wrong_type).await;
    assert_eq!(sent.status, 400, "{}", sent.body);
    assert!(sent.body.contains("pull_request.title"), "{}", sent.body);
    let logs = s.previewd.logs();
    assert!(
        logs.contains("number: 9223372036854775808 is not between 1 and"),
        "{logs}"
    );
    assert!(s.preview(3).await.is_none());
}
