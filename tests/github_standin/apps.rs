//! The GitHub App endpoints: a JWT signed with the App's key (checked with its public key and
//! GitHub's claim rules) reaches only the App's own endpoints; installation tokens expire, stay
//! inside their installation, and stop working when it is suspended or uninstalled.

use serde_json::{Value, json};

use crate::http::{client, send};
use previewd_testkit::github::{GitHub, Pull, sign_app_jwt};

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn jwt() -> String {
    sign_app_jwt(&json!({"iat": now() - 60, "exp": now() + 540, "iss": GitHub::APP_ID.to_string()}))
}

async fn with_credential(
    gh: &GitHub,
    method: &str,
    path: &str,
    credential: &str,
) -> crate::http::Answer {
    let url = format!("{}{path}", gh.url());
    let request = match method {
        "POST" => client().post(url).json(&json!({})),
        _ => client().get(url),
    };
    send(
        request
            .header("authorization", format!("Bearer {credential}"))
            .header("accept", "application/vnd.github+json"),
    )
    .await
}

async fn app_standin() -> (GitHub, u64) {
    let gh = GitHub::start().await;
    gh.register_app();
    gh.set_pull(Pull::new("acme", "shop", 7));
    gh.set_pull(Pull::new("acme", "other", 1));
    let installation = gh.install_app("acme", &["acme/shop"]);
    (gh, installation)
}

async fn new_token(gh: &GitHub, installation: u64) -> Value {
    let path = format!("/app/installations/{installation}/access_tokens");
    let answer = with_credential(gh, "POST", &path, &jwt()).await;
    assert_eq!(answer.status, 201, "{}", answer.text);
    answer.json()
}

#[tokio::test]
async fn the_app_and_its_installation_answer_a_valid_jwt_only() {
    let (gh, installation) = app_standin().await;
    let app = with_credential(&gh, "GET", "/app", &jwt()).await;
    assert_eq!(app.status, 200, "{}", app.text);
    assert_eq!(app.json()["slug"], GitHub::APP_SLUG);
    let found = with_credential(&gh, "GET", "/repos/acme/shop/installation", &jwt()).await;
    assert_eq!(found.json()["id"], installation);
    assert_eq!(found.json()["app_id"], GitHub::APP_ID);
    let missing = with_credential(&gh, "GET", "/repos/acme/other/installation", &jwt()).await;
    assert_eq!(missing.status, 404);

    let rules = [
        (
            json!({"iat": now() - 60, "exp": now() - 1, "iss": GitHub::APP_ID}),
            "must be a numeric value representing the future",
        ),
        (
            json!({"iat": now() - 60, "exp": now() + 900, "iss": GitHub::APP_ID}),
            "too far in the future",
        ),
        (
            json!({"iat": now() + 300, "exp": now() + 500, "iss": GitHub::APP_ID}),
            "a time in the past",
        ),
        (
            json!({"iat": now() - 60, "exp": now() + 500, "iss": "1"}),
            "'Issuer' claim",
        ),
    ];
    for (claims, says) in rules {
        let refused = with_credential(&gh, "GET", "/app", &sign_app_jwt(&claims)).await;
        assert_eq!(refused.status, 401, "{claims}");
        assert!(
            refused.json()["message"].as_str().unwrap().contains(says),
            "{}",
            refused.text
        );
    }
    let mut tampered = jwt();
    tampered.insert(tampered.len() - 3, 'A');
    let refused = with_credential(&gh, "GET", "/app", &tampered).await;
    assert_eq!(
        refused.json()["message"],
        "A JSON web token could not be decoded"
    );
    // A plain token is no JWT; a JWT is no token for a repository.
    assert_eq!(
        with_credential(&gh, "GET", "/app", GitHub::TOKEN)
            .await
            .status,
        401
    );
    let in_repository = with_credential(&gh, "GET", "/repos/acme/shop/pulls/7", &jwt()).await;
    assert_eq!(in_repository.status, 403);
}

