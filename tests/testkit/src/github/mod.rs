//! A GitHub REST API stand-in: an axum server on 127.0.0.1 that answers the endpoints previewd
//! uses with GitHub's JSON shapes, status codes and headers, records every request, and fails
//! on demand.
//!
//! ```text
//! let github = GitHub::start().await;
//! github.set_pull(Pull::new("acme", "shop", 7).title("Add cart"));
//! github.inject(Fault::Status(502).times(2).on("POST", "/repos/acme/shop/issues"));
//! // ... point previewd at github.url() with token GitHub::TOKEN ...
//! assert_eq!(github.comments("acme", "shop", 7).len(), 1);
//! ```
//!
//! The default account is `previewd-bot` with token `previewd-test-token`, of type `"User"`: a
//! machine user with a personal access token, the setup in which `GET /user` works (a GitHub
//! App installation token gets 403 there). Register more with `add_user` / `add_token`.
//! Every API request needs a known token (`Authorization: Bearer <t>` or `token <t>`): none
//! gives 401 "Requires authentication", an unknown one 401 "Bad credentials".
//!
//! Endpoints: `GET /user`; issue comments (list, create, get, update, delete) and their
//! reactions (list, create); `GET .../collaborators/{username}/permission` (roles from
//! `set_permission`); pull requests (get, list); repositories by name and by id, with
//! `move_repository` renaming or transferring one as GitHub does (its old name then answers 301
//! to reads and 307 to writes, pointing at `/repositories/{id}/...`); a GitHub App
//! (`register_app`, `install_app`): `GET /app`, `GET /repos/{owner}/{repo}/installation` and
//! `POST /app/installations/{id}/access_tokens` with a JWT verified with the App's public key,
//! installation tokens that expire and reach only their installation's repositories, suspended
//! and uninstalled installations, an owner's installation and `GET /installation/repositories`;
//! an organisation's or a user's repositories (`/orgs/{org}/repos`, `/users/{username}/repos`);
//! deployments and their statuses (`auto_inactive` as GitHub applies it); check runs (create,
//! update, list for a ref), check suites (one per App for a ref), commit statuses (create, combined for a ref), and a branch's
//! required status checks (`GET .../branches/{branch}` with its protection,
//! `GET .../rules/branches/{branch}`; set with `require_checks`). `openapi` checks bodies against GitHub's OpenAPI description,
//! which the tests do for every answer.

mod admin;
mod apps;
mod checks;
mod deployments;
mod faults;
mod git;
mod layer;
mod objects;
pub mod openapi;
mod pull;
mod recorded;
mod routes;
mod state;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Router;
use axum::middleware;

pub use admin::admin_routes;
pub use apps::{APP_KEY_FILE, sign_app_jwt};
pub use checks::{CI_APP_ID, CheckRun, CommitStatus, Required};
pub use deployments::{Deployment, DeploymentStatus};
pub use faults::{Chaos, Fault, FaultRule, Target, Targeted};
pub use git::GitFile;
pub use objects::{label, label_id, repo_id, user_id};
pub use pull::Pull;
pub use recorded::Recorded;
pub use state::{Comment, REACTIONS, User};

pub(crate) use faults::XorShift64;
pub(crate) use objects::fake_sha;
pub(crate) use state::ROLES;

use objects::Urls;
use state::State;

/// A running stand-in; clones share the same server and state.
#[derive(Clone, Debug)]
pub struct GitHub {
    state: Arc<Mutex<State>>,
    addr: SocketAddr,
    /// Where the API is served: `""` as api.github.com, `/api/v3` as GitHub Enterprise Server.
    prefix: &'static str,
}

impl GitHub {
    /// The default token.
    pub const TOKEN: &'static str = "previewd-test-token";
    /// The default token's account.
    pub const LOGIN: &'static str = "previewd-bot";
    /// The test App's id (`register_app`).
    pub const APP_ID: u64 = 424_242;
    /// The test App's slug: its bot account is `previewd-test[bot]`.
    pub const APP_SLUG: &'static str = "previewd-test";
    /// The account owning the test App.
    pub const APP_OWNER: &'static str = "previewd-maintainers";

    /// Starts on 127.0.0.1 on a free port.
    pub async fn start() -> GitHub {
        GitHub::start_with(SocketAddr::from(([127, 0, 0, 1], 0)), |_| Router::new()).await
    }

