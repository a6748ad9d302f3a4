//! A webhook payload and its one way of changing: JSON-pointer sets, each logged, plus the
//! string and pointer helpers the builders share.

use serde_json::Value;

use super::{example, user_id};

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
    pub(crate) fn new(event: &str, json: Value) -> Self {
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

    /// The body as GitHub would send it today. The upstream examples were recorded on
    /// 2019-05-15 (15:20–15:22 UTC); their times (and those tests write in that range) move by
    /// one offset to end at the moment the test process started, so their order and equalities
    /// hold and previewd sees events as fresh as real deliveries. Later times are left alone.
    pub fn bytes_sent_now(&self) -> Vec<u8> {
        let mut moved = Vec::new();
        collect_strings(&self.json, "", &mut |pointer, text| {
            if let Some(now) = pointer
                .ends_with("_at")
                .then(|| moved_to_now(text))
                .flatten()
            {
                moved.push((pointer.to_owned(), now));
            }
        });
        let mut json = self.json.clone();
        for (pointer, now) in moved {
            if let Some(slot) = json.pointer_mut(&pointer) {
                *slot = Value::String(now);
            }
        }
        serde_json::to_vec(&json).expect("a JSON value serialises")
    }

    /// Sets `pointer` only where this payload has it (the builder spans several event kinds).
    pub(super) fn set_present(self, pointer: &str, value: impl Into<Value>) -> Self {
        if self.get(pointer).is_some() {
            self.set(pointer, value)
        } else {
            self
        }
    }

    /// Rewrites every string under `root` containing `from` (and, with `digit_boundary`, not
    /// followed by a digit, so `/pull/2` leaves `/pull/23` alone), one pointer set per string.
    pub(super) fn replace_in_strings(
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
    pub(super) fn user_at(self, root: &str, login: &str) -> Self {
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
}

fn split_pointer(pointer: &str) -> (String, String) {
    let (parent, key) = pointer
        .rsplit_once('/')
        .unwrap_or_else(|| panic!("{pointer:?} is not a JSON pointer"));
    (parent.to_owned(), key.replace("~1", "/").replace("~0", "~"))
}

/// Escapes one key for a JSON pointer.
pub(crate) fn escape_key(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// `text` moved from the examples' day to the present, if it is a time before 2020.
fn moved_to_now(text: &str) -> Option<String> {
    use chrono::{DateTime, Datelike, SecondsFormat, Utc};
    static OFFSET: std::sync::OnceLock<chrono::Duration> = std::sync::OnceLock::new();
    let at = DateTime::parse_from_rfc3339(text).ok()?.with_timezone(&Utc);
    if at.year() >= 2020 {
        return None;
    }
    let offset = OFFSET.get_or_init(|| {
        let examples_end = DateTime::parse_from_rfc3339("2019-05-15T15:22:00Z").expect("a time");
        chrono::Duration::seconds((Utc::now() - examples_end.with_timezone(&Utc)).num_seconds())
    });
    Some((at + *offset).to_rfc3339_opts(SecondsFormat::Secs, true))
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

pub(super) fn replace_bounded(
    text: &str,
    from: &str,
    to: &str,
    digit_boundary: bool,
) -> Option<String> {
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
