//! `GET /user` and authentication: the token's owner, either scheme; 401 otherwise.

use serde_json::json;

use crate::http::{client, get, send};
use previewd_testkit::github::openapi::assert_matches;
use previewd_testkit::github::{GitHub, User};

#[tokio::test]
async fn get_user_answers_the_tokens_owner_with_either_scheme() {
    let gh = GitHub::start().await;
    for scheme in ["Bearer", "token"] {
        let answer = send(
            client()
                .get(format!("{}/user", gh.url()))
                .header("authorization", format!("{scheme} {}", GitHub::TOKEN)),
        )
        .await;
        assert_eq!(answer.status, 200, "{scheme}");
        let user = answer.json();
        assert_matches("users/get-authenticated", 200, &user);
        assert_eq!(user["login"], GitHub::LOGIN);
        assert_eq!(user["type"], "User");
    }

    gh.add_user(User::bot("helper[bot]"));
    gh.add_token("helper-token", "helper[bot]");
    let answer = send(
        client()
            .get(format!("{}/user", gh.url()))
            .header("authorization", "token helper-token"),
    )
    .await;
    assert_eq!(
        (
            answer.json()["login"].clone(),
            answer.json()["type"].clone()
        ),
        (json!("helper[bot]"), json!("Bot"))
    );
}

#[tokio::test]
async fn missing_unknown_or_revoked_tokens_get_401() {
    let gh = GitHub::start().await;
    let missing = send(client().get(format!("{}/user", gh.url()))).await;
    assert_eq!(missing.status, 401);
    assert_eq!(missing.json()["message"], "Requires authentication");

    let unknown = send(
        client()
            .get(format!("{}/user", gh.url()))
            .header("authorization", "Bearer nope"),
    )
    .await;
    assert_eq!(unknown.status, 401);
    assert_eq!(unknown.json()["message"], "Bad credentials");
    assert!(
        unknown.json()["documentation_url"]
            .as_str()
            .unwrap()
            .starts_with("https://docs.github.com/")
    );

    gh.revoke_token(GitHub::TOKEN);
    assert_eq!(get(&gh, "/user").await.status, 401);
}
