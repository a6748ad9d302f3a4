//! What deploys by itself, end to end on the real control plane: forks and their approval, the
//! queue behind the caps, time to live, label mode, drafts and branch patterns.

use std::time::Duration;

use previewd::model::crd::{Desired, DestroyReason, Phase};
use previewd_testkit::scenario::Scenario;
use previewd_testkit::steering::status_message;

const READY: Duration = Duration::from_secs(90);
const GONE: Duration = Duration::from_secs(60);
const QUICK: Duration = Duration::from_secs(20);
const OLD_SHA: &str = "ec26c3e57ca3a959ca5aad62de7213c562f8c821";
const NEW_SHA: &str = "d6fde92930d4715a2b49857d24b940956b26d2d3";

fn settings(json: serde_json::Value) -> impl FnOnce(&mut previewd_testkit::previewd::Options) {
    move |o| o.repository_settings = json
}

#[tokio::test]
async fn a_fork_runs_only_the_commit_a_maintainer_approved() {
    let s = Scenario::start("fork-approval", |_| {}).await;
    let opened = s.payload("pr-opened-fork", 51);
    let head = opened.str("/pull_request/head/sha").unwrap();
    s.deliver(&opened).await;
    let pending = s.wait_phase(51, Phase::Pending, None, QUICK).await;
    assert!(pending.spec.pull.fork);
    let text = s
        .wait_comment(51, &format!("`/preview deploy {head}`"))
        .await;
    assert!(text.contains("comes from a fork"), "{text}");
    assert!(s.namespace(51).await.is_none(), "a fork deployed by itself");

    // Approval needs the SHA; a bare deploy is answered, not run.
    let bare = s.maintainer_says(51, "/preview deploy").await;
    s.wait_reaction(bare, "confused", QUICK).await;
    assert!(s.namespace(51).await.is_none());

    // A prefix could be matched by a commit crafted after the review: only the full SHA approves.
    let prefix = s
        .maintainer_says(51, &format!("/preview deploy {}", &head[..12]))
        .await;
    s.wait_reaction(prefix, "confused", QUICK).await;
    s.wait_comment(51, "takes the full commit SHA").await;
    assert!(s.namespace(51).await.is_none());

    let approve = s
        .maintainer_says(51, &format!("/preview deploy {head}"))
        .await;
    s.wait_phase(51, Phase::Ready, Some(&head), READY).await;
    s.wait_reaction(approve, "rocket", QUICK).await;

    // A later push to the fork is not deployed; the approved commit keeps running.
    let pushed = s.payload("pr-synchronize-fork", 51);
    let new_head = pushed.str("/pull_request/head/sha").unwrap();
    assert_ne!(new_head, head);
    s.deliver(&pushed).await;
    let text = s
        .wait_comment(
            51,
            &format!("the new commit {} is not deployed", &new_head[..7]),
        )
        .await;
    assert!(
        text.contains(&format!("`/preview deploy {new_head}`")),
        "{text}"
    );
    let pe = s.preview(51).await.unwrap();
    let status = pe.status.unwrap();
    assert_eq!(status.deployed_sha.as_deref(), Some(head.as_str()));
    assert_eq!(status.phase, Phase::Ready);
    let image = s.web_image(51).await;
    assert!(image.ends_with(&head), "{image}");

    let again = s
        .maintainer_says(51, &format!("/preview deploy {new_head}"))
        .await;
    s.wait_phase(51, Phase::Ready, Some(&new_head), READY).await;
    s.wait_reaction(again, "rocket", QUICK).await;
    s.sticky_comment(51);
}

#[tokio::test]
async fn over_the_cap_previews_queue_and_drain_in_order() {
    let s = Scenario::start("queue", settings(serde_json::json!({"maxPreviews": 1}))).await;
    s.deliver(&s.payload("pr-opened", 61)).await;
    s.wait_phase(61, Phase::Ready, None, READY).await;
    s.deliver(&s.payload("pr-opened", 62)).await;
    s.wait_phase(62, Phase::Pending, None, QUICK).await;
    s.deliver(&s.payload("pr-opened", 63)).await;
    s.wait_phase(63, Phase::Pending, None, QUICK).await;
    let first = s.wait_comment(62, "queued: 1st in line").await;
    assert!(first.contains("1 of 1 previews of"), "{first}");
    s.wait_comment(63, "queued: 2nd in line").await;
    assert!(s.namespace(62).await.is_none() && s.namespace(63).await.is_none());

    // 61 closes: 62 (waiting longest) takes the slot once 61's namespace is gone; 63 moves up.
    s.deliver(&s.payload("pr-closed-unmerged", 61)).await;
    s.wait_phase(62, Phase::Ready, None, READY).await;
    let pe61 = s.wait_phase(61, Phase::Destroyed, None, QUICK).await;
    assert!(pe61.status.unwrap().queued_at.is_none());
    s.wait_comment(63, "queued: 1st in line").await;
    assert!(s.namespace(63).await.is_none());

    s.deliver(&s.payload("pr-closed-merged", 62)).await;
    s.wait_phase(63, Phase::Ready, None, READY).await;
    let pe63 = s.preview(63).await.unwrap();
    assert!(pe63.status.unwrap().queued_at.is_none());
}

