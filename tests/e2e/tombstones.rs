//! Nothing grows forever: the record of a destroyed preview is removed once kept for
//! `keepDestroyedFor`, and an old delivery about that pull request arriving afterwards (a
//! replay) is confirmed with GitHub before anything deploys.

use std::time::Duration;

use kube::Api;
use kube::api::{Patch, PatchParams};
use previewd::model::crd::{Phase, PreviewEnvironment};
use previewd_testkit::previewd::SECRET;
use previewd_testkit::scenario::Scenario;
use previewd_testkit::webhooks::Delivery;

const READY: Duration = Duration::from_secs(90);

#[tokio::test]
async fn a_destroyed_record_is_removed_in_time_and_a_replay_after_that_deploys_nothing() {
    let s = Scenario::start("tombstone", |_| {}).await;
    let opened = s.payload("pr-opened", 1);
    s.deliver(&opened).await;
    s.wait_phase(1, Phase::Ready, None, READY).await;
    s.github
        .update_pull(&s.owner, &s.repo, 1, |pull| pull.open = false);
    s.deliver(&s.payload("pr-closed-unmerged", 1)).await;
    s.wait_phase(1, Phase::Destroyed, None, READY).await;

    // Kept for now: the next look is scheduled for when the record is due.
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(s.preview(1).await.is_some(), "removed at once");
    // Closed and destroyed eight days ago, as far as the spec and status tell; the spec change
    // wakes the controller. (Again, should a status write already under way put the real time
    // back.)
    let previews = Api::<PreviewEnvironment>::all(s.kube.clone());
    let eight_days_ago = (chrono::Utc::now() - chrono::Duration::days(8)).to_rfc3339();
    for poke in 0..3 {
        let Some(_) = s.preview(1).await else { break };
        let backdate = serde_json::json!({"status": {"lastTransitionAt": eight_days_ago}});
        let _ = previews
            .patch_status(
                &s.preview_name(1),
                &PatchParams::default(),
                &Patch::Merge(backdate),
            )
            .await;
        let closed = serde_json::json!({
            "metadata": {"labels": {"test/poke": poke.to_string()}},
            "spec": {"prUpdatedAt": eight_days_ago},
        });
        let _ = previews
            .patch(
                &s.preview_name(1),
                &PatchParams::default(),
                &Patch::Merge(closed),
            )
            .await;
        tokio::time::sleep(Duration::from_secs(5)).await;
    }
    s.wait_preview_gone(1, Duration::from_secs(15)).await;

    // A replay of the original delivery, with its own (old) updated_at: GitHub says closed.
    let pulls = format!("/repos/{}/pulls/1", s.full_name());
    let asked_before = s.github.requests_to("GET", &pulls).len();
    let replayed = Delivery::new(&s.previewd.webhook_url(), SECRET.as_bytes())
        .send_raw("pull_request", &opened.bytes(), 1)
        .await;
    assert_eq!(replayed.status, 202, "{}", replayed.body);
    let settled = s.wait_phase(1, Phase::Destroyed, None, READY).await;
    assert!(!settled.spec.confirm_with_github);
    assert!(s.github.requests_to("GET", &pulls).len() > asked_before);
    assert!(s.namespace(1).await.is_none(), "the replay deployed");
    assert_eq!(s.comments(1).len(), 1, "{:#?}", s.comments(1));
}
