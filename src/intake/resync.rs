//! The resync: what webhooks missed is caught up periodically. Each served repository's open
//! pull requests are listed with conditional requests (an unchanged list costs no rate limit) and
//! recorded like a delivery, so missing previews appear and tombstones are respected; a preview
//! the list does not show open is destroyed only when GitHub, asked for that pull request, says
//! it is closed. A GitHub error skips the repository for this round and never deletes anything.
//! Each round also sweeps orphan namespaces (see `orphans`).

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use kube::Api;
use kube::api::ListParams;

use crate::controller::Ctx;
use crate::github::client::GitHubError;
use crate::github::listing::ListCache;
use crate::github::pull::PullRequest;
use crate::intake::orphans;
use crate::intake::record::{Delivery, Outcome, record};
use crate::model::crd::{Desired, PreviewEnvironment};
use crate::model::event::{PullAction, PullRequestEvent};
use crate::model::labels;
use crate::model::pull::Repository;

/// Runs a round every `every` until `shutdown` resolves.
pub async fn run(ctx: Arc<Ctx>, every: Duration, shutdown: impl Future<Output = ()>) {
    let cache = ListCache::default();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = &mut shutdown => return,
        }
        match orphans::sweep(&ctx).await {
            Ok(sweep) if sweep == orphans::Sweep::default() => {}
            Ok(sweep) => tracing::info!(?sweep, "orphan sweep"),
            Err(error) => tracing::warn!(%error, "orphan sweep skipped"),
        }
        for repository in &ctx.settings.config.repositories {
            let span = tracing::info_span!("resync", repository = %repository.name);
            let _entered = span.enter();
            match converge(&ctx, &cache, &repository.name).await {
                Ok(round) if round.changed() => round.log("resync caught up"),
                Ok(round) => tracing::debug!(
                    open = round.open,
                    pages_fresh = round.pages_fresh,
                    pages_unchanged = round.pages_unchanged,
                    "resync found nothing to do"
                ),
                Err(error) => tracing::warn!(%error, "resync skipped this repository"),
            }
        }
    }
}

/// What a round did for one repository.
#[derive(Debug, Default)]
pub(crate) struct Round {
    /// Open pull requests GitHub listed.
    pub open: usize,
    /// List pages answered anew.
    pub pages_fresh: usize,
    /// List pages answered `304 Not Modified`.
    pub pages_unchanged: usize,
    /// Previews recorded or changed from the list.
    pub recorded: usize,
    /// Previews destroyed because GitHub confirmed their pull request closed.
    pub confirmed_closed: usize,
}

impl Round {
    fn changed(&self) -> bool {
        self.recorded > 0 || self.confirmed_closed > 0
    }

    fn log(&self, what: &str) {
        tracing::info!(
            open = self.open,
            pages_fresh = self.pages_fresh,
            pages_unchanged = self.pages_unchanged,
            recorded = self.recorded,
            confirmed_closed = self.confirmed_closed,
            "{what}"
        );
    }
}

/// Why a repository's round stopped.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ResyncError {
    /// Listing failed.
    #[error(transparent)]
    GitHub(#[from] GitHubError),
    /// Reading or recording previews failed.
    #[error("Kubernetes API: {0}")]
    Kube(#[from] kube::Error),
}

async fn converge(ctx: &Ctx, cache: &ListCache, full_name: &str) -> Result<Round, ResyncError> {
    let instance = &ctx.settings.instance;
    let label = ctx
        .settings
        .config
        .repository_settings(full_name)
        .label
        .clone();
    let (open, cost) = ctx.github.open_pulls(full_name, cache).await?;
    let mut round = Round {
        open: open.len(),
        pages_fresh: cost.fresh,
        pages_unchanged: cost.unchanged,
        ..Round::default()
    };
    let mut listed = HashSet::new();
    for pull in &open {
        listed.insert(pull.number);
        let Some(repository_id) = pull.base.repo.as_ref().map(|r| r.id) else {
            continue;
        };
        let event = observed(pull, PullAction::Resynced, repository_id, full_name);
        if note(ctx, &event, label.as_deref()).await? {
            round.recorded += 1;
        }
    }
    let selector = labels::instance_selector(instance);
    let unlisted: Vec<PreviewEnvironment> = Api::<PreviewEnvironment>::all(ctx.client.clone())
        .list(&ListParams::default().labels(&selector))
        .await?
        .items
        .into_iter()
        .filter(|pe| {
            pe.spec
                .pull
                .repository
                .full_name
                .eq_ignore_ascii_case(full_name)
                && pe.spec.desired == Desired::Deployed
                && !listed.contains(&pe.spec.pull.number)
        })
        .collect();
    for pe in unlisted {
        // Never inferred from a list (it may be empty or cut short): GitHub is asked.
        let pull = match ctx.github.get_pull(full_name, pe.spec.pull.number).await {
            Ok(pull) => pull,
            Err(error) => {
                tracing::warn!(pr = pe.spec.pull.number, %error, "cannot confirm the pull request's state");
                continue;
            }
        };
        let state = pull.state();
        let action = match state.open {
            false => PullAction::Closed {
                merged: state.merged,
            },
            true => PullAction::Resynced,
        };
        let event = observed(&pull, action, pe.spec.pull.repository.id, full_name);
        let recorded = note(ctx, &event, label.as_deref()).await?;
        if recorded && matches!(action, PullAction::Closed { .. }) {
            tracing::info!(
                pr = pe.spec.pull.number,
                "GitHub confirmed the pull request closed"
            );
            round.confirmed_closed += 1;
        } else if recorded {
            round.recorded += 1;
        }
    }
    Ok(round)
}

/// Records what the resync observed like a delivery; whether that changed the desired state.
async fn note(
    ctx: &Ctx,
    event: &PullRequestEvent,
    mode_label: Option<&str>,
) -> Result<bool, kube::Error> {
    let delivery = Delivery::Pull { event, mode_label };
    let outcome = record(&ctx.client, &ctx.settings.instance, delivery).await?;
    Ok(matches!(outcome, Outcome::Recorded { changed: true, .. }))
}

/// A pull request as the REST API shows it, recorded like a delivery of `action` (under the
/// name previewd serves the repository by).
fn observed(
    pull: &PullRequest,
    action: PullAction,
    repository_id: u64,
    full_name: &str,
) -> PullRequestEvent {
    let repository = Repository {
        id: repository_id,
        full_name: full_name.to_owned(),
    };
    PullRequestEvent {
        action,
        pull: pull.facts(repository),
        open: pull.state().open,
        label: None,
    }
}