    /// Starts on `addr`, also serving `extra` (e.g. `admin_routes`) outside the API layer:
    /// those requests are not recorded, rate-limited or failed.
    pub async fn start_with(addr: SocketAddr, extra: impl FnOnce(GitHub) -> Router) -> GitHub {
        GitHub::start_at(addr, "", extra).await
    }

    /// Starts as a GitHub Enterprise Server answers: the API under `/api/v3` (`url()` includes
    /// it), web addresses on `https://ghe.test`.
    pub async fn start_enterprise() -> GitHub {
        let addr = SocketAddr::from(([127, 0, 0, 1], 0));
        GitHub::start_at(addr, "/api/v3", |_| Router::new()).await
    }

    async fn start_at(
        addr: SocketAddr,
        prefix: &'static str,
        extra: impl FnOnce(GitHub) -> Router,
    ) -> GitHub {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .expect("bind the GitHub stand-in");
        let addr = listener.local_addr().expect("the stand-in's address");
        let web = match prefix {
            "" => "https://github.com",
            _ => "https://ghe.test",
        };
        let urls = Urls {
            api: format!("http://{addr}{prefix}"),
            web: web.to_owned(),
        };
        let github = GitHub {
            state: Arc::new(Mutex::new(State::new(urls))),
            addr,
            prefix,
        };
        github.add_user(User::new(GitHub::LOGIN).association("NONE"));
        github.add_token(GitHub::TOKEN, GitHub::LOGIN);

        let api = routes::router()
            .layer(middleware::from_fn_with_state(github.clone(), layer::layer))
            .with_state(github.clone());
        let app = match prefix {
            "" => extra(github.clone()).merge(api),
            _ => extra(github.clone()).nest(prefix, api),
        };
        tokio::spawn(async move {
            axum::serve(listener, app)
                .await
                .expect("serve the GitHub stand-in");
        });
        github
    }

    /// `http://127.0.0.1:PORT` (`/api/v3` for an Enterprise Server), the base URI to give a
    /// client.
    pub fn url(&self) -> String {
        format!("http://{}{}", self.addr, self.prefix)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A test that panicked while holding the lock must not hide the state from the rest.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn with<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        f(&mut self.lock())
    }

    // ---- users and tokens ----

    /// Registers (or replaces) an account.
    pub fn add_user(&self, user: User) {
        self.with(|s| s.users.insert(user.login.clone(), user));
    }

    /// Makes `token` authenticate as `login` (registered as a plain user if unknown).
    pub fn add_token(&self, token: &str, login: &str) {
        self.with(|s| {
            s.user(login);
            s.tokens.insert(token.to_owned(), login.to_owned());
        });
    }

    /// Makes `token` unknown again (a revoked token).
    pub fn revoke_token(&self, token: &str) {
        self.with(|s| s.tokens.remove(token));
    }

    // ---- the GitHub App ----

    /// Registers the test App (`APP_ID`, `APP_SLUG`, the key in `APP_KEY_FILE`) and its bot
    /// account; JWTs signed with that key authenticate as the App from now on.
    pub fn register_app(&self) {
        let pem = std::fs::read_to_string(crate::repo_root().join(APP_KEY_FILE))
            .expect("the test App's key");
        let app = apps::App::new(GitHub::APP_ID, GitHub::APP_SLUG, &pem);
        self.add_user(User::bot(&app.bot_login()));
        self.with(|s| s.apps.app = Some(app));
    }

    /// The test App's bot login, `previewd-test[bot]`.
    pub fn app_login() -> String {
        format!("{}[bot]", GitHub::APP_SLUG)
    }

    /// Installs the App on `account`, for the repositories named (`owner/repo`), or all of the
    /// account's when empty; returns the installation's id.
    pub fn install_app(&self, account: &str, repositories: &[&str]) -> u64 {
        self.with(|s| {
            s.user(account);
            let id = 7_000_000 + s.apps.installations.len() as u64 + 1;
            let chosen = (!repositories.is_empty()).then(|| {
                repositories
                    .iter()
                    .map(|r| r.to_ascii_lowercase())
                    .collect()
            });
            s.apps.installations.insert(
                id,
                apps::Installation {
                    id,
                    account: account.to_owned(),
                    repositories: chosen,
                    suspended_at: None,
                    created_at: state::now(),
                },
            );
            id
        })
    }

    /// The installation of the App covering `owner/repo`.
    pub fn installation_on(&self, owner: &str, repo: &str) -> Option<u64> {
        self.with(|s| s.installation_on(owner, repo).map(|i| i.id))
    }

