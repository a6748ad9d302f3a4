use super::*;
use serde_json::json;

const APP: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  annotations:
    previewd.dev/title: \"{{title}}\"
    previewd.dev/branch: '{{branch}}'
    previewd.dev/summary: \"PR {{number}} by {{author}}: {{title}}\"
spec:
  template:
    spec:
      containers:
        - name: web
          image: \"{{values.image}}:{{sha}}\"
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  ports: [{port: 80}]
";

fn pull(title: &str, branch: &str) -> PullFacts {
    PullFacts {
        repository: Repository {
            id: 1,
            full_name: "octo-org/hello".into(),
        },
        number: 7,
        head_sha: "0123456789abcdef0123456789abcdef01234567".into(),
        branch: branch.into(),
        base_branch: "main".into(),
        title: title.into(),
        author: "octocat".into(),
        ..PullFacts::default()
    }
}

fn ctx(title: &str, branch: &str) -> Context {
    Context::new(
        &pull(title, branch),
        "octo-org-hello-pr7-abc",
        "pr-{{number}}.{{repo}}.preview.test",
        json!({"image": "registry.test/hello"}),
    )
    .unwrap()
}

fn labels() -> BTreeMap<String, String> {
    BTreeMap::from([("app.kubernetes.io/managed-by".into(), "previewd".into())])
}

fn one(file: &str, source: &str) -> Vec<Template> {
    vec![Template {
        file: file.into(),
        source: source.into(),
    }]
}

fn annotation(obj: &RenderedObject, key: &str) -> String {
    obj.object["metadata"]["annotations"][key]
        .as_str()
        .unwrap()
        .to_owned()
}

#[test]
fn renders_objects_into_the_namespace_with_labels() {
    let objects = render(
        &one("app.yaml", APP),
        &ctx("Add login", "feature/login"),
        &labels(),
    )
    .unwrap();
    assert_eq!(objects.len(), 2);
    let deployment = &objects[0].object;
    assert_eq!(
        deployment["metadata"]["namespace"],
        "octo-org-hello-pr7-abc"
    );
    assert_eq!(
        deployment["metadata"]["labels"]["app.kubernetes.io/managed-by"],
        "previewd"
    );
    assert_eq!(
        deployment["spec"]["template"]["spec"]["containers"][0]["image"],
        "registry.test/hello:0123456789abcdef0123456789abcdef01234567"
    );
    assert_eq!(
        annotation(&objects[0], "previewd.dev/summary"),
        "PR 7 by octocat: Add login"
    );
    assert_eq!(objects[1].file, "app.yaml");
}

#[test]
fn hostile_titles_and_branches_are_data_byte_for_byte() {
    let hostile = [
        "{{values.image}} }} {{#each}} {{{raw}}}",
        "x\"\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: evil}",
        "<script>alert('&amp;')</script> & \\ \" ' `",
        "line1\nline2\r\n\ttab: value\n- item\n# comment",
        "x~previewd~branch~x",
        "",
    ];
    let baseline = render(&one("app.yaml", APP), &ctx("plain", "plain"), &labels()).unwrap();
    for text in hostile {
        let objects = render(&one("app.yaml", APP), &ctx(text, text), &labels()).unwrap();
        assert_eq!(
            objects.len(),
            baseline.len(),
            "{text:?} changed the set of objects"
        );
        assert_eq!(annotation(&objects[0], "previewd.dev/title"), text);
        assert_eq!(annotation(&objects[0], "previewd.dev/branch"), text);
        let kinds: Vec<_> = objects.iter().map(|o| o.object["kind"].clone()).collect();
        assert_eq!(kinds, [json!("Deployment"), json!("Service")]);
    }
}

