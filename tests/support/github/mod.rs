//! A GitHub REST API stand-in: an axum server on 127.0.0.1 that answers the endpoints previewd
//! uses with GitHub's JSON shapes, status codes and headers, records every request, and fails
//! on demand.
//!
//! ```ignore
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

mod admin;
mod faults;
mod objects;
mod routes;
mod state;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::{Request, State as AxumState};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use serde_json::Value;

// Re-exported for the test files and the example; each uses only some.
#[allow(unused_imports)]
pub use admin::admin_routes;
#[allow(unused_imports)]
pub use faults::{Chaos, Fault, FaultRule, Target, Targeted, XorShift64};
#[allow(unused_imports)]
pub use objects::{fake_sha, repo_id, user_id};
#[allow(unused_imports)]
pub use state::{Comment, Pull, Recorded, User};

use objects::Urls;
use routes::Caller;
use state::State;

/// A running stand-in; clones share the same server and state.
#[derive(Clone, Debug)]
pub struct GitHub {
    state: Arc<Mutex<State>>,
    addr: SocketAddr,
}

impl GitHub {
    /// The default token.
    pub const TOKEN: &'static str = "previewd-test-token";
    /// The default token's account.
    pub const LOGIN: &'static str = "previewd-bot";

    /// Starts on 127.0.0.1 on a free port.
    pub async fn start() -> GitHub {
        GitHub::start_with(SocketAddr::from(([127, 0, 0, 1], 0)), |_| Router::new()).await
    }

    /// Starts on `addr`, also serving `extra` (e.g. `admin_routes`) outside the API layer:
    /// those requests are not recorded, rate-limited or failed.
    pub async fn start_with(addr: SocketAddr, extra: impl FnOnce(GitHub) -> Router) -> GitHub {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .expect("bind the GitHub stand-in");
        let addr = listener.local_addr().expect("the stand-in's address");
        let urls = Urls {
            api: format!("http://{addr}"),
            web: "https://github.com".to_owned(),
        };
        let github = GitHub {
            state: Arc::new(Mutex::new(State::new(urls))),
            addr,
        };
        github.add_user(User::new(GitHub::LOGIN).association("NONE"));
        github.add_token(GitHub::TOKEN, GitHub::LOGIN);

        let api = routes::router()
            .layer(middleware::from_fn_with_state(github.clone(), layer))
            .with_state(github.clone());
        let app = extra(github.clone()).merge(api);
        tokio::spawn(async move {
            axum::serve(listener, app)
                .await
                .expect("serve the GitHub stand-in");
        });
        github
    }

    /// `http://127.0.0.1:PORT`, the base URI to give a client.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The listening address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
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

    /// An account by login (registered as a plain user if unknown).
    pub fn user(&self, login: &str) -> User {
        self.with(|s| s.user(login))
    }

    // ---- pull requests ----

