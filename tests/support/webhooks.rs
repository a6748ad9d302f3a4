//! Real GitHub webhook payloads (npm `@octokit/webhooks-examples`, pinned in fixtures/), small
//! listed variants of them (fixtures/variants/*.json), a builder that re-targets a payload at
//! another repository / PR / commit with the same pointer-set patches, and `Delivery`, which
//! POSTs a payload with exactly the headers GitHub sends.
//!
//! No payload is written by hand: every change to an upstream example is a JSON-pointer set,
//! logged in `Payload::patches`, so a test can show what differs from the upstream example.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use hmac::{Hmac, Mac};
use serde::Deserialize;
use serde_json::Value;

use super::github::{repo_id, user_id};

const EXAMPLES: &str = "node_modules/@octokit/webhooks-examples/api.github.com/index.json";

/// `fixtures/` at the crate root.
pub fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures")
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
    pub index: usize,
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

/// A webhook payload and the event it belongs to.
#[derive(Clone, Debug)]
pub struct Payload {
    /// `X-GitHub-Event`.
    pub event: String,
    /// The body.
    pub json: Value,
    /// Every pointer set applied since the upstream example, in order.
    pub patches: Vec<(String, Value)>,
}

impl Payload {
    /// Wraps a body.
    pub fn new(event: &str, json: Value) -> Self {
        Payload {
            event: event.to_owned(),
            json,
            patches: Vec::new(),
        }
    }

    /// The first upstream example of `event` with this `action`, ready to patch.
    pub fn example(event: &str, action: &str) -> Self {
        Payload::new(event, example(event, action))
    }

    /// Sets the value at `pointer` (RFC 6901); its parent must exist. Panics otherwise.
    pub fn set(mut self, pointer: &str, value: impl Into<Value>) -> Self {
        let value = value.into();
        let (parent, key) = split_pointer(pointer);
        let target = self.json.pointer_mut(&parent).unwrap_or_else(|| {
            panic!(
                "{pointer}: parent {parent:?} does not exist in this {}",
                self.event
            )
        });
        match target {
            Value::Object(map) => {
                map.insert(key, value.clone());
            }
            Value::Array(items) => {
                let index: usize = key
                    .parse()
                    .unwrap_or_else(|_| panic!("{pointer}: {key:?} is not an index"));
                assert!(
                    index < items.len(),
                    "{pointer}: index {index} is past the end"
                );
                items[index] = value.clone();
            }
            other => panic!("{pointer}: parent is {other}, not an object or array"),
        }
        self.patches.push((pointer.to_owned(), value));
        self
    }

    /// The value at `pointer`, if any.
    pub fn get(&self, pointer: &str) -> Option<&Value> {
        self.json.pointer(pointer)
    }

    /// The string at `pointer`, if any.
    pub fn str(&self, pointer: &str) -> Option<String> {
        self.get(pointer).and_then(Value::as_str).map(str::to_owned)
    }

    /// The serialised body.
    pub fn bytes(&self) -> Vec<u8> {
        serde_json::to_vec(&self.json).expect("a JSON value serialises")
    }

    /// Sets `pointer` only where this payload has it (the builder spans several event kinds).
    fn set_present(self, pointer: &str, value: impl Into<Value>) -> Self {
        if self.get(pointer).is_some() {
            self.set(pointer, value)
        } else {
            self
        }
    }

    /// Rewrites every string under `root` containing `from` (and, with `digit_boundary`, not
    /// followed by a digit, so `/pull/2` leaves `/pull/23` alone), one pointer set per string.
    fn replace_in_strings(
        mut self,
        root: &str,
        from: &str,
        to: &str,
        digit_boundary: bool,
    ) -> Self {
        if from.is_empty() || from == to {
            return self;
        }
        let mut changes = Vec::new();
        if let Some(value) = self.json.pointer(root) {
            collect_strings(value, root, &mut |pointer, text| {
                if let Some(new) = replace_bounded(text, from, to, digit_boundary) {
                    changes.push((pointer.to_owned(), new));
                }
            });
        }
        for (pointer, new) in changes {
            self = self.set(&pointer, new);
        }
        self
    }

