//! JSON builders: the objects GitHub's REST API returns, with every field its OpenAPI schema
//! marks required (checked by tests/github_standin/ against `@octokit/openapi`).
//!
//! API addresses (`url`, `*_url`) point at the stand-in, so a client following them stays
//! local; web addresses (`html_url`) point at `https://github.com`, as previewd shows them.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};

use super::state::{ROLES, User};

mod checks;
mod comments;
mod deployments;
mod pulls;

pub(crate) use checks::{
    branch, branch_rules, check_run, check_suite, combined_state, commit_status,
};
pub(crate) use comments::{comment, reaction};
pub(crate) use deployments::{deployment, deployment_status};
pub(crate) use pulls::{PullContext, pull_request, pull_request_simple};
pub use pulls::{label, label_id};

/// Where API and web addresses point.
#[derive(Clone, Debug)]
pub(crate) struct Urls {
    /// The stand-in, e.g. `http://127.0.0.1:4242`.
    pub(crate) api: String,
    /// `https://github.com`.
    pub(crate) web: String,
}

/// A stable 64-bit FNV-1a hash: ids and fake SHAs must not change between runs.
pub(crate) fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// A stable GitHub-like id (9 digits) for a name: repository ids, user ids, PR ids.
pub(crate) fn stable_id(name: &str) -> u64 {
    100_000_000 + fnv1a(name) % 900_000_000
}

/// The id the stand-in gives repository `owner/name`.
pub fn repo_id(full_name: &str) -> u64 {
    stable_id(&format!("repo:{full_name}"))
}

/// The id the stand-in gives user `login`.
pub fn user_id(login: &str) -> u64 {
    stable_id(&format!("user:{login}"))
}

/// A stable 40-hex-digit commit SHA derived from `seed`.
pub(crate) fn fake_sha(seed: &str) -> String {
    (0..3)
        .map(|i| format!("{:016x}", fnv1a(&format!("{i}:{seed}"))))
        .collect::<String>()[..40]
        .to_owned()
}

/// GitHub's timestamp format: `2024-01-02T03:04:05Z`.
pub(crate) fn timestamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// A JSON response with GitHub's content type.
pub(crate) fn json_response(status: StatusCode, body: &Value) -> Response {
    let mut response = (status, body.to_string()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    response
}

/// GitHub's error body.
pub(crate) fn error(message: &str, documentation_url: &str, status: u16) -> Value {
    json!({"message": message, "documentation_url": documentation_url, "status": status.to_string()})
}

/// 401 for an unknown or revoked token.
pub(crate) fn bad_credentials() -> Response {
    json_response(
        StatusCode::UNAUTHORIZED,
        &error("Bad credentials", "https://docs.github.com/rest", 401),
    )
}

/// The HTML page GitHub's front end serves when the API behind it is down.
pub(crate) fn unicorn_page(request_id: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html>\n  <head>\n    <meta http-equiv=\"Content-type\" content=\"text/html; \
         charset=utf-8\">\n    <title>Unicorn! &middot; GitHub</title>\n  </head>\n  <body>\n    \
         <h1>No server is currently available to service your request.</h1>\n    <p>Sorry about that. \
         Please try refreshing and contact us if the problem persists.</p>\n    <p>Request ID: \
         {request_id}</p>\n  </body>\n</html>\n"
    )
}

/// A `simple-user`.
pub(crate) fn simple_user(urls: &Urls, user: &User) -> Value {
    // GitHub percent-encodes logins in addresses (`dependabot%5Bbot%5D`) and shows an app's
    // bot account at its app's page.
    let api = format!("{}/users/{}", urls.api, path_segment(&user.login));
    let html_url = match user.login.strip_suffix("[bot]") {
        Some(app) if user.kind == "Bot" => format!("{}/apps/{}", urls.web, path_segment(app)),
        _ => format!("{}/{}", urls.web, path_segment(&user.login)),
    };
    json!({
        "login": user.login,
        "id": user.id,
        "node_id": format!("U_{:x}", user.id),
        "avatar_url": format!("https://avatars.githubusercontent.com/u/{}?v=4", user.id),
        "gravatar_id": "",
        "url": api,
        "html_url": html_url,
        "followers_url": format!("{api}/followers"),
        "following_url": format!("{api}/following{{/other_user}}"),
        "gists_url": format!("{api}/gists{{/gist_id}}"),
        "starred_url": format!("{api}/starred{{/owner}}{{/repo}}"),
        "subscriptions_url": format!("{api}/subscriptions"),
        "organizations_url": format!("{api}/orgs"),
        "repos_url": format!("{api}/repos"),
        "events_url": format!("{api}/events{{/privacy}}"),
        "received_events_url": format!("{api}/received_events"),
        "type": user.kind,
        "user_view_type": "public",
        "site_admin": false,
    })
}

/// A `private-user`: what `GET /user` returns for the token's owner.
pub(crate) fn private_user(urls: &Urls, user: &User) -> Value {
    let mut value = simple_user(urls, user);
    let extra = json!({
        "user_view_type": "private",
        "name": user.login, "company": null, "blog": "", "location": null, "email": null,
        "notification_email": null, "hireable": null, "bio": null, "twitter_username": null,
        "public_repos": 0, "public_gists": 0, "followers": 0, "following": 0,
        "created_at": "2024-01-01T00:00:00Z", "updated_at": "2024-01-01T00:00:00Z",
        "private_gists": 0, "total_private_repos": 0, "owned_private_repos": 0, "disk_usage": 0,
        "collaborators": 0, "two_factor_authentication": true,
        "plan": {"name": "free", "space": 976_562_499, "collaborators": 0, "private_repos": 10000},
    });
    merge(&mut value, extra);
    value
}

