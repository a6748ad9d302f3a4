//! previewd as a GitHub App: a JWT for the App's endpoints, an installation token for
//! everything in the repository (replaced before it runs out, and after a 401), a suspended or
//! missing installation told apart in the status without a storm of retries, and a switch from
//! a token to the App that keeps each PR's one comment.

use std::time::Duration;

use kube::Api;
use kube::api::DeleteParams;
use previewd::model::crd::Phase;
use previewd_testkit::github::{GitHub, Recorded};
use previewd_testkit::previewd::Previewd;
use previewd_testkit::scenario::Scenario;

const READY: Duration = Duration::from_secs(90);
const NEW_SHA: &str = "d6fde92930d4715a2b49857d24b940956b26d2d3";
const TOKENS: &str = "/app/installations/";

fn credential(request: &Recorded) -> String {
    let value = request.header("authorization").unwrap_or_default();
    value.strip_prefix("Bearer ").unwrap_or(value).to_owned()
}

fn is_jwt(credential: &str) -> bool {
    credential.starts_with("eyJ") && credential.split('.').count() == 3
}

/// Comments on PR `number` written by `login`.
fn comments_by(s: &Scenario, number: u64, login: &str) -> Vec<String> {
    s.comments(number)
        .into_iter()
        .filter(|c| c.author == login)
        .map(|c| c.body)
        .collect()
}

async fn wait_comment_by_app(s: &Scenario, number: u64, says: &str) {
    s.github
        .wait_for("the App's comment", READY, |g| {
            g.comments(&s.owner, &s.repo, number)
                .into_iter()
                .find(|c| c.author == GitHub::app_login() && c.body.contains(says))
        })
        .await;
}

#[tokio::test]
async fn as_an_app_every_repository_call_carries_the_installation_token_and_the_app_calls_a_jwt() {
    let s = Scenario::start_as_app("app-lifecycle", |_| {}).await;
    s.deliver(&s.payload("pr-opened", 1)).await;
    s.wait_phase(1, Phase::Ready, None, READY).await;
    wait_comment_by_app(&s, 1, "Preview ready").await;
    s.deliver(&s.payload("pr-closed-unmerged", 1)).await;
    s.wait_namespace_gone(1, READY).await;
    s.wait_phase(1, Phase::Destroyed, None, READY).await;
    wait_comment_by_app(&s, 1, "Preview destroyed").await;
    assert_eq!(comments_by(&s, 1, &GitHub::app_login()).len(), 1);

    let requests = s.github.requests();
    let created: Vec<_> = requests
        .iter()
        .filter(|r| r.method == "POST" && r.path.starts_with(TOKENS))
        .collect();
    assert_eq!(created.len(), 1, "one token serves the whole lifecycle");
    let token = s
        .github
        .requests()
        .iter()
        .find(|r| {
            r.path
                .starts_with(&format!("/repos/{}/issues", s.full_name()))
        })
        .map(credential)
        .expect("a call in the repository");
    assert!(token.starts_with("ghs_"), "{token}");
    for request in &requests {
        let used = credential(request);
        if request.path == "/app"
            || request.path.starts_with("/app/")
            || request.path.ends_with("/installation")
        {
            assert!(
                is_jwt(&used),
                "{} {} with {used}",
                request.method,
                request.path
            );
        } else {
            assert_eq!(used, token, "{} {}", request.method, request.path);
        }
        assert_ne!(
            request.status,
            Some(401),
            "{} {}",
            request.method,
            request.path
        );
    }
    let installation = s.github.installation_on(&s.owner, &s.repo).unwrap();
    assert_eq!(
        created[0].path,
        format!("{TOKENS}{installation}/access_tokens")
    );
    assert!(!s.previewd.logs().contains("ghs_"), "a token in the log");
}

/// The requests from the `mark`-th on.
fn since(s: &Scenario, mark: usize) -> Vec<Recorded> {
    s.github.requests().into_iter().skip(mark).collect()
}

