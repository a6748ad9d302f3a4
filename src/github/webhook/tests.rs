use super::*;
use crate::model::command::Command;
use serde_json::json;

// The example GitHub documents under "Validating webhook deliveries".
const SECRET: &[u8] = b"It's a Secret to Everybody";
const BODY: &[u8] = b"Hello, World!";
const SIGNATURE: &str = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";

#[test]
fn matches_githubs_documented_vector() {
    assert_eq!(signature_header(SECRET, BODY), SIGNATURE);
    assert!(signature_is_valid(SECRET, BODY, SIGNATURE));
}

#[test]
fn rejects_tampering_and_other_schemes() {
    assert!(!signature_is_valid(SECRET, b"Hello, World?", SIGNATURE));
    assert!(!signature_is_valid(b"other", BODY, SIGNATURE));
    assert!(!signature_is_valid(
        SECRET,
        BODY,
        &SIGNATURE.replace("sha256=", "sha1=")
    ));
    assert!(!signature_is_valid(SECRET, BODY, "sha256=zz"));
    assert!(!signature_is_valid(SECRET, BODY, ""));
    // An empty secret signs for anyone.
    assert!(!signature_is_valid(b"", BODY, &signature_header(b"", BODY)));
}

fn pull_payload(action: &str) -> Vec<u8> {
    json!({
        "action": action,
        "number": 5,
        "pull_request": {
            "state": "open", "title": "t", "html_url": "https://github.test/o/r/pull/5",
            "merged": false, "updated_at": "2026-01-02T03:04:05Z",
            "user": {"login": "octocat"},
            "head": {"ref": "feature", "sha": "abcabcabcabcabcabcabcabcabcabcabcabcabca", "repo": {"id": 1, "full_name": "o/r"}},
            "base": {"ref": "main", "sha": "defdefdefdefdefdefdefdefdefdefdefdefdefd", "repo": {"id": 1, "full_name": "o/r"}}
        },
        "repository": {"id": 1, "full_name": "o/r"}
    })
    .to_string()
    .into_bytes()
}

#[test]
fn parses_pull_request_events() {
    let WebhookEvent::PullRequest(e) = parse("pull_request", &pull_payload("opened")).unwrap()
    else {
        panic!("not a pull request event");
    };
    assert_eq!(e.action, PullAction::Opened);
    assert_eq!(
        (
            e.pull.repository.full_name.as_str(),
            e.pull.number,
            e.pull.head_sha.as_str()
        ),
        ("o/r", 5, "abcabcabcabcabcabcabcabcabcabcabcabcabca")
    );
    assert!(!e.pull.fork && e.open);
    assert_eq!(
        e.pull.pr_updated_at.unwrap().to_rfc3339(),
        "2026-01-02T03:04:05+00:00"
    );
}

#[test]
fn unknown_events_and_actions_are_ignored_not_errors() {
    assert!(matches!(
        parse("pull_request", &pull_payload("assigned")).unwrap(),
        WebhookEvent::Ignored { action: Some(a), .. } if a == "assigned"
    ));
    assert!(matches!(
        parse("star", b"{}").unwrap(),
        WebhookEvent::Ignored { .. }
    ));
    assert!(matches!(
        parse("star", b"not json").unwrap(),
        WebhookEvent::Ignored { .. }
    ));
    assert_eq!(parse("ping", b"{}").unwrap(), WebhookEvent::Ping);
}

fn comment_payload(action: &str, body: &str, on_pull_request: bool) -> Vec<u8> {
    let mut issue = json!({
        "number": 5, "state": "open", "title": "t",
        "html_url": "https://github.test/o/r/pull/5", "user": {"login": "octocat"}
    });
    if on_pull_request {
        issue["pull_request"] = json!({"url": "https://api.github.test/repos/o/r/pulls/5"});
    }
    json!({
        "action": action,
        "issue": issue,
        "comment": {"id": 77, "body": body, "user": {"login": "maintainer"},
                    "author_association": "OWNER"},
        "repository": {"id": 1, "full_name": "o/r"}
    })
    .to_string()
    .into_bytes()
}

#[test]
fn commands_come_only_from_new_comments_on_pull_requests() {
    let WebhookEvent::Command(c) = parse(
        "issue_comment",
        &comment_payload("created", "/preview extend 24h", true),
    )
    .unwrap() else {
        panic!("not a command");
    };
    assert_eq!(
        (c.pull.number, c.comment_id, c.login.as_str(), c.open),
        (5, 77, "maintainer", true)
    );
    assert_eq!(c.command, Command::Extend { seconds: 86_400 });
    for (action, body, on_pr) in [
        ("edited", "/preview destroy", true),
        ("deleted", "/preview destroy", true),
        ("created", "/preview destroy", false),
        ("created", "looks good to me", true),
        ("created", "> /preview destroy", true),
    ] {
        assert!(
            matches!(
                parse("issue_comment", &comment_payload(action, body, on_pr)).unwrap(),
                WebhookEvent::Ignored { .. }
            ),
            "{action} {body:?} {on_pr}"
        );
    }
}

