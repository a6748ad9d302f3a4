//! The GitHub stand-in answers like GitHub: every successful body is validated against the
//! response schema of its operation in GitHub's own OpenAPI description (`@octokit/openapi`,
//! pinned in fixtures/), pagination, ETags, rate-limit headers and faults behave as documented,
//! and octocrab, previewd's client, parses what it returns.

mod support;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use reqwest::header::HeaderMap;
use serde_json::{Value, json};
use support::github::{Chaos, Fault, GitHub, Pull, Targeted, User, admin_routes};

// ---------------------------------------------------------------------------------------------
// The schema check.

const SPEC: &str = "fixtures/node_modules/@octokit/openapi/generated/api.github.com.json";

/// GitHub's OpenAPI document with OpenAPI 3.0's `nullable: true` rewritten as JSON Schema
/// 2020-12 says it (`type: [T, "null"]`, or `anyOf` with null where there is no `type`).
fn spec() -> &'static Value {
    static SPEC_JSON: OnceLock<Value> = OnceLock::new();
    SPEC_JSON.get_or_init(|| {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(SPEC);
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "cannot read {}: {e}; run `cd fixtures && npm ci`",
                path.display()
            )
        });
        let mut spec: Value = serde_json::from_str(&text).expect("the OpenAPI document parses");
        let version = spec["openapi"].as_str().unwrap_or_default().to_owned();
        assert!(
            version.starts_with("3.0"),
            "expected OpenAPI 3.0 (nullable), got {version}: revisit the conversion"
        );
        nullable_to_json_schema(&mut spec);
        spec
    })
}

fn nullable_to_json_schema(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for child in map.values_mut() {
                nullable_to_json_schema(child);
            }
            // Only the keyword: a property *named* "nullable" holds a schema, not `true`.
            if map.get("nullable") != Some(&Value::Bool(true)) {
                return;
            }
            map.remove("nullable");
            if let Some(Value::String(kind)) = map.get("type").cloned() {
                map.insert("type".to_owned(), json!([kind, "null"]));
                if let Some(Value::Array(allowed)) = map.get_mut("enum") {
                    if !allowed.contains(&Value::Null) {
                        allowed.push(Value::Null);
                    }
                }
            } else if !map.is_empty() {
                let inner = Value::Object(std::mem::take(map));
                map.insert("anyOf".to_owned(), json!([{"type": "null"}, inner]));
            }
        }
        Value::Array(items) => items.iter_mut().for_each(nullable_to_json_schema),
        _ => {}
    }
}

/// The compiled schema of one operation's response (`issues/create-comment`, "201").
fn validator(operation_id: &str, status: &str) -> Arc<jsonschema::Validator> {
    static CACHE: OnceLock<Mutex<HashMap<String, Arc<jsonschema::Validator>>>> = OnceLock::new();
    let key = format!("{operation_id} {status}");
    let cache = CACHE.get_or_init(Default::default);
    if let Some(found) = cache.lock().unwrap().get(&key) {
        return found.clone();
    }
    let spec = spec();
    let operation = spec["paths"]
        .as_object()
        .expect("paths")
        .values()
        .flat_map(|item| item.as_object().into_iter().flat_map(|m| m.values()))
        .find(|op| op["operationId"] == operation_id)
        .unwrap_or_else(|| panic!("no operation {operation_id} in the spec"));
    let schema = operation["responses"][status]["content"]["application/json"]["schema"].clone();
    assert!(
        !schema.is_null(),
        "{operation_id} has no JSON schema for {status}"
    );
    compiled(schema, &key, cache)
}

/// A schema from `components/schemas`, e.g. `issue-comment`.
fn component(name: &str) -> Arc<jsonschema::Validator> {
    static CACHE: OnceLock<Mutex<HashMap<String, Arc<jsonschema::Validator>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    compiled(
        json!({"$ref": format!("#/components/schemas/{name}")}),
        name,
        cache,
    )
}