    /// Re-targets a user object at `root` (owner, sender, author...) to `login`.
    fn user_at(self, root: &str, login: &str) -> Self {
        let Some(old) = self.str(&format!("{root}/login")) else {
            return self;
        };
        self.replace_in_strings(root, &format!("/{old}"), &format!("/{login}"), false)
            .set(&format!("{root}/login"), login)
            .set(&format!("{root}/id"), user_id(login))
    }

    /// The base repository's `owner/name`.
    pub fn full_name(&self) -> String {
        self.str("/repository/full_name")
            .expect("a payload with a repository")
    }

    /// The PR or issue number.
    pub fn pr_number(&self) -> u64 {
        ["/number", "/issue/number", "/pull_request/number"]
            .iter()
            .find_map(|p| self.get(p).and_then(Value::as_u64))
            .expect("a payload with a PR or issue number")
    }

    /// Moves the payload to repository `owner/name` (ids from `github::repo_id`, so they match
    /// the stand-in). A fork head keeps its owner and takes the new name.
    pub fn repo(self, owner: &str, name: &str) -> Self {
        let old = self.full_name();
        let new = format!("{owner}/{name}");
        let old_owner = old.split('/').next().unwrap_or_default().to_owned();
        let fork = self
            .get("/pull_request/head/repo/fork")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let old_head = self.str("/pull_request/head/repo/full_name");
        let mut p = self.replace_in_strings("", &old, &new, false);
        if let (true, Some(old_head)) = (fork, old_head) {
            let head_owner = old_head.split('/').next().unwrap_or_default().to_owned();
            let new_head = format!("{head_owner}/{name}");
            p = p
                .replace_in_strings("", &old_head, &new_head, false)
                .set("/pull_request/head/repo/name", name)
                .set("/pull_request/head/repo/id", repo_id(&new_head));
        }
        let mut repos = vec!["/repository", "/pull_request/base/repo"];
        if !fork {
            repos.push("/pull_request/head/repo");
        }
        for root in repos {
            if p.get(root).is_some() {
                p = p
                    .set(&format!("{root}/name"), name)
                    .set(&format!("{root}/full_name"), new.as_str())
                    .set(&format!("{root}/id"), repo_id(&new));
                p = p.user_at(&format!("{root}/owner"), owner);
            }
        }
        if old_owner != owner {
            // The author no longer owns the repository.
            for pointer in [
                "/pull_request/author_association",
                "/comment/author_association",
            ] {
                if p.str(pointer).as_deref() == Some("OWNER") {
                    p = p.set(pointer, "CONTRIBUTOR");
                }
            }
            for root in ["/pull_request/base/user", "/pull_request/head/user"] {
                let is_owner =
                    p.str(&format!("{root}/login")).as_deref() == Some(old_owner.as_str());
                if is_owner && (root.contains("base") || !fork) {
                    p = p.user_at(root, owner);
                }
            }
        }
        p.refresh_labels()
    }

    /// Moves the payload to PR (or issue) `number`, URLs included.
    pub fn number(self, number: u64) -> Self {
        let old = self.pr_number();
        let full = self.full_name();
        let mut p = self;
        for kind in ["pull", "pulls", "issues"] {
            p = p.replace_in_strings(
                "",
                &format!("{full}/{kind}/{old}"),
                &format!("{full}/{kind}/{number}"),
                true,
            );
        }
        p.set_present("/number", number)
            .set_present("/pull_request/number", number)
            .set_present("/issue/number", number)
    }

    /// Sets the head commit (and `after`, statuses URLs: every string carrying the old SHA).
    pub fn head_sha(self, sha: &str) -> Self {
        match self.str("/pull_request/head/sha") {
            Some(old) => self.replace_in_strings("", &old, sha, false),
            None => self,
        }
    }

    /// Sets the head branch (and its `owner:branch` label).
    pub fn branch(self, branch: &str) -> Self {
        if self.get("/pull_request/head/ref").is_none() {
            return self;
        }
        self.set("/pull_request/head/ref", branch).refresh_labels()
    }

    /// Sets the PR (or issue) title.
    pub fn title(self, title: &str) -> Self {
        self.set_present("/pull_request/title", title)
            .set_present("/issue/title", title)
    }

