//! Maintainers steer previews from PR comments, end to end on the real control plane: who may,
//! what each command does, the reactions, and that a command runs once.

use std::time::Duration;

use previewd::model::crd::{Desired, DestroyReason, Phase};
use previewd_testkit::scenario::Scenario;
use previewd_testkit::steering::{MAINTAINER, status_message};

const READY: Duration = Duration::from_secs(90);
const GONE: Duration = Duration::from_secs(60);
const QUICK: Duration = Duration::from_secs(20);
const OLD_SHA: &str = "ec26c3e57ca3a959ca5aad62de7213c562f8c821";
const NEW_SHA: &str = "d6fde92930d4715a2b49857d24b940956b26d2d3";

async fn ready_preview(prefix: &str, number: u64) -> Scenario {
    let s = Scenario::start(prefix, |_| {}).await;
    s.deliver(&s.payload("pr-opened", number)).await;
    s.wait_phase(number, Phase::Ready, Some(OLD_SHA), READY)
        .await;
    s
}

#[tokio::test]
async fn destroy_stays_destroyed_on_pushes_until_deploy() {
    let s = ready_preview("cmd-destroy", 41).await;
    let asked = std::time::Instant::now();
    let destroy = s.maintainer_says(41, "/preview destroy").await;
    s.wait_reaction(destroy, "eyes", QUICK).await;
    let taken = asked.elapsed();
    println!("👀 after {} ms", taken.as_millis());
    assert!(taken < Duration::from_secs(2), "👀 took {taken:?}");
    let destroyed = s.wait_phase(41, Phase::Destroyed, None, GONE).await;
    assert_eq!(
        destroyed.spec.desired,
        Desired::Destroyed(DestroyReason::Requested)
    );
    assert!(s.namespace(41).await.is_none());
    s.wait_reaction(destroy, "rocket", QUICK).await;
    assert_eq!(s.reactions(destroy), ["eyes", "rocket"]);
    let text = s.comment_text(41);
    assert!(text.contains("Preview destroyed"), "{text}");
    assert!(
        text.contains(&format!("@{MAINTAINER} `/preview destroy`")),
        "{text}"
    );

    s.push_leaves_destroyed(41, NEW_SHA, &destroyed.spec.desired)
        .await;

    // Case and spacing do not matter.
    let deploy = s.maintainer_says(41, "  /Preview   DEPLOY  ").await;
    s.wait_phase(41, Phase::Ready, Some(NEW_SHA), READY).await;
    s.wait_reaction(deploy, "rocket", QUICK).await;
    assert_eq!(s.reactions(deploy), ["eyes", "rocket"]);
    s.sticky_comment(41);
}

#[tokio::test]
async fn a_read_only_user_claiming_owner_is_refused() {
    let s = ready_preview("cmd-refused", 42).await;
    let before = s.preview(42).await.unwrap();
    let writes_before = s.github_writes();
    let (id, sent) = s
        .comment_as(42, "mallory", "OWNER", "/preview destroy")
        .await;
    assert_eq!(sent.status, 202, "{}", sent.body);
    s.wait_reaction(id, "-1", QUICK).await;
    let pe = s
        .wait_preview(42, "commands taken", QUICK, |pe| {
            pe.spec.commands.is_empty()
                && pe
                    .status
                    .as_ref()
                    .is_some_and(|st| st.processed_commands.contains(&id))
        })
        .await;
    assert_eq!(pe.spec.desired, Desired::Deployed);
    assert_eq!(s.reactions(id), ["-1"], "no 👀 for a refused command");
    s.wait_comment(
        42,
        "@mallory `/preview destroy` was refused: commands need write permission",
    )
    .await;
    // Nothing else changed: the namespace is the same one, the preview still Ready.
    let ns = s.namespace(42).await.expect("namespace still there");
    assert!(ns.metadata.deletion_timestamp.is_none());
    s.wait_phase(42, Phase::Ready, Some(OLD_SHA), QUICK).await;
    assert_eq!(pe.metadata.uid, before.metadata.uid);
    let permission_asks = s
        .github
        .requests_to(
            "GET",
            &format!("/repos/{}/collaborators/mallory/permission", s.full_name()),
        )
        .len();
    assert_eq!(permission_asks, 1);
    // The writes: the 👎 and the edited comment with the refusal.
    let writes = s.github_write_lines(writes_before);
    assert_eq!(writes.len(), 2, "{writes:#?}");
}

