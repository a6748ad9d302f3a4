//! The core lifecycle on the real control plane, with GitHub's real payloads and the stand-in:
//! open → Ready with one comment → push redeploys → close or merge tears down.

use std::collections::BTreeSet;
use std::time::Duration;

use k8s_openapi::api::core::v1::Namespace;
use kube::api::{DynamicObject, ListParams};
use kube::discovery::ApiResource;
use kube::{Api, ResourceExt};
use previewd::model::crd::{Desired, Phase, PreviewEnvironmentStatus};
use previewd_testkit::scenario::Scenario;

const READY: Duration = Duration::from_secs(90);
const OLD_SHA: &str = "ec26c3e57ca3a959ca5aad62de7213c562f8c821";
const NEW_SHA: &str = "d6fde92930d4715a2b49857d24b940956b26d2d3";

fn image(deployment: &k8s_openapi::api::apps::v1::Deployment) -> String {
    deployment
        .spec
        .as_ref()
        .and_then(|s| s.template.spec.as_ref())
        .map(|p| p.containers[0].image.clone().unwrap_or_default())
        .unwrap_or_default()
}

#[tokio::test]
async fn open_push_late_push_close() {
    let s = Scenario::start("lifecycle", |_| {}).await;
    s.deliver(&s.payload("pr-opened", 11)).await;
    let ready = s.wait_phase(11, Phase::Ready, Some(OLD_SHA), READY).await;
    let ns = s.preview_name(11);
    let status = ready.status.unwrap();
    assert_eq!(
        status.url.as_deref(),
        Some(format!("https://{ns}.preview.test").as_str())
    );
    assert_eq!(
        image(&s.deployment(11).await),
        format!("registry.test/app:{OLD_SHA}")
    );
    let comment = s.sticky_comment(11);
    assert!(comment.body.contains("Preview ready"), "{}", comment.body);
    let writes = s.github_write_lines(0);
    let open_writes = writes_for_deploy(&status);
    assert!(
        open_writes.contains(&writes.len()),
        "Ready within a moment: the comment is created once, saying Ready: {writes:#?}"
    );
    assert!(
        comment.body.contains(&format!("https://{ns}.preview.test")),
        "{}",
        comment.body
    );
    assert!(comment.body.contains(&OLD_SHA[..7]), "{}", comment.body);
    let namespace = Api::<Namespace>::all(s.kube.clone())
        .get(&ns)
        .await
        .unwrap();
    let labels = namespace.labels();
    assert_eq!(labels["app.kubernetes.io/managed-by"], "previewd");
    assert_eq!(labels["previewd.dev/instance"], s.previewd.instance());
    assert_eq!(
        namespace.annotations()["previewd.dev/owner-uid"],
        ready.metadata.uid.unwrap()
    );

    // A push: the new SHA runs in the same namespace and the same comment is edited.
    s.deliver(&s.payload("pr-synchronize-new-sha", 11)).await;
    let pushed = s.wait_phase(11, Phase::Ready, Some(NEW_SHA), READY).await;
    let push_writes = writes_for_deploy(&pushed.status.unwrap());
    assert_eq!(
        image(&s.deployment(11).await),
        format!("registry.test/app:{NEW_SHA}")
    );
    let edited = s.sticky_comment(11);
    assert_eq!(edited.id, comment.id);
    assert!(edited.body.contains(&NEW_SHA[..7]), "{}", edited.body);
    let posts = s.github.requests_to(
        "POST",
        &format!("/repos/{}/issues/11/comments", s.full_name()),
    );
    assert_eq!(posts.len(), 1, "one comment created, then only edits");

    // A late delivery of an older push never rolls the preview back.
    let late = s
        .payload("pr-synchronize-new-sha", 11)
        .head_sha(OLD_SHA)
        .updated_at("2019-05-15T15:20:40Z");
    let answer = s.deliver(&late).await;
    assert!(answer.body.contains("ignored"), "{}", answer.body);
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(s.preview(11).await.unwrap().spec.pull.head_sha, NEW_SHA);
    assert_eq!(
        image(&s.deployment(11).await),
        format!("registry.test/app:{NEW_SHA}")
    );

    // Close: the namespace goes, then the comment says so.
    s.deliver(&s.payload("pr-closed-unmerged", 11)).await;
    s.wait_namespace_gone(11, READY).await;
    let destroyed = s.wait_phase(11, Phase::Destroyed, None, READY).await;
    assert!(matches!(destroyed.spec.desired, Desired::Destroyed(_)));
    let last = s.sticky_comment(11);
    assert!(
        last.body.contains("Preview destroyed") && last.body.contains("closed"),
        "{}",
        last.body
    );
    let writes: Vec<_> = s
        .github
        .writes()
        .iter()
        .map(|r| {
            format!(
                "{} {} {:?}",
                r.method,
                r.path,
                r.body
                    .as_ref()
                    .and_then(|b| b["body"].as_str())
                    .unwrap_or("")
                    .lines()
                    .nth(1)
                    .unwrap_or("")
            )
        })
        .collect();
    let close_writes = 2; // terminating, destroyed
    assert!(
        (open_writes.start() + push_writes.start() + close_writes
            ..=open_writes.end() + push_writes.end() + close_writes)
            .contains(&writes.len()),
        "open: 1, push: 1 (each Ready within a moment), close: 2: {writes:#?}"
    );
}

