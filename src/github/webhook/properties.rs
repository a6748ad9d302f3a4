//! Property tests of webhook parsing: arbitrary bytes under arbitrary event names, and GitHub's
//! real payloads with a value replaced by hostile JSON or removed, parse without a panic; what a
//! parsed event says comes from the payload; and only the signature of the body is valid.

use std::sync::LazyLock;

use previewd_testkit::hostile::{cases, hostile_text};
use previewd_testkit::webhooks::variant;
use proptest::prelude::*;
use proptest::sample::{Index, select};
use serde_json::{Value, json};

use super::*;

/// The events previewd reads, and some it does not.
const EVENTS: [&str; 6] = [
    "pull_request",
    "issue_comment",
    "ping",
    "push",
    "pull_request_review",
    "",
];

/// What previewd reads of a payload, as JSON pointers: the real payloads are cut down to these,
/// so that a case parses about a kilobyte, not tens of them.
const READ: [&str; 33] = [
    "/action",
    "/number",
    "/label/name",
    "/repository/id",
    "/repository/full_name",
    "/pull_request/number",
    "/pull_request/html_url",
    "/pull_request/draft",
    "/pull_request/labels",
    "/pull_request/user/login",
    "/pull_request/state",
    "/pull_request/merged",
    "/pull_request/title",
    "/pull_request/updated_at",
    "/pull_request/head/ref",
    "/pull_request/head/sha",
    "/pull_request/head/repo/id",
    "/pull_request/head/repo/full_name",
    "/pull_request/base/ref",
    "/pull_request/base/sha",
    "/pull_request/base/repo/id",
    "/pull_request/base/repo/full_name",
    "/issue/number",
    "/issue/state",
    "/issue/title",
    "/issue/html_url",
    "/issue/user/login",
    "/issue/pull_request/url",
    "/issue/pull_request/html_url",
    "/comment/id",
    "/comment/body",
    "/comment/user/login",
    "/comment/user/id",
];

/// `value` with only what sits at `pointers` (and the objects on the way to it).
fn cut_down(value: &Value, pointers: &[&str]) -> Value {
    let mut kept = json!({});
    for pointer in pointers {
        let Some(found) = value.pointer(pointer) else {
            continue;
        };
        let mut target = &mut kept;
        let keys: Vec<&str> = pointer.split('/').skip(1).collect();
        for key in &keys[..keys.len() - 1] {
            target = target
                .as_object_mut()
                .expect("a parent kept is an object")
                .entry(*key)
                .or_insert_with(|| json!({}));
        }
        target[keys[keys.len() - 1]] = found.clone();
    }
    kept
}

/// GitHub's real payloads (`fixtures/`, via the testkit), cut down to what previewd reads: the
/// event and the body.
static PAYLOADS: LazyLock<Vec<(String, Value)>> = LazyLock::new(|| {
    [
        "pr-opened",
        "pr-opened-fork",
        "pr-closed-merged",
        "pr-labeled",
        "pr-converted-to-draft",
        "issue-comment-on-pr",
    ]
    .into_iter()
    .map(|name| {
        let payload = variant(name);
        (payload.event.clone(), cut_down(&payload.json, &READ))
    })
    .collect()
});

/// Every JSON pointer of `value`, containers included.
fn pointers(value: &Value, at: String, found: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, item) in map {
                let pointer = format!("{at}/{}", key.replace('~', "~0").replace('/', "~1"));
                found.push(pointer.clone());
                pointers(item, pointer, found);
            }
        }
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                let pointer = format!("{at}/{index}");
                found.push(pointer.clone());
                pointers(item, pointer, found);
            }
        }
        _ => {}
    }
}

/// Each payload's pointers, in the order of `PAYLOADS`.
static POINTERS: LazyLock<Vec<Vec<String>>> = LazyLock::new(|| {
    PAYLOADS
        .iter()
        .map(|(_, body)| {
            let mut found = Vec::new();
            pointers(body, String::new(), &mut found);
            found
        })
        .collect()
});

/// A JSON string literal of `text`.
fn json_string(text: &str) -> String {
    Value::String(text.to_owned()).to_string()
}