#[tokio::test]
async fn quoted_and_fenced_commands_run_nothing() {
    let s = ready_preview("cmd-quoted", 43).await;
    let writes_before = s.github_writes();
    for body in [
        "> /preview destroy\n\nWhy would we?",
        "Try this:\n```\n/preview destroy\n```",
        "Run `/preview destroy` when done",
    ] {
        let (id, sent) = s.comment_as(43, MAINTAINER, "MEMBER", body).await;
        assert_eq!(sent.status, 202);
        assert!(sent.body.contains("ignored"), "{body:?}: {}", sent.body);
        assert!(s.reactions(id).is_empty());
    }
    // Edited and deleted comments run nothing, even when they now carry a command.
    for action in ["edited", "deleted"] {
        let (id, _) = s.comment_as(43, MAINTAINER, "MEMBER", "fine").await;
        let changed = s
            .payload("issue-comment-on-pr", 43)
            .set("/action", action)
            .comment_id(id)
            .comment_author(MAINTAINER, "MEMBER")
            .comment_body("/preview destroy");
        let sent = s.deliver(&changed).await;
        assert!(sent.body.contains("ignored"), "{action}: {}", sent.body);
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let pe = s.preview(43).await.unwrap();
    assert_eq!(pe.spec.desired, Desired::Deployed);
    assert!(pe.spec.commands.is_empty());
    assert_eq!(s.github_writes(), writes_before, "{:#?}", s.github.writes());
}

#[tokio::test]
async fn a_redelivered_command_runs_once_also_after_a_restart() {
    let mut s = ready_preview("cmd-once", 44).await;
    s.github
        .set_permission(&s.owner, &s.repo, MAINTAINER, "write");
    let (id, _) = s
        .comment_as(44, MAINTAINER, "MEMBER", "/preview extend 24h")
        .await;
    s.wait_reaction(id, "rocket", QUICK).await;
    let extended = s
        .wait_preview(44, "extended", QUICK, |pe| pe.spec.extended_until.is_some())
        .await
        .spec
        .extended_until;
    let redeliver = s
        .payload("issue-comment-on-pr", 44)
        .comment_id(id)
        .comment_author(MAINTAINER, "MEMBER")
        .comment_body("/preview extend 24h");
    let sent = s.deliver(&redeliver).await;
    assert!(sent.body.contains("already taken"), "{}", sent.body);
    s.previewd.restart(None).await;
    let sent = s.deliver(&redeliver).await;
    assert!(sent.body.contains("already taken"), "{}", sent.body);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let pe = s.preview(44).await.unwrap();
    assert_eq!(pe.spec.extended_until, extended, "extended twice");
    assert_eq!(s.reactions(id), ["eyes", "rocket"]);
    let text = s.comment_text(44);
    assert!(text.contains("the preview now expires at"), "{text}");
}

#[tokio::test]
async fn pin_unpin_status_help_and_an_unknown_command() {
    let s = ready_preview("cmd-misc", 45).await;
    assert!(s.comment_text(45).contains("| Expires |"));

    let pin = s.maintainer_says(45, "/preview pin").await;
    s.wait_reaction(pin, "rocket", QUICK).await;
    s.wait_preview(45, "pinned", QUICK, |pe| pe.spec.pinned)
        .await;
    let text = s
        .wait_comment(45, "pinned: the preview does not expire")
        .await;
    assert!(!text.contains("| Expires |"), "{text}");

    let unpin = s.maintainer_says(45, "/preview unpin").await;
    s.wait_reaction(unpin, "rocket", QUICK).await;
    let text = s.wait_comment(45, "unpinned: the preview expires at").await;
    assert!(text.contains("| Expires |"), "{text}");

    let status = s.maintainer_says(45, "/preview status").await;
    s.wait_reaction(status, "rocket", QUICK).await;
    s.wait_comment(45, "`/preview status`: status as of").await;

    let help = s.maintainer_says(45, "/preview help").await;
    s.wait_reaction(help, "rocket", QUICK).await;
    s.wait_comment(45, "`/preview extend <duration>`").await;

    let unknown = s.maintainer_says(45, "/preview frobnicate").await;
    s.wait_reaction(unknown, "confused", QUICK).await;
    let text = s.wait_comment(45, "unknown command `frobnicate`").await;
    assert!(text.contains("`/preview redeploy`"), "help follows: {text}");
    let pe = s.preview(45).await.unwrap();
    assert_eq!(pe.spec.desired, Desired::Deployed);
    s.sticky_comment(45);
    let asked = s.github.requests_to(
        "GET",
        &format!(
            "/repos/{}/collaborators/{MAINTAINER}/permission",
            s.full_name()
        ),
    );
    assert_eq!(asked.len(), 1, "five commands, one question to GitHub");
}

#[tokio::test]
async fn redeploy_restarts_the_pods() {
    let s = ready_preview("cmd-redeploy", 46).await;
    let before = s.deployment(46).await;
    let id = s.maintainer_says(46, "/preview redeploy").await;
    s.wait_reaction(id, "rocket", READY).await;
    let after = s.deployment(46).await;
    let stamp = |d: &k8s_openapi::api::apps::v1::Deployment| {
        d.spec
            .as_ref()
            .and_then(|s| s.template.metadata.as_ref())
            .and_then(|m| m.annotations.as_ref())
            .and_then(|a| a.get("previewd.dev/redeploy").cloned())
    };
    assert_eq!(stamp(&before), None);
    assert_eq!(stamp(&after).as_deref(), Some("1"));
    assert!(after.metadata.generation > before.metadata.generation);
    s.wait_phase(46, Phase::Ready, Some(OLD_SHA), QUICK).await;
}

#[tokio::test]
async fn a_command_on_a_pull_request_previewd_never_saw() {
    let s = Scenario::start("cmd-unseen", |o| {
        o.repository_settings = serde_json::json!({"autoDeploy": false});
    })
    .await;
    // Opened while previewd deploys only on request: recorded, silent.
    s.deliver(&s.payload("pr-opened", 47)).await;
    let pending = s.wait_phase(47, Phase::Pending, None, QUICK).await;
    assert!(status_message(&pending).contains("`/preview deploy`"));
    assert!(s.comments(47).is_empty(), "no comment until someone asks");

    // A PR previewd has no record of: the comment's payload names it, GitHub tells the rest.
    let head = "0123456789abcdef0123456789abcdef01234567";
    s.github.set_pull(
        previewd_testkit::github::Pull::new(&s.owner, &s.repo, 48).head(head, "feature/late"),
    );
    let id = s.maintainer_says(48, "/preview deploy").await;
    s.wait_phase(48, Phase::Ready, Some(head), READY).await;
    s.wait_reaction(id, "rocket", QUICK).await;
    let pe = s.preview(48).await.unwrap();
    assert_eq!(pe.spec.pull.branch, "feature/late");
    assert!(pe.spec.requested);

    let id = s.maintainer_says(47, "/preview deploy").await;
    s.wait_phase(47, Phase::Ready, Some(OLD_SHA), READY).await;
    s.wait_reaction(id, "rocket", QUICK).await;
}