#[tokio::test]
async fn a_refused_token_is_replaced_after_one_401_and_one_near_its_expiry_before_use() {
    let s = Scenario::start_as_app("app-tokens", |_| {}).await;
    // previewd holds a token once it has resolved its repositories at startup.
    s.github
        .wait_for("previewd's first installation token", READY, |g| {
            g.requests()
                .iter()
                .any(|r| r.path.starts_with(TOKENS) && r.status == Some(201))
                .then_some(())
        })
        .await;
    // GitHub revokes the token previewd holds: one 401, a new token, the same call again. The
    // new token lives five minutes and four seconds.
    s.github
        .set_installation_token_lifetime(Duration::from_secs(304));
    s.github.revoke_installation_tokens();
    let mark = s.github.requests().len();
    s.deliver(&s.payload("pr-opened", 1)).await;
    wait_comment_by_app(&s, 1, "Preview ready").await;
    let later = since(&s, mark);
    let refused: Vec<_> = later.iter().filter(|r| r.status == Some(401)).collect();
    assert_eq!(refused.len(), 1, "{later:#?}");
    let next: Vec<_> = later
        .iter()
        .skip_while(|r| r.status != Some(401))
        .skip(1)
        .take(2)
        .collect();
    assert!(next[0].path.starts_with(TOKENS), "{next:#?}");
    assert_eq!(
        (next[1].method.as_str(), next[1].path.as_str()),
        (refused[0].method.as_str(), refused[0].path.as_str()),
        "the refused call is sent again"
    );
    assert_eq!(comments_by(&s, 1, &GitHub::app_login()).len(), 1);

    // Less than five minutes left: replaced before the first call of PR 2, never refused.
    tokio::time::sleep(Duration::from_secs(5)).await;
    s.github
        .set_installation_token_lifetime(Duration::from_secs(3600));
    let mark = s.github.requests().len();
    s.deliver(&s.payload("pr-opened", 2)).await;
    wait_comment_by_app(&s, 2, "Preview ready").await;
    let later = since(&s, mark);
    let created: Vec<_> = later
        .iter()
        .filter(|r| r.path.starts_with(TOKENS))
        .collect();
    assert_eq!(created.len(), 1, "{later:#?}");
    assert_eq!(created[0].seq, later[0].seq, "the new token comes first");
    assert!(later.iter().all(|r| r.status != Some(401)), "{later:#?}");
}

