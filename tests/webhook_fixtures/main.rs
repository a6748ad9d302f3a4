//! The webhook fixtures are what they claim: real upstream payloads changed only at the listed
//! pointers, within GitHub's webhook schemas, re-targetable at any PR, built into command
//! comments and policy events fluently, and delivered with exactly GitHub's headers and
//! signatures.
//!
//! One module per concern, in this folder.

mod builders;
mod delivery;
mod retarget;
mod variants;

use previewd::github::webhook::{self, WebhookEvent};
use previewd::model::event::PullRequestEvent;
use previewd_testkit::github::openapi::{schema_errors, webhook as webhook_schema};
use previewd_testkit::webhooks::Payload;

/// What previewd's parser makes of a `pull_request` payload.
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

/// Panics unless every pointer at which `payload` differs from `base` was logged as a patch.
#[track_caller]
fn assert_patches_cover(base: &Payload, payload: &Payload) {
    for pointer in previewd_testkit::webhooks::diff_pointers(&base.json, &payload.json) {
        assert!(
            payload.patches.iter().any(|(p, _)| covered(&pointer, p)),
            "{pointer} changed without a patch"
        );
    }
}

/// Panics unless `payload` breaks GitHub's webhook schema (for its event and action) nowhere
/// `base` does not already: upstream's older examples miss some newer required fields, but a
/// patch must not add a fault of its own.
#[track_caller]
fn assert_no_new_schema_errors(base: &Payload, payload: &Payload) {
    let action = payload.json["action"].as_str().expect("an action");
    let schema = webhook_schema(&payload.event, action);
    let known = schema_errors(&schema, &base.json);
    let new: Vec<_> = schema_errors(&schema, &payload.json)
        .into_iter()
        .filter(|e| !known.contains(e))
        .collect();
    assert!(
        new.is_empty(),
        "{}.{action} breaks GitHub's webhook schema where its base did not:\n{}",
        payload.event,
        new.join("\n")
    );
}