#[tokio::test]
async fn an_idle_preview_expires_and_stays_destroyed_until_deployed() {
    let s = Scenario::start("ttl", settings(serde_json::json!({"ttl": "8s"}))).await;
    s.deliver(&s.payload("pr-opened", 71)).await;
    s.wait_phase(71, Phase::Ready, Some(OLD_SHA), READY).await;
    assert!(s.comment_text(71).contains("| Expires |"));
    let expired = s.wait_phase(71, Phase::Destroyed, None, GONE).await;
    assert_eq!(
        expired.spec.desired,
        Desired::Destroyed(DestroyReason::Expired)
    );
    s.wait_comment(71, "idle past its time to live").await;

    s.push_leaves_destroyed(71, NEW_SHA, &expired.spec.desired)
        .await;

    let id = s.maintainer_says(71, "/preview deploy").await;
    s.wait_phase(71, Phase::Ready, Some(NEW_SHA), READY).await;
    s.wait_reaction(id, "rocket", QUICK).await;
}

#[tokio::test]
async fn label_mode_removal_destroys_and_adding_back_deploys() {
    let s = Scenario::start("label", settings(serde_json::json!({"label": "preview"}))).await;
    s.deliver(&s.payload("pr-opened", 81)).await;
    let pending = s.wait_phase(81, Phase::Pending, None, QUICK).await;
    assert!(status_message(&pending).contains("`preview`"));
    assert!(
        s.comments(81).is_empty(),
        "label mode stays silent until the label comes"
    );

    s.deliver(&s.payload("pr-labeled", 81)).await;
    s.wait_phase(81, Phase::Ready, None, READY).await;

    s.deliver(&s.payload("pr-unlabeled", 81)).await;
    let removed = s.wait_phase(81, Phase::Destroyed, None, GONE).await;
    assert_eq!(
        removed.spec.desired,
        Desired::Destroyed(DestroyReason::LabelRemoved)
    );
    s.wait_comment(81, "the preview label was removed").await;

    let relabeled = s
        .payload("pr-labeled", 81)
        .updated_at("2099-01-01T00:00:00Z");
    s.deliver(&relabeled).await;
    s.wait_phase(81, Phase::Ready, None, READY).await;
    s.sticky_comment(81);
}

#[tokio::test]
async fn drafts_wait_for_review() {
    let s = Scenario::start("draft", |_| {}).await;
    s.deliver(&s.payload("pr-opened-draft", 91)).await;
    s.wait_phase(91, Phase::Pending, None, QUICK).await;
    s.wait_comment(91, "draft pull request").await;
    assert!(s.namespace(91).await.is_none());
    s.deliver(&s.payload("pr-ready-for-review", 91)).await;
    s.wait_phase(91, Phase::Ready, None, READY).await;
}

#[tokio::test]
async fn a_retarget_the_patterns_exclude_takes_the_preview_down() {
    let s = Scenario::start(
        "retarget",
        settings(serde_json::json!({"baseBranches": {"exclude": ["release/*"]}})),
    )
    .await;
    s.deliver(&s.payload("pr-opened", 95)).await;
    s.wait_phase(95, Phase::Ready, None, READY).await;
    let retargeted = s.payload("pr-edited-base", 95);
    assert_eq!(
        retargeted.str("/pull_request/base/ref").as_deref(),
        Some("release/1.0")
    );
    s.deliver(&retargeted).await;
    let down = s.wait_phase(95, Phase::Destroyed, None, GONE).await;
    assert_eq!(down.spec.pull.base_branch, "release/1.0");
    let text = s
        .wait_comment(95, "base branch `release/1.0` is excluded by `release/*`")
        .await;
    assert!(text.contains("Preview destroyed"), "{text}");
}
