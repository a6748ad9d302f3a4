//! Property tests of rendering: whatever a pull request's free text (title, branches, author)
//! holds, the default templates render without an error or a panic into the same objects, with
//! the same kinds, names and key paths, and the text lands in its strings byte for byte.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::LazyLock;

use previewd_testkit::hostile::{cases, hostile_or_long_text};
use proptest::prelude::*;
use serde_json::json;

use super::*;

/// The templates previewd ships (`templates/`), and one more that puts every free-text field in
/// each kind of YAML string: double-quoted, single-quoted, plain, a block literal, a flow
/// sequence, and inside other text.
static TEMPLATES: LazyLock<Vec<Template>> = LazyLock::new(|| {
    let mut templates =
        crate::build::templates::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("templates"))
            .expect("the default templates load");
    templates.push(Template {
        file: "free-text.yaml".into(),
        source: "\
apiVersion: v1
kind: ConfigMap
metadata:
  name: free-text
  labels:
    app.kubernetes.io/branch: \"{{branch_slug}}\"
data:
  double: \"{{title}}\"
  single: '{{branch}}'
  plain: {{author}}
  block: |
    {{base_branch}}
  flow: [\"{{title}}\", '{{author}}', {{branch}}]
  summary: \"PR {{number}} by {{author}} into {{base_branch}}: {{title}}\"
"
        .into(),
    });
    templates
});

/// A pull request's free text.
#[derive(Clone, Debug)]
struct FreeText {
    title: String,
    branch: String,
    base_branch: String,
    author: String,
}

fn free_text() -> impl Strategy<Value = FreeText> {
    let text = || hostile_or_long_text(12, 1_000);
    (text(), text(), text(), text()).prop_map(|(title, branch, base_branch, author)| FreeText {
        title,
        branch,
        base_branch,
        author,
    })
}

fn render_with(text: &FreeText, number: u64) -> Result<Vec<RenderedObject>, RenderError> {
    let pull = PullFacts {
        repository: Repository {
            id: 1,
            full_name: "octo-org/hello".into(),
        },
        number,
        head_sha: "0123456789abcdef0123456789abcdef01234567".into(),
        branch: text.branch.clone(),
        base_branch: text.base_branch.clone(),
        title: text.title.clone(),
        author: text.author.clone(),
        ..PullFacts::default()
    };
    let ctx = Context::new(
        &pull,
        "octo-org-hello-pr7-abc",
        "pr-{{number}}.{{repo}}.preview.test",
        json!({"image": "registry.test/hello", "replicas": 1, "port": 8080}),
    )?;
    let labels = BTreeMap::from([("app.kubernetes.io/managed-by".into(), "previewd".into())]);
    render(&TEMPLATES, &ctx, &labels)
}

/// Every key path of `value`, array items as `[index]`.
fn key_paths(value: &Value, path: &str, paths: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            for (key, item) in map {
                let path = format!("{path}/{key}");
                paths.insert(path.clone());
                key_paths(item, &path, paths);
            }
        }
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                let path = format!("{path}[{index}]");
                paths.insert(path.clone());
                key_paths(item, &path, paths);
            }
        }
        _ => {}
    }
}

/// One object's file, kind, name and key paths.
type Shape = (String, Value, Value, BTreeSet<String>);

/// What free text must never change: each object's file, kind, name and key paths, in order.
fn structure(objects: &[RenderedObject]) -> Vec<Shape> {
    objects
        .iter()
        .map(|rendered| {
            let mut paths = BTreeSet::new();
            key_paths(&rendered.object, "", &mut paths);
            (
                rendered.file.clone(),
                rendered.object["kind"].clone(),
                rendered.object["metadata"]["name"].clone(),
                paths,
            )
        })
        .collect()
}

/// The structure of the objects rendered for a pull request with plain free text.
static BENIGN_STRUCTURE: LazyLock<Vec<Shape>> = LazyLock::new(|| {
    let benign = FreeText {
        title: "Add login".into(),
        branch: "feature/login".into(),
        base_branch: "main".into(),
        author: "octocat".into(),
    };
    structure(&render_with(&benign, 7).expect("the default templates render"))
});

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn free_text_never_changes_the_objects_and_lands_byte_for_byte(
        text in free_text(),
        number in prop_oneof![1..10_000u64, any::<u64>()],
    ) {
        let objects = render_with(&text, number).expect("free text never fails a render");
        prop_assert_eq!(&structure(&objects), &*BENIGN_STRUCTURE);

        let deployment = &objects[0].object;
        prop_assert_eq!(&deployment["kind"], "Deployment");
        let annotations = &deployment["metadata"]["annotations"];
        prop_assert_eq!(&annotations["previewd.dev/title"], text.title.as_str());
        prop_assert_eq!(&annotations["previewd.dev/branch"], text.branch.as_str());
        prop_assert_eq!(&annotations["previewd.dev/author"], text.author.as_str());

        let free = objects.iter().find(|o| o.file == "free-text.yaml").expect("free-text.yaml");
        let data = &free.object["data"];
        prop_assert_eq!(&data["double"], text.title.as_str());
        prop_assert_eq!(&data["single"], text.branch.as_str());
        prop_assert_eq!(&data["plain"], text.author.as_str());
        let block = format!("{}\n", text.base_branch);
        prop_assert_eq!(&data["block"], block.as_str());
        prop_assert_eq!(
            &data["flow"],
            &json!([text.title, text.author, text.branch])
        );
        let summary = format!(
            "PR {number} by {} into {}: {}",
            text.author, text.base_branch, text.title
        );
        prop_assert_eq!(&data["summary"], summary.as_str());

        let branch_label = free.object["metadata"]["labels"]["app.kubernetes.io/branch"]
            .as_str()
            .expect("the branch slug is a string");
        prop_assert!(
            branch_label.is_empty() || crate::model::names::is_rfc1123_label(branch_label),
            "branch slug {:?} is no label value", branch_label
        );
    }
}
