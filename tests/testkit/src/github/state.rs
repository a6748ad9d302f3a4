//! What the stand-in knows: users and tokens, repository roles, pull requests, comments and
//! their reactions, the request log, the rate limit and the fault plan. Plain data; the
//! handlers and the public API lock it briefly.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::faults::Faults;
use super::objects::{self, PullContext, Urls};
use super::pull::Pull;
use super::recorded::Recorded;

/// A GitHub account.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct User {
    /// Login.
    pub(crate) login: String,
    /// Numeric id (stable: derived from the login).
    pub(crate) id: u64,
    /// `"User"`, `"Bot"` or `"Organization"`.
    #[serde(rename = "type")]
    pub(crate) kind: String,
    /// `author_association` of their comments and PRs on repositories they do not own.
    pub(crate) association: String,
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

    /// An organisation account (`type: "Organization"`).
    pub fn organization(login: &str) -> Self {
        User {
            kind: "Organization".to_owned(),
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

/// An issue comment.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Comment {
    /// Id (increases with every comment created).
    pub id: u64,
    /// Repository owner.
    pub(crate) owner: String,
    /// Repository name.
    pub(crate) repo: String,
    /// Issue / PR number.
    pub(crate) number: u64,
    /// Markdown body.
    pub body: String,
    /// Author login.
    pub author: String,
    /// Creation time.
    pub(crate) created_at: DateTime<Utc>,
    /// Last edit.
    pub(crate) updated_at: DateTime<Utc>,
}

/// A reaction to an issue comment.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub(crate) struct Reaction {
    /// Id (increases with every reaction created).
    pub(crate) id: u64,
    /// The comment reacted to.
    pub(crate) comment_id: u64,
    /// Who reacted.
    pub(crate) login: String,
    /// `+1`, `-1`, `laugh`, `confused`, `heart`, `hooray`, `rocket` or `eyes`.
    pub(crate) content: String,
    /// When.
    pub(crate) created_at: DateTime<Utc>,
}

/// The reaction contents GitHub accepts, in the order of its `reactions` rollup.
pub const REACTIONS: [&str; 8] = [
    "+1", "-1", "laugh", "confused", "heart", "hooray", "eyes", "rocket",
];

/// Repository roles, strongest first: what `GitHub::set_permission` takes and `role_name` says.
pub(crate) const ROLES: [&str; 6] = ["admin", "maintain", "write", "triage", "read", "none"];

/// The primary rate limit (`core` resource).
#[derive(Debug)]
pub(super) struct RateLimit {
    pub(crate) limit: u64,
    pub(crate) remaining: u64,
    pub(crate) reset: i64,
}

impl RateLimit {
    pub(crate) fn used(&self) -> u64 {
        self.limit - self.remaining
    }
}

/// Everything behind the stand-in's lock.
#[derive(Debug)]
pub(super) struct State {
    pub(crate) urls: Urls,
    pub(crate) users: BTreeMap<String, User>,
    pub(crate) tokens: HashMap<String, String>,
    pub(crate) pulls: BTreeMap<(String, String, u64), Pull>,
    pub(crate) comments: BTreeMap<u64, Comment>,
    pub(crate) next_comment_id: u64,
    pub(crate) reactions: Vec<Reaction>,
    pub(crate) next_reaction_id: u64,
    /// (owner, repo, login), lower-cased as GitHub compares them → role.
    pub(crate) roles: BTreeMap<(String, String, String), String>,
    pub(crate) requests: Vec<Recorded>,
    pub(crate) faults: Faults,
    pub(crate) rate: RateLimit,
    /// Old full names (lowercased) of renamed or transferred repositories → their id: GitHub
    /// redirects requests there.
    pub(crate) moved: BTreeMap<String, u64>,
    /// Current full names (lowercased) of renamed or transferred repositories → the id they
    /// kept; every other repository's id derives from its name (`objects::repo_id`).
    pub(crate) kept_ids: BTreeMap<String, u64>,
    /// The GitHub App, its installations and their tokens.
    pub(crate) apps: super::apps::Apps,
    /// Deployments by id.
    pub(crate) deployments: BTreeMap<u64, super::deployments::Deployment>,
    /// Every deployment status, oldest first.
    pub(crate) deployment_statuses: Vec<super::deployments::DeploymentStatus>,
    /// The last deployment or deployment status id given.
    pub(crate) last_deployment_id: u64,
    /// Check runs by id.
    pub(crate) check_runs: BTreeMap<u64, super::checks::CheckRun>,
    /// Commit statuses, oldest first.
    pub(crate) commit_statuses: Vec<super::checks::CommitStatus>,
    /// The last check run or commit status id given.
    pub(crate) last_check_id: u64,
    /// The files of branches set by tests.
    pub(crate) branch_files: Vec<super::git::BranchFiles>,
    /// The status checks each (owner, repo, branch) requires.
    pub(crate) required_checks: BTreeMap<(String, String, String), super::checks::Required>,
}