fn compiled(
    schema: Value,
    key: &str,
    cache: &Mutex<HashMap<String, Arc<jsonschema::Validator>>>,
) -> Arc<jsonschema::Validator> {
    // `$ref`s point into `#/components/schemas`, so the document carries them along.
    let root = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "components": {"schemas": spec()["components"]["schemas"].clone()},
        "allOf": [schema],
    });
    let validator = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .should_validate_formats(true)
        .build(&root)
        .unwrap_or_else(|e| panic!("the schema for {key} compiles: {e}"));
    let validator = Arc::new(validator);
    cache
        .lock()
        .unwrap()
        .insert(key.to_owned(), validator.clone());
    validator
}

fn schema_errors(validator: &jsonschema::Validator, body: &Value) -> Vec<String> {
    validator
        .iter_errors(body)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

#[track_caller]
fn assert_matches(operation_id: &str, status: u16, body: &Value) {
    let errors = schema_errors(&validator(operation_id, &status.to_string()), body);
    assert!(
        errors.is_empty(),
        "{operation_id} {status} does not match GitHub's schema:\n{}",
        errors.join("\n")
    );
}

// ---------------------------------------------------------------------------------------------
// HTTP helpers.

struct Answer {
    status: u16,
    headers: HeaderMap,
    text: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.text)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.text))
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    fn links(&self) -> HashMap<String, String> {
        parse_links(self.header("link").unwrap_or(""))
    }
}