/// A `repository` named `name` owned by `owner`, with id `id`.
pub(crate) fn repository(
    urls: &Urls,
    owner: &User,
    name: &str,
    fork: bool,
    default_branch: &str,
    id: u64,
) -> Value {
    let full_name = format!("{}/{name}", owner.login);
    let api = format!("{}/repos/{full_name}", urls.api);
    let web = format!("{}/{full_name}", urls.web);
    let mut value = json!({
        "id": id,
        "node_id": format!("R_{id:x}"),
        "name": name,
        "full_name": full_name,
        "private": false,
        "owner": simple_user(urls, owner),
        "html_url": web,
        "description": null,
        "fork": fork,
        "url": api,
        "clone_url": format!("{web}.git"),
        "git_url": format!("git://github.com/{full_name}.git"),
        "ssh_url": format!("git@github.com:{full_name}.git"),
        "svn_url": web,
    });
    // Split in two: one `json!` this long exceeds the macro recursion limit.
    let counts = json!({
        "homepage": null, "language": null, "license": null, "mirror_url": null,
        "default_branch": default_branch,
        "forks": 0, "forks_count": 0, "open_issues": 0, "open_issues_count": 0,
        "stargazers_count": 0, "watchers": 0, "watchers_count": 0, "size": 0,
        "has_downloads": true, "has_issues": true, "has_projects": true, "has_wiki": true,
        "has_pages": false, "has_discussions": false, "archived": false, "disabled": false,
        "is_template": false, "allow_forking": true, "web_commit_signoff_required": false,
        "visibility": "public", "topics": [],
        "pushed_at": "2024-01-01T00:00:00Z", "created_at": "2024-01-01T00:00:00Z",
        "updated_at": "2024-01-01T00:00:00Z",
    });
    merge(&mut value, counts);
    // The templated `*_url` fields, exactly as GitHub spells them.
    let templated = [
        ("archive_url", "/{archive_format}{/ref}"),
        ("assignees_url", "/assignees{/user}"),
        ("blobs_url", "/git/blobs{/sha}"),
        ("branches_url", "/branches{/branch}"),
        ("collaborators_url", "/collaborators{/collaborator}"),
        ("comments_url", "/comments{/number}"),
        ("commits_url", "/commits{/sha}"),
        ("compare_url", "/compare/{base}...{head}"),
        ("contents_url", "/contents/{+path}"),
        ("contributors_url", "/contributors"),
        ("deployments_url", "/deployments"),
        ("downloads_url", "/downloads"),
        ("events_url", "/events"),
        ("forks_url", "/forks"),
        ("git_commits_url", "/git/commits{/sha}"),
        ("git_refs_url", "/git/refs{/sha}"),
        ("git_tags_url", "/git/tags{/sha}"),
        ("hooks_url", "/hooks"),
        ("issue_comment_url", "/issues/comments{/number}"),
        ("issue_events_url", "/issues/events{/number}"),
        ("issues_url", "/issues{/number}"),
        ("keys_url", "/keys{/key_id}"),
        ("labels_url", "/labels{/name}"),
        ("languages_url", "/languages"),
        ("merges_url", "/merges"),
        ("milestones_url", "/milestones{/number}"),
        (
            "notifications_url",
            "/notifications{?since,all,participating}",
        ),
        ("pulls_url", "/pulls{/number}"),
        ("releases_url", "/releases{/id}"),
        ("stargazers_url", "/stargazers"),
        ("statuses_url", "/statuses/{sha}"),
        ("subscribers_url", "/subscribers"),
        ("subscription_url", "/subscription"),
        ("tags_url", "/tags"),
        ("teams_url", "/teams"),
        ("trees_url", "/git/trees{/sha}"),
    ];
    for (key, suffix) in templated {
        value[key] = Value::String(format!("{api}{suffix}"));
    }
    value
}

/// A `repository-collaborator-permission`: `user`'s `role` (one of `state::ROLES`) on a
/// repository. `permission` is the legacy base role: maintain reads as write, triage as read.
pub(crate) fn collaborator_permission(urls: &Urls, user: &User, role: &str) -> Value {
    // ROLES lists the strongest first.
    let position = |r: &str| ROLES.iter().position(|x| *x == r).unwrap_or(ROLES.len());
    let at_least = |r: &str| position(role) <= position(r);
    let permission = match role {
        "maintain" => "write",
        "triage" => "read",
        other => other,
    };
    let mut collaborator = simple_user(urls, user);
    merge(
        &mut collaborator,
        json!({
            "email": null,
            "name": null,
            "role_name": role,
            "permissions": {
                "admin": at_least("admin"), "maintain": at_least("maintain"),
                "push": at_least("write"), "triage": at_least("triage"), "pull": at_least("read"),
            },
        }),
    );
    json!({"permission": permission, "role_name": role, "user": collaborator})
}

/// `text` as one URL path segment: everything but RFC 3986's unreserved characters
/// percent-encoded (a label named `good first issue` → `good%20first%20issue`).
pub(crate) fn path_segment(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn association(user: &User, repo_owner: &str) -> String {
    if user.login == repo_owner {
        "OWNER".to_owned()
    } else {
        user.association.clone()
    }
}

fn merge(target: &mut Value, extra: Value) {
    if let (Value::Object(target), Value::Object(extra)) = (target, extra) {
        target.extend(extra);
    }
}
