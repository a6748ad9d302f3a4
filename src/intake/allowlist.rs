//! The allowlist resolved against GitHub: each entry's name becomes the id of the repository it
//! stands for (GitHub redirects an old name to the id it moved with). Asked at startup and, for
//! entries not resolved yet, at every resync round; a failed lookup leaves the entry to its name.
//! Once resolved, an entry follows its repository by id: the resync learns its current name.

use std::sync::Arc;
use std::time::Duration;

use crate::config::{Allowlist, FileConfig, Resolved};
use crate::controller::Ctx;
use crate::github::client::GitHub;
use crate::timing::ALLOWLIST_RETRY;

/// Every replica resolves the allowlist (its webhook serves by id), asking again for what is not
/// resolved yet every `every` (`ALLOWLIST_RETRY` when the resync is off), until all is.
pub async fn resolve_until_done(ctx: Arc<Ctx>, every: Duration) {
    let settings = &ctx.settings;
    let every = if every.is_zero() {
        ALLOWLIST_RETRY
    } else {
        every
    };
    loop {
        let resolved = resolve(&ctx.github, &settings.config, &settings.allowlist).await;
        if resolved == settings.config.repositories.len() {
            return;
        }
        tokio::time::sleep(every).await;
    }
}

/// Resolves every entry not resolved yet; returns how many are resolved now.
pub async fn resolve(github: &GitHub, config: &FileConfig, allowlist: &Allowlist) -> usize {
    let known = allowlist.snapshot();
    let mut resolved = 0;
    for (i, entry) in config.repositories.iter().enumerate() {
        // An owner pattern names no one repository: it is matched by the owner's name.
        if known.get(i).is_some_and(Option::is_some) || entry.owner_pattern().is_some() {
            resolved += 1;
            continue;
        }
        match github.repository_by_name(&entry.name).await {
            Ok(Some(now)) => {
                if !now.full_name.eq_ignore_ascii_case(&entry.name) {
                    tracing::info!(entry = %entry.name, repository_id = now.id, now = %now.full_name, "allowlist entry names a repository that moved");
                } else {
                    tracing::debug!(entry = %entry.name, repository_id = now.id, "allowlist entry resolved");
                }
                allowlist.set(i, Some(now));
                resolved += 1;
            }
            Ok(None) => {
                tracing::warn!(entry = %entry.name, "GitHub knows no repository of this name (or the token cannot see it); matched by name until it does")
            }
            Err(error) => {
                tracing::warn!(entry = %entry.name, %error, "allowlist entry not resolved; matched by name for now")
            }
        }
    }
    resolved
}

/// Records what GitHub says about entry `index`'s repository `now` (a rename is followed, a
/// transfer away noted) and returns the entry's resolution after it; logs what changed, once.
pub(crate) fn follow(allowlist: &Allowlist, index: usize, now: &Resolved) -> Option<Resolved> {
    let known = allowlist.snapshot().get(index).cloned().flatten()?;
    let followed = known.followed(now);
    if followed != known {
        match &followed.moved_to {
            Some(elsewhere) => {
                tracing::warn!(repository_id = now.id, from = %known.full_name, to = %elsewhere, "repository transferred to another owner: no longer served, its previews end")
            }
            None => {
                tracing::info!(repository_id = now.id, from = %known.full_name, to = %followed.full_name, "repository renamed")
            }
        }
        allowlist.set(index, Some(followed.clone()));
    }
    Some(followed)
}
