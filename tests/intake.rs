//! Webhook → spec, in process: GitHub's real payloads, signed as GitHub signs them, verified and
//! parsed by previewd and turned into the PreviewEnvironment spec it records, with the GitHub
//! stand-in answering where previewd asks GitHub (confirming a pull request). No control plane
//! is involved, so each test takes a few milliseconds.

use std::time::Duration;

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use kube::api::ObjectMeta;
use previewd::controller::confirm::settled_spec;
use previewd::github::webhook::{WebhookEvent, parse, signature_is_valid};
use previewd::intake::record::{Decision, Delivery, cache_vouches_for, decide};
use previewd::model::command::Command;
use previewd::model::crd::{Desired, DestroyReason, PreviewEnvironment, PreviewEnvironmentSpec};
use previewd::model::labels;
use previewd_testkit::github::{Fault, GitHub, Pull, Targeted};
use previewd_testkit::webhooks::{Payload, variant};
use sha2::Sha256;

const SECRET: &[u8] = b"in-process-webhook-secret";
const INSTANCE: &str = "in-process";
const OPENED_SHA: &str = "ec26c3e57ca3a959ca5aad62de7213c562f8c821";
const PUSHED_SHA: &str = "d6fde92930d4715a2b49857d24b940956b26d2d3";

/// `X-Hub-Signature-256` as GitHub computes it (HMAC-SHA256 of the body, hex), written here
/// independently of previewd's own signing code.
fn github_signature(body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET).expect("any key length");
    mac.update(body);
    let digest: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256={digest}")
}

/// What previewd makes of a delivery: its signature checked as the handler checks it, then
/// parsed.
fn received(payload: &Payload) -> WebhookEvent {
    let body = payload.bytes_sent_now();
    assert!(
        signature_is_valid(SECRET, &body, &github_signature(&body)),
        "a delivery GitHub signed is accepted"
    );
    parse(&payload.event, &body).expect("GitHub's payload parses")
}

/// The spec previewd records after `event`, given what `existing` recorded.
fn decided(existing: Option<&PreviewEnvironment>, event: &WebhookEvent) -> Decision {
    decided_in_mode(existing, event, None)
}

/// The same in a repository whose previews follow the label `mode_label`, if any.
fn decided_in_mode(
    existing: Option<&PreviewEnvironment>,
    event: &WebhookEvent,
    mode_label: Option<&str>,
) -> Decision {
    let delivery = match event {
        WebhookEvent::PullRequest(event) => Delivery::Pull { event, mode_label },
        WebhookEvent::Command(event) => Delivery::Command(event),
        other => panic!("not a delivery previewd records: {other:?}"),
    };
    decide(existing, INSTANCE, &delivery, now())
}

fn now() -> DateTime<Utc> {
    "2026-06-01T12:00:00Z".parse().expect("a time")
}

fn spec_of(decision: Decision) -> PreviewEnvironmentSpec {
    match decision {
        Decision::Record(spec) => *spec,
        Decision::Ignore(why) => panic!("ignored: {why}"),
    }
}

/// The PreviewEnvironment holding `spec`, labelled as `instance`'s.
fn recorded_by(instance: &str, spec: PreviewEnvironmentSpec) -> PreviewEnvironment {
    let mut pe = PreviewEnvironment::new("codertocat-hello-world-pr1", spec);
    pe.metadata = ObjectMeta {
        name: pe.metadata.name.clone(),
        labels: Some([(labels::INSTANCE.to_owned(), instance.to_owned())].into()),
        ..ObjectMeta::default()
    };
    pe
}

/// previewd's GitHub client, pointed at the stand-in.
fn client(github: &GitHub) -> previewd::github::client::GitHub {
    previewd::github::client::GitHub::new(
        &github.url(),
        previewd::github::auth::Credentials::Token(GitHub::TOKEN.to_owned()),
        previewd::github::client::Identity {
            login: Some(GitHub::LOGIN.to_owned()),
            previous_logins: Vec::new(),
        },
        Duration::from_secs(5),
    )
    .expect("a client")
}

