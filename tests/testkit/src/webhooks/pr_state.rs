//! A PR's state as a payload carries it: draft flag and labels (the policies' inputs).

use serde_json::Value;

use super::{Payload, label};

impl Payload {
    /// Sets `pull_request.draft`.
    pub fn draft(self, draft: bool) -> Self {
        self.set("/pull_request/draft", draft)
    }

    /// For a `labeled` / `unlabeled` payload: the label added or removed becomes `name`, and
    /// the PR's labels gain it (at the end) or lose it, as GitHub sends them after the change.
    pub fn label(self, name: &str) -> Self {
        let adding = match self.str("/action").as_deref() {
            Some("labeled") => true,
            Some("unlabeled") => false,
            other => panic!("label() is for labeled/unlabeled payloads, not {other:?}"),
        };
        let mut names: Vec<String> = self
            .get("/pull_request/labels")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|l| l["name"].as_str())
            .filter(|n| *n != name)
            .map(str::to_owned)
            .collect();
        if adding {
            names.push(name.to_owned());
        }
        let object = self.label_object(name);
        let p = if self.get("/label") == Some(&object) {
            self
        } else {
            self.set("/label", object)
        };
        p.labels(&names.iter().map(String::as_str).collect::<Vec<_>>())
    }

    /// Sets the labels of the PR (and of the issue, in an `issue_comment`) to exactly `names`,
    /// in order; labels already there keep their objects, new ones get the stand-in's.
    pub fn labels(self, names: &[&str]) -> Self {
        let pointers = ["/pull_request/labels", "/issue/labels"];
        assert!(
            pointers.iter().any(|p| self.get(p).is_some()),
            "labels() needs a payload with pull_request or issue labels"
        );
        let mut p = self;
        for pointer in pointers {
            let Some(Value::Array(current)) = p.get(pointer) else {
                continue;
            };
            let wanted: Vec<Value> = names
                .iter()
                .map(|name| {
                    current
                        .iter()
                        .find(|l| l["name"] == *name)
                        .cloned()
                        .unwrap_or_else(|| p.label_object(name))
                })
                .collect();
            if wanted != *current {
                p = p.set(pointer, Value::Array(wanted));
            }
        }
        p
    }

    /// Label `name` of this payload's repository, as the stand-in shows it.
    fn label_object(&self, name: &str) -> Value {
        let api = self
            .str("/repository/url")
            .expect("a payload with a repository");
        label(&api, &self.full_name(), name)
    }
}
