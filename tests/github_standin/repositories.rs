//! Repositories by name and by id, and what GitHub does when one is renamed or transferred:
//! its id stays, its pull requests and comments move, and its old name redirects (301 to reads,
//! 307 to writes) to `/repositories/{id}/...`.

use serde_json::json;

use crate::http::{get, patch, post};
use previewd_testkit::github::openapi::assert_matches;
use previewd_testkit::github::{GitHub, Pull, repo_id};

#[tokio::test]
async fn a_repository_is_read_by_name_and_by_id() {
    let gh = GitHub::start().await;
    gh.set_pull(Pull::new("acme", "shop", 1));

    let by_name = get(&gh, "/repos/acme/shop").await;
    assert_eq!(by_name.status, 200);
    let by_name = by_name.json();
    assert_matches("repos/get", 200, &by_name);
    assert_eq!(by_name["id"], repo_id("acme/shop"));
    assert_eq!(by_name["full_name"], "acme/shop");

    let by_id = get(&gh, &format!("/repositories/{}", repo_id("acme/shop"))).await;
    assert_eq!(by_id.status, 200);
    assert_eq!(by_id.json(), by_name);

    let unknown = get(&gh, "/repositories/1").await;
    assert_eq!(unknown.status, 404);
}

#[tokio::test]
async fn a_moved_repository_keeps_its_id_and_its_old_name_redirects() {
    let gh = GitHub::start().await;
    gh.set_pull(Pull::new("acme", "shop", 1));
    let id = repo_id("acme/shop");
    let created = post(
        &gh,
        "/repos/acme/shop/issues/1/comments",
        json!({"body": "before the move"}),
    )
    .await;
    assert_eq!(created.status, 201);
    let comment_id = created.json()["id"].as_u64().unwrap();

    gh.move_repository("acme/shop", "elsewhere/store");
    assert_eq!(gh.repository_id("elsewhere", "store"), id);

    // Reads of the old name: 301 to the same path under the id.
    let read = get(&gh, "/repos/acme/shop/pulls?state=open").await;
    assert_eq!(read.status, 301);
    let location = format!("{}/repositories/{id}/pulls?state=open", gh.url());
    assert_eq!(read.header("location"), Some(location.as_str()));
    assert_eq!(read.json()["message"], "Moved Permanently");
    assert_eq!(
        get(&gh, "/repos/ACME/Shop").await.status,
        301,
        "names compare without case"
    );

    // Writes: 307, and nothing changes.
    let path = format!("/repos/acme/shop/issues/comments/{comment_id}");
    let write = patch(&gh, &path, json!({"body": "edited"})).await;
    assert_eq!(write.status, 307);
    assert_eq!(write.json()["message"], "Temporary Redirect");
    assert_eq!(gh.comment(comment_id).unwrap().body, "before the move");

    // The new name serves everything, under the same id.
    let pull = get(&gh, "/repos/elsewhere/store/pulls/1").await;
    assert_eq!(pull.status, 200);
    let pull = pull.json();
    assert_eq!(pull["base"]["repo"]["id"], id);
    assert_eq!(pull["base"]["repo"]["full_name"], "elsewhere/store");
    let moved = format!("/repos/elsewhere/store/issues/comments/{comment_id}");
    assert_eq!(
        patch(&gh, &moved, json!({"body": "edited"})).await.status,
        200
    );
    let by_id = get(&gh, &format!("/repositories/{id}")).await.json();
    assert_eq!(by_id["full_name"], "elsewhere/store");
    let by_name = get(&gh, "/repos/elsewhere/store").await.json();
    assert_eq!(by_name["id"], id);
}