    /// Sets `updated_at` of the PR (or issue): previewd orders deliveries by it.
    pub fn updated_at(self, timestamp: &str) -> Self {
        self.set_present("/pull_request/updated_at", timestamp)
            .set_present("/issue/updated_at", timestamp)
    }

    /// Makes `login` the sender (and, for a comment, its author).
    pub fn sender(self, login: &str) -> Self {
        let p = self.user_at("/sender", login);
        if p.get("/comment/user").is_some() {
            p.user_at("/comment/user", login)
        } else {
            p
        }
    }

    /// Sets the comment body of an `issue_comment`.
    pub fn comment_body(self, body: &str) -> Self {
        self.set("/comment/body", body)
    }

    fn refresh_labels(self) -> Self {
        let mut p = self;
        for side in ["base", "head"] {
            let owner = p.str(&format!("/pull_request/{side}/repo/owner/login"));
            let branch = p.str(&format!("/pull_request/{side}/ref"));
            if let (Some(owner), Some(branch)) = (owner, branch) {
                let label = format!("{owner}:{branch}");
                if p.str(&format!("/pull_request/{side}/label")).as_deref() != Some(label.as_str())
                {
                    p = p.set(&format!("/pull_request/{side}/label"), label);
                }
            }
        }
        p
    }
}

fn split_pointer(pointer: &str) -> (String, String) {
    let (parent, key) = pointer
        .rsplit_once('/')
        .unwrap_or_else(|| panic!("{pointer:?} is not a JSON pointer"));
    (parent.to_owned(), key.replace("~1", "/").replace("~0", "~"))
}

/// Escapes one key for a JSON pointer.
pub fn escape_key(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

fn collect_strings(value: &Value, pointer: &str, found: &mut impl FnMut(&str, &str)) {
    match value {
        Value::String(text) => found(pointer, text),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                collect_strings(item, &format!("{pointer}/{i}"), found);
            }
        }
        Value::Object(map) => {
            for (key, item) in map {
                collect_strings(item, &format!("{pointer}/{}", escape_key(key)), found);
            }
        }
        _ => {}
    }
}

fn replace_bounded(text: &str, from: &str, to: &str, digit_boundary: bool) -> Option<String> {
    let mut out = String::new();
    let mut rest = text;
    let mut changed = false;
    while let Some(at) = rest.find(from) {
        let after = &rest[at + from.len()..];
        let keep = digit_boundary && after.starts_with(|c: char| c.is_ascii_digit());
        out.push_str(&rest[..at]);
        out.push_str(if keep { from } else { to });
        changed |= !keep;
        rest = after;
    }
    out.push_str(rest);
    changed.then_some(out)
}

/// Every leaf pointer at which `a` and `b` differ (a key present on one side only counts at
/// its own pointer).
pub fn diff_pointers(a: &Value, b: &Value) -> Vec<String> {
    fn walk(a: &Value, b: &Value, pointer: String, out: &mut Vec<String>) {
        match (a, b) {
            (Value::Object(x), Value::Object(y)) => {
                for key in x.keys().chain(y.keys().filter(|k| !x.contains_key(*k))) {
                    let child = format!("{pointer}/{}", escape_key(key));
                    match (x.get(key), y.get(key)) {
                        (Some(v), Some(w)) => walk(v, w, child, out),
                        _ => out.push(child),
                    }
                }
            }
            (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
                for (i, (v, w)) in x.iter().zip(y).enumerate() {
                    walk(v, w, format!("{pointer}/{i}"), out);
                }
            }
            _ if a == b => {}
            _ => out.push(pointer),
        }
    }
    let mut out = Vec::new();
    walk(a, b, String::new(), &mut out);
    out
}

/// How a delivery is signed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signing {
    /// `X-Hub-Signature-256` and `X-Hub-Signature` (sha1), as GitHub sends with a secret.
    Both,
    /// Only `X-Hub-Signature-256`.
    Sha256Only,
    /// Only the legacy `X-Hub-Signature` (sha1).
    Sha1Only,
    /// No signature headers, as from a hook without a secret.
    Unsigned,
    /// Both headers, computed with another secret.
    WrongSecret,
}

/// What the receiver answered.
#[derive(Clone, Debug)]
pub struct Sent {
    /// HTTP status.
    pub status: u16,
    /// Body as text.
    pub body: String,
    /// The `X-GitHub-Delivery` used.
    pub delivery_id: String,
}

