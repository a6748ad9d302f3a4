//! The webhook fixtures are what they claim: real upstream payloads changed only at the listed
//! pointers, re-targetable at any PR, and delivered with exactly GitHub's headers and signatures.

mod support;

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use previewd::github::webhook::{self, PullAction, PullRequestEvent, WebhookEvent};
use serde_json::{Value, json};
use support::github::repo_id;
use support::webhooks::{
    Delivery, Payload, Signing, diff_pointers, example, example_at, example_nth, examples,
    sha1_signature, variant, variant_names, variant_spec,
};

/// The variants tests rely on; more may be added.
const REQUIRED_VARIANTS: [&str; 7] = [
    "issue-comment-on-pr",
    "pr-closed-merged",
    "pr-closed-unmerged",
    "pr-opened",
    "pr-opened-fork",
    "pr-reopened",
    "pr-synchronize-new-sha",
];

fn pull_event(payload: &Payload) -> PullRequestEvent {
    match webhook::parse(&payload.event, &payload.bytes()).expect("previewd parses it") {
        WebhookEvent::PullRequest(event) => event,
        other => panic!("not a pull request event: {other:?}"),
    }
}

/// Whether `pointer` is `listed` or lies inside it.
fn covered(pointer: &str, listed: &str) -> bool {
    pointer == listed || pointer.starts_with(&format!("{listed}/"))
}

#[test]
fn upstream_examples_load_by_event_action_and_index() {
    assert!(examples("pull_request").len() > 20);
    let opened = example("pull_request", "opened");
    assert_eq!(opened["action"], "opened");
    assert_eq!(opened, examples("pull_request")[0]);
    assert_eq!(example_at("pull_request", 0), opened);
    let second_closed = example_nth("pull_request", "closed", 1);
    assert_eq!(second_closed["action"], "closed");
    assert_ne!(second_closed, example("pull_request", "closed"));
    assert!(example("issue_comment", "created")["comment"]["body"].is_string());
    let payload = Payload::example("pull_request", "synchronize");
    assert_eq!(
        (payload.event.as_str(), payload.json["action"].clone()),
        ("pull_request", json!("synchronize"))
    );
    assert!(payload.patches.is_empty());
}

#[test]
fn every_variant_differs_from_its_base_only_where_it_says() {
    let names = variant_names();
    for required in REQUIRED_VARIANTS {
        assert!(
            names.iter().any(|n| n == required),
            "fixtures/variants/{required}.json is missing"
        );
    }
    for name in &names {
        let spec = variant_spec(name);
        assert!(spec.why.len() > 40, "{name}: say why");
        let base = spec.base_payload();
        assert_eq!(base.json["action"], spec.base.action.as_str(), "{name}");
        let patched = variant(name);
        assert_eq!(patched.event, spec.base.event);
        let changed = diff_pointers(&base.json, &patched.json);
        for pointer in &changed {
            assert!(
                spec.set.keys().any(|listed| covered(pointer, listed)),
                "{name}: {pointer} changed but is not listed"
            );
        }
        for (listed, value) in &spec.set {
            assert_eq!(patched.get(listed), Some(value), "{name}: {listed}");
            assert!(
                changed.iter().any(|p| covered(p, listed)),
                "{name}: {listed} is set to what it already was"
            );
        }
    }
}

#[test]
fn variants_mean_what_their_names_say() {
    let opened = pull_event(&variant("pr-opened"));
    assert_eq!(opened.action, PullAction::Opened);
    assert!(!opened.fork && opened.open);

    let fork = variant("pr-opened-fork");
    let fork_event = pull_event(&fork);
    assert!(fork_event.fork);
    assert_eq!(fork.json["pull_request"]["head"]["repo"]["fork"], true);
    assert_ne!(
        fork.json["pull_request"]["head"]["repo"]["full_name"],
        fork.json["repository"]["full_name"]
    );
    assert_eq!(fork_event.author, "octo-forker");

    let sync = pull_event(&variant("pr-synchronize-new-sha"));
    assert_eq!(sync.action, PullAction::Synchronize);
    assert_ne!(sync.head_sha, opened.head_sha);
    assert_eq!(
        variant("pr-synchronize-new-sha").json["before"].as_str(),
        Some(opened.head_sha.as_str())
    );
    assert_eq!(
        variant("pr-synchronize-new-sha").json["after"].as_str(),
        Some(sync.head_sha.as_str())
    );

    let merged = pull_event(&variant("pr-closed-merged"));
    assert_eq!(
        (merged.action, merged.open),
        (PullAction::Closed { merged: true }, false)
    );
    let unmerged = pull_event(&variant("pr-closed-unmerged"));
    assert_eq!(
        (unmerged.action, unmerged.open),
        (PullAction::Closed { merged: false }, false)
    );
    let reopened = pull_event(&variant("pr-reopened"));
    assert_eq!(
        (reopened.action, reopened.open),
        (PullAction::Reopened, true)
    );

    // The story opened → synchronize → closed → reopened is ordered by updated_at.
    let times: Vec<_> = [&opened, &sync, &unmerged, &reopened]
        .iter()
        .map(|e| e.updated_at.unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] < w[1]), "{times:?}");
    assert_eq!(merged.updated_at, unmerged.updated_at);

    let comment = variant("issue-comment-on-pr");
    assert_eq!(comment.event, "issue_comment");
    assert_eq!(comment.json["action"], "created");
    assert_eq!(comment.json["comment"]["body"], "/preview deploy");
    assert!(comment.json["issue"]["pull_request"].is_object());
    assert_eq!(
        comment.json["issue"]["number"],
        json!(opened.number),
        "the same PR as the pr-* variants"
    );
}