/// RFC 5988 `Link` header → rel → URL.
fn parse_links(header: &str) -> HashMap<String, String> {
    header
        .split(',')
        .filter_map(|part| {
            let (url, rel) = part.split_once(';')?;
            let url = url.trim().strip_prefix('<')?.strip_suffix('>')?;
            let rel = rel.trim().strip_prefix("rel=\"")?.strip_suffix('"')?;
            Some((rel.to_owned(), url.to_owned()))
        })
        .collect()
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

async fn send(request: reqwest::RequestBuilder) -> Answer {
    let response = request.send().await.expect("the stand-in answers");
    Answer {
        status: response.status().as_u16(),
        headers: response.headers().clone(),
        text: response.text().await.expect("a body"),
    }
}

fn authed(request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
    request
        .header("authorization", format!("Bearer {}", GitHub::TOKEN))
        .header("accept", "application/vnd.github+json")
        .header("user-agent", "previewd-tests")
}

async fn get(gh: &GitHub, path: &str) -> Answer {
    send(authed(client().get(format!("{}{path}", gh.url())))).await
}

async fn get_url(url: &str) -> Answer {
    send(authed(client().get(url))).await
}

async fn post(gh: &GitHub, path: &str, body: Value) -> Answer {
    send(authed(client().post(format!("{}{path}", gh.url()))).json(&body)).await
}

async fn patch(gh: &GitHub, path: &str, body: Value) -> Answer {
    send(authed(client().patch(format!("{}{path}", gh.url()))).json(&body)).await
}

async fn started_with_pull() -> GitHub {
    let gh = GitHub::start().await;
    gh.set_pull(Pull::new("acme", "shop", 7).title("Add a cart"));
    gh
}

// ---------------------------------------------------------------------------------------------
// The schema check itself is strict.

#[tokio::test]
async fn the_schema_check_rejects_missing_and_mistyped_fields() {
    let gh = started_with_pull().await;
    let comment = post(
        &gh,
        "/repos/acme/shop/issues/7/comments",
        json!({"body": "hi"}),
    )
    .await
    .json();
    let issue_comment = component("issue-comment");
    assert!(schema_errors(&issue_comment, &comment).is_empty());

    let mut without_id = comment.clone();
    without_id.as_object_mut().unwrap().remove("id");
    assert!(
        !schema_errors(&issue_comment, &without_id).is_empty(),
        "a comment without id must fail"
    );

    let mut string_id = comment.clone();
    string_id["id"] = json!("42");
    assert!(
        !schema_errors(&issue_comment, &string_id).is_empty(),
        "a string id must fail"
    );

    let mut bad_user = comment.clone();
    bad_user["user"].as_object_mut().unwrap().remove("login");
    assert!(
        !schema_errors(&issue_comment, &bad_user).is_empty(),
        "a user without login must fail"
    );

    // `nullable` was converted: null passes where GitHub allows it, and nowhere else.
    let pull = get(&gh, "/repos/acme/shop/pulls/7").await.json();
    let pull_schema = validator("pulls/get", "200");
    let mut null_body = pull.clone();
    null_body["body"] = Value::Null;
    assert!(
        schema_errors(&pull_schema, &null_body).is_empty(),
        "body is nullable"
    );
    let mut null_title = pull.clone();
    null_title["title"] = Value::Null;
    assert!(
        !schema_errors(&pull_schema, &null_title).is_empty(),
        "title is not nullable"
    );
    let mut bad_state = pull.clone();
    bad_state["state"] = json!("merged");
    assert!(
        !schema_errors(&pull_schema, &bad_state).is_empty(),
        "state is open|closed"
    );
    // `$ref`s are followed all the way down (pull-request → head → repository).
    let mut shallow_repo = pull;
    shallow_repo["head"]["repo"]
        .as_object_mut()
        .unwrap()
        .remove("clone_url");
    assert!(
        !schema_errors(&pull_schema, &shallow_repo).is_empty(),
        "head.repo needs clone_url"
    );
    // `GET /user` is oneOf(private-user, public-user): a bare simple-user is neither.
    let mut simple = get(&gh, "/user").await.json();
    simple.as_object_mut().unwrap().remove("public_repos");
    assert!(!schema_errors(&validator("users/get-authenticated", "200"), &simple).is_empty());
}

// ---------------------------------------------------------------------------------------------
// Endpoints.

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

#[tokio::test]
async fn comments_are_created_read_updated_and_listed_as_github_does() {
    let gh = started_with_pull().await;
    let created = post(
        &gh,
        "/repos/acme/shop/issues/7/comments",
        json!({"body": "first"}),
    )
    .await;
    assert_eq!(created.status, 201);
    let first = created.json();
    assert_matches("issues/create-comment", 201, &first);
    assert_eq!(created.header("location"), first["url"].as_str());
    assert_eq!(first["user"]["login"], GitHub::LOGIN);
    assert_eq!(first["body"], "first");
    assert!(
        first["html_url"]
            .as_str()
            .unwrap()
            .starts_with("https://github.com/acme/shop/pull/7#issuecomment-")
    );

    let second = post(
        &gh,
        "/repos/acme/shop/issues/7/comments",
        json!({"body": "second"}),
    )
    .await
    .json();
    assert!(second["id"].as_u64() > first["id"].as_u64(), "ids increase");

    let id = first["id"].as_u64().unwrap();
    let read = get(&gh, &format!("/repos/acme/shop/issues/comments/{id}")).await;
    assert_eq!(read.status, 200);
    assert_matches("issues/get-comment", 200, &read.json());

    let updated = patch(
        &gh,
        &format!("/repos/acme/shop/issues/comments/{id}"),
        json!({"body": "edited"}),
    )
    .await;
    assert_eq!(updated.status, 200);
    assert_matches("issues/update-comment", 200, &updated.json());
    assert_eq!(
        (updated.json()["id"].clone(), updated.json()["body"].clone()),
        (json!(id), json!("edited"))
    );
    assert_eq!(gh.comment(id).unwrap().body, "edited");
    // GitHub takes POST for PATCH; octocrab's `update_comment` relies on it.
    let posted = post(
        &gh,
        &format!("/repos/acme/shop/issues/comments/{id}"),
        json!({"body": "edited"}),
    )
    .await;
    assert_eq!(
        (posted.status, posted.json()["id"].clone()),
        (200, json!(id))
    );

    let listed = get(&gh, "/repos/acme/shop/issues/7/comments").await;
    assert_eq!(listed.status, 200);
    assert_matches("issues/list-comments", 200, &listed.json());
    let bodies: Vec<_> = listed
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["body"].clone())
        .collect();
    assert_eq!(bodies, [json!("edited"), json!("second")]);
    assert!(listed.header("link").is_none(), "one page, no Link");

    // GitHub's errors.
    let missing = 9_999_999_999_u64;
    assert_eq!(
        patch(
            &gh,
            &format!("/repos/acme/shop/issues/comments/{missing}"),
            json!({"body": "x"})
        )
        .await
        .status,
        404
    );
    assert_eq!(
        get(&gh, &format!("/repos/acme/shop/issues/comments/{missing}"))
            .await
            .status,
        404
    );
    assert_eq!(
        get(&gh, &format!("/repos/acme/other/issues/comments/{id}"))
            .await
            .status,
        404,
        "wrong repo"
    );
    let unknown_pr = post(
        &gh,
        "/repos/acme/shop/issues/8/comments",
        json!({"body": "x"}),
    )
    .await;
    assert_eq!(
        (unknown_pr.status, unknown_pr.json()["message"].clone()),
        (404, json!("Not Found"))
    );
    assert_eq!(
        post(
            &gh,
            "/repos/acme/shop/issues/7/comments",
            json!({"text": "x"})
        )
        .await
        .status,
        422
    );
    let bad_json = send(
        authed(client().post(format!("{}/repos/acme/shop/issues/7/comments", gh.url()))).body("{"),
    )
    .await;
    assert_eq!(bad_json.status, 400);

    let deleted = send(authed(
        client().delete(format!("{}/repos/acme/shop/issues/comments/{id}", gh.url())),
    ))
    .await;
    assert_eq!((deleted.status, deleted.text.as_str()), (204, ""));
    assert_eq!(gh.comments("acme", "shop", 7).len(), 1);
}

