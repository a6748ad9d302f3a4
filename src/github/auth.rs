//! How each GitHub call is authenticated: with the token previewd was given, or as a GitHub App
//! (a JWT for the App's own endpoints; for anything done in a repository, the token of the
//! installation serving it, created when needed and replaced before it runs out).

use chrono::Utc;
use http::HeaderValue;
use serde::Deserialize;

use super::app_key::AppKey;
use super::client::{GitHub, GitHubError};
use super::installations::{Installations, Refusal, Token};
use super::transport::{Call, Method};
use crate::model::pull::Repository;

/// What previewd authenticates to GitHub with.
pub enum Credentials {
    /// A personal access token (or any token GitHub takes as `Bearer`).
    Token(String),
    /// A GitHub App: its id and private key.
    App(Box<AppKey>),
}

/// Whose access a call uses.
#[derive(Clone, Debug, Default)]
pub(crate) enum Acting {
    /// The token previewd was given; a GitHub App has no such access outside a repository.
    #[default]
    Plain,
    /// The App itself (JWT): its installations and their tokens.
    App,
    /// Whoever may act in this repository: the token, or the installation serving it.
    In(Repository),
    /// The token, or this installation of the App (found for the owner pattern named).
    Installation(u64, String),
}

/// The `Authorization` of one call, and the installation token it carries, if any (so that a
/// 401 can retire exactly that token).
pub(crate) struct Authorization {
    pub header: HeaderValue,
    pub installation: Option<(u64, String)>,
}

/// The credentials and, for an App, what it knows of its installations.
pub(crate) struct Auth {
    credentials: Credentials,
    installations: Installations,
}

impl Auth {
    pub(crate) fn new(credentials: Credentials) -> Self {
        Auth {
            credentials,
            installations: Installations::default(),
        }
    }

    /// Whether previewd acts as a GitHub App.
    pub(crate) fn is_app(&self) -> bool {
        matches!(self.credentials, Credentials::App(_))
    }
}

/// `Bearer <secret>`, marked sensitive so that no log shows it.
fn bearer(secret: &str) -> Result<HeaderValue, GitHubError> {
    let mut value = HeaderValue::from_str(&format!("Bearer {secret}")).map_err(|_| {
        GitHubError::Setup("the GitHub credential holds characters no header can carry".into())
    })?;
    value.set_sensitive(true);
    Ok(value)
}

impl GitHub {
    /// The `Authorization` for a call acting as `acting`.
    pub(super) async fn authorization(
        &self,
        acting: &Acting,
    ) -> Result<Authorization, GitHubError> {
        let plain = |header| Authorization {
            header,
            installation: None,
        };
        match (&self.auth.credentials, acting) {
            (Credentials::Token(token), _) => Ok(plain(bearer(token)?)),
            (Credentials::App(key), Acting::App) => {
                let jwt = key
                    .jwt(Utc::now().timestamp())
                    .map_err(GitHubError::Setup)?;
                Ok(plain(bearer(&jwt)?))
            }
            (Credentials::App(_), Acting::In(repository)) => {
                let name = self.names.current(repository);
                let installation = Box::pin(self.installation_of(&name)).await?;
                let token = Box::pin(self.token_of(installation, &name)).await?;
                Ok(Authorization {
                    header: bearer(&token.value)?,
                    installation: Some((installation, token.value)),
                })
            }
            (Credentials::App(_), Acting::Installation(installation, name)) => {
                let token = Box::pin(self.token_of(*installation, name)).await?;
                Ok(Authorization {
                    header: bearer(&token.value)?,
                    installation: Some((*installation, token.value)),
                })
            }
            (Credentials::App(_), Acting::Plain) => Err(GitHubError::Setup(
                "a GitHub App acts only in repositories; this call names none".into(),
            )),
        }
    }

    /// Retires `value`, the token of `installation` GitHub just refused (401), unless it was
    /// replaced meanwhile.
    pub(super) async fn retire_token(&self, installation: u64, value: &str) {
        let slot = self.auth.installations.slot(installation);
        let mut held = slot.lock().await;
        if held.as_ref().is_some_and(|t| t.value == value) {
            tracing::info!(
                installation,
                "GitHub refused the installation token; replacing it"
            );
            *held = None;
        }
    }

    /// The login the App writes as: `<slug>[bot]`.
    pub(super) async fn app_login(&self) -> Result<String, GitHubError> {
        #[derive(Deserialize)]
        struct App {
            slug: String,
        }
        let call =
            Call::get("get the authenticated app", "/app", "/app".to_owned()).acting(Acting::App);
        let app: App = self.call(call).await?;
        Ok(format!("{}[bot]", app.slug))
    }

