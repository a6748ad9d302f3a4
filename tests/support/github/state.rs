//! What the stand-in knows: users and tokens, pull requests, comments, the request log, the
//! rate limit and the fault plan. Plain data; the handlers and the public API lock it briefly.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::faults::{Fault, Faults};
use super::objects::{self, PullContext, Urls};

/// A GitHub account.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct User {
    /// Login.
    pub login: String,
    /// Numeric id (stable: derived from the login).
    pub id: u64,
    /// `"User"`, `"Bot"` or `"Organization"`.
    #[serde(rename = "type")]
    pub kind: String,
    /// `author_association` of their comments and PRs on repositories they do not own.
    pub association: String,
}

impl User {
    /// A plain user account, a `CONTRIBUTOR` elsewhere.
    pub fn new(login: &str) -> Self {
        User {
            login: login.to_owned(),
            id: objects::user_id(login),
            kind: "User".to_owned(),
            association: "CONTRIBUTOR".to_owned(),
        }
    }

    /// A GitHub App's bot account (`type: "Bot"`), e.g. `github-actions[bot]`.
    pub fn bot(login: &str) -> Self {
        User {
            kind: "Bot".to_owned(),
            association: "NONE".to_owned(),
            ..User::new(login)
        }
    }

    /// The same user with another `author_association` (`MEMBER`, `COLLABORATOR`, `NONE`...).
    pub fn association(mut self, association: &str) -> Self {
        self.association = association.to_owned();
        self
    }
}

/// A pull request, as a test sets it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Pull {
    /// Base repository owner.
    pub owner: String,
    /// Base repository name (a fork keeps the same name).
    pub repo: String,
    /// Number.
    pub number: u64,
    /// Title.
    pub title: String,
    /// Description.
    pub body: Option<String>,
    /// Head commit.
    pub head_sha: String,
    /// Head branch.
    pub branch: String,
    /// Base branch.
    pub base_branch: String,
    /// Base commit.
    pub base_sha: String,
    /// `state: open` (else closed).
    pub open: bool,
    /// Closed by a merge.
    pub merged: bool,
    /// Draft.
    pub draft: bool,
    /// Owner of the fork the head lives in; `None` for a same-repository PR.
    pub fork_owner: Option<String>,
    /// Author login.
    pub author: String,
    /// Label names.
    pub labels: Vec<String>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last update; `GitHub::update_pull` moves it to now.
    pub updated_at: DateTime<Utc>,
}

impl Pull {
    /// An open same-repository PR by `octocat` from branch `feature-<n>` into `main`, with
    /// stable SHAs derived from the repository and number.
    pub fn new(owner: &str, repo: &str, number: u64) -> Self {
        let now = now();
        let key = format!("{owner}/{repo}#{number}");
        Pull {
            owner: owner.to_owned(),
            repo: repo.to_owned(),
            number,
            title: format!("Change number {number}"),
            body: Some("Please pull these awesome changes".to_owned()),
            head_sha: objects::fake_sha(&format!("head:{key}")),
            branch: format!("feature-{number}"),
            base_branch: "main".to_owned(),
            base_sha: objects::fake_sha(&format!("base:{key}")),
            open: true,
            merged: false,
            draft: false,
            fork_owner: None,
            author: "octocat".to_owned(),
            labels: Vec::new(),
            created_at: now,
            updated_at: now,
        }
    }

    /// Sets the title.
    pub fn title(mut self, title: &str) -> Self {
        self.title = title.to_owned();
        self
    }

    /// Sets the head commit and branch.
    pub fn head(mut self, sha: &str, branch: &str) -> Self {
        self.head_sha = sha.to_owned();
        self.branch = branch.to_owned();
        self
    }

    /// Closed without a merge.
    pub fn closed(mut self) -> Self {
        self.open = false;
        self.merged = false;
        self
    }

    /// Closed by a merge.
    pub fn merged(mut self) -> Self {
        self.open = false;
        self.merged = true;
        self
    }

    /// From a fork owned by `owner` (who also becomes the author).
    pub fn fork(mut self, owner: &str) -> Self {
        self.fork_owner = Some(owner.to_owned());
        self.author = owner.to_owned();
        self
    }

    /// Written by `login`.
    pub fn author(mut self, login: &str) -> Self {
        self.author = login.to_owned();
        self
    }

    /// A draft.
    pub fn draft(mut self) -> Self {
        self.draft = true;
        self
    }

    /// Adds a label.
    pub fn label(mut self, name: &str) -> Self {
        self.labels.push(name.to_owned());
        self
    }

    /// `owner/repo`.
    pub fn full_name(&self) -> String {
        format!("{}/{}", self.owner, self.repo)
    }
}

/// An issue comment.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Comment {
    /// Id (increases with every comment created).
    pub id: u64,
    /// Repository owner.
    pub owner: String,
    /// Repository name.
    pub repo: String,
    /// Issue / PR number.
    pub number: u64,
    /// Markdown body.
    pub body: String,
    /// Author login.
    pub author: String,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last edit.
    pub updated_at: DateTime<Utc>,
}

