//! The GitHub App side of the stand-in: one registered App (id, slug, public key), its
//! installations (an account, the repositories chosen, suspended or not), the installation
//! tokens it created (each expiring), and how a request's credential is authenticated: a JWT
//! signed RS256 with the App's key (verified with its public key, its claims checked as GitHub
//! checks them), an installation token (only in its installation's repositories), or a plain
//! token.

use std::collections::{BTreeMap, HashMap};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use ring::signature::{RSA_PKCS1_2048_8192_SHA256, RsaKeyPair, UnparsedPublicKey};
use rustls_pki_types::PrivateKeyDer;
use rustls_pki_types::pem::PemObject;
use serde_json::Value;

use super::state::{State, User};

/// The test App's private key, as GitHub hands one out (PKCS#1 PEM); a test key, used nowhere
/// else.
pub const APP_KEY_FILE: &str = "tests/testkit/keys/github-app-test.pem";

/// The App registered with the stand-in.
#[derive(Clone, Debug)]
pub(crate) struct App {
    pub id: u64,
    pub slug: String,
    /// DER `RSAPublicKey`.
    pub public_key: Vec<u8>,
    /// How long an installation token lives (GitHub: one hour).
    pub token_lifetime: chrono::Duration,
}

impl App {
    /// The App with `id` and `slug` whose private key is the PEM `private_key`.
    pub(crate) fn new(id: u64, slug: &str, private_key: &str) -> App {
        let der = PrivateKeyDer::from_pem_slice(private_key.as_bytes()).expect("a PEM key");
        let key = match &der {
            PrivateKeyDer::Pkcs1(k) => RsaKeyPair::from_der(k.secret_pkcs1_der()),
            PrivateKeyDer::Pkcs8(k) => RsaKeyPair::from_pkcs8(k.secret_pkcs8_der()),
            _ => panic!("not an RSA key"),
        }
        .expect("an RSA key");
        App {
            id,
            slug: slug.to_owned(),
            public_key: key.public().as_ref().to_vec(),
            token_lifetime: chrono::Duration::hours(1),
        }
    }

    /// The App's bot account, which installation tokens act as.
    pub(crate) fn bot_login(&self) -> String {
        format!("{}[bot]", self.slug)
    }
}