#[test]
fn a_pull_requests_story_becomes_its_desired_state() {
    let opened = spec_of(decided(None, &received(&variant("pr-opened"))));
    assert_eq!(opened.desired, Desired::Deployed);
    assert_eq!(opened.pull.head_sha, OPENED_SHA);
    assert_eq!(opened.pull.repository.full_name, "Codertocat/Hello-World");
    assert_eq!(opened.pull.number, 2);
    assert!(!opened.pull.fork && !opened.confirm_with_github);
    assert_eq!(opened.last_activity_at, Some(now()), "an open is activity");

    let recorded = recorded_by(INSTANCE, opened.clone());
    let again = spec_of(decided(Some(&recorded), &received(&variant("pr-opened"))));
    assert_eq!(
        again, opened,
        "a redelivery records the same spec: nothing is written"
    );

    let pushed = spec_of(decided(
        Some(&recorded),
        &received(&variant("pr-synchronize-new-sha")),
    ));
    assert_eq!(
        (pushed.pull.head_sha.as_str(), &pushed.desired),
        (PUSHED_SHA, &Desired::Deployed)
    );

    let recorded = recorded_by(INSTANCE, pushed.clone());
    let merged = spec_of(decided(
        Some(&recorded),
        &received(&variant("pr-closed-merged")),
    ));
    assert_eq!(merged.desired, Desired::Destroyed(DestroyReason::Merged));

    let recorded = recorded_by(INSTANCE, merged);
    let reopened = spec_of(decided(Some(&recorded), &received(&variant("pr-reopened"))));
    assert_eq!(reopened.desired, Desired::Deployed);

    // Delivered late, the older push changes nothing.
    let recorded = recorded_by(INSTANCE, reopened.clone());
    let late = decided(
        Some(&recorded),
        &received(&variant("pr-synchronize-new-sha")),
    );
    assert!(matches!(late, Decision::Ignore(_)), "{late:?}");
}

#[test]
fn a_fork_is_recorded_as_one_and_another_installations_record_is_left_alone() {
    let fork = spec_of(decided(None, &received(&variant("pr-opened-fork"))));
    assert!(fork.pull.fork);
    assert_eq!(fork.approved_sha, None, "a fork never deploys by itself");

    let theirs = recorded_by("someone-else", fork);
    assert_eq!(
        decided(Some(&theirs), &received(&variant("pr-synchronize-fork"))),
        Decision::Ignore("recorded by another previewd installation")
    );
}

#[tokio::test]
async fn a_command_on_an_unseen_pull_request_is_settled_by_asking_github() {
    let comment = variant("issue-comment-on-pr").comment_body("Looks good.\n\n/preview deploy");
    let event = received(&comment);
    let spec = spec_of(decided(None, &event));
    assert!(
        spec.confirm_with_github,
        "the comment does not tell the head: ask GitHub"
    );
    assert_eq!(spec.commands.len(), 1);
    assert_eq!(
        spec.commands[0].command,
        Command::Deploy {
            sha: None,
            force: false
        }
    );
    assert!(spec.pull.head_sha.is_empty());

    let github = GitHub::start().await;
    let (full_name, number) = (comment.full_name(), comment.pr_number());
    let (owner, repo) = full_name.split_once('/').expect("owner/name");
    let pull = Pull::new(owner, repo, number).head(OPENED_SHA, "feature-cart");
    github.set_pull(pull);
    github.set_repository_id(&full_name, spec.pull.repository.id);
    let settled = settled_spec(&client(&github), &spec, now())
        .await
        .expect("GitHub answers");
    assert_eq!(settled.pull.head_sha, OPENED_SHA);
    assert_eq!(settled.pull.branch, "feature-cart");
    assert_eq!(settled.pull.repository, spec.pull.repository);
    assert!(!settled.confirm_with_github);
    assert_eq!(
        settled.commands, spec.commands,
        "the command still waits to be run"
    );
    assert_eq!(settled.desired, Desired::Deployed);

    let asked: Vec<(String, String)> = github
        .requests()
        .into_iter()
        .map(|r| (r.method, r.path))
        .collect();
    assert_eq!(
        asked,
        [(
            "GET".to_owned(),
            format!("/repos/{full_name}/pulls/{number}")
        )],
        "one read, no write"
    );
}