/// One request as the stand-in received it.
#[derive(Clone, Debug, Serialize)]
pub struct Recorded {
    /// Position in the log, from 0.
    pub seq: u64,
    /// `GET`, `POST`...
    pub method: String,
    /// Path without the query.
    pub path: String,
    /// Raw query string, if any.
    pub query: Option<String>,
    /// All headers, names lower-cased (repeated headers joined with `, `).
    pub headers: BTreeMap<String, String>,
    /// The body parsed as JSON; a body that is not JSON is kept as a JSON string.
    pub body: Option<Value>,
    /// The status answered; `None` while in flight or if the client went away first.
    pub status: Option<u16>,
    /// The fault injected into this request, if any.
    pub fault: Option<Fault>,
    /// `x-github-request-id` of the answer.
    pub request_id: String,
}

impl Recorded {
    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }

    /// POST, PATCH, PUT or DELETE.
    pub fn is_write(&self) -> bool {
        matches!(self.method.as_str(), "POST" | "PATCH" | "PUT" | "DELETE")
    }

    /// A query parameter's value.
    pub fn query_param(&self, name: &str) -> Option<String> {
        query_pairs(self.query.as_deref())
            .into_iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    }
}

/// The primary rate limit (`core` resource).
#[derive(Debug)]
pub(super) struct RateLimit {
    pub limit: u64,
    pub remaining: u64,
    pub reset: i64,
}

impl RateLimit {
    pub fn used(&self) -> u64 {
        self.limit - self.remaining
    }
}

/// Everything behind the stand-in's lock.
#[derive(Debug)]
pub(super) struct State {
    pub urls: Urls,
    pub users: BTreeMap<String, User>,
    pub tokens: HashMap<String, String>,
    pub pulls: BTreeMap<(String, String, u64), Pull>,
    pub comments: BTreeMap<u64, Comment>,
    pub next_comment_id: u64,
    pub requests: Vec<Recorded>,
    pub faults: Faults,
    pub rate: RateLimit,
}

impl State {
    pub fn new(urls: Urls) -> Self {
        State {
            urls,
            users: BTreeMap::new(),
            tokens: HashMap::new(),
            pulls: BTreeMap::new(),
            comments: BTreeMap::new(),
            // Real comment ids are large; starting high catches 32-bit truncation.
            next_comment_id: 2_000_000_001,
            requests: Vec::new(),
            faults: Faults::default(),
            rate: RateLimit {
                limit: 5000,
                remaining: 5000,
                reset: Utc::now().timestamp() + 3600,
            },
        }
    }

    /// The user with this login, registered on first sight as a plain user.
    pub fn user(&mut self, login: &str) -> User {
        self.users
            .entry(login.to_owned())
            .or_insert_with(|| User::new(login))
            .clone()
    }

    pub fn caller(&self, token: &str) -> Option<User> {
        self.tokens
            .get(token)
            .and_then(|login| self.users.get(login))
            .cloned()
    }

    pub fn pull(&self, owner: &str, repo: &str, number: u64) -> Option<&Pull> {
        self.pulls.get(&(owner.to_owned(), repo.to_owned(), number))
    }

    pub fn pull_json(&mut self, pull: &Pull, full: bool) -> Value {
        let owner = self.user(&pull.owner);
        let author = self.user(&pull.author);
        let head_owner = match &pull.fork_owner {
            Some(login) => self.user(login),
            None => owner.clone(),
        };
        let ctx = PullContext {
            urls: &self.urls,
            owner: &owner,
            author: &author,
            head_owner: &head_owner,
        };
        if full {
            objects::pull_request(&ctx, pull)
        } else {
            objects::pull_request_simple(&ctx, pull)
        }
    }

    pub fn comment_json(&mut self, comment: &Comment) -> Value {
        let author = self.user(&comment.author);
        objects::comment(&self.urls, comment, &author)
    }

    pub fn add_comment(
        &mut self,
        owner: &str,
        repo: &str,
        number: u64,
        author: &str,
        body: &str,
    ) -> Comment {
        let id = self.next_comment_id;
        self.next_comment_id += 1;
        let now = now();
        let comment = Comment {
            id,
            owner: owner.to_owned(),
            repo: repo.to_owned(),
            number,
            body: body.to_owned(),
            author: author.to_owned(),
            created_at: now,
            updated_at: now,
        };
        self.user(author);
        self.comments.insert(id, comment.clone());
        comment
    }

    pub fn comment_in(&self, owner: &str, repo: &str, id: u64) -> Option<&Comment> {
        self.comments
            .get(&id)
            .filter(|c| c.owner == owner && c.repo == repo)
    }
}

/// Now, to the second (GitHub's timestamps have no fraction).
pub fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(Utc::now().timestamp(), 0).unwrap_or_default()
}

/// `a=1&b=2` → pairs, percent-decoding `%XX` and `+`.
pub fn query_pairs(query: Option<&str>) -> Vec<(String, String)> {
    query
        .unwrap_or("")
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