#[tokio::test]
async fn seeded_comments_keep_their_author() {
    let gh = started_with_pull().await;
    gh.add_user(User::new("maintainer").association("MEMBER"));
    let quoted = gh.seed_comment(
        "acme",
        "shop",
        7,
        "maintainer",
        "> <!-- previewd -->\nwhy is this here?",
    );
    post(
        &gh,
        "/repos/acme/shop/issues/7/comments",
        json!({"body": "<!-- previewd -->"}),
    )
    .await;

    let listed = get(&gh, "/repos/acme/shop/issues/7/comments").await.json();
    assert_matches("issues/list-comments", 200, &listed);
    assert_eq!(listed[0]["id"], quoted);
    assert_eq!(listed[0]["user"]["login"], "maintainer");
    assert_eq!(listed[0]["author_association"], "MEMBER");
    assert_eq!(listed[1]["user"]["login"], GitHub::LOGIN);
    assert_eq!(listed[1]["author_association"], "NONE");
}

#[tokio::test]
async fn comment_lists_paginate_with_githubs_link_headers() {
    let gh = started_with_pull().await;
    for i in 1..=5 {
        post(
            &gh,
            "/repos/acme/shop/issues/7/comments",
            json!({"body": format!("c{i}")}),
        )
        .await;
    }
    let base = format!("{}/repos/acme/shop/issues/7/comments", gh.url());

    let first = get(&gh, "/repos/acme/shop/issues/7/comments?per_page=2").await;
    assert_matches("issues/list-comments", 200, &first.json());
    let links = first.links();
    assert_eq!(
        links.get("next"),
        Some(&format!("{base}?per_page=2&page=2"))
    );
    assert_eq!(
        links.get("last"),
        Some(&format!("{base}?per_page=2&page=3"))
    );
    assert!(!links.contains_key("prev") && !links.contains_key("first"));
    // GitHub's order: prev, next, last, first.
    let middle = get(&gh, "/repos/acme/shop/issues/7/comments?per_page=2&page=2").await;
    let rels: Vec<_> = middle
        .header("link")
        .unwrap()
        .split(", ")
        .map(|l| l.rsplit('"').nth(1).unwrap().to_owned())
        .collect();
    assert_eq!(rels, ["prev", "next", "last", "first"]);
    let last = get(&gh, "/repos/acme/shop/issues/7/comments?per_page=2&page=3").await;
    assert_eq!(last.json().as_array().unwrap().len(), 1);
    assert!(!last.links().contains_key("next"));
    assert_eq!(
        last.links().get("first"),
        Some(&format!("{base}?per_page=2&page=1"))
    );

    // Following `next` visits every comment once, in order.
    let mut url = Some(format!("{base}?per_page=2"));
    let mut bodies = Vec::new();
    while let Some(next) = url {
        let page = get_url(&next).await;
        bodies.extend(
            page.json()
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["body"].as_str().unwrap().to_owned()),
        );
        url = page.links().get("next").cloned();
    }
    assert_eq!(bodies, ["c1", "c2", "c3", "c4", "c5"]);

    let past_the_end = get(&gh, "/repos/acme/shop/issues/7/comments?per_page=2&page=9").await;
    assert_eq!(past_the_end.json(), json!([]));
}