/// The comment writes a deploy takes: one saying Ready when it was Ready before previewd says
/// "deploying" (`DEPLOYING_QUIET`, 2 s); two when it took longer; either at the boundary.
fn writes_for_deploy(status: &PreviewEnvironmentStatus) -> std::ops::RangeInclusive<usize> {
    let took = status.ready_at.unwrap() - status.deploy_started_at.unwrap();
    match took.num_milliseconds() {
        ..1_500 => 1..=1,
        1_500..2_500 => 1..=2,
        _ => 2..=2,
    }
}

#[tokio::test]
async fn merge_tears_down_then_reopen_at_once_recreates() {
    let s = Scenario::start("merge", |_| {}).await;
    s.deliver(&s.payload("pr-opened", 12)).await;
    s.wait_phase(12, Phase::Ready, None, READY).await;
    s.deliver(&s.payload("pr-closed-merged", 12)).await;
    s.wait_namespace_gone(12, READY).await;
    s.wait_phase(12, Phase::Destroyed, None, READY).await;
    assert!(s.sticky_comment(12).body.contains("merged"));

    // Close and reopen back to back: the old namespace may still be terminating; the preview
    // waits for it to go and comes back Ready, still with one comment.
    s.deliver(&s.payload("pr-opened", 13)).await;
    s.wait_phase(13, Phase::Ready, None, READY).await;
    s.deliver(&s.payload("pr-closed-unmerged", 13)).await;
    s.deliver(&s.payload("pr-reopened", 13)).await;
    s.wait_phase(13, Phase::Ready, None, READY).await;
    assert_eq!(s.preview(13).await.unwrap().spec.desired, Desired::Deployed);
    assert!(s.sticky_comment(13).body.contains("Preview ready"));
}

#[tokio::test]
async fn repeated_deliveries_and_restarts_write_nothing_more() {
    let mut s = Scenario::start("repeats", |_| {}).await;
    let opened = s.payload("pr-opened", 14);
    let first = s.deliver(&opened).await;
    s.wait_phase(14, Phase::Ready, None, READY).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let writes = s.github_writes();
    for _ in 0..20 {
        s.deliver(&opened).await;
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        s.github_writes(),
        writes,
        "20 redeliveries under new ids wrote to GitHub"
    );

    s.previewd.restart(None).await;
    let again = previewd_testkit::webhooks::Delivery::new(
        &s.previewd.webhook_url(),
        previewd_testkit::previewd::SECRET.as_bytes(),
    )
    .id(&first.delivery_id)
    .send(&opened)
    .await;
    assert_eq!(again.status, 202, "{}", again.body);
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(
        s.github_writes(),
        writes,
        "a redelivery after a restart wrote to GitHub"
    );
    assert_eq!(
        s.preview(14).await.unwrap().status.unwrap().phase,
        Phase::Ready
    );
    s.sticky_comment(14);
}

#[tokio::test]
async fn hostile_title_and_branch_are_data() {
    let s = Scenario::start("hostile", |_| {}).await;
    let title = "{{values.image}} }} {{#each x}}\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\n<b>&amp;</b> \"quoted\" 'single' \\ `tick`\r\n";
    let branch = "feat/{{title}}---<&>\"'";
    s.deliver(&s.payload("pr-opened", 15).title(title).branch(branch))
        .await;
    s.wait_phase(15, Phase::Ready, None, READY).await;
    let deployment = s.deployment(15).await;
    assert_eq!(deployment.annotations()["previewd.dev/title"], title);
    assert_eq!(deployment.annotations()["previewd.dev/branch"], branch);

    let ns = s.preview_name(15);
    let mut found = BTreeSet::new();
    for (group, version, kind, plural) in [
        ("apps", "v1", "Deployment", "deployments"),
        ("", "v1", "Service", "services"),
        ("networking.k8s.io", "v1", "Ingress", "ingresses"),
        ("", "v1", "ConfigMap", "configmaps"),
    ] {
        let resource = ApiResource {
            group: group.into(),
            version: version.into(),
            api_version: if group.is_empty() {
                version.into()
            } else {
                format!("{group}/{version}")
            },
            kind: kind.into(),
            plural: plural.into(),
        };
        let api = Api::<DynamicObject>::namespaced_with(s.kube.clone(), &ns, &resource);
        for o in api
            .list(&ListParams::default().labels("app.kubernetes.io/managed-by=previewd"))
            .await
            .unwrap()
        {
            found.insert(format!("{kind}/{}", o.name_any()));
        }
    }
    let expected: BTreeSet<String> = ["Deployment/web", "Service/web", "Ingress/web"]
        .map(String::from)
        .into();
    assert_eq!(found, expected);
    let cluster_roles = previewd_testkit::cluster::kubectl(&[
        "get",
        "clusterroles",
        "-l",
        "app.kubernetes.io/managed-by=previewd",
        "-o",
        "name",
    ]);
    assert!(
        String::from_utf8_lossy(&cluster_roles.stdout)
            .trim()
            .is_empty()
    );
}

