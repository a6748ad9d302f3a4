//! octocrab, previewd's client, parses everything; the demo binary's admin routes work.

use octocrab::models::reactions::ReactionContent;
use serde_json::json;

use crate::http::{client, get, post, send, started_with_pull};
use previewd_testkit::github::openapi::assert_matches;
use previewd_testkit::github::{Fault, GitHub, Pull, admin_routes};

#[tokio::test]
async fn octocrab_reads_and_writes_through_the_stand_in() {
    let gh = started_with_pull().await;
    gh.set_pull(Pull::new("acme", "shop", 8).fork("outsider").closed());
    let octocrab = octocrab_for(&gh);

    let me = octocrab.current().user().await.unwrap();
    assert_eq!(me.login, GitHub::LOGIN);

    let issues = octocrab.issues("acme", "shop");
    let created = issues.create_comment(7, "x").await.unwrap();
    assert_eq!(
        (created.body.as_deref(), created.user.login.as_str()),
        (Some("x"), GitHub::LOGIN)
    );
    for i in 0..4 {
        issues.create_comment(7, format!("more {i}")).await.unwrap();
    }
    let updated = issues.update_comment(created.id, "y").await.unwrap();
    assert_eq!(
        (updated.id, updated.body.as_deref()),
        (created.id, Some("y"))
    );

    let first = issues.list_comments(7).per_page(2).send().await.unwrap();
    assert_eq!(first.items.len(), 2);
    assert_eq!(first.number_of_pages(), Some(3));
    let all = octocrab.all_pages(first).await.unwrap();
    assert_eq!(all.len(), 5);
    assert_eq!(all[0].body.as_deref(), Some("y"));

    let pull = octocrab.pulls("acme", "shop").get(7).await.unwrap();
    assert_eq!(pull.number, 7);
    assert_eq!(pull.title.as_deref(), Some("Add a cart"));
    assert_eq!(pull.head.sha, gh.pull("acme", "shop", 7).unwrap().head_sha);
    let fork = octocrab.pulls("acme", "shop").get(8).await.unwrap();
    assert_eq!(
        fork.head.repo.as_ref().unwrap().full_name.as_deref(),
        Some("outsider/shop")
    );
    assert_eq!(fork.merged, Some(false));

    let open = octocrab
        .pulls("acme", "shop")
        .list()
        .state(octocrab::params::State::Open)
        .send()
        .await
        .unwrap();
    assert_eq!(open.items.iter().map(|p| p.number).collect::<Vec<_>>(), [7]);

    gh.inject(Fault::Status(503).once());
    assert!(octocrab.pulls("acme", "shop").get(7).await.is_err());
}

#[tokio::test]
async fn octocrab_reacts_and_reads_permissions_the_way_previewd_does() {
    let gh = started_with_pull().await;
    gh.set_permission("acme", "shop", "writer", "write");
    let octocrab = octocrab_for(&gh);

    let id = gh.seed_comment("acme", "shop", 7, "writer", "/preview deploy");
    let issues = octocrab.issues("acme", "shop");
    let eyes = issues
        .create_comment_reaction(id, ReactionContent::Eyes)
        .await
        .unwrap();
    assert_eq!(eyes.user.login, GitHub::LOGIN);
    let again = issues
        .create_comment_reaction(id, ReactionContent::Eyes)
        .await
        .unwrap();
    assert_eq!(
        again.id, eyes.id,
        "the 200 for an existing reaction parses too"
    );
    let listed = issues.list_comment_reactions(id).send().await.unwrap();
    assert_eq!(listed.items.len(), 1);

    // previewd reads `permission` as a string: octocrab 0.54's typed call knows only
    // pull/push/admin/maintain/triage, not the write/read/none GitHub answers.
    #[derive(serde::Deserialize)]
    struct Permission {
        permission: String,
    }
    let route = "/repos/acme/shop/collaborators/writer/permission";
    let answer: Permission = octocrab.get(route, None::<&()>).await.unwrap();
    assert_eq!(answer.permission, "write");
    let typed = octocrab.repos("acme", "shop");
    assert!(
        typed
            .get_contributor_permission("acme")
            .send()
            .await
            .is_ok()
    );
    assert!(
        typed
            .get_contributor_permission("writer")
            .send()
            .await
            .is_err(),
        "octocrab's typed permission call now parses `write`: previewd could use it"
    );
    let missing = octocrab
        .get::<Permission, _, _>(
            "/repos/acme/shop/collaborators/nobody/permission",
            None::<&()>,
        )
        .await;
    assert!(matches!(
        missing,
        Err(octocrab::Error::GitHub { source, .. }) if source.status_code == 404
    ));
}

// The admin routes of the demo binary.

#[tokio::test]
async fn admin_routes_set_pulls_and_show_what_was_written() {
    let gh = GitHub::start_with("127.0.0.1:0".parse().unwrap(), admin_routes).await;
    let put = send(
        client()
            .put(format!("{}/_standin/pulls/acme/shop/3", gh.url()))
            .json(&json!({"title": "From a script", "head_sha": "c".repeat(40), "fork_owner": "outsider"})),
    )
    .await;
    assert_eq!(put.status, 200, "{}", put.text);
    let pull = get(&gh, "/repos/acme/shop/pulls/3").await.json();
    assert_matches("pulls/get", 200, &pull);
    assert_eq!(
        (pull["title"].clone(), pull["head"]["sha"].clone()),
        (json!("From a script"), json!("c".repeat(40)))
    );
    assert_eq!(pull["head"]["repo"]["fork"], true);

    let closed = send(
        client()
            .put(format!("{}/_standin/pulls/acme/shop/3", gh.url()))
            .json(&json!({"open": false})),
    )
    .await;
    assert_eq!(closed.status, 200);
    let pull = gh.pull("acme", "shop", 3).unwrap();
    assert_eq!(
        (pull.open, pull.title.as_str()),
        (false, "From a script"),
        "a PUT changes only what it names"
    );

    post(
        &gh,
        "/repos/acme/shop/issues/3/comments",
        json!({"body": "hi"}),
    )
    .await;
    let comments = send(client().get(format!("{}/_standin/comments", gh.url())))
        .await
        .json();
    assert_eq!(comments[0]["body"], "hi");
    assert_eq!(comments[0]["author"], GitHub::LOGIN);
    let requests = send(client().get(format!("{}/_standin/requests", gh.url())))
        .await
        .json();
    let paths: Vec<_> = requests
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["path"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        paths,
        [
            "/repos/acme/shop/pulls/3",
            "/repos/acme/shop/issues/3/comments"
        ],
        "admin calls are not logged"
    );

    let bad = send(
        client()
            .put(format!("{}/_standin/pulls/acme/shop/3", gh.url()))
            .json(&json!({"open": "no"})),
    )
    .await;
    assert_eq!(bad.status, 422);
}

/// octocrab pointed at the stand-in with the default token.
fn octocrab_for(gh: &GitHub) -> octocrab::Octocrab {
    octocrab::Octocrab::builder()
        .base_uri(gh.url())
        .unwrap()
        .personal_token(GitHub::TOKEN.to_owned())
        .build()
        .unwrap()
}