#[tokio::test]
async fn pull_requests_match_the_schema_same_repo_fork_and_merged() {
    let gh = GitHub::start().await;
    gh.set_pull(
        Pull::new("acme", "shop", 1)
            .head(&"a".repeat(40), "feat/x")
            .label("preview")
            .draft(),
    );
    gh.set_pull(Pull::new("acme", "shop", 2).fork("outsider"));
    gh.set_pull(Pull::new("acme", "shop", 3).merged());

    let same = get(&gh, "/repos/acme/shop/pulls/1").await;
    assert_eq!(same.status, 200);
    let same = same.json();
    assert_matches("pulls/get", 200, &same);
    assert_eq!(same["head"]["sha"], "a".repeat(40));
    assert_eq!(same["head"]["ref"], "feat/x");
    assert_eq!(same["head"]["repo"]["id"], same["base"]["repo"]["id"]);
    assert_eq!(same["base"]["repo"]["full_name"], "acme/shop");
    assert_eq!(
        (same["draft"].clone(), same["labels"][0]["name"].clone()),
        (json!(true), json!("preview"))
    );
    assert_eq!(
        (same["state"].clone(), same["merged"].clone()),
        (json!("open"), json!(false))
    );

    let fork = get(&gh, "/repos/acme/shop/pulls/2").await.json();
    assert_matches("pulls/get", 200, &fork);
    assert_eq!(fork["head"]["repo"]["full_name"], "outsider/shop");
    assert_eq!(fork["head"]["repo"]["fork"], true);
    assert_ne!(fork["head"]["repo"]["id"], fork["base"]["repo"]["id"]);
    assert_eq!(fork["user"]["login"], "outsider");

    let merged = get(&gh, "/repos/acme/shop/pulls/3").await.json();
    assert_matches("pulls/get", 200, &merged);
    assert_eq!(
        (merged["state"].clone(), merged["merged"].clone()),
        (json!("closed"), json!(true))
    );
    assert!(merged["merged_at"].is_string() && merged["closed_at"].is_string());

    let missing = get(&gh, "/repos/acme/shop/pulls/4").await;
    assert_eq!(
        (missing.status, missing.json()["message"].clone()),
        (404, json!("Not Found"))
    );
}

