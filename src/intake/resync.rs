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

use crate::config::Serving;
use crate::controller::Ctx;
use crate::github::client::GitHubError;
use crate::github::listing::ListCache;
use crate::github::pull::PullRequest;
use crate::intake::record::{Delivery, Outcome, record};
use crate::intake::{allowlist, orphans};
use crate::model::crd::{Desired, PreviewEnvironment};
use crate::model::event::{PullAction, PullRequestEvent};
use crate::model::labels;
use crate::model::pull::{PullFacts, Repository};

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
        let settings = &ctx.settings;
        allowlist::resolve(&ctx.github, &settings.config, &settings.allowlist).await;
        for (index, entry) in settings.config.repositories.iter().enumerate() {
            let span = tracing::info_span!("resync", repository = %entry.name);
            let _entered = span.enter();
            match converge(&ctx, &cache, index).await {
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
        match end_moved_out(&ctx).await {
            Ok(0) => {}
            Ok(ended) => tracing::info!(ended, "previews of repositories transferred away end"),
            Err(error) => tracing::warn!(%error, "previews of moved repositories not checked"),
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

/// The repository allowlist entry `index` stands for, under the newest name known for it (its
/// id is 0 while the entry is not resolved).
fn entry_repository(ctx: &Ctx, index: usize) -> Repository {
    let settings = &ctx.settings;
    let named = Repository {
        id: 0,
        full_name: settings.config.repositories[index].name.clone(),
    };
    match settings.allowlist.snapshot().get(index).cloned().flatten() {
        Some(resolved) => {
            let known = Repository {
                id: resolved.id,
                full_name: resolved.full_name,
            };
            Repository {
                full_name: ctx.github.current_name(&known),
                ..known
            }
        }
        None => named,
    }
}

async fn converge(ctx: &Ctx, cache: &ListCache, index: usize) -> Result<Round, ResyncError> {
    let settings = &ctx.settings;
    let label = settings.config.repositories[index].label.clone();
    let asked = entry_repository(ctx, index);
    let (open, cost) = ctx.github.open_pulls(&asked, cache).await?;
    let mut round = Round {
        open: open.len(),
        pages_fresh: cost.fresh,
        pages_unchanged: cost.unchanged,
        ..Round::default()
    };
    // Listing may have followed the repository to its new name.
    let repository = Repository {
        full_name: ctx.github.current_name(&asked),
        ..asked
    };
    if repository.id != 0 {
        allowlist::follow(
            &settings.allowlist,
            index,
            repository.id,
            &repository.full_name,
        );
    }
    if !matches!(
        settings.config.serving(&settings.allowlist, &repository),
        Serving::Served(_)
    ) {
        // Transferred away: its previews end in `end_moved_out`, nothing new is recorded.
        return Ok(round);
    }
    let mut listed = HashSet::new();
    for pull in &open {
        listed.insert(pull.number);
        let Some(base) = pull.base.repo.as_ref() else {
            continue;
        };
        let event = observed(pull, PullAction::Resynced, base.repository());
        if note(ctx, &event, label.as_deref()).await? {
            round.recorded += 1;
        }
    }
    let is_this_repository = |pe: &PreviewEnvironment| match repository.id {
        0 => pe
            .spec
            .pull
            .repository
            .full_name
            .eq_ignore_ascii_case(&repository.full_name),
        id => pe.spec.pull.repository.id == id,
    };
    let unlisted: Vec<PreviewEnvironment> = records(ctx)
        .await?
        .into_iter()
        .filter(|pe| {
            is_this_repository(pe)
                && pe.spec.desired == Desired::Deployed
                && !listed.contains(&pe.spec.pull.number)
        })
        .collect();
    for pe in unlisted {
        // Never inferred from a list (it may be empty or cut short): GitHub is asked.
        let recorded_in = &pe.spec.pull.repository;
        let pull = match ctx.github.get_pull(recorded_in, pe.spec.pull.number).await {
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
        let now_in = Repository {
            id: recorded_in.id,
            full_name: ctx.github.current_name(recorded_in),
        };
        let event = observed(&pull, action, now_in);
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

/// This installation's records.
async fn records(ctx: &Ctx) -> Result<Vec<PreviewEnvironment>, kube::Error> {
    let selector = labels::instance_selector(&ctx.settings.instance);
    Ok(Api::<PreviewEnvironment>::all(ctx.client.clone())
        .list(&ListParams::default().labels(&selector))
        .await?
        .items)
}

/// Ends the previews of repositories an allowlist entry resolved to that now belong to an owner
/// previewd does not serve; returns how many it ended.
async fn end_moved_out(ctx: &Ctx) -> Result<usize, kube::Error> {
    let settings = &ctx.settings;
    let resolved = settings.allowlist.snapshot();
    let mut ended = 0;
    for pe in records(ctx).await? {
        let recorded_in = &pe.spec.pull.repository;
        let Some(now) = resolved.iter().flatten().find(|r| r.id == recorded_in.id) else {
            continue;
        };
        let repository = Repository {
            id: now.id,
            full_name: now.full_name.clone(),
        };
        let moved_out = matches!(
            settings.config.serving(&settings.allowlist, &repository),
            Serving::MovedOut(_)
        );
        if !moved_out || pe.spec.desired != Desired::Deployed {
            continue;
        }
        let event = PullRequestEvent {
            action: PullAction::MovedOut,
            pull: PullFacts {
                repository,
                ..pe.spec.pull.clone()
            },
            open: true,
            label: None,
        };
        if note(ctx, &event, None).await? {
            tracing::info!(pr = pe.spec.pull.number, now = %now.full_name, "the repository moved to an owner not served: its preview ends");
            ended += 1;
        }
    }
    Ok(ended)
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
/// repository's current name).
fn observed(pull: &PullRequest, action: PullAction, repository: Repository) -> PullRequestEvent {
    PullRequestEvent {
        action,
        pull: pull.facts(repository),
        open: pull.state().open,
        label: None,
    }
}
