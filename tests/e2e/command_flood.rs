//! Users without write permission cannot wear previewd down with commands: one 👎 and one line
//! in the sticky comment per user per hour, a bounded number of commands waiting per user and
//! in all (a maintainer's command still runs), and old command comments are not run.

use std::time::Duration;

use previewd::model::crd::Phase;
use previewd_testkit::scenario::Scenario;
use previewd_testkit::steering::MAINTAINER;

const READY: Duration = Duration::from_secs(90);
const QUICK: Duration = Duration::from_secs(30);

#[tokio::test]
async fn a_flood_of_refused_commands_gets_one_answer_per_user() {
    let s = Scenario::start("cmd-flood", |_| {}).await;
    s.deliver(&s.payload("pr-opened", 1)).await;
    s.wait_phase(1, Phase::Ready, None, READY).await;

    let mut flood = Vec::new();
    for _ in 0..40 {
        for login in ["mallory", "trudy"] {
            let (id, sent) = s
                .comment_as(1, login, "CONTRIBUTOR", "/preview deploy")
                .await;
            assert_eq!(sent.status, 202, "{}", sent.body);
            flood.push(id);
        }
    }
    let pin = s.maintainer_says(1, "/preview pin").await;
    s.wait_reaction(pin, "rocket", QUICK).await;
    let settled = s
        .wait_preview(1, "every command taken", QUICK, |pe| {
            pe.spec.commands.is_empty()
        })
        .await;
    assert!(settled.spec.pinned, "the maintainer's command ran");

    let refused: Vec<_> = flood
        .iter()
        .filter(|id| s.reactions(**id) == ["-1"])
        .collect();
    assert_eq!(refused.len(), 2, "one 👎 per user: {refused:?}");
    let unanswered = flood.iter().filter(|id| s.reactions(**id).is_empty());
    assert_eq!(unanswered.count(), flood.len() - 2);
    let text = s.wait_comment(1, "`/preview pin`").await;
    assert!(text.matches("@mallory").count() <= 1, "{text}");
    assert!(text.matches("@trudy").count() <= 1, "{text}");
    // The 👎s and the comment: no write per flooded command.
    let reactions = s.github.requests_to("POST", "/repos/").len();
    assert!(reactions < 12, "{reactions} POSTs");
}

#[tokio::test]
async fn a_command_comment_written_over_an_hour_ago_is_not_run() {
    let s = Scenario::start("cmd-old", |_| {}).await;
    s.deliver(&s.payload("pr-opened", 2)).await;
    s.wait_phase(2, Phase::Ready, None, READY).await;
    s.github
        .set_permission(&s.owner, &s.repo, MAINTAINER, "write");
    let id = s
        .github
        .seed_comment(&s.owner, &s.repo, 2, MAINTAINER, "/preview destroy");
    let two_hours_ago = (chrono::Utc::now() - chrono::Duration::hours(2))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let old = s
        .payload("issue-comment-on-pr", 2)
        .comment_id(id)
        .comment_author(MAINTAINER, "MEMBER")
        .comment_body("/preview destroy")
        .set("/comment/created_at", two_hours_ago);
    let sent = s.deliver(&old).await;
    assert!(sent.body.contains("more than an hour ago"), "{}", sent.body);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let pe = s.preview(2).await.expect("recorded");
    assert!(pe.spec.commands.is_empty());
    assert!(s.reactions(id).is_empty());
    s.wait_phase(2, Phase::Ready, None, QUICK).await;
}

#[tokio::test]
async fn a_command_comment_never_runs_twice_however_many_came_between() {
    let s = Scenario::start("cmd-once", |_| {}).await;
    s.deliver(&s.payload("pr-opened", 3)).await;
    s.wait_phase(3, Phase::Ready, None, READY).await;
    // 105 refused commands, each taken before the next is sent: more than the 100 ids a preview
    // remembers one by one.
    let mut first = None;
    for _ in 0..105 {
        let (id, sent) = s
            .comment_as(3, "mallory", "CONTRIBUTOR", "/preview destroy")
            .await;
        assert_eq!(sent.status, 202, "{}", sent.body);
        first.get_or_insert(id);
        s.wait_preview(3, "the command taken", QUICK, |pe| {
            pe.status
                .as_ref()
                .is_some_and(|st| st.processed_commands.contains(&id))
        })
        .await;
    }
    let first = first.expect("a first comment");
    let pe = s.preview(3).await.expect("recorded");
    let status = pe.status.expect("a status");
    assert!(!status.processed_commands.contains(&first));
    assert!(
        status.processed_up_to >= Some(first),
        "{:?}",
        status.processed_up_to
    );
    // Its redelivery is known for taken all the same.
    let again = s
        .payload("issue-comment-on-pr", 3)
        .comment_id(first)
        .comment_author("mallory", "CONTRIBUTOR")
        .comment_body("/preview destroy");
    let sent = s.deliver(&again).await;
    assert!(sent.body.contains("command already taken"), "{}", sent.body);
    assert_eq!(s.reactions(first), ["-1"]);
}