#[tokio::test]
async fn a_crash_after_the_comment_post_leaves_one_comment() {
    let mut s = Scenario::start("crash", |o| {
        o.failpoint = Some("after-comment-create".into())
    })
    .await;
    s.deliver(&s.payload("pr-opened", 16)).await;
    assert!(
        s.previewd.wait_exit(Duration::from_secs(60)).await,
        "the failpoint did not fire:\n{}",
        s.previewd.logs()
    );
    assert_eq!(
        s.comments(16).len(),
        1,
        "GitHub accepted the comment before the crash"
    );
    assert!(
        s.preview(16)
            .await
            .unwrap()
            .status
            .and_then(|st| st.comment_id)
            .is_none()
    );
    s.previewd.restart(None).await;
    s.wait_phase(16, Phase::Ready, None, READY).await;
    let comment = s.sticky_comment(16);
    assert!(comment.body.contains("Preview ready"), "{}", comment.body);
    assert_eq!(
        s.preview(16).await.unwrap().status.unwrap().comment_id,
        Some(comment.id)
    );
}

#[tokio::test]
async fn the_global_cap_holds_previews_until_a_slot_frees() {
    let s = Scenario::start("cap", |o| o.max_previews = Some(1)).await;
    s.deliver(&s.payload("pr-opened", 17)).await;
    s.wait_phase(17, Phase::Ready, None, READY).await;
    s.deliver(&s.payload("pr-opened", 18)).await;
    let waiting = s.wait_phase(18, Phase::Pending, None, READY).await;
    assert!(
        waiting
            .status
            .unwrap()
            .message
            .unwrap_or_default()
            .contains("1 of 1 previews are deployed")
    );
    assert!(
        Api::<Namespace>::all(s.kube.clone())
            .get_opt(&s.preview_name(18))
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        s.sticky_comment(18)
            .body
            .contains("1 of 1 previews are deployed")
    );
    s.deliver(&s.payload("pr-closed-unmerged", 17)).await;
    s.wait_phase(18, Phase::Ready, None, READY).await;
}

#[tokio::test]
async fn same_second_deliveries_that_disagree_are_settled_by_github() {
    let s = Scenario::start("tie", |_| {}).await;
    s.deliver(&s.payload("pr-opened", 19)).await;
    s.wait_phase(19, Phase::Ready, Some(OLD_SHA), READY).await;
    s.github
        .update_pull(&s.owner, &s.repo, 19, |p| p.head_sha = NEW_SHA.into());
    let second = "2019-05-15T15:20:50Z";
    s.deliver(&s.payload("pr-synchronize-new-sha", 19).updated_at(second))
        .await;
    s.wait_phase(19, Phase::Ready, Some(NEW_SHA), READY).await;
    assert!(
        s.github
            .requests_to("GET", &format!("/repos/{}/pulls/19", s.full_name()))
            .is_empty()
    );

    // Same second, older head: only GitHub can tell which came last, and it says NEW_SHA.
    let late = s
        .payload("pr-synchronize-new-sha", 19)
        .head_sha(OLD_SHA)
        .updated_at(second);
    s.deliver(&late).await;
    let path = format!("/repos/{}/pulls/19", s.full_name());
    s.github
        .wait_for("previewd asks GitHub for the PR", READY, |gh| {
            gh.requests_to("GET", &path).first().cloned()
        })
        .await;
    let deadline = tokio::time::Instant::now() + READY;
    loop {
        let pe = s.preview(19).await.unwrap();
        if !pe.spec.confirm_with_github {
            assert_eq!(pe.spec.pull.head_sha, NEW_SHA);
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "never settled:\n{}",
            s.previewd.logs()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    s.wait_phase(19, Phase::Ready, Some(NEW_SHA), READY).await;
    assert_eq!(
        image(&s.deployment(19).await),
        format!("registry.test/app:{NEW_SHA}")
    );
}