impl State {
    pub(crate) fn new(urls: Urls) -> Self {
        State {
            urls,
            users: BTreeMap::new(),
            tokens: HashMap::new(),
            pulls: BTreeMap::new(),
            comments: BTreeMap::new(),
            // Real comment ids are large; starting high catches 32-bit truncation.
            next_comment_id: 2_000_000_001,
            reactions: Vec::new(),
            next_reaction_id: 300_000_001,
            roles: BTreeMap::new(),
            requests: Vec::new(),
            faults: Faults::default(),
            rate: RateLimit {
                limit: 5000,
                remaining: 5000,
                reset: Utc::now().timestamp() + 3600,
            },
            moved: BTreeMap::new(),
            kept_ids: BTreeMap::new(),
            apps: super::apps::Apps::default(),
            deployments: BTreeMap::new(),
            deployment_statuses: Vec::new(),
            // Real deployment ids are large; starting high catches 32-bit truncation.
            last_deployment_id: 3_000_000_000,
            check_runs: BTreeMap::new(),
            commit_statuses: Vec::new(),
            last_check_id: 4_000_000_000,
            required_checks: BTreeMap::new(),
            branch_files: Vec::new(),
        }
    }

    /// Repository `owner/repo` as GitHub shows it (default branch `main`).
    pub(crate) fn repository_json(&mut self, owner: &str, repo: &str) -> Value {
        let id = self.repository_id(owner, repo);
        let account = self.user(owner);
        super::objects::repository(&self.urls, &account, repo, false, "main", id)
    }

    /// The id of repository `owner/repo`.
    pub(crate) fn repository_id(&self, owner: &str, repo: &str) -> u64 {
        let full_name = format!("{owner}/{repo}");
        self.kept_ids
            .get(&full_name.to_ascii_lowercase())
            .copied()
            .unwrap_or_else(|| objects::repo_id(&full_name))
    }

    /// The current `(owner, repo)` of the repository with `id`, among those the stand-in knows
    /// (a pull request or comment lives there, or it was moved).
    pub(crate) fn repository_named(&self, id: u64) -> Option<(String, String)> {
        let known = self
            .pulls
            .keys()
            .map(|(owner, repo, _)| (owner.clone(), repo.clone()))
            .chain(
                self.comments
                    .values()
                    .map(|c| (c.owner.clone(), c.repo.clone())),
            );
        known
            .into_iter()
            .find(|(owner, repo)| self.repository_id(owner, repo) == id)
            .or_else(|| {
                let (full_name, _) = self.kept_ids.iter().find(|(_, kept)| **kept == id)?;
                let (owner, repo) = full_name.split_once('/')?;
                Some((owner.to_owned(), repo.to_owned()))
            })
    }

    /// Renames or transfers repository `from` (`owner/repo`) to `to`, as GitHub does: its pull
    /// requests, comments and roles move, its id stays, and the old name redirects.
    pub(crate) fn move_repository(&mut self, from: &str, to: &str) {
        let split = |full: &str| {
            let (owner, repo) = full.split_once('/').expect("owner/repo");
            (owner.to_owned(), repo.to_owned())
        };
        let ((from_owner, from_repo), (to_owner, to_repo)) = (split(from), split(to));
        let id = self.repository_id(&from_owner, &from_repo);
        let is_from = |owner: &str, repo: &str| {
            owner.eq_ignore_ascii_case(&from_owner) && repo.eq_ignore_ascii_case(&from_repo)
        };
        let pulls = std::mem::take(&mut self.pulls);
        for ((owner, repo, number), mut pull) in pulls {
            let key = if is_from(&owner, &repo) {
                pull.owner.clone_from(&to_owner);
                pull.repo.clone_from(&to_repo);
                (to_owner.clone(), to_repo.clone(), number)
            } else {
                (owner, repo, number)
            };
            self.pulls.insert(key, pull);
        }
        for comment in self.comments.values_mut() {
            if is_from(&comment.owner, &comment.repo) {
                comment.owner.clone_from(&to_owner);
                comment.repo.clone_from(&to_repo);
            }
        }
        let roles = std::mem::take(&mut self.roles);
        for ((owner, repo, login), role) in roles {
            let key = match is_from(&owner, &repo) {
                true => role_key(&to_owner, &to_repo, &login),
                false => (owner, repo, login),
            };
            self.roles.insert(key, role);
        }
        self.kept_ids.remove(&from.to_ascii_lowercase());
        self.kept_ids.insert(to.to_ascii_lowercase(), id);
        self.moved.remove(&to.to_ascii_lowercase());
        self.moved.insert(from.to_ascii_lowercase(), id);
    }