/// JSON text that is valid but hostile: numbers out of every range, nulls, wrong types,
/// strings of hostile text, nesting up to a few levels, and nesting past serde_json's limit.
fn hostile_json() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        select(
            &[
                "null",
                "true",
                "false",
                "0",
                "-0",
                "-1",
                "1.5",
                "-1e-400",
                "1e400",
                "18446744073709551615",
                "18446744073709551616",
                "-9223372036854775809",
                "99999999999999999999999999999",
                "\"\"",
                "\"open\"",
                "\"2026-13-45T25:61:61Z\"",
                "\"+275760-09-13T00:00:00Z\"",
                "{}",
                "[]",
            ][..]
        )
        .prop_map(str::to_owned),
        hostile_text(6).prop_map(|text| json_string(&text)),
    ];
    let nested = leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4)
                .prop_map(|items| format!("[{}]", items.join(","))),
            proptest::collection::vec((hostile_text(2), inner), 0..4).prop_map(|fields| {
                let fields: Vec<String> = fields
                    .iter()
                    .map(|(key, value)| format!("{}:{value}", json_string(key)))
                    .collect();
                format!("{{{}}}", fields.join(","))
            }),
        ]
    });
    prop_oneof![
        9 => nested,
        1 => (100..300usize).prop_map(|depth| format!("{}{}", "[".repeat(depth), "]".repeat(depth))),
    ]
}

/// What to do to a real payload: replace the value at one of its pointers by hostile JSON text,
/// or remove it.
#[derive(Clone, Debug)]
enum Mutation {
    Replace(Index, String),
    Remove(Index),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => (any::<Index>(), hostile_json()).prop_map(|(at, json)| Mutation::Replace(at, json)),
        1 => any::<Index>().prop_map(Mutation::Remove),
    ]
}

/// Marks where hostile JSON text goes in the serialised payload.
const SPLICE: &str = "\u{1}previewd-splice\u{1}";

/// The body of payload `which` with `mutations` applied, as bytes.
fn mutated_body(which: usize, mutations: &[Mutation]) -> Vec<u8> {
    let mut body = PAYLOADS[which].1.clone();
    let pointers = &POINTERS[which];
    let mut splices = Vec::new();
    for (number, change) in mutations.iter().enumerate() {
        let (at, replacement) = match change {
            Mutation::Replace(at, json) => {
                let marker = format!("{SPLICE}{number}");
                splices.push((json_string(&marker), json.clone()));
                (at, Some(Value::String(marker)))
            }
            Mutation::Remove(at) => (at, None),
        };
        let pointer = at.get(pointers);
        let (parent, key) = pointer.rsplit_once('/').expect("a pointer has a `/`");
        let key = key.replace("~1", "/").replace("~0", "~");
        match (body.pointer_mut(parent), replacement) {
            (Some(Value::Object(map)), Some(value)) => {
                map.insert(key, value);
            }
            (Some(Value::Object(map)), None) => {
                map.remove(&key);
            }
            (Some(Value::Array(items)), Some(value)) => {
                if let Some(item) = key.parse::<usize>().ok().and_then(|i| items.get_mut(i)) {
                    *item = value;
                }
            }
            (Some(Value::Array(items)), None) => {
                if let Some(index) = key.parse::<usize>().ok().filter(|i| *i < items.len()) {
                    items.remove(index);
                }
            }
            // An earlier mutation replaced or removed the parent.
            _ => {}
        }
    }
    let mut text = body.to_string();
    for (marker, json) in splices {
        text = text.replacen(&marker, &json, 1);
    }
    text.into_bytes()
}

/// The string at `pointer`, or `""` when it is missing or not a string.
fn text_at<'a>(body: &'a Value, pointer: &str) -> &'a str {
    body.pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// Where previewd reads a struct. serde also reads a struct from a JSON array of its fields in
/// order: GitHub never sends one, and what previewd reads from it comes by position, not name,
/// so where an event's fields come from is checked only when each of these is no array.
const STRUCTS: [&str; 13] = [
    "",
    "/label",
    "/repository",
    "/pull_request",
    "/pull_request/user",
    "/pull_request/head",
    "/pull_request/head/repo",
    "/pull_request/base",
    "/pull_request/base/repo",
    "/issue",
    "/issue/user",
    "/comment",
    "/comment/user",
];

