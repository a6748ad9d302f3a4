//! Deliveries carry GitHub's headers and signatures, byte for byte.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use previewd::github::webhook;
use serde_json::Value;

use previewd_testkit::github::repo_id;
use previewd_testkit::webhooks::{Delivery, Signing, sha1_signature, variant};

#[test]
fn signatures_match_githubs_documented_vector() {
    // docs.github.com, "Validating webhook deliveries".
    let sha256 = previewd::github::webhook::signature_header(
        b"It's a Secret to Everybody",
        b"Hello, World!",
    );
    assert_eq!(
        sha256,
        "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    );
    // The legacy header: HMAC-SHA1 of the same input (as Python's hmac module computes it).
    assert_eq!(
        sha1_signature(b"It's a Secret to Everybody", b"Hello, World!"),
        "sha1=01dc10d0c83e72ed246219cdd91669667fe2ca59"
    );
}

type Seen = Arc<Mutex<Vec<(HeaderMap, Bytes)>>>;

/// A receiver that records what it gets and answers 202.
async fn receiver() -> (String, Seen) {
    let seen: Seen = Arc::default();
    let app = Router::new()
        .route(
            "/hook",
            post(
                |State(seen): State<Seen>, headers: HeaderMap, body: Bytes| async move {
                    seen.lock().unwrap().push((headers, body));
                    (StatusCode::ACCEPTED, "queued")
                },
            ),
        )
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, seen)
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .unwrap_or_else(|| panic!("no {name}"))
        .to_str()
        .unwrap()
}

#[tokio::test]
async fn deliveries_carry_every_header_github_sends() {
    let (url, seen) = receiver().await;
    let secret = b"webhook-secret";
    let payload = variant("pr-opened").repo("acme", "shop").number(3);
    let sent = Delivery::new(&url, secret).send(&payload).await;
    assert_eq!((sent.status, sent.body.as_str()), (202, "queued"));
    Delivery::new(&url, secret).send(&payload).await;

    let seen = seen.lock().unwrap().clone();
    let (headers, body) = &seen[0];
    assert_eq!(
        body.as_ref(),
        payload.bytes_sent_now().as_slice(),
        "the body goes out byte for byte (its times moved to the present)"
    );
    assert_eq!(header(headers, "x-github-event"), "pull_request");
    assert_eq!(header(headers, "x-github-delivery"), sent.delivery_id);
    assert!(uuid::Uuid::parse_str(&sent.delivery_id).is_ok(), "a GUID");
    assert_ne!(
        header(&seen[1].0, "x-github-delivery"),
        sent.delivery_id,
        "a new GUID per send"
    );
    assert!(header(headers, "x-github-hook-id").parse::<u64>().is_ok());
    assert_eq!(
        header(headers, "x-github-hook-installation-target-id"),
        repo_id("acme/shop").to_string()
    );
    assert_eq!(
        header(headers, "x-github-hook-installation-target-type"),
        "repository"
    );
    let agent = header(headers, "user-agent");
    let version = agent
        .strip_prefix("GitHub-Hookshot/")
        .expect("Hookshot user agent");
    assert!(
        version.len() == 7 && version.chars().all(|c| c.is_ascii_hexdigit()),
        "{agent}"
    );
    assert_eq!(header(headers, "content-type"), "application/json");
    assert!(webhook::signature_is_valid(
        secret,
        body,
        header(headers, "x-hub-signature-256")
    ));
    assert_eq!(
        header(headers, "x-hub-signature"),
        sha1_signature(secret, body)
    );
}

#[tokio::test]
async fn deliveries_can_be_unsigned_wrongly_signed_sha1_only_or_redelivered() {
    let (url, seen) = receiver().await;
    let secret = b"webhook-secret";
    let payload = variant("pr-closed-merged");
    for signing in [
        Signing::Unsigned,
        Signing::WrongSecret,
        Signing::Sha1Only,
        Signing::Sha256Only,
    ] {
        Delivery::new(&url, secret)
            .signing(signing)
            .send(&payload)
            .await;
    }
    let fixed = "72d3162e-cc78-11e3-81ab-4c9367dc0958";
    let redelivery = Delivery::new(&url, secret).id(fixed);
    assert_eq!(redelivery.send(&payload).await.delivery_id, fixed);
    redelivery.send_raw("pull_request", b"{not json", 1).await;

    let seen = seen.lock().unwrap().clone();
    let has = |i: usize, name: &str| seen[i].0.contains_key(name);
    assert!(
        !has(0, "x-hub-signature-256") && !has(0, "x-hub-signature"),
        "unsigned"
    );
    assert!(
        !webhook::signature_is_valid(
            secret,
            &seen[1].1,
            header(&seen[1].0, "x-hub-signature-256")
        ),
        "wrong secret"
    );
    assert_ne!(
        header(&seen[1].0, "x-hub-signature"),
        sha1_signature(secret, &seen[1].1)
    );
    assert!(
        has(2, "x-hub-signature") && !has(2, "x-hub-signature-256"),
        "sha1 only"
    );
    assert!(
        has(3, "x-hub-signature-256") && !has(3, "x-hub-signature"),
        "sha256 only"
    );
    assert_eq!(header(&seen[4].0, "x-github-delivery"), fixed);
    assert_eq!(seen[5].1.as_ref(), b"{not json");
    assert!(webhook::signature_is_valid(
        secret,
        &seen[5].1,
        header(&seen[5].0, "x-hub-signature-256")
    ));
    let body: Value = serde_json::from_slice(&seen[4].1).unwrap();
    assert_eq!(body["pull_request"]["merged"], true);
}