/// Sends payloads to a webhook endpoint the way GitHub does.
#[derive(Clone, Debug)]
pub struct Delivery {
    url: String,
    secret: Vec<u8>,
    id: Option<String>,
    hook_id: u64,
    signing: Signing,
    client: reqwest::Client,
}

impl Delivery {
    /// Deliveries to `url` (the full endpoint address) signed with `secret`.
    pub fn new(url: &str, secret: &[u8]) -> Self {
        let client = reqwest::Client::builder()
            // GitHub gives up after 10 s.
            .timeout(Duration::from_secs(10))
            .build()
            .expect("an HTTP client");
        Delivery {
            url: url.to_owned(),
            secret: secret.to_vec(),
            id: None,
            hook_id: 461_178_903,
            signing: Signing::Both,
            client,
        }
    }

    /// Uses this `X-GitHub-Delivery` (a redelivery repeats the GUID); default: a new one per send.
    pub fn id(mut self, guid: &str) -> Self {
        self.id = Some(guid.to_owned());
        self
    }

    /// Signs this way.
    pub fn signing(mut self, signing: Signing) -> Self {
        self.signing = signing;
        self
    }

    /// The headers a delivery of `body` for `event` carries, in GitHub's order.
    pub fn headers(
        &self,
        event: &str,
        body: &[u8],
        target_id: u64,
        delivery_id: &str,
    ) -> Vec<(String, String)> {
        let mut headers = vec![
            ("Accept".to_owned(), "*/*".to_owned()),
            ("Content-Type".to_owned(), "application/json".to_owned()),
            (
                "User-Agent".to_owned(),
                "GitHub-Hookshot/6b02022".to_owned(),
            ),
            ("X-GitHub-Delivery".to_owned(), delivery_id.to_owned()),
            ("X-GitHub-Event".to_owned(), event.to_owned()),
            ("X-GitHub-Hook-ID".to_owned(), self.hook_id.to_string()),
            (
                "X-GitHub-Hook-Installation-Target-ID".to_owned(),
                target_id.to_string(),
            ),
            (
                "X-GitHub-Hook-Installation-Target-Type".to_owned(),
                "repository".to_owned(),
            ),
        ];
        let wrong = b"not the secret".to_vec();
        let secret = if self.signing == Signing::WrongSecret {
            &wrong
        } else {
            &self.secret
        };
        if matches!(
            self.signing,
            Signing::Both | Signing::Sha1Only | Signing::WrongSecret
        ) {
            headers.push(("X-Hub-Signature".to_owned(), sha1_signature(secret, body)));
        }
        if matches!(
            self.signing,
            Signing::Both | Signing::Sha256Only | Signing::WrongSecret
        ) {
            headers.push((
                "X-Hub-Signature-256".to_owned(),
                previewd::github::webhook::signature_header(secret, body),
            ));
        }
        headers
    }

    /// Sends a payload; the hook target is its repository.
    pub async fn send(&self, payload: &Payload) -> Sent {
        let target = payload
            .get("/repository/id")
            .and_then(Value::as_u64)
            .unwrap_or(0);
        self.send_raw(&payload.event, &payload.bytes(), target)
            .await
    }

    /// Sends raw bytes as `event` (for malformed bodies).
    pub async fn send_raw(&self, event: &str, body: &[u8], target_id: u64) -> Sent {
        let delivery_id = self
            .id
            .clone()
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        let mut request = self.client.post(&self.url).body(body.to_vec());
        for (name, value) in self.headers(event, body, target_id, &delivery_id) {
            request = request.header(name, value);
        }
        let response = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("delivery to {} failed: {e}", self.url));
        let status = response.status().as_u16();
        let body = response.text().await.unwrap_or_default();
        Sent {
            status,
            body,
            delivery_id,
        }
    }
}

/// The legacy `X-Hub-Signature` value: `sha1=<hex>`.
pub fn sha1_signature(secret: &[u8], body: &[u8]) -> String {
    let mut mac =
        Hmac::<sha1::Sha1>::new_from_slice(secret).expect("HMAC accepts keys of any length");
    mac.update(body);
    format!("sha1={}", hex::encode(mac.finalize().into_bytes()))
}