    /// Suspends (or unsuspends) an installation: its tokens stop working, and no new one is
    /// given (403).
    pub fn suspend_installation(&self, installation: u64, suspended: bool) {
        self.with(|s| {
            if let Some(found) = s.apps.installations.get_mut(&installation) {
                found.suspended_at = suspended.then(state::now);
            }
        });
    }

    /// Uninstalls the App from an installation: it and its tokens are gone (404, 401).
    pub fn uninstall_app(&self, installation: u64) {
        self.with(|s| {
            s.apps.installations.remove(&installation);
            s.apps.tokens.retain(|_, (id, _)| *id != installation);
        });
    }

    /// How long installation tokens created from now on live (GitHub: one hour).
    pub fn set_installation_token_lifetime(&self, lifetime: Duration) {
        self.with(|s| {
            if let Some(app) = s.apps.app.as_mut() {
                app.token_lifetime =
                    chrono::Duration::from_std(lifetime).expect("a lifetime in range");
            }
        });
    }

    /// Revokes every installation token (as GitHub may at any time): the next use gets 401.
    pub fn revoke_installation_tokens(&self) {
        self.with(|s| s.apps.tokens.clear());
    }

    // ---- repository roles ----

    /// Gives `login` (registered as a plain user if unknown) `role` on `owner/repo`: one of
    /// `ROLES` (`admin`, `maintain`, `write`, `triage`, `read`, `none`). Without one, the owner
    /// is `admin` and every other known user `read`; an unknown login gets 404.
    pub fn set_permission(&self, owner: &str, repo: &str, login: &str, role: &str) {
        assert!(
            ROLES.contains(&role),
            "{role:?} is not a repository role; use one of {ROLES:?}"
        );
        self.with(|s| {
            s.user(login);
            s.roles
                .insert(state::role_key(owner, repo, login), role.to_owned());
        });
    }

    // ---- repositories ----

    /// Renames or transfers repository `from` (`owner/repo`) to `to`: its pull requests,
    /// comments and roles move with it, it keeps its id, and requests to the old name are
    /// redirected as GitHub redirects them.
    pub fn move_repository(&self, from: &str, to: &str) {
        self.with(|s| s.move_repository(from, to));
    }

    /// Creates a new repository under `full_name`, the old name of one moved away: the name no
    /// longer redirects, and the new repository has an id of its own.
    pub fn create_repository(&self, full_name: &str) {
        self.with(|s| s.create_repository(full_name));
    }

    /// Gives repository `full_name` the id `id` (the one a GitHub example payload carries), in
    /// place of the id derived from its name.
    pub fn set_repository_id(&self, full_name: &str, id: u64) {
        self.with(|s| s.kept_ids.insert(full_name.to_ascii_lowercase(), id));
    }

    /// The id of repository `owner/repo` (one moved there keeps the id it had).
    pub fn repository_id(&self, owner: &str, repo: &str) -> u64 {
        self.with(|s| s.repository_id(owner, repo))
    }

    // ---- pull requests ----

    /// Creates or replaces a pull request (registering its owner, author and fork owner).
    pub fn set_pull(&self, pull: Pull) {
        self.with(|s| {
            for login in pull.logins() {
                s.user(login);
            }
            s.pulls
                .insert((pull.owner.clone(), pull.repo.clone(), pull.number), pull);
        });
    }

    /// Changes a pull request in place and moves its `updated_at` to now; panics if unknown.
    pub fn update_pull(
        &self,
        owner: &str,
        repo: &str,
        number: u64,
        change: impl FnOnce(&mut Pull),
    ) -> Pull {
        self.with(|s| {
            let key = (owner.to_owned(), repo.to_owned(), number);
            let pull = s
                .pulls
                .get_mut(&key)
                .unwrap_or_else(|| panic!("no pull request {owner}/{repo}#{number}"));
            change(pull);
            pull.updated_at = state::now().max(pull.updated_at);
            pull.clone()
        })
    }

    /// A pull request, if set.
    pub fn pull(&self, owner: &str, repo: &str, number: u64) -> Option<Pull> {
        self.with(|s| s.pull(owner, repo, number).cloned())
    }

    // ---- comments ----