#[tokio::test]
async fn pull_lists_filter_paginate_and_answer_304_when_unchanged() {
    let gh = GitHub::start().await;
    for n in 1..=3 {
        gh.set_pull(Pull::new("acme", "shop", n));
    }
    gh.set_pull(Pull::new("acme", "shop", 4).closed());
    gh.set_pull(Pull::new("acme", "other", 5));

    let open = get(&gh, "/repos/acme/shop/pulls?state=open").await;
    assert_matches("pulls/list", 200, &open.json());
    let numbers = |a: &Answer| {
        a.json()
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["number"].as_u64().unwrap())
            .collect::<Vec<_>>()
    };
    assert_eq!(numbers(&open), [3, 2, 1], "open only, newest first");
    assert_eq!(
        numbers(&get(&gh, "/repos/acme/shop/pulls").await),
        [3, 2, 1],
        "state defaults to open"
    );
    assert_eq!(
        numbers(&get(&gh, "/repos/acme/shop/pulls?state=closed").await),
        [4]
    );
    assert_eq!(
        numbers(&get(&gh, "/repos/acme/shop/pulls?state=all").await),
        [4, 3, 2, 1]
    );
    assert_eq!(
        get(&gh, "/repos/acme/shop/pulls?state=bogus").await.status,
        422
    );

    let page1 = get(&gh, "/repos/acme/shop/pulls?state=open&per_page=2&page=1").await;
    assert_eq!(numbers(&page1), [3, 2]);
    let next = page1.links()["next"].clone();
    assert!(
        next.ends_with("/repos/acme/shop/pulls?state=open&per_page=2&page=2"),
        "{next}"
    );
    assert_eq!(numbers(&get_url(&next).await), [1]);

    // Conditional requests.
    let etag = open.header("etag").expect("an ETag").to_owned();
    assert!(etag.starts_with("W/\""), "{etag}");
    let remaining_before: u64 = open
        .header("x-ratelimit-remaining")
        .unwrap()
        .parse()
        .unwrap();
    let path = format!("{}/repos/acme/shop/pulls?state=open", gh.url());
    let unchanged = send(authed(client().get(&path)).header("if-none-match", &etag)).await;
    assert_eq!((unchanged.status, unchanged.text.as_str()), (304, ""));
    assert_eq!(unchanged.header("etag"), Some(etag.as_str()));
    let remaining_after: u64 = unchanged
        .header("x-ratelimit-remaining")
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        remaining_after < remaining_before,
        "the other requests in between counted"
    );

    gh.update_pull("acme", "shop", 2, |p| p.head_sha = "b".repeat(40));
    let changed = send(authed(client().get(&path)).header("if-none-match", &etag)).await;
    assert_eq!(changed.status, 200);
    assert_ne!(changed.header("etag"), Some(etag.as_str()));
    assert_eq!(changed.json()[1]["head"]["sha"], "b".repeat(40));

    // A 304 does not count against the rate limit.
    let etag = changed.header("etag").unwrap().to_owned();
    let before: u64 = changed
        .header("x-ratelimit-remaining")
        .unwrap()
        .parse()
        .unwrap();
    let again = send(authed(client().get(&path)).header("if-none-match", &etag)).await;
    assert_eq!(again.status, 304);
    assert_eq!(
        again
            .header("x-ratelimit-remaining")
            .unwrap()
            .parse::<u64>()
            .unwrap(),
        before
    );
}

#[tokio::test]
async fn every_answer_carries_rate_limit_and_request_id_headers() {
    let gh = started_with_pull().await;
    let answers = [
        get(&gh, "/user").await,
        get(&gh, "/repos/acme/shop/pulls/7").await,
        get(&gh, "/repos/acme/shop/pulls/999").await,
        get(&gh, "/nowhere").await,
        send(client().get(format!("{}/user", gh.url()))).await,
    ];
    let mut remaining = Vec::new();
    for answer in &answers {
        assert_eq!(answer.header("x-ratelimit-limit"), Some("5000"));
        assert_eq!(answer.header("x-ratelimit-resource"), Some("core"));
        assert!(
            answer
                .header("x-ratelimit-reset")
                .unwrap()
                .parse::<i64>()
                .unwrap()
                > 1_700_000_000
        );
        assert!(
            answer
                .header("x-github-request-id")
                .is_some_and(|id| id.split(':').count() == 5)
        );
        assert_eq!(
            answer.header("content-type"),
            Some("application/json; charset=utf-8")
        );
        let left: u64 = answer
            .header("x-ratelimit-remaining")
            .unwrap()
            .parse()
            .unwrap();
        let used: u64 = answer.header("x-ratelimit-used").unwrap().parse().unwrap();
        assert_eq!(left + used, 5000);
        remaining.push(left);
    }
    assert_eq!(remaining, [4999, 4998, 4997, 4996, 4995]);
    let ids: std::collections::HashSet<_> = answers
        .iter()
        .map(|a| a.header("x-github-request-id").unwrap())
        .collect();
    assert_eq!(ids.len(), answers.len(), "request ids are unique");

    gh.set_rate_limit_remaining(0);
    let limited = get(&gh, "/user").await;
    assert_eq!(
        (limited.status, limited.header("x-ratelimit-remaining")),
        (403, Some("0"))
    );
    assert!(
        limited.json()["message"]
            .as_str()
            .unwrap()
            .starts_with("API rate limit exceeded")
    );
}