#[tokio::test]
async fn an_installation_token_acts_as_the_apps_bot_inside_its_installation_until_it_expires() {
    let (gh, installation) = app_standin().await;
    let created = new_token(&gh, installation).await;
    let token = created["token"].as_str().unwrap();
    let expires_at: chrono::DateTime<chrono::Utc> =
        created["expires_at"].as_str().unwrap().parse().unwrap();
    assert!(
        (expires_at.timestamp() - now() - 3600).abs() < 5,
        "{expires_at}"
    );

    let pull = with_credential(&gh, "GET", "/repos/acme/shop/pulls/7", token).await;
    assert_eq!(pull.status, 200);
    let comment = send(
        client()
            .post(format!("{}/repos/acme/shop/issues/7/comments", gh.url()))
            .header("authorization", format!("token {token}"))
            .json(&json!({"body": "hello"})),
    )
    .await;
    assert_eq!(comment.json()["user"]["login"], GitHub::app_login());
    assert_eq!(comment.json()["user"]["type"], "Bot");
    assert_eq!(
        with_credential(&gh, "GET", "/repos/acme/other/pulls/1", token)
            .await
            .status,
        404
    );
    assert_eq!(
        with_credential(&gh, "GET", "/user", token).await.status,
        403
    );

    gh.set_installation_token_lifetime(std::time::Duration::from_secs(1));
    let short = new_token(&gh, installation).await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let expired = with_credential(
        &gh,
        "GET",
        "/repos/acme/shop/pulls/7",
        short["token"].as_str().unwrap(),
    )
    .await;
    assert_eq!(
        (expired.status, expired.json()["message"].clone()),
        (401, json!("Bad credentials"))
    );

    gh.revoke_installation_tokens();
    assert_eq!(
        with_credential(&gh, "GET", "/repos/acme/shop/pulls/7", token)
            .await
            .status,
        401
    );
}

#[tokio::test]
async fn a_suspended_installation_gets_403_and_an_uninstalled_one_404() {
    let (gh, installation) = app_standin().await;
    let token = new_token(&gh, installation).await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    gh.suspend_installation(installation, true);
    let path = format!("/app/installations/{installation}/access_tokens");
    let suspended = with_credential(&gh, "POST", &path, &jwt()).await;
    assert_eq!(suspended.status, 403);
    assert_eq!(
        suspended.json()["message"],
        "This installation has been suspended"
    );
    assert_eq!(
        with_credential(&gh, "GET", "/repos/acme/shop/pulls/7", &token)
            .await
            .status,
        401
    );
    let found = with_credential(&gh, "GET", "/repos/acme/shop/installation", &jwt()).await;
    assert!(found.json()["suspended_at"].is_string());

    gh.suspend_installation(installation, false);
    new_token(&gh, installation).await;
    gh.uninstall_app(installation);
    assert_eq!(
        with_credential(&gh, "POST", &path, &jwt()).await.status,
        404
    );
    assert_eq!(
        with_credential(&gh, "GET", "/repos/acme/shop/installation", &jwt())
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn an_owners_installation_lists_the_repositories_it_covers() {
    let (gh, installation) = app_standin().await;
    gh.set_pull(Pull::new("acme", "web", 3));
    let every = gh.install_app("widgets", &[]);
    gh.set_pull(Pull::new("widgets", "one", 1));
    gh.set_pull(Pull::new("widgets", "two", 1));
    for (path, id) in [
        ("/orgs/acme/installation", installation),
        ("/users/widgets/installation", every),
    ] {
        let found = with_credential(&gh, "GET", path, &jwt()).await;
        assert_eq!(found.json()["id"], id, "{path}");
    }
    assert_eq!(
        with_credential(&gh, "GET", "/orgs/nobody/installation", &jwt())
            .await
            .status,
        404
    );

    let names = |answer: &crate::http::Answer| -> Vec<String> {
        answer.json()["repositories"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["full_name"].as_str().unwrap().to_owned())
            .collect()
    };
    let chosen = new_token(&gh, installation).await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let listed = with_credential(&gh, "GET", "/installation/repositories", &chosen).await;
    assert_eq!(names(&listed), ["acme/shop"], "only the repository chosen");
    assert_eq!(listed.json()["total_count"], 1);
    let all = new_token(&gh, every).await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let listed = with_credential(
        &gh,
        "GET",
        "/installation/repositories?per_page=1&page=2",
        &all,
    )
    .await;
    assert_eq!(names(&listed), ["widgets/two"]);
    assert_eq!(listed.json()["total_count"], 2);
    let with_pat = with_credential(&gh, "GET", "/installation/repositories", GitHub::TOKEN).await;
    assert_eq!(with_pat.status, 403);
}

#[tokio::test]
async fn a_token_lists_an_organisations_or_a_users_repositories() {
    let gh = GitHub::start().await;
    gh.add_user(previewd_testkit::github::User::organization("acme"));
    gh.set_pull(Pull::new("acme", "shop", 7));
    gh.set_pull(Pull::new("octocat", "hello", 1));
    let full_names = |answer: crate::http::Answer| -> Vec<String> {
        answer
            .json()
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["full_name"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        full_names(crate::http::get(&gh, "/orgs/acme/repos").await),
        ["acme/shop"]
    );
    assert_eq!(
        crate::http::get(&gh, "/orgs/octocat/repos").await.status,
        404
    );
    assert_eq!(
        full_names(crate::http::get(&gh, "/users/octocat/repos").await),
        ["octocat/hello"]
    );
}
