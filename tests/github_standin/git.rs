//! A branch's files through the git database: the branch names its commit and root tree, a
//! tree lists its entries (one level, or all with `recursive=1`), a blob gives its content in
//! base64; symbolic links keep their mode.

use base64::Engine;
use serde_json::Value;

use previewd_testkit::github::GitFile;

use crate::http::{get, started_with_pull};

#[tokio::test]
async fn a_branch_s_files_are_read_tree_by_tree_and_blob_by_blob() {
    let gh = started_with_pull().await;
    gh.set_branch_files(
        "acme",
        "shop",
        "main",
        vec![
            GitFile::new("README.md", "shop"),
            GitFile::new(".preview/preview.yaml", "source: handlebars\n"),
            GitFile::new(".preview/templates/web.yaml", "kind: Service\n"),
            GitFile::link(".preview/templates/token.yaml", "/etc/hostname"),
        ],
    );
    let branch = get(&gh, "/repos/acme/shop/branches/main").await.json();
    let commit = branch["commit"]["sha"].as_str().unwrap().to_owned();
    assert_eq!(
        Some(commit.clone()),
        gh.branch_commit("acme", "shop", "main")
    );
    let root = branch["commit"]["commit"]["tree"]["sha"].as_str().unwrap();
    let top = get(&gh, &format!("/repos/acme/shop/git/trees/{root}"))
        .await
        .json();
    let names: Vec<&str> = top["tree"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["path"].as_str().unwrap())
        .collect();
    assert_eq!(names, [".preview", "README.md"]);
    let preview = top["tree"][0]["sha"].as_str().unwrap();
    let all = get(
        &gh,
        &format!("/repos/acme/shop/git/trees/{preview}?recursive=1"),
    )
    .await
    .json();
    let entries: Vec<(String, String)> = all["tree"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["path"].as_str().unwrap().to_owned(),
                e["mode"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        entries,
        [
            ("preview.yaml".into(), "100644".into()),
            ("templates".into(), "040000".into()),
            ("templates/token.yaml".into(), "120000".into()),
            ("templates/web.yaml".into(), "100644".into()),
        ]
    );
    let web = all["tree"][3]["sha"].as_str().unwrap();
    let blob = get(&gh, &format!("/repos/acme/shop/git/blobs/{web}"))
        .await
        .json();
    assert_eq!(blob["encoding"], "base64");
    let content = base64::engine::general_purpose::STANDARD
        .decode(blob["content"].as_str().unwrap())
        .unwrap();
    assert_eq!(content, b"kind: Service\n");
    // A new commit changes every tree SHA; the old ones are gone.
    gh.set_branch_files(
        "acme",
        "shop",
        "main",
        vec![GitFile::new("README.md", "v2")],
    );
    let moved = get(&gh, "/repos/acme/shop/branches/main").await.json();
    assert_ne!(moved["commit"]["sha"], Value::String(commit));
    assert_eq!(
        get(&gh, &format!("/repos/acme/shop/git/trees/{preview}"))
            .await
            .status,
        404
    );
}
