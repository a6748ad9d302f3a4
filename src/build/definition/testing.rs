//! What the tests of definitions share: files from (path, text) pairs, and the context of a
//! pull request whose free text is hostile.

use serde_json::Value;

use super::{Definition, Files};
use crate::build::render::Context;
use crate::model::pull::{PullFacts, Repository};

/// The files `entries` name, with their text.
pub(crate) fn files(entries: &[(&str, &str)]) -> Files {
    let mut files = Files::default();
    for (path, text) in entries {
        files.add(path, text.as_bytes().to_vec()).unwrap();
    }
    files
}

/// The definition the files `entries` hold.
pub(crate) fn read_entries(entries: &[(&str, &str)]) -> Result<Definition, String> {
    super::read(&files(entries))
}

/// PR 12 of `octo/app` at `abcdef0…`, in namespace `octo-app-pr12`, with the repository's
/// `values`; its branch, title and author hold text a template would take as structure.
pub(crate) fn context(values: Value) -> Context {
    let pull = PullFacts {
        repository: Repository {
            id: 7,
            full_name: "octo/app".into(),
        },
        number: 12,
        head_sha: "abcdef0123456789abcdef0123456789abcdef01".into(),
        branch: "feature}}\n---".into(),
        base_branch: "main".into(),
        title: "a title with {{ .Values }}".into(),
        author: "mallory".into(),
        ..PullFacts::default()
    };
    Context::new(&pull, "octo-app-pr12", "{{namespace}}.preview.test", values).unwrap()
}