#[test]
fn label_and_draft_facts_are_read() {
    let mut payload: serde_json::Value = serde_json::from_slice(&pull_payload("labeled")).unwrap();
    payload["label"] = json!({"name": "preview"});
    payload["pull_request"]["labels"] = json!([{"name": "preview"}, {"name": "bug"}]);
    payload["pull_request"]["draft"] = json!(true);
    let WebhookEvent::PullRequest(e) =
        parse("pull_request", payload.to_string().as_bytes()).unwrap()
    else {
        panic!()
    };
    assert_eq!(e.action, PullAction::Labeled);
    assert_eq!(e.label.as_deref(), Some("preview"));
    assert_eq!(e.pull.labels, ["preview", "bug"]);
    assert!(e.pull.draft);
}

#[test]
fn malformed_payloads_are_errors() {
    assert!(parse("pull_request", b"{").is_err());
    assert!(parse("pull_request", br#"{"action":"opened","number":"x"}"#).is_err());
}

/// Why `parse` refuses `body` (a payload of `event`) once `change` is made to it.
fn refusal_with(
    event: &str,
    body: &[u8],
    change: impl FnOnce(&mut serde_json::Value),
) -> ParseError {
    let mut payload: serde_json::Value = serde_json::from_slice(body).unwrap();
    change(&mut payload);
    parse(event, &serde_json::to_vec(&payload).unwrap()).unwrap_err()
}

#[test]
fn a_malformed_payload_names_the_field() {
    let error = refusal_with("pull_request", &pull_payload("opened"), |p| {
        p["pull_request"]["head"]["sha"] = json!(7)
    });
    assert!(
        error
            .to_string()
            .starts_with("malformed pull_request payload: pull_request.head.sha: "),
        "{error}"
    );
    assert!(
        parse(
            "pull_request",
            &[&pull_payload("opened")[..], b"}"].concat()
        )
        .is_err()
    );
}

#[test]
fn values_previewd_cannot_record_are_invalid_not_malformed() {
    let error = refusal_with("pull_request", &pull_payload("opened"), |p| {
        p["number"] = json!(1u64 << 63)
    });
    assert!(
        matches!(
            error,
            ParseError::Invalid {
                field: "number",
                ..
            }
        ),
        "{error}"
    );
    assert_eq!(
        error.to_string(),
        "invalid pull_request payload: number: 9223372036854775808 is not between 1 and 9223372036854775807"
    );
    let comment = comment_payload("created", "/preview deploy", true);
    let error = refusal_with("issue_comment", &comment, |p| {
        p["comment"]["id"] = json!(u64::MAX)
    });
    assert!(
        matches!(
            error,
            ParseError::Invalid {
                field: "comment.id",
                ..
            }
        ),
        "{error}"
    );
}

fn check_run_payload(action: &str, sha: &str) -> Vec<u8> {
    json!({
        "action": action,
        "check_run": {"id": 7, "name": "build", "head_sha": sha, "status": "completed", "conclusion": "failure"},
        "repository": {"id": 1, "full_name": "o/r"}
    })
    .to_string()
    .into_bytes()
}

#[test]
fn check_deliveries_name_the_commit_and_the_change() {
    let sha = "abcabcabcabcabcabcabcabcabcabcabcabcabca";
    let Ok(WebhookEvent::Checks(event)) = parse("check_run", &check_run_payload("completed", sha))
    else {
        panic!("not a checks event")
    };
    assert_eq!(event.sha, sha);
    assert_eq!(event.repository.full_name, "o/r");
    assert_eq!(event.change, "check_run 7 completed failure");
    let status = json!({
        "id": 9, "sha": sha, "state": "success", "context": "ci/jenkins",
        "repository": {"id": 1, "full_name": "o/r"}
    });
    let Ok(WebhookEvent::Checks(event)) = parse("status", status.to_string().as_bytes()) else {
        panic!("not a checks event")
    };
    assert_eq!(event.change, "status 9 ci/jenkins success");
    // A button clicked on a check, a suite requested: nothing a verdict depends on.
    for (event, action) in [
        ("check_run", "requested_action"),
        ("check_suite", "requested"),
    ] {
        let body = json!({"action": action}).to_string();
        assert!(
            matches!(
                parse(event, body.as_bytes()),
                Ok(WebhookEvent::Ignored { .. })
            ),
            "{event} {action}"
        );
    }
    // A commit that is no SHA cannot be recorded, however often it is sent.
    assert!(matches!(
        parse("check_run", &check_run_payload("completed", "main")),
        Err(ParseError::Invalid {
            field: "head_sha",
            ..
        })
    ));
}