#[test]
fn retargeting_makes_distinct_prs_with_pointer_sets_only() {
    let base = variant("pr-opened");
    let sha = "0123456789abcdef0123456789abcdef01234567";
    let payload = base
        .clone()
        .repo("acme", "shop")
        .number(42)
        .head_sha(sha)
        .branch("feat/cart")
        .title("Add a cart");
    let event = pull_event(&payload);
    assert_eq!(event.full_name, "acme/shop");
    assert_eq!(
        event.repository_id,
        repo_id("acme/shop"),
        "ids match the GitHub stand-in's"
    );
    assert_eq!(
        (event.number, event.head_sha.as_str(), event.branch.as_str()),
        (42, sha, "feat/cart")
    );
    assert_eq!(event.title, "Add a cart");
    assert_eq!(event.html_url, "https://github.com/acme/shop/pull/42");
    assert!(!event.fork, "still a same-repo PR");
    assert_eq!(
        payload.json["pull_request"]["head"]["label"],
        "acme:feat/cart"
    );
    assert_eq!(payload.json["pull_request"]["base"]["label"], "acme:master");
    assert_eq!(
        payload.json["pull_request"]["url"],
        "https://api.github.com/repos/acme/shop/pulls/42"
    );
    assert_eq!(payload.json["repository"]["owner"]["login"], "acme");
    assert_eq!(
        payload.json["pull_request"]["author_association"], "CONTRIBUTOR",
        "Codertocat no longer owns it"
    );

    // Nothing of the old identity is left in any string.
    let text = payload.json.to_string();
    assert!(
        !text.contains("Codertocat/Hello-World"),
        "old repository left behind"
    );
    assert!(
        !text.contains("/pull/2\"") && !text.contains("/pulls/2\""),
        "old number left behind"
    );
    assert!(
        !text.contains(base.str("/pull_request/head/sha").unwrap().as_str()),
        "old sha left behind"
    );

    // Every change is a logged pointer set.
    for pointer in diff_pointers(&base.json, &payload.json) {
        assert!(
            payload.patches.iter().any(|(p, _)| covered(&pointer, p)),
            "{pointer} changed without a patch"
        );
    }

    // Order of the builder calls does not matter.
    let other = base
        .clone()
        .number(42)
        .branch("feat/cart")
        .head_sha(sha)
        .title("Add a cart")
        .repo("acme", "shop");
    assert_eq!(other.json, payload.json);

    // Many distinct PRs.
    let numbers: std::collections::BTreeSet<_> = (1..=20)
        .map(|n| pull_event(&base.clone().repo("acme", "shop").number(n)).number)
        .collect();
    assert_eq!(numbers.len(), 20);
}

#[test]
fn retargeting_keeps_a_fork_a_fork_and_moves_comments_too() {
    let fork = variant("pr-opened-fork").repo("acme", "shop").number(5);
    let event = pull_event(&fork);
    assert!(event.fork);
    assert_eq!(event.full_name, "acme/shop");
    assert_eq!(
        fork.json["pull_request"]["head"]["repo"]["full_name"],
        "octo-forker/shop"
    );
    assert_eq!(
        fork.json["pull_request"]["head"]["repo"]["id"],
        repo_id("octo-forker/shop")
    );
    assert_eq!(
        fork.json["pull_request"]["head"]["label"],
        "octo-forker:changes"
    );

    let comment = variant("issue-comment-on-pr")
        .repo("acme", "shop")
        .number(5)
        .sender("maintainer")
        .title("Add a cart");
    assert_eq!(comment.json["repository"]["full_name"], "acme/shop");
    assert_eq!(comment.json["issue"]["number"], 5);
    assert_eq!(comment.json["issue"]["title"], "Add a cart");
    assert_eq!(
        comment.json["issue"]["pull_request"]["html_url"],
        "https://github.com/acme/shop/pull/5"
    );
    assert_eq!(
        comment.json["comment"]["issue_url"],
        "https://api.github.com/repos/acme/shop/issues/5"
    );
    assert_eq!(
        (
            comment.json["sender"]["login"].clone(),
            comment.json["comment"]["user"]["login"].clone()
        ),
        (json!("maintainer"), json!("maintainer"))
    );
    let body = variant("issue-comment-on-pr").comment_body("/preview destroy");
    assert_eq!(body.json["comment"]["body"], "/preview destroy");

    let later = variant("pr-opened").updated_at("2030-01-01T00:00:00Z");
    assert_eq!(
        pull_event(&later).updated_at.unwrap().to_rfc3339(),
        "2030-01-01T00:00:00+00:00"
    );
}

#[test]
#[should_panic(expected = "does not exist")]
fn a_pointer_into_nothing_is_an_error_not_a_silent_no_op() {
    let _ = variant("pr-opened").set("/pull_request/nope/deeper", 1);
}

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
        payload.bytes().as_slice(),
        "the body goes out byte for byte"
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