    /// Creates a new repository under `full_name`, the old name of a moved one: the name stops
    /// redirecting and names a repository with an id of its own.
    pub(crate) fn create_repository(&mut self, full_name: &str) {
        let key = full_name.to_ascii_lowercase();
        self.moved.remove(&key);
        let id = objects::stable_id(&format!("repo:{full_name}:created again"));
        self.kept_ids.insert(key, id);
    }

    /// Where GitHub sends a request for a repository's old name: the id it moved with, and the
    /// rest of the path after `/repos/{owner}/{repo}`.
    pub(crate) fn moved_to(&self, path: &str) -> Option<(u64, String)> {
        let rest = path.strip_prefix("/repos/")?;
        let mut parts = rest.splitn(3, '/');
        let (owner, repo) = (parts.next()?, parts.next()?);
        let id = self
            .moved
            .get(&format!("{owner}/{repo}").to_ascii_lowercase())?;
        let tail = parts.next().map(|t| format!("/{t}")).unwrap_or_default();
        Some((*id, tail))
    }

    /// The user with this login (compared as GitHub does, ignoring case), registered on first
    /// sight as a plain user.
    pub(crate) fn user(&mut self, login: &str) -> User {
        if let Some(user) = self.known_user(login) {
            return user;
        }
        let user = User::new(login);
        self.users.insert(login.to_owned(), user.clone());
        user
    }

    /// A registered user, by login compared as GitHub does (case-insensitively).
    pub(crate) fn known_user(&self, login: &str) -> Option<User> {
        self.users
            .values()
            .find(|u| u.login.eq_ignore_ascii_case(login))
            .cloned()
    }

    /// The role `login` has on `owner/repo`: the owner is `admin`, a role set by the test is
    /// that role, any other known user `read` (public repositories); `None` for an unknown login.
    pub(crate) fn role(&mut self, owner: &str, repo: &str, login: &str) -> Option<(User, String)> {
        if login.eq_ignore_ascii_case(owner) {
            return Some((self.user(owner), "admin".to_owned()));
        }
        let user = self.known_user(login)?;
        let role = self
            .roles
            .get(&role_key(owner, repo, login))
            .map_or("read", String::as_str);
        Some((user, role.to_owned()))
    }

    pub(crate) fn caller(&self, token: &str) -> Option<User> {
        self.tokens
            .get(token)
            .and_then(|login| self.known_user(login))
    }

    pub(crate) fn pull(&self, owner: &str, repo: &str, number: u64) -> Option<&Pull> {
        self.pulls.get(&(owner.to_owned(), repo.to_owned(), number))
    }

    pub(crate) fn pull_json(&mut self, pull: &Pull, full: bool) -> Value {
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
            base_id: self.repository_id(&pull.owner, &pull.repo),
        };
        if full {
            objects::pull_request(&ctx, pull)
        } else {
            objects::pull_request_simple(&ctx, pull)
        }
    }

    pub(crate) fn comment_json(&mut self, comment: &Comment) -> Value {
        let author = self.user(&comment.author);
        let counts = REACTIONS.map(|content| {
            let n = self
                .reactions
                .iter()
                .filter(|r| r.comment_id == comment.id && r.content == content)
                .count();
            (content, n)
        });
        objects::comment(&self.urls, comment, &author, &counts)
    }

    pub(crate) fn reaction_json(&mut self, reaction: &Reaction) -> Value {
        let user = self.user(&reaction.login);
        objects::reaction(&self.urls, reaction, &user)
    }

    /// Adds `login`'s reaction unless they already reacted so; returns it and whether it is new.
    pub(crate) fn react(
        &mut self,
        comment_id: u64,
        login: &str,
        content: &str,
    ) -> (Reaction, bool) {
        if let Some(existing) = self
            .reactions
            .iter()
            .find(|r| r.comment_id == comment_id && r.login == login && r.content == content)
        {
            return (existing.clone(), false);
        }
        let reaction = Reaction {
            id: self.next_reaction_id,
            comment_id,
            login: login.to_owned(),
            content: content.to_owned(),
            created_at: now(),
        };
        self.next_reaction_id += 1;
        self.reactions.push(reaction.clone());
        (reaction, true)
    }

    pub(crate) fn add_comment(
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

    pub(crate) fn comment_in(&self, owner: &str, repo: &str, id: u64) -> Option<&Comment> {
        self.comments
            .get(&id)
            .filter(|c| c.owner == owner && c.repo == repo)
    }

    /// Deletes a comment and its reactions.
    pub(crate) fn remove_comment(&mut self, id: u64) {
        self.comments.remove(&id);
        self.reactions.retain(|r| r.comment_id != id);
    }
}

/// The key of `State::roles`.
pub(crate) fn role_key(owner: &str, repo: &str, login: &str) -> (String, String, String) {
    (
        owner.to_ascii_lowercase(),
        repo.to_ascii_lowercase(),
        login.to_ascii_lowercase(),
    )
}

/// Now, to the second (GitHub's timestamps have no fraction).
pub(crate) fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(Utc::now().timestamp(), 0).unwrap_or_default()
}
