//! Repositories are known by id: a renamed repository keeps its previews, namespaces and comment
//! (deliveries under the new name find them by their labels, REST calls to the old name follow
//! GitHub's redirects); a repository transferred to an owner previewd does not serve has its
//! previews torn down with a comment saying why. Records named by earlier versions (from the
//! full name) are found by their labels.

use std::time::{Duration, Instant};

use kube::api::{DeleteParams, ListParams, PostParams};
use kube::{Api, ResourceExt};
use previewd::model::crd::{
    Desired, DestroyReason, Phase, PreviewEnvironment, PreviewEnvironmentSpec,
};
use previewd::model::labels;
use previewd::model::pull::{PullFacts, Repository};
use previewd_testkit::github::{Comment, Pull, Recorded};
use previewd_testkit::previewd::Options;
use previewd_testkit::scenario::Scenario;

const READY: Duration = Duration::from_secs(90);
const GONE: Duration = Duration::from_secs(60);
const OLD_SHA: &str = "ec26c3e57ca3a959ca5aad62de7213c562f8c821";
const NEW_SHA: &str = "d6fde92930d4715a2b49857d24b940956b26d2d3";

/// Every record of PR `number` of repository `id` this scenario's previewd made.
async fn records_of(s: &Scenario, id: u64, number: u64) -> Vec<PreviewEnvironment> {
    let selector = format!(
        "previewd.dev/instance={},previewd.dev/repository-id={id},previewd.dev/pull-request={number}",
        s.previewd.instance()
    );
    Api::<PreviewEnvironment>::all(s.kube.clone())
        .list(&ListParams::default().labels(&selector))
        .await
        .expect("list records")
        .items
}