    /// Adds a comment written by `author` (e.g. a user quoting previewd's marker); returns its id.
    pub fn seed_comment(
        &self,
        owner: &str,
        repo: &str,
        number: u64,
        author: &str,
        body: &str,
    ) -> u64 {
        self.with(|s| s.add_comment(owner, repo, number, author, body).id)
    }

    /// Comments on one issue or PR, oldest first.
    pub fn comments(&self, owner: &str, repo: &str, number: u64) -> Vec<Comment> {
        self.with(|s| {
            s.comments
                .values()
                .filter(|c| c.owner == owner && c.repo == repo && c.number == number)
                .cloned()
                .collect()
        })
    }

    /// Every comment, oldest first.
    pub(crate) fn all_comments(&self) -> Vec<Comment> {
        self.with(|s| s.comments.values().cloned().collect())
    }

    /// One comment by id.
    pub fn comment(&self, id: u64) -> Option<Comment> {
        self.with(|s| s.comments.get(&id).cloned())
    }

    /// Reactions to comment `comment_id` as (login, content), oldest first.
    pub fn reactions(&self, comment_id: u64) -> Vec<(String, String)> {
        self.with(|s| {
            s.reactions
                .iter()
                .filter(|r| r.comment_id == comment_id)
                .map(|r| (r.login.clone(), r.content.clone()))
                .collect()
        })
    }

    // ---- deployments ----

    /// The deployments of `owner/repo`, oldest first.
    pub fn deployments(&self, owner: &str, repo: &str) -> Vec<Deployment> {
        self.with(|s| {
            s.deployments
                .values()
                .filter(|d| d.owner == owner && d.repo == repo)
                .cloned()
                .collect()
        })
    }

    /// The statuses of deployment `id`, oldest first.
    pub fn deployment_statuses(&self, id: u64) -> Vec<DeploymentStatus> {
        self.with(|s| {
            s.deployment_statuses
                .iter()
                .filter(|st| st.deployment_id == id)
                .cloned()
                .collect()
        })
    }

    // ---- the request log ----

    /// Every API request so far, in arrival order.
    pub fn requests(&self) -> Vec<Recorded> {
        self.with(|s| s.requests.clone())
    }

    /// POST, PATCH, PUT and DELETE requests (reactions included), in order.
    pub fn writes(&self) -> Vec<Recorded> {
        self.requests()
            .into_iter()
            .filter(Recorded::is_write)
            .collect()
    }

    /// Requests with this method whose path starts with `prefix`.
    pub fn requests_to(&self, method: &str, prefix: &str) -> Vec<Recorded> {
        self.requests()
            .into_iter()
            .filter(|r| r.method == method && r.path.starts_with(prefix))
            .collect()
    }

    /// Forgets the log (not the state).
    pub fn clear_requests(&self) {
        self.with(|s| s.requests.clear());
    }

    /// Polls `check` every 20 ms until it returns `Some`; panics with `what` after `timeout`.
    pub async fn wait_for<T>(
        &self,
        what: &str,
        timeout: Duration,
        check: impl Fn(&GitHub) -> Option<T>,
    ) -> T {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if let Some(found) = check(self) {
                return found;
            }
            if tokio::time::Instant::now() >= deadline {
                panic!(
                    "timed out after {timeout:?} waiting for {what}; requests: {:#?}",
                    self.requests()
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    // ---- faults and limits ----

    /// Adds a fault rule; rules fire in the order added.
    pub fn inject(&self, rule: FaultRule) {
        self.with(|s| s.faults.push(rule));
    }

    /// Fails a fraction of requests from now on (replaces earlier chaos).
    pub fn chaos(&self, chaos: Chaos) {
        self.with(|s| s.faults.set_chaos(Some(chaos)));
    }

    /// Adds a chaos plan after those already set (e.g. empty lists on one path besides errors
    /// everywhere); for each request the first plan that picks a fault wins.
    pub fn add_chaos(&self, chaos: Chaos) {
        self.with(|s| s.faults.add_chaos(chaos));
    }

    /// Removes all rules and chaos.
    pub fn clear_faults(&self) {
        self.with(|s| s.faults.clear());
    }

    /// Rule uses not consumed yet.
    pub fn pending_faults(&self) -> usize {
        self.with(|s| s.faults.pending())
    }

    /// Sets the primary rate limit's remaining count; at 0 requests get 403 "API rate limit exceeded".
    pub fn set_rate_limit_remaining(&self, remaining: u64) {
        self.with(|s| s.rate.remaining = remaining.min(s.rate.limit));
    }
}
