//! `GET /repos/{owner}/{repo}/collaborators/{username}/permission`: the owner is admin, roles
//! set by a test as GitHub maps them (maintain → write, triage → read), other users read, an
//! unknown login 404; through the same layer as every endpoint.

use serde_json::{Value, json};

use crate::http::{client, get, send, started_with_pull};
use previewd_testkit::github::openapi::assert_matches;
use previewd_testkit::github::{Fault, GitHub, Pull, Targeted, User};

const OPERATION: &str = "repos/get-collaborator-permission-level";

async fn permission(gh: &GitHub, repo: &str, login: &str) -> Value {
    let answer = get(
        gh,
        &format!("/repos/{repo}/collaborators/{login}/permission"),
    )
    .await;
    assert_eq!(answer.status, 200, "{repo} {login}: {}", answer.text);
    let body = answer.json();
    assert_matches(OPERATION, 200, &body);
    body
}

#[tokio::test]
async fn roles_read_as_github_reports_them() {
    let gh = started_with_pull().await;
    for (login, role) in [
        ("writer", "write"),
        ("keeper", "maintain"),
        ("triager", "triage"),
        ("reader", "read"),
        ("blocked", "none"),
        ("co-owner", "admin"),
    ] {
        gh.set_permission("acme", "shop", login, role);
    }
    gh.add_user(User::new("passerby"));

    // (login, permission, role_name, push)
    let expected = [
        ("acme", "admin", "admin", true),
        ("co-owner", "admin", "admin", true),
        ("keeper", "write", "maintain", true),
        ("writer", "write", "write", true),
        ("triager", "read", "triage", false),
        ("reader", "read", "read", false),
        ("passerby", "read", "read", false),
        (GitHub::LOGIN, "read", "read", false),
        ("blocked", "none", "none", false),
    ];
    for (login, legacy, role, push) in expected {
        let body = permission(&gh, "acme/shop", login).await;
        assert_eq!(
            (
                &body["permission"],
                &body["role_name"],
                &body["user"]["login"]
            ),
            (&json!(legacy), &json!(role), &json!(login)),
            "{login}"
        );
        assert_eq!(body["user"]["role_name"], role, "{login}");
        assert_eq!(body["user"]["permissions"]["push"], push, "{login}");
        assert_eq!(
            body["user"]["permissions"]["admin"],
            legacy == "admin",
            "{login}"
        );
    }
    let keeper = permission(&gh, "acme/shop", "keeper").await;
    assert_eq!(keeper["user"]["permissions"]["maintain"], true);
    let triager = permission(&gh, "acme/shop", "triager").await;
    assert_eq!(
        (
            &triager["user"]["permissions"]["triage"],
            &triager["user"]["permissions"]["pull"]
        ),
        (&json!(true), &json!(true))
    );
    let blocked = permission(&gh, "acme/shop", "blocked").await;
    assert_eq!(blocked["user"]["permissions"]["pull"], false);
}

#[tokio::test]
async fn roles_belong_to_one_repository_and_logins_ignore_case() {
    let gh = GitHub::start().await;
    gh.set_permission("acme", "shop", "Writer", "write");
    assert_eq!(
        permission(&gh, "acme/shop", "writer").await["permission"],
        "write"
    );
    let shouted = permission(&gh, "ACME/Shop", "WRITER").await;
    assert_eq!(
        (&shouted["permission"], &shouted["user"]["login"]),
        (&json!("write"), &json!("Writer")),
        "GitHub compares logins and repositories case-insensitively and answers the real login"
    );
    assert_eq!(
        permission(&gh, "acme/other", "Writer").await["permission"],
        "read",
        "another repository of the same owner"
    );
    assert_eq!(
        permission(&gh, "Writer/other", "writer").await["permission"],
        "admin",
        "their own repository"
    );
    // One account whatever the case it is named in.
    gh.add_token("writer-token", "WRITER");
    let me = send(
        client()
            .get(format!("{}/user", gh.url()))
            .header("authorization", "token writer-token"),
    )
    .await;
    assert_eq!(me.json()["login"], "Writer");
    // Setting again replaces: a demoted maintainer.
    gh.set_permission("acme", "shop", "writer", "read");
    assert_eq!(
        permission(&gh, "acme/shop", "Writer").await["permission"],
        "read"
    );
}

#[tokio::test]
async fn unknown_logins_get_404_and_known_ones_come_from_prs_comments_and_tokens() {
    let gh = GitHub::start().await;
    let missing = get(&gh, "/repos/acme/shop/collaborators/nobody/permission").await;
    assert_eq!(
        (missing.status, missing.json()["message"].clone()),
        (404, json!("Not Found"))
    );
    assert!(
        missing.json()["documentation_url"]
            .as_str()
            .unwrap()
            .starts_with("https://docs.github.com/rest/collaborators/")
    );

    gh.set_pull(Pull::new("acme", "shop", 1).fork("outsider"));
    gh.set_pull(Pull::new("acme", "shop", 2).author("colleague"));
    gh.seed_comment("acme", "shop", 2, "commenter", "/preview deploy");
    gh.add_token("bot-token", "other-bot");
    for login in ["outsider", "colleague", "commenter", "other-bot"] {
        assert_eq!(
            permission(&gh, "acme/shop", login).await["permission"],
            "read",
            "{login} is a known user"
        );
    }
}

#[tokio::test]
async fn permission_requests_are_authenticated_recorded_counted_and_failable() {
    let gh = started_with_pull().await;
    gh.set_permission("acme", "shop", "writer", "write");
    let path = "/repos/acme/shop/collaborators/writer/permission";

    let anonymous = send(client().get(format!("{}{path}", gh.url()))).await;
    assert_eq!(anonymous.status, 401);

    gh.inject(
        Fault::Status(502)
            .once()
            .on("GET", "/repos/acme/shop/collaborators/"),
    );
    assert_eq!(get(&gh, path).await.status, 502);
    let answer = get(&gh, path).await;
    assert_eq!(answer.status, 200);
    assert!(answer.header("etag").is_some());
    assert_eq!(answer.header("x-ratelimit-used"), Some("3"));

    let log: Vec<_> = gh
        .requests_to("GET", "/repos/acme/shop/collaborators/")
        .into_iter()
        .map(|r| (r.status, r.fault.is_some()))
        .collect();
    assert_eq!(
        log,
        [(Some(401), false), (Some(502), true), (Some(200), false)]
    );
    assert!(gh.writes().is_empty(), "asking is not writing");
}

#[test]
#[should_panic(expected = "is not a repository role")]
fn a_role_github_does_not_have_is_refused() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let gh = runtime.block_on(GitHub::start());
    gh.set_permission("acme", "shop", "someone", "push");
}