/// Found by `properties::free_text_never_changes_the_objects_and_lands_byte_for_byte`: empty
/// free text (the author of a deleted account is empty) reached the template as itself, not as
/// a token, so as a plain scalar it became null and as a flow sequence item it was no item.
#[test]
fn empty_free_text_is_an_empty_string_wherever_it_is_written() {
    let source = "\
apiVersion: v1
kind: ConfigMap
metadata:
  name: free-text
data:
  plain: {{author}}
  flow: [{{title}}, {{branch}}, x]
";
    let mut pull = pull("", "");
    pull.author = String::new();
    let ctx = Context::new(
        &pull,
        "octo-org-hello-pr7-abc",
        "pr-{{number}}.{{repo}}.preview.test",
        json!({}),
    )
    .unwrap();
    let objects = render(&one("free-text.yaml", source), &ctx, &labels()).unwrap();
    assert_eq!(objects[0].object["data"]["plain"], json!(""));
    assert_eq!(objects[0].object["data"]["flow"], json!(["", "", "x"]));
}

/// Found by `properties::free_text_never_changes_the_objects_and_lands_byte_for_byte`: the
/// tokens were valid slugs, so a branch named like one had the title put in its `branch_slug`.
#[test]
fn a_branch_named_like_a_token_keeps_its_slug() {
    let source = "\
apiVersion: v1
kind: ConfigMap
metadata:
  name: slug
  labels:
    branch: \"{{branch_slug}}\"
";
    for branch in ["x-previewd-free-text-title-x", "x~previewd~title~x"] {
        let objects = render(&one("slug.yaml", source), &ctx(".nan", branch), &labels()).unwrap();
        assert_eq!(
            objects[0].object["metadata"]["labels"]["branch"],
            json!(crate::model::names::slug(branch, 63)),
            "{branch:?}"
        );
    }
}

#[test]
fn unknown_variable_names_file_and_line() {
    let source = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{nope}}\n";
    let err = render(&one("cm.yaml", source), &ctx("t", "b"), &labels()).unwrap_err();
    match err {
        RenderError::Template { file, line, .. } => {
            assert_eq!(file, "cm.yaml");
            assert_eq!(line, 4);
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn broken_handlebars_names_file_and_line() {
    let source = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{#if number}}x\n";
    let err = render(&one("cm.yaml", source), &ctx("t", "b"), &labels()).unwrap_err();
    assert!(
        matches!(err, RenderError::Template { ref file, .. } if file == "cm.yaml"),
        "{err}"
    );
    assert!(err.to_string().starts_with("cm.yaml:"), "{err}");
}

#[test]
fn invalid_yaml_names_file_and_line() {
    let source = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n data: [\n";
    let err = render(&one("cm.yaml", source), &ctx("t", "b"), &labels()).unwrap_err();
    match err {
        RenderError::Yaml { file, line, .. } => {
            assert_eq!(file, "cm.yaml");
            assert!(line >= 4, "line {line}");
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn objects_outside_the_namespace_are_refused() {
    let other_ns =
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  namespace: kube-system\n";
    let err = render(&one("cm.yaml", other_ns), &ctx("t", "b"), &labels()).unwrap_err();
    assert!(err.to_string().contains("\"kube-system\""), "{err}");
    let namespace = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: x\n";
    let err = render(&one("ns.yaml", namespace), &ctx("t", "b"), &labels()).unwrap_err();
    assert!(
        matches!(err, RenderError::Object { document: 1, .. }),
        "{err}"
    );
    let no_name = "---\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {}\n";
    let err = render(&one("cm.yaml", no_name), &ctx("t", "b"), &labels()).unwrap_err();
    assert!(err.to_string().contains("metadata.name"), "{err}");
}

#[test]
fn host_pattern_is_rendered_and_checked() {
    let c = ctx("t", "b");
    assert_eq!(c.host, "pr-7.hello.preview.test");
    assert_eq!(c.url, "https://pr-7.hello.preview.test");
    let err = Context::new(&pull("t", "b"), "ns", "{{title}}.test", Value::Null).unwrap_err();
    assert!(matches!(err, RenderError::Host(_)), "{err}");
    let err = Context::new(&pull("t", "b"), "ns", "Bad_Host", Value::Null).unwrap_err();
    assert!(matches!(err, RenderError::Host(_)), "{err}");
}