#[tokio::test]
async fn github_saying_merged_destroys_and_a_github_error_changes_nothing() {
    let opened = spec_of(decided(None, &received(&variant("pr-opened"))));
    let (owner, repo) = opened
        .pull
        .repository
        .full_name
        .split_once('/')
        .expect("owner/name");
    let github = GitHub::start().await;
    github.set_pull(Pull::new(owner, repo, opened.pull.number).merged());
    let full_name = &opened.pull.repository.full_name;
    github.set_repository_id(full_name, opened.pull.repository.id);
    let client = client(&github);

    let settled = settled_spec(&client, &opened, now())
        .await
        .expect("GitHub answers");
    assert_eq!(settled.desired, Desired::Destroyed(DestroyReason::Merged));

    github.inject(Fault::Status(502).times(1).on("GET", "/repos/"));
    let failed = settled_spec(&client, &opened, now()).await;
    assert!(
        failed.is_err(),
        "a GitHub error is an error, never a destroy: {failed:?}"
    );
    assert!(github.writes().is_empty());
}

/// Whether recording `decision` over `recorded` would write nothing.
fn writes_nothing(recorded: &PreviewEnvironment, decision: &Decision) -> bool {
    match decision {
        Decision::Ignore(_) => true,
        Decision::Record(spec) => **spec == recorded.spec,
    }
}

/// Whether `decision` over `latest` comes from a delivery of the same second as `latest`'s:
/// GitHub's times have seconds, so no order between the two is known and either standing is
/// what some order of delivery gives (where their heads or states differ, the record asks
/// GitHub, whose answer is newer than both).
fn same_second(latest: &PreviewEnvironment, decision: &Decision) -> bool {
    matches!(decision, Decision::Record(spec)
        if spec.pull.pr_updated_at == latest.spec.pull.pr_updated_at)
}

/// A replica's cache may hold an older record than the API server. A delivery decided on it
/// that would write nothing is answered without a write when the cache vouches for it; this
/// is safe only if such a delivery writes nothing over any later record either. Checked over every sequence of up to three of
/// GitHub's deliveries for one pull request (each state a possible stale cache), every
/// delivery arriving again afterwards, with and without label mode, but for deliveries of the
/// latest record's own second (`same_second`).
#[test]
fn a_delivery_the_cached_record_already_holds_changes_no_later_record() {
    let names: Vec<&str> = vec![
        "pr-opened",
        "pr-opened-draft",
        "pr-synchronize-new-sha",
        "pr-closed-merged",
        "pr-closed-unmerged",
        "pr-reopened",
        "pr-labeled",
        "pr-unlabeled",
        "pr-converted-to-draft",
        "pr-ready-for-review",
        "pr-edited-base",
        "issue-comment-on-pr",
    ];
    let events: Vec<WebhookEvent> = names.iter().map(|n| received(&variant(n))).collect();
    let mut checked = 0;
    for mode_label in [None, Some("preview")] {
        let decide_over = |recorded: Option<&PreviewEnvironment>, event: &WebhookEvent| {
            decided_in_mode(recorded, event, mode_label)
        };
        let mut stack: Vec<Vec<usize>> = (0..events.len()).map(|i| vec![i]).collect();
        while let Some(sequence) = stack.pop() {
            let mut states: Vec<PreviewEnvironment> = Vec::new();
            for &i in &sequence {
                if let Decision::Record(spec) = decide_over(states.last(), &events[i]) {
                    states.push(recorded_by(INSTANCE, *spec));
                }
            }
            let Some(latest) = states.last() else {
                continue;
            };
            for stale in &states[..states.len() - 1] {
                for (event, name) in events.iter().zip(&names) {
                    let over_stale = decide_over(Some(stale), event);
                    if !(writes_nothing(stale, &over_stale)
                        && cache_vouches_for(Some(stale), &over_stale))
                    {
                        continue;
                    }
                    let over_latest = decide_over(Some(latest), event);
                    checked += 1;
                    assert!(
                        writes_nothing(latest, &over_latest) || same_second(latest, &over_latest),
                        "after {:?} (label mode {mode_label:?}), {name} writes nothing over the \
                         cached {:?} but writes {over_latest:?} over the latest {:?}",
                        sequence.iter().map(|&i| names[i]).collect::<Vec<_>>(),
                        stale.spec,
                        latest.spec,
                    );
                }
            }
            if sequence.len() < 3 {
                stack.extend((0..events.len()).map(|i| [sequence.clone(), vec![i]].concat()));
            }
        }
    }
    assert!(checked > 1000, "only {checked} cases were checked");
    let closed = received(&variant("pr-closed-unmerged"));
    let without_record = decided(None, &closed);
    assert!(
        matches!(without_record, Decision::Ignore(_)) && !cache_vouches_for(None, &without_record),
        "a close the cache knows no record of is asked about: the record may be a moment old"
    );
}