#[tokio::test]
async fn requests_are_recorded_in_order_with_headers_and_bodies() {
    let gh = started_with_pull().await;
    get(&gh, "/repos/acme/shop/issues/7/comments?per_page=100").await;
    let comment = post(
        &gh,
        "/repos/acme/shop/issues/7/comments",
        json!({"body": "hello"}),
    )
    .await
    .json();
    patch(
        &gh,
        &format!("/repos/acme/shop/issues/comments/{}", comment["id"]),
        json!({"body": "bye"}),
    )
    .await;

    let log = gh.requests();
    let summary: Vec<_> = log
        .iter()
        .map(|r| (r.method.as_str(), r.path.as_str(), r.status))
        .collect();
    let edit_path = format!("/repos/acme/shop/issues/comments/{}", comment["id"]);
    assert_eq!(
        summary,
        [
            ("GET", "/repos/acme/shop/issues/7/comments", Some(200)),
            ("POST", "/repos/acme/shop/issues/7/comments", Some(201)),
            ("PATCH", edit_path.as_str(), Some(200)),
        ]
    );
    assert_eq!(log[0].query.as_deref(), Some("per_page=100"));
    assert_eq!(log[0].query_param("per_page").as_deref(), Some("100"));
    assert_eq!(
        log[1].header("Authorization"),
        Some(format!("Bearer {}", GitHub::TOKEN).as_str())
    );
    assert_eq!(log[1].header("user-agent"), Some("previewd-tests"));
    assert_eq!(log[1].body, Some(json!({"body": "hello"})));
    assert!(log[1].request_id.contains(':'));
    assert_eq!(gh.writes().len(), 2);
    assert_eq!(
        gh.requests_to("PATCH", "/repos/acme/shop/issues/comments/")
            .len(),
        1
    );
    gh.clear_requests();
    assert!(gh.requests().is_empty());
}

// ---------------------------------------------------------------------------------------------
// Faults.

#[tokio::test]
async fn status_faults_fire_on_matching_requests_then_stop() {
    let gh = started_with_pull().await;
    gh.inject(
        Fault::Status(502)
            .times(2)
            .on("GET", "/repos/acme/shop/pulls"),
    );
    assert_eq!(
        get(&gh, "/user").await.status,
        200,
        "other paths are untouched"
    );
    let failed = get(&gh, "/repos/acme/shop/pulls/7").await;
    assert_eq!(failed.status, 502);
    assert_eq!(failed.json()["message"], "Bad Gateway");
    assert!(failed.header("x-ratelimit-remaining").is_some());
    assert_eq!(gh.pending_faults(), 1);
    assert_eq!(
        get(&gh, "/repos/acme/shop/pulls?state=open").await.status,
        502
    );
    assert_eq!(get(&gh, "/repos/acme/shop/pulls/7").await.status, 200);

    gh.inject(Fault::Status(500).once().on_path("/repos/acme/shop/issues"));
    let failed = post(
        &gh,
        "/repos/acme/shop/issues/7/comments",
        json!({"body": "x"}),
    )
    .await;
    assert_eq!(failed.status, 500);
    assert!(
        gh.comments("acme", "shop", 7).is_empty(),
        "a failed write has no effect"
    );
    let recorded = gh
        .requests()
        .into_iter()
        .filter(|r| r.fault.is_some())
        .count();
    assert_eq!(recorded, 3, "the log says which requests were failed");
}

#[tokio::test]
async fn a_hang_outlasts_the_client_timeout_and_a_slow_write_lands_anyway() {
    let gh = started_with_pull().await;
    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let url = format!("{}/repos/acme/shop/issues/7/comments", gh.url());

    gh.inject(Fault::Hang(Duration::from_secs(2)).once());
    let error = authed(impatient.post(&url))
        .json(&json!({"body": "x"}))
        .send()
        .await
        .unwrap_err();
    assert!(error.is_timeout(), "{error}");
    assert!(
        gh.comments("acme", "shop", 7).is_empty(),
        "a hung write has no effect"
    );

    gh.inject(Fault::Slow(Duration::from_secs(2)).once());
    let error = authed(impatient.post(&url))
        .json(&json!({"body": "x"}))
        .send()
        .await
        .unwrap_err();
    assert!(error.is_timeout(), "{error}");
    assert_eq!(
        gh.comments("acme", "shop", 7).len(),
        1,
        "the write landed though the client gave up"
    );
}