    /// Creates or replaces a pull request.
    pub fn set_pull(&self, pull: Pull) {
        self.with(|s| {
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

    /// All pull requests, by repository and number.
    pub fn pulls(&self) -> Vec<Pull> {
        self.with(|s| s.pulls.values().cloned().collect())
    }

    /// The JSON `GET /repos/{owner}/{repo}/pulls/{number}` would return now.
    pub fn pull_json(&self, owner: &str, repo: &str, number: u64) -> Option<Value> {
        self.with(|s| {
            s.pull(owner, repo, number)
                .cloned()
                .map(|p| s.pull_json(&p, true))
        })
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
    pub fn all_comments(&self) -> Vec<Comment> {
        self.with(|s| s.comments.values().cloned().collect())
    }

    /// One comment by id.
    pub fn comment(&self, id: u64) -> Option<Comment> {
        self.with(|s| s.comments.get(&id).cloned())
    }

    // ---- the request log ----

    /// Every API request so far, in arrival order.
    pub fn requests(&self) -> Vec<Recorded> {
        self.with(|s| s.requests.clone())
    }

    /// POST, PATCH, PUT and DELETE requests, in order.
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

/// Wraps every API request: record, rate limit, fault, authenticate, handle, ETag, headers.
async fn layer(AxumState(gh): AxumState<GitHub>, request: Request, next: Next) -> Response {
    let (mut parts, body) = request.into_parts();
    let bytes = to_bytes(body, 16 << 20).await.unwrap_or_default();
    let method = parts.method.to_string();
    let path = parts.uri.path().to_owned();

    let (seq, request_id, fault, exhausted, caller) = gh.with(|s| {
        let seq = s.requests.len() as u64;
        let request_id = format!(
            "{:04X}:{:04X}:{:06X}:{:07X}:{:08X}",
            gh.addr.port(),
            seq,
            seq * 7919,
            seq * 104_729,
            seq
        );
        let fault = s.faults.pick(&method, &path);
        let exhausted = s.rate.remaining == 0;
        s.rate.remaining = s.rate.remaining.saturating_sub(1);
        let caller = token(&parts.headers).map(|t| s.caller(&t).ok_or(()));
        s.requests.push(Recorded {
            seq,
            method: method.clone(),
            path: path.clone(),
            query: parts.uri.query().map(str::to_owned),
            headers: header_map(&parts.headers),
            body: parse_body(&bytes),
            status: None,
            fault: fault.clone(),
            request_id: request_id.clone(),
        });
        (seq, request_id, fault, exhausted, caller)
    });

    let mut response = match (&fault, exhausted, caller) {
        (_, true, _) => primary_limit_exceeded(),
        (Some(Fault::Hang(duration)), ..) => {
            tokio::time::sleep(*duration).await;
            Fault::Hang(*duration).response(&request_id)
        }
        (Some(f), ..) if !f.applies_request() => f.response(&request_id),
        (_, _, None) => requires_authentication(),
        (_, _, Some(Err(()))) => objects::bad_credentials(),
        (_, _, Some(Ok(user))) => {
            parts.extensions.insert(Caller(user));
            let response = next
                .run(Request::from_parts(parts.clone(), Body::from(bytes)))
                .await;
            match &fault {
                Some(Fault::Slow(duration)) => {
                    tokio::time::sleep(*duration).await;
                    response
                }
                Some(Fault::Truncated) => truncate(response).await,
                _ => response,
            }
        }
    };

    if parts.method == Method::GET && response.status() == StatusCode::OK && fault.is_none() {
        response = with_etag(response, &parts.headers).await;
    }
    let not_modified = response.status() == StatusCode::NOT_MODIFIED;
    gh.with(|s| {
        if not_modified {
            // GitHub: a 304 does not count against the primary rate limit.
            s.rate.remaining = (s.rate.remaining + 1).min(s.rate.limit);
        }
        add_common_headers(response.headers_mut(), s, &request_id);
        if let Some(recorded) = s.requests.get_mut(seq as usize) {
            recorded.status = Some(response.status().as_u16());
        }
    });
    response
}

fn token(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    ["bearer", "token"]
        .contains(&scheme.to_ascii_lowercase().as_str())
        .then(|| token.trim().to_owned())
}

fn header_map(headers: &HeaderMap) -> std::collections::BTreeMap<String, String> {
    let mut map = std::collections::BTreeMap::<String, String>::new();
    for (name, value) in headers {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        map.entry(name.as_str().to_owned())
            .and_modify(|v| *v = format!("{v}, {value}"))
            .or_insert(value);
    }
    map
}

fn parse_body(bytes: &[u8]) -> Option<Value> {
    if bytes.is_empty() {
        return None;
    }
    Some(
        serde_json::from_slice(bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(bytes).into_owned())),
    )
}

fn requires_authentication() -> Response {
    let body = objects::error(
        "Requires authentication",
        "https://docs.github.com/rest",
        401,
    );
    objects::json_response(StatusCode::UNAUTHORIZED, &body)
}

fn primary_limit_exceeded() -> Response {
    let body = objects::error(
        "API rate limit exceeded for user. (But here's the good news: Authenticated requests get a higher \
         rate limit. Check out the documentation for more details.)",
        "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-the-primary-rate-limit",
        403,
    );
    objects::json_response(StatusCode::FORBIDDEN, &body)
}

async fn truncate(response: Response) -> Response {
    let (parts, body) = response.into_parts();
    let bytes = to_bytes(body, 16 << 20).await.unwrap_or_default();
    let mut response = Response::from_parts(parts, Body::from(bytes.slice(..bytes.len() / 2)));
    response.headers_mut().remove(header::CONTENT_LENGTH);
    response
}

/// A weak ETag over the body; `If-None-Match` with the same tag gets 304 and no body.
async fn with_etag(response: Response, request_headers: &HeaderMap) -> Response {
    let (mut parts, body) = response.into_parts();
    let bytes = to_bytes(body, 16 << 20).await.unwrap_or_default();
    let etag = format!(
        "W/\"{:016x}{:016x}\"",
        objects::fnv1a(&String::from_utf8_lossy(&bytes)),
        bytes.len()
    );
    let matches = request_headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|tag| tag.trim() == etag || tag.trim() == "*")
        });
    if let Ok(value) = HeaderValue::from_str(&etag) {
        parts.headers.insert(header::ETAG, value);
    }
    if matches {
        parts.status = StatusCode::NOT_MODIFIED;
        parts.headers.remove(header::CONTENT_TYPE);
        parts.headers.remove(header::LINK);
        return Response::from_parts(parts, Body::empty());
    }
    parts.headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=60, s-maxage=60"),
    );
    parts.headers.insert(
        header::VARY,
        HeaderValue::from_static("Accept, Authorization, Cookie, X-GitHub-OTP"),
    );
    Response::from_parts(parts, Body::from(bytes))
}

fn add_common_headers(headers: &mut HeaderMap, s: &State, request_id: &str) {
    let mut set = |name: &'static str, value: String| {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    };
    set("x-ratelimit-limit", s.rate.limit.to_string());
    set("x-ratelimit-remaining", s.rate.remaining.to_string());
    set("x-ratelimit-reset", s.rate.reset.to_string());
    set("x-ratelimit-used", s.rate.used().to_string());
    set("x-ratelimit-resource", "core".to_owned());
    set("x-github-request-id", request_id.to_owned());
    set("x-github-api-version-selected", "2022-11-28".to_owned());
    set("x-github-media-type", "github.v3; format=json".to_owned());
    set("server", "github.com".to_owned());
}
