//! Who may run commands: users whose collaborator permission is `admin` or `write` (maintainers
//! and custom roles with write show as `write`). Asked of GitHub once per user and repository,
//! then cached briefly; the payload's `author_association` is never trusted.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use super::client::{GitHub, GitHubError};
use crate::model::pull::Repository;

use crate::timing::PERMISSION_FRESH_FOR as FRESH_FOR;

/// Whether a permission lets a user run commands (pure).
pub(crate) fn may_command(permission: Option<&str>) -> bool {
    matches!(permission, Some("admin" | "write"))
}

/// The cache of answers.
#[derive(Default)]
pub struct Permissions {
    answers: Mutex<HashMap<(u64, String), (bool, Instant)>>,
}

impl Permissions {
    /// Whether `login` may run commands on `repository`.
    pub(crate) async fn allows(
        &self,
        github: &GitHub,
        repository: &Repository,
        login: &str,
    ) -> Result<bool, GitHubError> {
        let key = (repository.id, login.to_ascii_lowercase());
        if let Some((allowed, at)) = self.lock().get(&key)
            && at.elapsed() < FRESH_FOR
        {
            return Ok(*allowed);
        }
        let allowed = may_command(github.permission(repository, login).await?.as_deref());
        let mut answers = self.lock();
        // Only fresh answers are kept: many users asking does not grow the map for good.
        answers.retain(|_, (_, at)| at.elapsed() < FRESH_FOR);
        answers.insert(key, (allowed, Instant::now()));
        Ok(allowed)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(u64, String), (bool, Instant)>> {
        self.answers
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_write_and_admin_may_command() {
        assert!(may_command(Some("admin")));
        assert!(may_command(Some("write")));
        for other in [Some("read"), Some("none"), Some("triage"), None] {
            assert!(!may_command(other), "{other:?}");
        }
    }
}
