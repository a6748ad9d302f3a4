//! Real GitHub webhook payloads (npm `@octokit/webhooks-examples`, pinned in fixtures/), small
//! listed variants of them (fixtures/variants/*.json), builders that re-target a payload at
//! another repository / PR / commit / base branch (retarget.rs), write a command comment
//! (comment.rs) or set a PR's draft flag and labels (pr_state.rs) with the same pointer-set
//! patches, and `Delivery`, which POSTs a payload with exactly the headers GitHub sends.
//!
//! No payload is written by hand: every change to an upstream example is a JSON-pointer set,
//! logged in `Payload::patches`, so a test can show what differs from the upstream example.

mod comment;
mod delivery;
mod payload;
mod pr_state;
mod retarget;
mod upload;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::OnceLock;

use serde::Deserialize;
use serde_json::Value;

use super::github::{label, repo_id, user_id};

pub use delivery::{Delivery, Sent, Signing, sha1_signature};
pub use payload::{Payload, diff_pointers};
pub use upload::{Answered, Upload};

const EXAMPLES: &str = "node_modules/@octokit/webhooks-examples/api.github.com/index.json";

/// `fixtures/` at the repository's root.
pub(crate) fn fixtures_dir() -> PathBuf {
    crate::repo_root().join("fixtures")
}

fn index() -> &'static BTreeMap<String, Vec<Value>> {
    static INDEX: OnceLock<BTreeMap<String, Vec<Value>>> = OnceLock::new();
    INDEX.get_or_init(|| {
        let path = fixtures_dir().join(EXAMPLES);
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "cannot read {}: {e}; run `cd fixtures && npm ci`",
                path.display()
            )
        });
        #[derive(Deserialize)]
        struct Event {
            name: String,
            examples: Vec<Value>,
        }
        let events: Vec<Event> =
            serde_json::from_str(&text).expect("webhooks-examples index.json parses");
        events.into_iter().map(|e| (e.name, e.examples)).collect()
    })
}

/// Every upstream example of `event` (`pull_request`, `issue_comment`...).
pub fn examples(event: &str) -> &'static [Value] {
    index()
        .get(event)
        .unwrap_or_else(|| panic!("no upstream examples for event {event:?}"))
}

/// The `n`th (from 0) upstream example of `event` whose `action` is `action`.
pub fn example_nth(event: &str, action: &str, n: usize) -> Value {
    examples(event)
        .iter()
        .filter(|e| e["action"] == action)
        .nth(n)
        .unwrap_or_else(|| panic!("no example #{n} of {event} with action {action:?}"))
        .clone()
}

/// The first upstream example of `event` with this `action`.
pub fn example(event: &str, action: &str) -> Value {
    example_nth(event, action, 0)
}

/// Upstream example number `index` (from 0) of `event`, whatever its action.
pub fn example_at(event: &str, index: usize) -> Value {
    examples(event)
        .get(index)
        .unwrap_or_else(|| panic!("{event} has no example #{index}"))
        .clone()
}

/// Which upstream example a variant starts from.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct BaseRef {
    /// Event name.
    pub event: String,
    /// The example's `action`.
    pub action: String,
    /// Among the examples with that action, from 0.
    pub(crate) index: usize,
}

/// A variant file: `fixtures/variants/<name>.json`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VariantSpec {
    /// The upstream example it patches.
    pub base: BaseRef,
    /// Why it exists and why each pointer is set.
    pub why: String,
    /// JSON pointer → new value, applied in key order (parents sort before children).
    pub set: BTreeMap<String, Value>,
}

impl VariantSpec {
    /// The upstream example, unpatched.
    pub fn base_payload(&self) -> Payload {
        let json = example_nth(&self.base.event, &self.base.action, self.base.index);
        Payload::new(&self.base.event, json)
    }
}

/// Names of the variant files, sorted.
pub fn variant_names() -> Vec<String> {
    let dir = fixtures_dir().join("variants");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .filter_map(|entry| {
            let name = entry.ok()?.file_name().into_string().ok()?;
            name.strip_suffix(".json").map(str::to_owned)
        })
        .collect();
    names.sort();
    names
}

/// A variant's file, parsed.
pub fn variant_spec(name: &str) -> VariantSpec {
    let path = fixtures_dir().join("variants").join(format!("{name}.json"));
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{} is not a variant file: {e}", path.display()))
}

/// A variant: its upstream example with its pointer sets applied.
pub fn variant(name: &str) -> Payload {
    let spec = variant_spec(name);
    let mut payload = spec.base_payload();
    for (pointer, value) in spec.set {
        payload = payload.set(&pointer, value);
    }
    payload
}