/// Whether every struct previewd reads in `body` is a JSON object (or missing).
fn structs_are_objects(body: &Value) -> bool {
    let labels = body
        .pointer("/pull_request/labels")
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice);
    STRUCTS
        .iter()
        .filter_map(|pointer| body.pointer(pointer))
        .chain(labels)
        .all(|value| !value.is_array())
}

/// Checks that what `event` says comes from `body`, the JSON it was parsed from.
fn assert_event_comes_from(name: &str, body: &Value, event: &WebhookEvent) {
    match event {
        WebhookEvent::Ping => assert_eq!(name, "ping"),
        WebhookEvent::Ignored { event, action } => {
            assert_eq!(event, name);
            if let Some(action) = action {
                assert_eq!(
                    body.pointer("/action").and_then(Value::as_str),
                    Some(action.as_str())
                );
            }
        }
        WebhookEvent::Push(e) => {
            assert_eq!(name, "push");
            assert!(text_at(body, "/ref").ends_with(&e.branch));
        }
        WebhookEvent::Checks(e) => {
            let sha = match name {
                "check_run" => "/check_run/head_sha",
                "check_suite" => "/check_suite/head_sha",
                _ => "/sha",
            };
            assert_eq!(e.sha, text_at(body, sha));
            assert_eq!(
                Some(e.repository.id),
                body.pointer("/repository/id").and_then(Value::as_u64)
            );
        }
        WebhookEvent::PullRequest(e) => {
            assert_eq!(name, "pull_request");
            let pull = &e.pull;
            assert_eq!(
                Some(pull.number),
                body.pointer("/number").and_then(Value::as_u64)
            );
            assert_eq!(
                Some(pull.repository.id),
                body.pointer("/repository/id").and_then(Value::as_u64)
            );
            assert_eq!(
                pull.repository.full_name,
                text_at(body, "/repository/full_name")
            );
            assert_eq!(pull.title, text_at(body, "/pull_request/title"));
            assert_eq!(pull.head_sha, text_at(body, "/pull_request/head/sha"));
            assert_eq!(pull.branch, text_at(body, "/pull_request/head/ref"));
            assert_eq!(pull.base_branch, text_at(body, "/pull_request/base/ref"));
            assert_eq!(pull.author, text_at(body, "/pull_request/user/login"));
            assert_eq!(
                pull.pull_request_url,
                text_at(body, "/pull_request/html_url")
            );
            assert_eq!(e.open, text_at(body, "/pull_request/state") == "open");
            assert_eq!(
                e.label.as_deref(),
                body.pointer("/label/name").and_then(Value::as_str)
            );
            let labels: Vec<&str> = body
                .pointer("/pull_request/labels")
                .and_then(Value::as_array)
                .map(|labels| labels.iter().map(|l| text_at(l, "/name")).collect())
                .unwrap_or_default();
            assert_eq!(pull.labels, labels);
            if let PullAction::Closed { merged } = e.action {
                assert_eq!(text_at(body, "/action"), "closed");
                assert_eq!(
                    merged,
                    body.pointer("/pull_request/merged")
                        .and_then(Value::as_bool)
                        == Some(true)
                );
            }
        }
        WebhookEvent::Command(c) => {
            assert_eq!(name, "issue_comment");
            assert_eq!(text_at(body, "/action"), "created");
            assert!(
                body.pointer("/issue/pull_request")
                    .is_some_and(|p| !p.is_null())
            );
            assert_eq!(
                Some(c.pull.number),
                body.pointer("/issue/number").and_then(Value::as_u64)
            );
            assert_eq!(c.pull.title, text_at(body, "/issue/title"));
            assert_eq!(c.pull.author, text_at(body, "/issue/user/login"));
            assert_eq!(c.pull.pull_request_url, text_at(body, "/issue/html_url"));
            assert_eq!(
                c.pull.repository.full_name,
                text_at(body, "/repository/full_name")
            );
            assert_eq!(c.open, text_at(body, "/issue/state") == "open");
            assert_eq!(
                Some(c.comment_id),
                body.pointer("/comment/id").and_then(Value::as_u64)
            );
            assert_eq!(c.login, text_at(body, "/comment/user/login"));
            assert_eq!(
                Some(&c.command),
                command::parse(text_at(body, "/comment/body")).as_ref()
            );
        }
    }
}

