use super::testing::files;
use super::*;

fn templates_of(definition: &Definition) -> Vec<&str> {
    match &definition.source {
        Source::Templates(templates) => templates.iter().map(|t| t.file.as_str()).collect(),
        _ => panic!("not templates"),
    }
}

#[test]
fn paths_stay_inside_the_directory() {
    for ok in [
        "preview.yaml",
        "templates/web.yaml",
        "a/b/c.hbs",
        "..yaml",
        "a/.hidden",
    ] {
        assert!(check_path(ok).is_ok(), "{ok}");
    }
    for bad in [
        "",
        "/etc/passwd",
        "../x",
        "a/../../x",
        "a//b",
        "./a",
        "a/.",
        "a\\b",
        "a\u{0}b",
    ] {
        assert!(check_path(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn files_are_bounded_in_number_and_size() {
    let mut many = Files::default();
    for n in 0..MAX_FILES {
        many.add(&format!("f{n}"), vec![b'x']).unwrap();
    }
    assert!(
        many.add("one-more", vec![])
            .unwrap_err()
            .contains("more than")
    );
    let mut big = Files::default();
    let err = big.add("big", vec![0; MAX_FILE_BYTES + 1]).unwrap_err();
    assert!(err.starts_with("big: "), "{err}");
    for n in 0..(MAX_TOTAL_BYTES / MAX_FILE_BYTES) {
        big.add(&format!("f{n}"), vec![0; MAX_FILE_BYTES]).unwrap();
    }
    assert!(big.add("last", vec![0]).unwrap_err().contains("in all"));
}

#[test]
fn the_settings_name_the_templates_and_their_values() {
    let definition = read(&files(&[
        ("preview.yaml", "values: {replicas: 2, image: app}\n"),
        ("templates/web.yaml", "kind: Deployment"),
        ("templates/db.hbs", "kind: StatefulSet"),
        ("templates/nested/skip.yaml", "kind: Job"),
        ("templates/README.md", "notes"),
        ("other/x.yaml", "kind: Job"),
    ]))
    .unwrap();
    assert_eq!(
        templates_of(&definition),
        ["templates/db.hbs", "templates/web.yaml"]
    );
    let values = definition.values(serde_json::json!({"image": "operator", "domain": "d"}));
    assert_eq!(
        values,
        serde_json::json!({"image": "app", "domain": "d", "replicas": 2})
    );
    let elsewhere = read(&files(&[
        ("preview.yaml", "source: handlebars\ntemplates: k8s\n"),
        ("k8s/a.yml", "kind: Service"),
    ]))
    .unwrap();
    assert_eq!(templates_of(&elsewhere), ["k8s/a.yml"]);
}

#[test]
fn errors_name_the_file() {
    let cases: [(&[(&str, &str)], &str); 10] = [
        (&[("templates/a.yaml", "x")], "preview.yaml: missing"),
        (
            &[("preview.yaml", "sauce: helm\n")],
            "preview.yaml: unknown field `sauce`",
        ),
        (
            &[("preview.yaml", "source: kustomize\n")],
            "overlay/kustomization.yaml: missing",
        ),
        (
            &[("preview.yaml", "source: helm\n")],
            "chart/Chart.yaml: missing",
        ),
        (
            &[
                ("preview.yaml", "source: helm\nrelease: Not_A_Label\n"),
                ("chart/Chart.yaml", "name: app\n"),
            ],
            "preview.yaml: release:",
        ),
        (
            &[
                ("preview.yaml", "source: helm\nchart: ../elsewhere\n"),
                ("chart/Chart.yaml", "name: app\n"),
            ],
            "preview.yaml: chart:",
        ),
        (
            &[("preview.yaml", "templates: ../up\n")],
            "preview.yaml: templates:",
        ),
        (
            &[("preview.yaml", "{}\n")],
            "no *.yaml, *.yml or *.hbs template in templates/",
        ),
        (
            &[("preview.yaml", "values: [1]\n"), ("templates/a.yaml", "x")],
            "preview.yaml: values: a mapping",
        ),
        (
            &[
                ("preview.yaml", "values: {a: 1}\n"),
                ("templates/a.yaml", "x"),
            ],
            "",
        ),
    ];
    for (entries, expected) in cases {
        match read(&files(entries)) {
            Err(e) => assert!(e.contains(expected), "{e} does not say {expected:?}"),
            Ok(_) => assert!(expected.is_empty(), "{entries:?} was accepted"),
        }
    }
}

#[test]
fn a_checkout_is_read_without_following_links() {
    let dir = std::env::temp_dir().join(format!("previewd-definition-{}", std::process::id()));
    let root = dir.join(".preview");
    std::fs::create_dir_all(root.join("templates")).unwrap();
    std::fs::write(root.join("preview.yaml"), "values: {a: 1}\n").unwrap();
    std::fs::write(root.join("templates/web.yaml"), "kind: Service\n").unwrap();
    let read_back = local::read_dir(&root).unwrap();
    assert_eq!(
        read_back.paths().collect::<Vec<_>>(),
        ["preview.yaml", "templates/web.yaml"]
    );
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink("/etc/hostname", root.join("templates/token.yaml")).unwrap();
        let err = local::read_dir(&root).unwrap_err();
        assert_eq!(err, "templates/token.yaml: a symbolic link is refused");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