    /// The installation serving repository `name` (or owner pattern `owner/*`), asked once.
    pub(super) async fn installation_of(&self, name: &str) -> Result<u64, GitHubError> {
        let installations = &self.auth.installations;
        self.still_allowed(name)?;
        if let Some(id) = installations.of(name) {
            return Ok(id);
        }
        // One lookup at a time: the others find its answer, or its refusal.
        let _turn = installations.lookups.lock().await;
        self.still_allowed(name)?;
        match installations.of(name) {
            Some(id) => Ok(id),
            None => self.find_installation(name).await,
        }
    }

    /// A token of `installation` with time left, created when needed for `name`.
    async fn token_of(&self, installation: u64, name: &str) -> Result<Token, GitHubError> {
        let slot = self.auth.installations.slot(installation);
        let mut held = slot.lock().await;
        self.still_allowed(name)?;
        if let Some(token) = held.as_ref().filter(|t| t.usable_at(Utc::now())) {
            return Ok(token.clone());
        }
        let token = self.create_token(installation, name).await?;
        *held = Some(token.clone());
        Ok(token)
    }

    /// An error when GitHub refused repository `name` lately.
    fn still_allowed(&self, name: &str) -> Result<(), GitHubError> {
        match self.auth.installations.refused(name) {
            Some(refusal) => Err(refused(name, refusal)),
            None => Ok(()),
        }
    }

    /// Asks GitHub which installation of the App serves repository `name`, or, for `owner/*`,
    /// the owner (an organisation's, else a user's).
    async fn find_installation(&self, name: &str) -> Result<u64, GitHubError> {
        #[derive(Deserialize)]
        struct Installation {
            id: u64,
        }
        let operation = "get the App's installation";
        let asked: Vec<(&'static str, String)> = match name.strip_suffix("/*") {
            Some(owner) => vec![
                (
                    "/orgs/{org}/installation",
                    format!("/orgs/{owner}/installation"),
                ),
                (
                    "/users/{username}/installation",
                    format!("/users/{owner}/installation"),
                ),
            ],
            None => vec![(
                "/repos/{owner}/{repo}/installation",
                format!("/repos/{name}/installation"),
            )],
        };
        for (endpoint, path) in asked {
            let call = Call::get(operation, endpoint, path).acting(Acting::App);
            let answer = self.send(call).await?;
            if answer.status == 404 {
                continue;
            }
            let installation = answer.json::<Installation>(operation)?.id;
            self.auth.installations.remember(name, installation);
            return Ok(installation);
        }
        Err(self.refuse(name, None, Refusal::NotInstalled))
    }

    /// Creates a token of `installation`, asked for repository `name` (one hour, as GitHub
    /// gives them).
    async fn create_token(&self, installation: u64, name: &str) -> Result<Token, GitHubError> {
        #[derive(Deserialize)]
        struct Created {
            token: String,
            expires_at: chrono::DateTime<Utc>,
        }
        let operation = "create an installation token";
        let call = Call::with_body(
            operation,
            Method::Post,
            "/app/installations/{installation_id}/access_tokens",
            format!("/app/installations/{installation}/access_tokens"),
            serde_json::json!({}),
        )
        .acting(Acting::App)
        .unpaced();
        let answer = self.send(call).await?;
        match answer.status {
            403 => Err(self.refuse(name, Some(installation), Refusal::Suspended)),
            404 => {
                self.auth.installations.forget(installation);
                Err(self.refuse(name, Some(installation), Refusal::NotInstalled))
            }
            _ => {
                let created: Created = answer.json(operation)?;
                tracing::debug!(installation, expires_at = %created.expires_at, "new installation token");
                Ok(Token {
                    value: created.token,
                    expires_at: created.expires_at,
                })
            }
        }
    }

    /// Remembers and logs GitHub's refusal of repository `name`; the error every call made
    /// there meanwhile returns.
    fn refuse(&self, name: &str, installation: Option<u64>, refusal: Refusal) -> GitHubError {
        self.auth.installations.refuse(name, refusal);
        tracing::warn!(
            repository = name,
            installation,
            reason = ?refusal,
            "{refusal}; previewd does not act there until that changes"
        );
        refused(name, refusal)
    }
}

fn refused(name: &str, refusal: Refusal) -> GitHubError {
    GitHubError::Refused {
        repository: name.to_owned(),
        refusal,
    }
}