#[tokio::test]
async fn a_suspended_installation_is_reported_and_asked_about_once() {
    let s = Scenario::start_as_app("app-suspended", |_| {}).await;
    let installation = s.github.installation_on(&s.owner, &s.repo).unwrap();
    s.github.suspend_installation(installation, true);
    let mark = s.github.requests().len();
    for number in [1, 2, 3] {
        s.deliver(&s.payload("pr-opened", number)).await;
    }
    for number in [1, 2, 3] {
        let message = s.wait_comment_condition(number, "False").await;
        assert!(message.contains("suspended"), "{message}");
        // The preview itself does not wait on GitHub.
        s.wait_phase(number, Phase::Ready, None, READY).await;
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let asked: Vec<_> = since(&s, mark)
        .into_iter()
        .filter(|r| r.path.starts_with(TOKENS))
        .collect();
    assert_eq!(
        asked.len(),
        1,
        "three previews, one question to GitHub: {asked:#?}"
    );
    assert_eq!(asked[0].status, Some(403));
    assert!(s.previewd.logs().contains("suspended"));
    assert!(s.comments(1).is_empty());
}

#[tokio::test]
async fn an_app_not_installed_on_the_repository_is_reported_as_such() {
    let s = Scenario::start_as_app("app-missing", |_| {}).await;
    let installation = s.github.installation_on(&s.owner, &s.repo).unwrap();
    s.github.uninstall_app(installation);
    let mark = s.github.requests().len();
    for number in [1, 2] {
        s.deliver(&s.payload("pr-opened", number)).await;
    }
    for number in [1, 2] {
        let message = s.wait_comment_condition(number, "False").await;
        assert!(message.contains("not installed"), "{message}");
        assert!(!message.contains("suspended"), "{message}");
    }
    // The token previewd held is refused (401), a new one is not given (404): previewd asks
    // once, whichever way it learns, for both previews.
    let later = since(&s, mark);
    let lookup = format!("/repos/{}/installation", s.full_name());
    let refusals: Vec<_> = later
        .iter()
        .filter(|r| r.path == lookup || r.path.starts_with(TOKENS))
        .collect();
    assert_eq!(
        refusals.len(),
        1,
        "two previews, one question to GitHub: {later:#?}"
    );
    assert_eq!(refusals[0].status, Some(404));
}

/// Lets go of PR `number`'s record as a reinstall would (finalizer lifted, record and
/// namespace deleted) while no previewd runs.
async fn forget_preview(s: &Scenario, number: u64) {
    s.orphan(number).await;
    let name = s.preview_name(number);
    let namespaces = Api::<k8s_openapi::api::core::v1::Namespace>::all(s.kube.clone());
    namespaces
        .delete(&name, &DeleteParams::default())
        .await
        .expect("delete the namespace");
    s.wait_namespace_gone(number, READY).await;
}

#[tokio::test]
async fn switching_from_a_token_to_the_app_keeps_one_comment_per_pull_request() {
    let mut s = Scenario::start("app-switch", |_| {}).await;
    for number in [1, 2] {
        s.deliver(&s.payload("pr-opened", number)).await;
        s.wait_phase(number, Phase::Ready, None, READY).await;
        assert!(s.sticky_comment(number).body.contains("Preview ready"));
    }
    s.previewd.kill();
    // PR 1 keeps its record (which knows its comment); PR 2's is gone, so its comment must be
    // found again on GitHub, where the token's login wrote it.
    forget_preview(&s, 2).await;
    s.github.register_app();
    s.github.install_app(&s.owner, &[s.full_name().as_str()]);
    let mut options = s.previewd.options().clone();
    options.github_app = true;
    options.env.push((
        "PREVIEWD_GITHUB_PREVIOUS_LOGINS".into(),
        GitHub::LOGIN.into(),
    ));
    s.previewd = Previewd::start(options).await;
    let mark = s.github.requests().len();
    for number in [1, 2] {
        s.deliver(&s.payload("pr-synchronize-new-sha", number))
            .await;
        s.wait_phase(number, Phase::Ready, Some(NEW_SHA), READY)
            .await;
    }
    for number in [1, 2] {
        let all = s.comments(number);
        assert_eq!(all.len(), 1, "PR {number}: {all:#?}");
        assert!(all[0].body.contains(&NEW_SHA[..7]), "{}", all[0].body);
        assert_eq!(all[0].author, GitHub::LOGIN, "edited, not replaced");
    }
    let posts: Vec<_> = s
        .github
        .requests()
        .into_iter()
        .skip(mark)
        .filter(|r| r.method == "POST" && r.path.ends_with("/comments"))
        .collect();
    assert!(posts.is_empty(), "{posts:#?}");
}

/// Waits until PR `number` of `owner/repo` has a Ready preview.
async fn wait_ready_in(s: &Scenario, owner: &str, repo: &str, number: u64) {
    let repository = previewd::model::pull::Repository {
        id: s.github.repository_id(owner, repo),
        full_name: format!("{owner}/{repo}"),
    };
    let name = previewd::model::names::preview_name(&repository, number);
    let api = Api::<previewd::model::crd::PreviewEnvironment>::all(s.kube.clone());
    let deadline = std::time::Instant::now() + READY;
    loop {
        let phase = api
            .get_opt(&name)
            .await
            .expect("read the preview")
            .and_then(|pe| pe.status)
            .map(|status| status.phase);
        if phase == Some(Phase::Ready) {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{owner}/{repo}#{number} never Ready\n{}",
            s.previewd.logs()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// An `owner/*` entry: the resync finds every repository of the owner (the App's installation
/// on it, or what the token sees), and a delivery from any of them is served; another owner's
/// is not.
async fn an_owner_pattern_serves_the_owners_repositories(app: bool) {
    let github = GitHub::start().await;
    let owner = format!("owner-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    if app {
        github.register_app();
        github.install_app(&owner, &[]);
    }
    for repo in ["alpha", "beta"] {
        github.set_pull(previewd_testkit::github::Pull::new(&owner, repo, 1));
    }
    let mut options =
        previewd_testkit::previewd::Options::new(&github.url(), &format!("{owner}/*"));
    options.github_app = app;
    options.resync_secs = 1;
    let previewd = Previewd::start(options).await;
    let kube = previewd_testkit::cluster::client().await;
    let s = Scenario::serving(github, previewd, kube, &owner, "alpha");
    for repo in ["alpha", "beta"] {
        wait_ready_in(&s, &owner, repo, 1).await;
    }
    let gamma = s.github.repository_id(&owner, "gamma");
    s.github
        .set_pull(previewd_testkit::github::Pull::new(&owner, "gamma", 2));
    let opened = previewd_testkit::webhooks::variant("pr-opened")
        .repo(&owner, "gamma")
        .repository_id(gamma)
        .number(2);
    previewd_testkit::scenario::deliver_to(&s.previewd, &opened, "").await;
    wait_ready_in(&s, &owner, "gamma", 2).await;
    let elsewhere = previewd_testkit::webhooks::variant("pr-opened")
        .repo("someone-else", "alpha")
        .repository_id(s.github.repository_id("someone-else", "alpha"))
        .number(3);
    let ignored = previewd_testkit::scenario::deliver_to(&s.previewd, &elsewhere, "").await;
    assert!(ignored.body.contains("ignored"), "{}", ignored.body);
}

#[tokio::test]
async fn an_owner_pattern_serves_the_repositories_the_apps_installation_covers() {
    an_owner_pattern_serves_the_owners_repositories(true).await;
}

#[tokio::test]
async fn an_owner_pattern_serves_the_repositories_a_token_sees_of_the_owner() {
    an_owner_pattern_serves_the_owners_repositories(false).await;
}

#[tokio::test]
async fn on_an_enterprise_server_the_app_is_reached_under_its_api_path() {
    // Served under /api/v3 only: a call anywhere else would get no answer worth recording.
    let github = GitHub::start_enterprise().await;
    assert!(github.url().ends_with("/api/v3"));
    github.register_app();
    let s = Scenario::start_on(github, "app-ghes", |o| o.github_app = true).await;
    s.deliver(&s.payload("pr-opened", 1)).await;
    s.wait_phase(1, Phase::Ready, None, READY).await;
    wait_comment_by_app(&s, 1, "Preview ready").await;
    let requests = s.github.requests();
    for expected in ["/app", "/app/installations/", "/repos/"] {
        assert!(
            requests.iter().any(|r| r.path.starts_with(expected)),
            "{expected}: {requests:#?}"
        );
    }
    assert!(
        requests.iter().all(|r| r.status != Some(404)),
        "{requests:#?}"
    );
}
