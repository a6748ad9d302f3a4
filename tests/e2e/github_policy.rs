//! previewd's GitHub policy, seen from the stand-in: a rate limit pauses every call until GitHub
//! says, a permission error is reported and not hammered, content-creating calls go out a
//! second apart, and none of it keeps a preview from deploying.

use std::time::Duration;

use previewd::model::crd::Phase;
use previewd_testkit::github::{Fault, Recorded, Targeted};
use previewd_testkit::scenario::Scenario;

const READY: Duration = Duration::from_secs(90);

fn comments_path(s: &Scenario, number: u64) -> String {
    format!("/repos/{}/issues/{number}/comments", s.full_name())
}

fn after(requests: &[Recorded], seq: u64) -> Vec<&Recorded> {
    requests.iter().filter(|r| r.seq > seq).collect()
}

#[tokio::test]
async fn a_secondary_rate_limit_pauses_every_call_for_its_retry_after() {
    let s = Scenario::start("policy-secondary", |_| {}).await;
    let path = comments_path(&s, 1);
    s.github.inject(
        Fault::SecondaryRateLimit { retry_after: 3 }
            .once()
            .on_exactly("POST", &path),
    );
    s.deliver(&s.payload("pr-opened", 1)).await;
    s.wait_phase(1, Phase::Ready, None, READY).await;
    s.github
        .wait_for("the comment", READY, |g| {
            (g.comments(&s.owner, &s.repo, 1).len() == 1).then_some(())
        })
        .await;
    let requests = s.github.requests();
    let limited = requests
        .iter()
        .find(|r| r.status == Some(403))
        .expect("the rate-limited POST");
    let next = after(&requests, limited.seq);
    let first_after = next.first().expect("calls after the limit lifted");
    let waited = first_after.received - limited.received;
    assert!(
        waited >= Duration::from_millis(2900),
        "previewd called GitHub {waited:?} after a 403 with retry-after: 3"
    );
    assert_eq!(s.sticky_comment(1).id, s.comments(1)[0].id);
    assert_eq!(s.wait_comment_condition(1, "True").await, "");
}

#[tokio::test]
async fn an_exhausted_rate_limit_stops_calls_and_shows_in_the_status_while_the_preview_deploys() {
    let s = Scenario::start("policy-exhausted", |_| {}).await;
    s.github.set_rate_limit_remaining(0);
    s.deliver(&s.payload("pr-opened", 1)).await;
    let message = s.wait_comment_condition(1, "False").await;
    assert!(message.contains("rate limit"), "{message}");
    let asked = s.github.requests().len();
    // The preview deploys all the same, and no call goes to GitHub before the reset (an hour).
    s.wait_phase(1, Phase::Ready, None, READY).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        s.github.requests().len(),
        asked,
        "calls while the limit is used up: {:#?}",
        s.github.requests()
    );
    assert!(s.comments(1).is_empty());
}

#[tokio::test]
async fn a_permission_error_is_reported_and_not_retried_in_a_loop() {
    let s = Scenario::start("policy-forbidden", |_| {}).await;
    let path = comments_path(&s, 1);
    s.github
        .inject(Fault::Status(403).times(1000).on("POST", &path));
    s.deliver(&s.payload("pr-opened", 1)).await;
    s.wait_phase(1, Phase::Ready, None, READY).await;
    let message = s.wait_comment_condition(1, "False").await;
    assert!(message.contains("403"), "{message}");
    // Writing that condition wakes the preview once more (one more attempt); then it rests.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let attempts = s.github.requests_to("POST", &path).len();
    tokio::time::sleep(Duration::from_secs(6)).await;
    assert_eq!(
        s.github.requests_to("POST", &path).len(),
        attempts,
        "a 403 that is not a rate limit was retried within seconds"
    );
    assert!(attempts <= 4, "{attempts} attempts before Ready");
}

#[tokio::test]
async fn content_creating_calls_go_out_a_second_apart() {
    let s = Scenario::start("policy-spacing", |_| {}).await;
    for number in 1..=3 {
        s.deliver(&s.payload("pr-opened", number)).await;
    }
    for number in 1..=3 {
        s.wait_phase(number, Phase::Ready, None, READY).await;
    }
    let posts = s.github.requests_to("POST", "/repos/");
    assert_eq!(posts.len(), 3, "{posts:#?}");
    for pair in posts.windows(2) {
        let gap = pair[1].received - pair[0].received;
        assert!(gap >= Duration::from_millis(990), "two POSTs {gap:?} apart");
    }
}