/// Waits until previewd asked GitHub what the allowlist's name stands for.
async fn wait_resolved(s: &Scenario) {
    let path = format!("/repos/{}", s.full_name());
    let deadline = Instant::now() + Duration::from_secs(20);
    while !s
        .github
        .requests()
        .iter()
        .any(|r| r.method == "GET" && r.path == path && r.status == Some(200))
    {
        assert!(
            Instant::now() < deadline,
            "the allowlist was never resolved\n{}",
            s.previewd.logs()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn line(r: &Recorded) -> String {
    format!("{} {} -> {:?}", r.method, r.path, r.status)
}

/// A scenario whose allowlist is resolved, with PR `number` opened and Ready: the scenario, the
/// repository's id and the PR's comment.
async fn served_and_ready(
    prefix: &str,
    adjust: impl FnOnce(&mut Options),
    number: u64,
) -> (Scenario, u64, Comment) {
    let s = Scenario::start(prefix, adjust).await;
    let id = s.github.repository_id(&s.owner, &s.repo);
    wait_resolved(&s).await;
    s.deliver(&s.payload("pr-opened", number)).await;
    s.wait_phase(number, Phase::Ready, Some(OLD_SHA), READY)
        .await;
    let comment = s.sticky_comment(number);
    (s, id, comment)
}

#[tokio::test]
async fn a_renamed_repository_keeps_its_preview_namespace_and_comment() {
    let (mut s, id, comment) = served_and_ready("rename", |_| {}, 1).await;
    let namespace = s.preview_name(1);

    // Renamed on GitHub; the next push arrives under the new name, with the same id.
    let renamed = format!("{}-renamed", s.repo);
    let owner = s.owner.clone();
    s.move_repository(&owner, &renamed);
    let seen = s.github.requests().len();
    s.deliver(&s.payload("pr-synchronize-new-sha", 1)).await;
    let ready = s.wait_phase(1, Phase::Ready, Some(NEW_SHA), READY).await;
    assert_eq!(ready.spec.pull.repository.full_name, s.full_name());
    assert_eq!(ready.spec.pull.repository.id, id);
    assert_eq!(
        ready.status.unwrap().namespace.as_deref(),
        Some(namespace.as_str())
    );
    assert_eq!(
        records_of(&s, id, 1).await.len(),
        1,
        "one record, found by its labels"
    );
    let edited = s.sticky_comment(1);
    assert_eq!(
        edited.id, comment.id,
        "the same comment, now under the new name"
    );
    assert!(edited.body.contains(&NEW_SHA[..7]), "{}", edited.body);
    // An edit made in between under the old name (the Ready edit waits for its turn) was
    // redirected and made again under the new one; no comment was created.
    let writes: Vec<String> = s.github.requests()[seen..]
        .iter()
        .filter(|r| r.method != "GET")
        .map(line)
        .collect();
    let expected = format!(
        "PATCH /repos/{}/issues/comments/{} -> Some(200)",
        s.full_name(),
        comment.id
    );
    let redirected = |w: &String| w.starts_with("PATCH ") && w.ends_with("Some(307)");
    assert!(
        writes.contains(&expected) && writes.iter().all(|w| *w == expected || redirected(w)),
        "only edits of the comment, made under the new name: {writes:#?}"
    );

    // A PR opened after the rename is served by id and gets a record of its own.
    s.deliver(&s.payload("pr-opened", 2)).await;
    let deadline = Instant::now() + READY;
    loop {
        let records = records_of(&s, id, 2).await;
        let phase = records
            .first()
            .and_then(|pe| pe.status.as_ref())
            .map(|st| st.phase);
        if phase == Some(Phase::Ready) {
            assert!(
                records[0].name_any().contains("renamed"),
                "{}",
                records[0].name_any()
            );
            break;
        }
        assert!(Instant::now() < deadline, "PR 2 never Ready: {records:#?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Its comment is out before the next rename (a POST redirected after it would teach
    // previewd the newest name before PR 1's teardown could meet the redirect).
    s.wait_comment(2, "Preview ready").await;

    // Renamed once more, and no delivery says so: the teardown's edit of the comment goes to
    // the name previewd knows, is redirected (307), and is made again under the name GitHub
    // gives for the id.
    let known = s.full_name();
    let newer = format!("{}-again", s.repo);
    s.move_repository(&owner, &newer);
    let seen = s.github.requests().len();
    Api::<PreviewEnvironment>::all(s.kube.clone())
        .delete(&namespace, &DeleteParams::default())
        .await
        .expect("delete the record");
    s.wait_preview_gone(1, GONE).await;
    let asked: Vec<String> = s.github.requests()[seen..].iter().map(line).collect();
    let redirected = format!(
        "PATCH /repos/{known}/issues/comments/{} -> Some(307)",
        comment.id
    );
    let by_id = format!("GET /repositories/{id} -> Some(200)");
    let again = format!(
        "PATCH /repos/{}/issues/comments/{} -> Some(200)",
        s.full_name(),
        comment.id
    );
    let at = |wanted: &str| asked.iter().position(|l| l == wanted);
    assert!(
        matches!((at(&redirected), at(&by_id), at(&again)), (Some(a), Some(b), Some(c)) if a < b && b < c),
        "307, then the id asked, then the edit under the new name: {asked:#?}"
    );
    s.wait_comment(1, "destroyed").await;
}

#[tokio::test]
async fn a_repository_transferred_to_an_owner_not_served_has_its_previews_torn_down() {
    let (mut s, id, comment) = served_and_ready("transfer", |o| o.resync_secs = 2, 3).await;

    let repo = s.repo.clone();
    s.move_repository("elsewhere", &repo);
    let moved = Instant::now();
    let gone = s.wait_phase(3, Phase::Destroyed, None, GONE).await;
    assert_eq!(
        gone.spec.desired,
        Desired::Destroyed(DestroyReason::Transferred)
    );
    assert_eq!(gone.spec.pull.repository.full_name, s.full_name());
    assert_eq!(gone.spec.pull.repository.id, id);
    println!("transferred away → Destroyed in {:?}", moved.elapsed());
    assert!(s.namespace(3).await.is_none(), "namespace gone");
    let said = s
        .wait_comment(3, "transferred to an owner previewd does not serve")
        .await;
    assert_eq!(s.sticky_comment(3).id, comment.id, "{said}");
    // A delivery from the new owner is not served, and says why.
    let sent = s.send(&s.payload("pr-synchronize-new-sha", 3)).await;
    assert_eq!(sent.status, 202, "{}", sent.body);
    assert!(sent.body.contains("moved away"), "{}", sent.body);
    let still = s.preview(3).await.expect("the record stays");
    assert_eq!(
        still.spec.desired,
        Desired::Destroyed(DestroyReason::Transferred)
    );
}

/// A record named the way earlier versions named it (from the full name): deliveries find it by
/// its labels and drive it, and no second record is made.
#[tokio::test]
async fn a_record_named_by_an_earlier_version_is_found_by_its_labels() {
    let s = Scenario::start("legacy-name", |_| {}).await;
    let id = s.github.repository_id(&s.owner, &s.repo);
    wait_resolved(&s).await;
    let number = 4;
    s.payload("pr-opened", number); // the stand-in learns the PR
    let legacy = format!("legacy-{}-pr{number}", s.repo);
    let pull = PullFacts {
        repository: Repository {
            id,
            full_name: s.full_name(),
        },
        number,
        head_sha: OLD_SHA.into(),
        branch: "changes".into(),
        base_branch: "main".into(),
        ..PullFacts::default()
    };
    let mut record = PreviewEnvironment::new(&legacy, PreviewEnvironmentSpec::deployed(pull));
    record.metadata.labels = Some(labels::preview_labels(
        s.previewd.instance(),
        &legacy,
        id,
        number,
    ));
    let api = Api::<PreviewEnvironment>::all(s.kube.clone());
    api.create(&PostParams::default(), &record)
        .await
        .expect("create the earlier version's record");
    // Earlier versions' records exist before previewd starts; here the record is made while it
    // runs, so its cache of records is given time to see it (a delivery decided on a cache that
    // has not seen a record under an earlier name would make a second one).
    tokio::time::sleep(Duration::from_secs(2)).await;

    s.deliver(&s.payload("pr-synchronize-new-sha", number))
        .await;
    let deadline = Instant::now() + READY;
    loop {
        let records = records_of(&s, id, number).await;
        assert_eq!(records.len(), 1, "{records:#?}");
        let status = records[0].status.clone().unwrap_or_default();
        if status.phase == Phase::Ready && status.deployed_sha.as_deref() == Some(NEW_SHA) {
            assert_eq!(records[0].name_any(), legacy);
            assert_eq!(status.namespace.as_deref(), Some(legacy.as_str()));
            break;
        }
        assert!(
            Instant::now() < deadline,
            "never Ready at the pushed SHA: {status:#?}\n{}",
            s.previewd.logs()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Renamed, and a new repository created under the old name before previewd heard of it: what
/// previewd then asks under the old name reaches the new repository, which it never writes to.
#[tokio::test]
async fn a_new_repository_under_an_old_name_is_never_written_to() {
    let (mut s, id, comment) = served_and_ready("reused-name", |_| {}, 5).await;
    s.wait_comment(5, "Preview ready").await;

    let old_name = s.full_name();
    let owner = s.owner.clone();
    let renamed = format!("{}-renamed", s.repo);
    s.move_repository(&owner, &renamed);
    s.github.create_repository(&old_name);
    let (old_owner, old_repo) = old_name.split_once('/').unwrap();
    s.github.set_pull(Pull::new(old_owner, old_repo, 5));
    assert_ne!(s.github.repository_id(old_owner, old_repo), id);

    let seen = s.github.requests().len();
    Api::<PreviewEnvironment>::all(s.kube.clone())
        .delete(&s.preview_name(5), &DeleteParams::default())
        .await
        .expect("delete the record");
    s.wait_preview_gone(5, GONE).await;
    s.wait_comment(5, "destroyed").await;
    let asked: Vec<String> = s.github.requests()[seen..].iter().map(line).collect();
    let writes_to_new: Vec<&String> = asked
        .iter()
        .filter(|l| !l.starts_with("GET ") && l.contains(&format!(" /repos/{old_name}/issues/5")))
        .collect();
    assert!(
        writes_to_new.is_empty(),
        "wrote to the new repository: {asked:#?}"
    );
    let not_found = format!(
        "PATCH /repos/{old_name}/issues/comments/{} -> Some(404)",
        comment.id
    );
    let again = format!(
        "PATCH /repos/{}/issues/comments/{} -> Some(200)",
        s.full_name(),
        comment.id
    );
    let at = |wanted: &str| asked.iter().position(|l| l == wanted);
    assert!(
        matches!((at(&not_found), at(&again)), (Some(a), Some(b)) if a < b),
        "404 under the old name, then the edit under the new one: {asked:#?}"
    );
    assert!(s.github.comments(old_owner, old_repo, 5).is_empty());
}
