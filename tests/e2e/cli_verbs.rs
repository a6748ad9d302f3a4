//! The operator verbs against the local control plane: `previewd list` and `previewd status`
//! show what a running installation recorded, `previewd gc --dry-run` says what the controller's
//! rules would remove and deletes nothing, and `previewd gc` removes exactly that (a record kept
//! past `keepDestroyedFor`, an orphan namespace) while previewd is down, leaving a namespace it
//! cannot tie to an owner and everything live alone.

use std::collections::BTreeMap;
use std::process::Command;
use std::time::Duration;

use chrono::{SecondsFormat, Utc};
use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Patch, PatchParams, PostParams};
use kube::{Api, ResourceExt};
use previewd::model::crd::{Phase, PreviewEnvironment};
use previewd_testkit::scenario::Scenario;
use serde_json::{Value, json};

const READY: Duration = Duration::from_secs(90);
const GONE: Duration = Duration::from_secs(90);

/// Runs `previewd <args> --instance <the scenario's>` with the test's kubeconfig; its stdout,
/// after asserting it succeeded.
fn previewd(s: &Scenario, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_previewd"))
        .args(args)
        .args(["--instance", s.previewd.instance()])
        .env_remove("PREVIEWD_CONFIG")
        .output()
        .expect("run previewd");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "previewd {args:?}: {}\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// A namespace with the scenario's installation labels, owned (by annotation) by `owner_uid`.
async fn labelled_namespace(s: &Scenario, name: &str, owner_uid: Option<&str>) {
    let mut ns = Namespace::default();
    ns.metadata.name = Some(name.to_owned());
    ns.metadata.labels = Some(BTreeMap::from([
        (
            "app.kubernetes.io/managed-by".to_owned(),
            "previewd".to_owned(),
        ),
        (
            "previewd.dev/instance".to_owned(),
            s.previewd.instance().to_owned(),
        ),
    ]));
    ns.metadata.annotations = owner_uid
        .map(|uid| BTreeMap::from([("previewd.dev/owner-uid".to_owned(), uid.to_owned())]));
    Api::<Namespace>::all(s.kube.clone())
        .create(&PostParams::default(), &ns)
        .await
        .expect("create a namespace");
}

#[tokio::test]
async fn operators_list_inspect_and_collect() {
    let mut s = Scenario::start("cli-verbs", |_| {}).await;
    s.deliver(&s.payload("pr-opened", 1)).await;
    s.deliver(&s.payload("pr-opened", 2)).await;
    s.wait_phase(1, Phase::Ready, None, READY).await;
    s.wait_phase(2, Phase::Ready, None, READY).await;

    let rows: Value = serde_json::from_str(&previewd(&s, &["list", "-o", "json"])).unwrap();
    let rows = rows.as_array().expect("an array");
    assert_eq!(rows.len(), 2, "{rows:#?}");
    assert_eq!(rows[0]["repository"], s.full_name());
    assert_eq!(rows[0]["number"], 1);
    assert_eq!(rows[0]["phase"], "Ready");
    assert_eq!(rows[0]["name"], s.preview_name(1));
    assert!(rows[0]["url"].as_str().unwrap().starts_with("https://"));
    assert!(rows[0]["expiresAt"].is_string(), "{:#}", rows[0]);
    let table = previewd(&s, &["list"]);
    assert!(table.starts_with("REPOSITORY"), "{table}");
    assert_eq!(
        table.lines().filter(|l| l.contains(&s.full_name())).count(),
        2,
        "{table}"
    );

    let status = previewd(&s, &["status", &format!("{}#1", s.full_name())]);
    for expected in [
        "Phase:     Ready",
        "Ready=True",
        "✅ Preview ready",
        "Normal  Ready",
    ] {
        assert!(status.contains(expected), "{expected:?} missing:\n{status}");
    }

    // PR 2 closes and is torn down; then previewd stops, and its record ages past its time.
    s.deliver(&s.payload("pr-closed-unmerged", 2)).await;
    s.wait_phase(2, Phase::Destroyed, None, GONE).await;
    s.previewd.kill();
    let eight_days_ago =
        (Utc::now() - chrono::Duration::days(8)).to_rfc3339_opts(SecondsFormat::Secs, true);
    let previews = Api::<PreviewEnvironment>::all(s.kube.clone());
    let closed = s.preview_name(2);
    previews
        .patch(
            &closed,
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"prUpdatedAt": eight_days_ago}})),
        )
        .await
        .expect("age the spec");
    previews
        .patch_status(
            &closed,
            &PatchParams::default(),
            &Patch::Merge(json!({"status": {"lastTransitionAt": eight_days_ago}})),
        )
        .await
        .expect("age the status");
    let orphan = format!("{}-orphan", s.preview_name(3));
    let unowned = format!("{}-unowned", s.preview_name(4));
    labelled_namespace(&s, &orphan, Some("uid-of-a-record-long-gone")).await;
    labelled_namespace(&s, &unowned, None).await;

    let dry = previewd(&s, &["gc", "--dry-run"]);
    let expected = [
        format!(
            "would delete PreviewEnvironment {closed}: destroyed (Closed) 8d ago; records are kept 1w"
        ),
        format!(
            "would delete Namespace {orphan}: orphan: its PreviewEnvironment (uid uid-of-a-record-long-gone) is gone"
        ),
        format!(
            "kept Namespace {unowned}: carries this installation's labels but names no owner uid"
        ),
    ];
    assert_eq!(dry.lines().collect::<Vec<_>>(), expected, "{dry}");
    let record = previews
        .get(&closed)
        .await
        .expect("still there after --dry-run");
    assert!(record.metadata.deletion_timestamp.is_none());

    let done = previewd(&s, &["gc"]);
    assert!(
        done.contains(&format!("deleted PreviewEnvironment {closed}")),
        "{done}"
    );
    assert!(
        done.contains(&format!("deleted Namespace {orphan}")),
        "{done}"
    );
    assert!(
        done.contains(&format!("kept Namespace {unowned}")),
        "{done}"
    );
    // Its finalizer completes when previewd runs again.
    let record = previews.get_opt(&closed).await.unwrap();
    assert!(record.is_none_or(|r| r.metadata.deletion_timestamp.is_some()));
    let namespaces = Api::<Namespace>::all(s.kube.clone());
    let gone = namespaces.get_opt(&orphan).await.unwrap();
    assert!(gone.is_none_or(|ns| ns.metadata.deletion_timestamp.is_some()));
    let kept = namespaces.get(&unowned).await.expect("left alone");
    assert!(kept.metadata.deletion_timestamp.is_none());
    // What is live stays.
    let live = previews
        .get(&s.preview_name(1))
        .await
        .expect("PR 1's record");
    assert!(live.metadata.deletion_timestamp.is_none());
    let live_ns = namespaces
        .get(&s.preview_name(1))
        .await
        .expect("PR 1's namespace");
    assert!(live_ns.metadata.deletion_timestamp.is_none());
    assert_eq!(live.name_any(), s.preview_name(1));
    assert_eq!(
        previewd(&s, &["gc", "--dry-run"]),
        format!(
            "kept Namespace {unowned}: carries this installation's labels but names no owner uid\n"
        )
    );
}