#[tokio::test]
async fn html_credentials_and_secondary_rate_limit_faults_look_like_githubs() {
    let gh = started_with_pull().await;
    for status in [200, 502] {
        gh.inject(Fault::Html(status).once());
        let page = get(&gh, "/repos/acme/shop/pulls/7").await;
        assert_eq!(page.status, status);
        assert_eq!(
            page.header("content-type"),
            Some("text/html; charset=utf-8")
        );
        assert!(page.text.starts_with("<!DOCTYPE html>"));
        assert!(serde_json::from_str::<Value>(&page.text).is_err());
    }

    gh.inject(Fault::BadCredentials.once());
    let denied = get(&gh, "/repos/acme/shop/pulls/7").await;
    assert_eq!(
        (denied.status, denied.json()["message"].clone()),
        (401, json!("Bad credentials"))
    );

    gh.inject(Fault::SecondaryRateLimit { retry_after: 60 }.once());
    let limited = post(
        &gh,
        "/repos/acme/shop/issues/7/comments",
        json!({"body": "x"}),
    )
    .await;
    assert_eq!(limited.status, 403);
    assert_eq!(limited.header("retry-after"), Some("60"));
    assert!(
        limited.json()["message"]
            .as_str()
            .unwrap()
            .starts_with("You have exceeded a secondary rate limit")
    );
    assert!(gh.comments("acme", "shop", 7).is_empty());
}

#[tokio::test]
async fn empty_and_truncated_lists() {
    let gh = started_with_pull().await;
    gh.inject(Fault::EmptyList.once().on("GET", "/repos/acme/shop/pulls"));
    let empty = get(&gh, "/repos/acme/shop/pulls?state=open").await;
    assert_eq!((empty.status, empty.json()), (200, json!([])));
    assert!(empty.header("link").is_none());

    gh.inject(Fault::Truncated.once().on("GET", "/repos/acme/shop/pulls"));
    let cut = get(&gh, "/repos/acme/shop/pulls?state=open").await;
    assert_eq!(cut.status, 200);
    assert!(cut.text.starts_with("[{"));
    assert!(
        serde_json::from_str::<Value>(&cut.text).is_err(),
        "the body is cut"
    );
    assert_eq!(
        get(&gh, "/repos/acme/shop/pulls?state=open")
            .await
            .json()
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn chaos_fails_about_p_of_requests_and_replays_with_the_same_seed() {
    async fn run(seed: u64) -> Vec<u16> {
        let gh = started_with_pull().await;
        gh.chaos(Chaos::new(
            0.3,
            seed,
            vec![
                Fault::Status(500),
                Fault::Status(503),
                Fault::BadCredentials,
            ],
        ));
        let mut statuses = Vec::new();
        for _ in 0..200 {
            statuses.push(get(&gh, "/repos/acme/shop/pulls/7").await.status);
        }
        gh.clear_faults();
        assert_eq!(get(&gh, "/repos/acme/shop/pulls/7").await.status, 200);
        statuses
    }
    let first = run(42).await;
    let failed = first.iter().filter(|s| **s != 200).count();
    assert!(
        (35..=85).contains(&failed),
        "{failed} of 200 failed with p = 0.3"
    );
    for status in [500, 503, 401] {
        assert!(first.contains(&status), "{status} was picked");
    }
    assert_eq!(run(42).await, first, "same seed, same failures");
    assert_ne!(run(7).await, first, "another seed, other failures");
}

// ---------------------------------------------------------------------------------------------
// octocrab, previewd's client, parses everything.

#[tokio::test]
async fn octocrab_reads_and_writes_through_the_stand_in() {
    let gh = started_with_pull().await;
    gh.set_pull(Pull::new("acme", "shop", 8).fork("outsider").closed());
    let octocrab = octocrab::Octocrab::builder()
        .base_uri(gh.url())
        .unwrap()
        .personal_token(GitHub::TOKEN.to_owned())
        .build()
        .unwrap();

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

// ---------------------------------------------------------------------------------------------
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