/// An installation of the App.
#[derive(Clone, Debug)]
pub(crate) struct Installation {
    pub id: u64,
    /// The account it is installed on.
    pub account: String,
    /// The repositories chosen (lowercased `owner/repo`); `None`: all of the account's.
    pub repositories: Option<Vec<String>>,
    pub suspended_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl Installation {
    /// Whether the installation covers repository `owner/repo`.
    pub(crate) fn covers(&self, owner: &str, repo: &str) -> bool {
        let full_name = format!("{owner}/{repo}").to_ascii_lowercase();
        match &self.repositories {
            Some(chosen) => chosen.contains(&full_name),
            None => owner.eq_ignore_ascii_case(&self.account),
        }
    }
}

/// Everything App-related the stand-in holds.
#[derive(Debug, Default)]
pub(crate) struct Apps {
    pub app: Option<App>,
    pub installations: BTreeMap<u64, Installation>,
    /// Token → (installation, expiry).
    pub tokens: HashMap<String, (u64, DateTime<Utc>)>,
    pub next_token: u64,
}

/// Who a request's credential turned out to be.
pub(crate) enum Authenticated {
    /// A plain token's user.
    User(User),
    /// The App itself (a valid JWT).
    App,
    /// An installation token: the App's bot, in that installation.
    Installation(u64, User),
}

/// Why a credential is refused: the status and GitHub's message.
pub(crate) struct Denied(pub u16, pub &'static str);

const BAD_CREDENTIALS: Denied = Denied(401, "Bad credentials");
const JWT_UNDECODABLE: Denied = Denied(401, "A JSON web token could not be decoded");

/// Whether `path` is one only the App itself (a JWT) may call.
fn app_only(path: &str) -> bool {
    let parts: Vec<&str> = path.split('/').collect();
    path == "/app"
        || path.starts_with("/app/")
        || matches!(
            parts[..],
            ["", "repos", _, _, "installation"] | ["", "orgs" | "users", _, "installation"]
        )
}

/// The repository a path is about: `/repos/{owner}/{repo}/...`.
fn repository_of(path: &str) -> Option<(&str, &str)> {
    let mut parts = path.strip_prefix("/repos/")?.split('/');
    Some((parts.next()?, parts.next()?))
}

impl State {
    /// Authenticates `credential` for a request to `path` at `now`.
    pub(crate) fn authenticate(
        &self,
        credential: &str,
        path: &str,
        now: DateTime<Utc>,
    ) -> Result<Authenticated, Denied> {
        if credential.split('.').count() == 3 {
            let app = self.apps.app.as_ref().ok_or(JWT_UNDECODABLE)?;
            verify_jwt(credential, app, now.timestamp())?;
            return match app_only(path) {
                true => Ok(Authenticated::App),
                false => Err(Denied(403, "Resource not accessible by integration")),
            };
        }
        if app_only(path) {
            return Err(JWT_UNDECODABLE);
        }
        if let Some((installation, expires_at)) = self.apps.tokens.get(credential) {
            let usable = *expires_at > now
                && self
                    .apps
                    .installations
                    .get(installation)
                    .is_some_and(|i| i.suspended_at.is_none());
            if !usable {
                return Err(BAD_CREDENTIALS);
            }
            if path == "/user" {
                return Err(Denied(403, "Resource not accessible by integration"));
            }
            let app = self.apps.app.as_ref().ok_or(BAD_CREDENTIALS)?;
            let bot = self
                .known_user(&app.bot_login())
                .unwrap_or_else(|| User::bot(&app.bot_login()));
            return Ok(Authenticated::Installation(*installation, bot));
        }
        self.caller(credential)
            .map(Authenticated::User)
            .ok_or(BAD_CREDENTIALS)
    }

    /// Whether an installation token of `installation` may reach `path` (a repository outside
    /// the installation is hidden, as GitHub hides it: 404).
    pub(crate) fn installation_reaches(&self, installation: u64, path: &str) -> bool {
        let Some(found) = self.apps.installations.get(&installation) else {
            return false;
        };
        if let Some(id) = path
            .strip_prefix("/repositories/")
            .and_then(|rest| rest.split('/').next())
            .and_then(|id| id.parse::<u64>().ok())
        {
            return self
                .repository_named(id)
                .is_none_or(|(owner, repo)| found.covers(&owner, &repo));
        }
        repository_of(path).is_none_or(|(owner, repo)| found.covers(owner, repo))
    }

    /// The installation on account `owner`.
    pub(crate) fn installation_of_account(&self, owner: &str) -> Option<&Installation> {
        self.apps
            .installations
            .values()
            .find(|i| i.account.eq_ignore_ascii_case(owner))
    }

    /// The repositories the stand-in knows of `owner` (those with pull requests, and those an
    /// installation chose), by name.
    pub(crate) fn repositories_of(&self, owner: &str) -> std::collections::BTreeSet<String> {
        let chosen = self
            .apps
            .installations
            .values()
            .flat_map(|i| i.repositories.iter().flatten())
            .filter_map(|full_name| full_name.split_once('/'))
            .filter(|(o, _)| o.eq_ignore_ascii_case(owner))
            .map(|(_, repo)| repo.to_owned());
        self.pulls
            .keys()
            .filter(|(o, _, _)| o.eq_ignore_ascii_case(owner))
            .map(|(_, repo, _)| repo.clone())
            .chain(chosen)
            .collect()
    }

    /// The installation covering `owner/repo`.
    pub(crate) fn installation_on(&self, owner: &str, repo: &str) -> Option<&Installation> {
        self.apps
            .installations
            .values()
            .find(|i| i.covers(owner, repo))
    }

    /// A new token of `installation`, with its expiry.
    pub(crate) fn create_installation_token(
        &mut self,
        installation: u64,
        now: DateTime<Utc>,
    ) -> (String, DateTime<Utc>) {
        let lifetime = self
            .apps
            .app
            .as_ref()
            .map_or(chrono::Duration::hours(1), |a| a.token_lifetime);
        self.apps.next_token += 1;
        let token = format!("ghs_{:036}", self.apps.next_token);
        let expires_at = now + lifetime;
        self.apps
            .tokens
            .insert(token.clone(), (installation, expires_at));
        (token, expires_at)
    }
}

/// Checks a JWT as GitHub does: RS256 signed with the App's key, `iss` the App's id, issued in
/// the past, expiring in the future and at most 10 minutes ahead (pure).
pub(crate) fn verify_jwt(jwt: &str, app: &App, now: i64) -> Result<(), Denied> {
    let parts: Vec<&str> = jwt.split('.').collect();
    let [header, claims, signature] = parts[..] else {
        return Err(JWT_UNDECODABLE);
    };
    let decode = |part: &str| URL_SAFE_NO_PAD.decode(part).map_err(|_| JWT_UNDECODABLE);
    let json =
        |bytes: Vec<u8>| serde_json::from_slice::<Value>(&bytes).map_err(|_| JWT_UNDECODABLE);
    if json(decode(header)?)?["alg"] != "RS256" {
        return Err(JWT_UNDECODABLE);
    }
    UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, &app.public_key)
        .verify(format!("{header}.{claims}").as_bytes(), &decode(signature)?)
        .map_err(|_| JWT_UNDECODABLE)?;
    let claims = json(decode(claims)?)?;
    let issuer_matches = match &claims["iss"] {
        Value::String(iss) => iss == &app.id.to_string(),
        Value::Number(iss) => iss.as_u64() == Some(app.id),
        _ => false,
    };
    if !issuer_matches {
        return Err(Denied(401, "'Issuer' claim ('iss') must be an Integer"));
    }
    let (Some(iat), Some(exp)) = (claims["iat"].as_i64(), claims["exp"].as_i64()) else {
        return Err(JWT_UNDECODABLE);
    };
    // GitHub allows a little drift between clocks.
    if iat > now + 30 {
        return Err(Denied(
            401,
            "'Issued at' claim ('iat') must be an Integer representing a time in the past",
        ));
    }
    if exp <= now {
        return Err(Denied(
            401,
            "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires",
        ));
    }
    if exp - iat > 600 || exp > now + 600 + 30 {
        return Err(Denied(
            401,
            "'Expiration time' claim ('exp') is too far in the future",
        ));
    }
    Ok(())
}

/// A JWT carrying `claims`, signed RS256 with the test App's key: how tests make the JWTs the
/// stand-in must refuse (expired, too long, another issuer).
pub fn sign_app_jwt(claims: &Value) -> String {
    let pem = std::fs::read(crate::repo_root().join(APP_KEY_FILE)).expect("the test App's key");
    let der = PrivateKeyDer::from_pem_slice(&pem).expect("a PEM key");
    let PrivateKeyDer::Pkcs1(pkcs1) = &der else {
        panic!("the test key is PKCS#1");
    };
    let key = RsaKeyPair::from_der(pkcs1.secret_pkcs1_der()).expect("an RSA key");
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256","typ":"JWT"}"#);
    let signed = format!("{header}.{}", URL_SAFE_NO_PAD.encode(claims.to_string()));
    let mut signature = vec![0; key.public().modulus_len()];
    key.sign(
        &ring::signature::RSA_PKCS1_SHA256,
        &ring::rand::SystemRandom::new(),
        signed.as_bytes(),
        &mut signature,
    )
    .expect("sign");
    format!("{signed}.{}", URL_SAFE_NO_PAD.encode(signature))
}
