//! What previewd knows of its GitHub App's installations: which installation serves each
//! repository, each installation's token (used until less than five minutes are left), and the
//! repositories GitHub refused lately (installation suspended, App not installed), so that a
//! refusal is not asked again by every preview of the repository at once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use tokio::time::Instant;

use crate::timing::{INSTALLATION_REFUSAL_MEMO, INSTALLATION_TOKEN_REFRESH};

/// An installation token. Its `Debug` hides the value.
#[derive(Clone)]
pub(crate) struct Token {
    /// The token itself.
    pub value: String,
    /// When GitHub says it stops working.
    pub expires_at: DateTime<Utc>,
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Token")
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

impl Token {
    /// Whether the token may still be used at `now`: more than the refresh margin left (pure).
    pub(crate) fn usable_at(&self, now: DateTime<Utc>) -> bool {
        chrono::Duration::from_std(INSTALLATION_TOKEN_REFRESH)
            .is_ok_and(|margin| self.expires_at - now > margin)
    }
}

/// Why GitHub will not let the App act in a repository.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The installation exists but an owner suspended it.
    Suspended,
    /// The App is not installed on the repository (never was, or uninstalled).
    NotInstalled,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Refusal::Suspended => {
                "the GitHub App's installation is suspended (an owner can unsuspend it in the \
                 installation's settings)"
            }
            Refusal::NotInstalled => "the GitHub App is not installed on the repository",
        })
    }
}

/// One installation's token, shared by every call that uses it; held while it is replaced, so
/// that one expiry makes one request for a new token.
pub(crate) type TokenSlot = Arc<tokio::sync::Mutex<Option<Token>>>;

/// The installations previewd has used.
#[derive(Default)]
pub(crate) struct Installations {
    /// Held while a repository's installation is looked up.
    pub lookups: tokio::sync::Mutex<()>,
    by_repository: Mutex<HashMap<String, u64>>,
    tokens: Mutex<HashMap<u64, TokenSlot>>,
    refused: Mutex<HashMap<String, (Refusal, Instant)>>,
}

/// How a repository is known here: by its current name, lowercased (an allowlist entry not yet
/// resolved to an id and a preview's record then share what was learned).
fn key(full_name: &str) -> String {
    full_name.to_ascii_lowercase()
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Installations {
    /// The installation known to serve `repository`.
    pub(crate) fn of(&self, full_name: &str) -> Option<u64> {
        lock(&self.by_repository).get(&key(full_name)).copied()
    }

    /// Remembers that `installation` serves `repository`.
    pub(crate) fn remember(&self, full_name: &str, installation: u64) {
        lock(&self.by_repository).insert(key(full_name), installation);
    }

    /// Forgets everything about `installation` (GitHub no longer knows it): the repositories it
    /// served are looked up again.
    pub(crate) fn forget(&self, installation: u64) {
        lock(&self.by_repository).retain(|_, id| *id != installation);
        lock(&self.tokens).remove(&installation);
    }

    /// The token slot of `installation`.
    pub(crate) fn slot(&self, installation: u64) -> TokenSlot {
        lock(&self.tokens).entry(installation).or_default().clone()
    }

    /// A refusal of `repository` GitHub gave less than the memo's time ago.
    pub(crate) fn refused(&self, full_name: &str) -> Option<Refusal> {
        let mut refused = lock(&self.refused);
        let found = refused.get(&key(full_name)).copied();
        match found {
            Some((refusal, until)) if Instant::now() < until => Some(refusal),
            Some(_) => {
                refused.remove(&key(full_name));
                None
            }
            None => None,
        }
    }

    /// Remembers GitHub's refusal of `repository` for the memo's time.
    pub(crate) fn refuse(&self, full_name: &str, refusal: Refusal) {
        lock(&self.refused).insert(
            key(full_name),
            (refusal, Instant::now() + INSTALLATION_REFUSAL_MEMO),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(expires_at: DateTime<Utc>) -> Token {
        Token {
            value: "ghs_secret".into(),
            expires_at,
        }
    }

    #[test]
    fn a_token_is_replaced_once_less_than_five_minutes_are_left() {
        let now = Utc::now();
        let minutes = chrono::Duration::minutes;
        assert!(token(now + minutes(60)).usable_at(now));
        assert!(token(now + minutes(5) + chrono::Duration::seconds(1)).usable_at(now));
        assert!(!token(now + minutes(5)).usable_at(now));
        assert!(!token(now - minutes(1)).usable_at(now));
    }

    #[test]
    fn a_tokens_debug_hides_its_value() {
        assert!(!format!("{:?}", token(Utc::now())).contains("secret"));
    }

    #[test]
    fn repositories_are_known_by_name_whatever_its_case_and_forgotten_with_their_installation() {
        let installations = Installations::default();
        installations.remember("Octo/App", 5);
        installations.remember("octo/web", 5);
        installations.remember("octo/other", 6);
        assert_eq!(installations.of("octo/app"), Some(5));
        installations.forget(5);
        assert_eq!(installations.of("octo/app"), None);
        assert_eq!(installations.of("octo/web"), None);
        assert_eq!(installations.of("octo/other"), Some(6));
    }

    #[tokio::test(start_paused = true)]
    async fn a_refusal_is_remembered_for_a_while_only() {
        let installations = Installations::default();
        installations.refuse("octo/app", Refusal::Suspended);
        assert_eq!(installations.refused("Octo/App"), Some(Refusal::Suspended));
        tokio::time::advance(INSTALLATION_REFUSAL_MEMO).await;
        assert_eq!(installations.refused("octo/app"), None);
    }
}