/// Free text in a payload, each a string previewd copies into an event. (`repository.full_name`
/// is not free text: previewd takes only names GitHub allows, see the property below.)
const FREE_TEXT_POINTERS: [&str; 7] = [
    "/pull_request/title",
    "/pull_request/head/ref",
    "/pull_request/base/ref",
    "/pull_request/user/login",
    "/issue/title",
    "/issue/user/login",
    "/comment/user/login",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn any_bytes_under_any_event_name_parse_without_a_panic(
        event in prop_oneof![select(&EVENTS[..]).prop_map(str::to_owned), hostile_text(3)],
        body in prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..200),
            hostile_json().prop_map(String::into_bytes),
            hostile_text(20).prop_map(String::into_bytes),
        ],
    ) {
        let parsed = parse(&event, &body);
        if let (Ok(parsed), Ok(json)) = (&parsed, serde_json::from_slice::<Value>(&body))
            && structs_are_objects(&json)
        {
            assert_event_comes_from(&event, &json, parsed);
        }
    }

    #[test]
    fn mutated_real_payloads_parse_without_a_panic_into_what_they_say(
        which in 0..6usize,
        mutations in proptest::collection::vec(mutation(), 1..4),
    ) {
        let (event, _) = &PAYLOADS[which];
        let body = mutated_body(which, &mutations);
        let parsed = parse(event, &body);
        if let (Ok(parsed), Ok(json)) = (&parsed, serde_json::from_slice::<Value>(&body))
            && structs_are_objects(&json)
        {
            assert_event_comes_from(event, &json, parsed);
        }
    }

    #[test]
    fn hostile_text_in_a_real_payload_lands_in_the_event_as_sent(
        which in 0..6usize,
        texts in proptest::collection::vec(hostile_text(8), FREE_TEXT_POINTERS.len()),
        comment in hostile_text(12),
    ) {
        let (event, original) = &PAYLOADS[which];
        let mut body = original.clone();
        for (pointer, text) in FREE_TEXT_POINTERS.iter().zip(&texts) {
            if let Some(value) = body.pointer_mut(pointer) {
                *value = Value::String(text.clone());
            }
        }
        if let Some(value) = body.pointer_mut("/comment/body") {
            // Still a command, with hostile text around it.
            *value = Value::String(format!("{comment}\n\n/preview deploy\n{comment}"));
        }
        let parsed = parse(event, body.to_string().as_bytes()).expect("a real payload parses");
        assert_event_comes_from(event, &body, &parsed);
    }

    #[test]
    fn a_repository_name_github_would_not_allow_is_refused_by_name(
        which in 0..6usize,
        name in hostile_text(8),
    ) {
        let (event, original) = &PAYLOADS[which];
        let mut body = original.clone();
        if let Some(value) = body.pointer_mut("/repository/full_name") {
            *value = Value::String(name.clone());
        }
        let allowed = name.split_once('/').is_some_and(|(owner, repo)| {
            !owner.is_empty() && owner.len() <= 100 && !repo.is_empty() && repo.len() <= 100
                && owner.bytes().all(|b| b.is_ascii_alphanumeric() || b"_-".contains(&b))
                && repo.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
        });
        match parse(event, body.to_string().as_bytes()) {
            Ok(parsed) => assert_event_comes_from(event, &body, &parsed),
            Err(ParseError::Invalid { field, .. }) => {
                prop_assert!(!allowed, "{name:?} refused");
                prop_assert_eq!(field, "repository.full_name");
            }
            Err(other) => prop_assert!(false, "{other}"),
        }
    }

    #[test]
    fn only_the_signature_of_the_body_is_valid(
        secret in proptest::collection::vec(any::<u8>(), 1..40),
        body in proptest::collection::vec(any::<u8>(), 0..200),
        flip in any::<Index>(),
        header in prop_oneof![
            hostile_text(6),
            hostile_text(6).prop_map(|text| format!("sha256={text}")),
        ],
    ) {
        let signature = signature_header(&secret, &body);
        prop_assert!(signature_is_valid(&secret, &body, &signature));
        prop_assert!(!signature_is_valid(&secret, &body, &header));
        if !body.is_empty() {
            let mut tampered = body.clone();
            tampered[flip.index(body.len())] ^= 0x01;
            prop_assert!(!signature_is_valid(&secret, &tampered, &signature));
        }
    }
}
