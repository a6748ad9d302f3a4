//! The resync: what webhooks missed is caught up periodically. Each served repository's open
//! pull requests are listed with conditional requests (an unchanged list costs no rate limit) and
//! recorded like a delivery, so missing previews appear and tombstones are respected; a preview
//! the list does not show open is destroyed only when GitHub, asked for that pull request, says
//! it is closed. A GitHub error skips the repository for this round and never deletes anything.
//! Each round also sweeps orphan namespaces (see `orphans`). In the polling mode, each round
//! also reads each repository's new comments for `/preview` commands (see `comment_poll`).

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use kube::Api;
use kube::api::ListParams;
use tracing::Instrument;

use crate::config::{Resolved, Serving};
use crate::controller::Ctx;
use crate::github::client::GitHubError;
use crate::github::conditional::Cost;
use crate::github::listing::ListCache;
use crate::github::owners::OwnerCache;
use crate::github::pull::PullRequest;
use crate::intake::comment_poll::{self, CommentPoll};
use crate::intake::record::{Delivery, Outcome, record};
use crate::intake::{allowlist, base_moves, orphans};
use crate::model::crd::{Desired, PreviewEnvironment};
use crate::model::event::{PullAction, PullRequestEvent};
use crate::model::labels;
use crate::model::pull::{PullFacts, Repository};

/// What the rounds remember: the last answers of each list, and where the polling of comments
/// is (none: commands come by webhook alone).
struct Memory {
    lists: ListCache,
    owners: OwnerCache,
    comments: Option<CommentPoll>,
}

/// Runs a round every `every` until `shutdown` resolves; with `poll_comments`, each round
/// also records the commands of new comments.
pub async fn run(
    ctx: Arc<Ctx>,
    every: Duration,
    poll_comments: bool,
    shutdown: impl Future<Output = ()>,
) {
    let memory = Memory {
        lists: ListCache::default(),
        owners: OwnerCache::default(),
        comments: poll_comments.then(CommentPoll::default),
    };
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
            let repositories = match entry_repositories(&ctx, &memory, index).await {
                Ok(repositories) => repositories,
                Err(error) => {
                    tracing::warn!(entry = %entry.name, %error, "resync skipped this entry");
                    continue;
                }
            };
            for repository in repositories {
                let span = tracing::info_span!("resync", repository = %repository.full_name);
                converge(&ctx, &memory, &repository, entry.label.as_deref())
                    .instrument(span)
                    .await
                    .map_or_else(
                        |error| tracing::warn!(%error, "resync skipped this repository"),
                        |round| round.report(),
                    );
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
    /// Comment pages read (polling mode).
    pub comment_pages: Cost,
    /// Comments new since the last round (polling mode).
    pub new_comments: usize,
    /// Commands those comments recorded (polling mode).
    pub commands: usize,
    /// Previews woken because the base branch that defines them moved.
    pub base_moved: usize,
}

impl Round {
    fn changed(&self) -> bool {
        self.recorded > 0 || self.confirmed_closed > 0 || self.commands > 0 || self.base_moved > 0
    }

    fn report(&self) {
        match self.changed() {
            true => self.log("resync caught up"),
            false => tracing::debug!(
                open = self.open,
                pages_fresh = self.pages_fresh,
                pages_unchanged = self.pages_unchanged,
                comment_pages_fresh = self.comment_pages.fresh,
                comment_pages_unchanged = self.comment_pages.unchanged,
                "resync found nothing to do"
            ),
        }
    }

    fn log(&self, what: &str) {
        tracing::info!(
            open = self.open,
            pages_fresh = self.pages_fresh,
            pages_unchanged = self.pages_unchanged,
            recorded = self.recorded,
            confirmed_closed = self.confirmed_closed,
            new_comments = self.new_comments,
            commands = self.commands,
            base_moved = self.base_moved,
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
    /// The repository's name answered for another repository (asked again next round).
    #[error("{0} now names another repository")]
    Stale(String),
}

/// The repository allowlist entry `index` stands for now: asked of GitHub by id once the entry
/// is resolved (a rename is followed, a transfer away noted); by the entry's name (id 0) before.
async fn entry_repository(ctx: &Ctx, index: usize) -> Result<Option<Repository>, GitHubError> {
    let settings = &ctx.settings;
    let Some(known) = settings.allowlist.snapshot().get(index).cloned().flatten() else {
        return Ok(Some(Repository {
            id: 0,
            full_name: settings.config.repositories[index].name.clone(),
        }));
    };
    let now = ctx.github.follow(known.id, &known.full_name).await?;
    let followed = allowlist::follow(&settings.allowlist, index, &now);
    Ok(followed
        .filter(|f| f.moved_to.is_none())
        .map(|f| Repository {
            id: f.id,
            full_name: f.full_name,
        }))
}

/// The repositories allowlist entry `index` serves now: its one repository (none once it was
/// transferred away: its previews end in `end_moved_out`), or, for `owner/*`, every repository
/// of the owner that no entry of its own claims.
async fn entry_repositories(
    ctx: &Ctx,
    memory: &Memory,
    index: usize,
) -> Result<Vec<Repository>, GitHubError> {
    let settings = &ctx.settings;
    let entry = &settings.config.repositories[index];
    let Some(owner) = entry.owner_pattern() else {
        return Ok(entry_repository(ctx, index).await?.into_iter().collect());
    };
    let (all, _) = ctx.github.owner_repositories(owner, &memory.owners).await?;
    Ok(all
        .into_iter()
        .filter(|repository| {
            matches!(
                settings.config.serving(&settings.allowlist, repository),
                Serving::Served(served) if std::ptr::eq(served, entry)
            )
        })
        .collect())
}

async fn converge(
    ctx: &Ctx,
    memory: &Memory,
    repository: &Repository,
    label: Option<&str>,
) -> Result<Round, ResyncError> {
    let repository = repository.clone();
    let (open, cost) = ctx.github.open_pulls(&repository, &memory.lists).await?;
    if let Some(foreign) = open
        .iter()
        .find(|p| repository.id != 0 && p.base.repo.as_ref().is_some_and(|r| r.id != repository.id))
    {
        // The name is another repository's now: nothing listed there is recorded.
        ctx.github.is_of(foreign, &repository).await?;
        return Err(ResyncError::Stale(repository.full_name.clone()));
    }
    let mut round = Round {
        open: open.len(),
        pages_fresh: cost.fresh,
        pages_unchanged: cost.unchanged,
        ..Round::default()
    };
    let mut listed = HashSet::new();
    for pull in &open {
        listed.insert(pull.number);
        let Some(base) = pull.base.repo.as_ref() else {
            continue;
        };
        let event = observed(pull, PullAction::Resynced, base.repository());
        if note(ctx, &event, label).await? {
            round.recorded += 1;
        }
    }
    if let Some(comments) = &memory.comments {
        let polled = comment_poll::poll(ctx, comments, &repository, &open).await?;
        round.comment_pages = polled.cost;
        round.new_comments = polled.new_comments;
        round.commands = polled.commands;
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
    let deployed: Vec<PreviewEnvironment> = records(ctx)
        .await?
        .into_iter()
        .filter(|pe| is_this_repository(pe) && pe.spec.desired == Desired::Deployed)
        .collect();
    let bases = deployed
        .iter()
        .map(|pe| pe.spec.pull.base_branch.as_str())
        .collect();
    // A base that cannot be read now is read again next round; the rest goes on.
    round.base_moved = base_moves::wake_moved(ctx, &repository, bases).await;
    let unlisted = deployed
        .iter()
        .filter(|pe| !listed.contains(&pe.spec.pull.number));
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
        let now_in = match repository.id {
            0 => recorded_in.clone(),
            _ => repository.clone(),
        };
        let event = observed(&pull, action, now_in);
        let recorded = note(ctx, &event, label).await?;
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

/// Ends the previews of repositories an allowlist entry resolved to that were transferred to
/// another owner; returns how many it ended.
async fn end_moved_out(ctx: &Ctx) -> Result<usize, kube::Error> {
    let moved: Vec<Resolved> = ctx
        .settings
        .allowlist
        .snapshot()
        .into_iter()
        .flatten()
        .filter(|r| r.moved_to.is_some())
        .collect();
    if moved.is_empty() {
        return Ok(0);
    }
    let mut ended = 0;
    for pe in records(ctx).await? {
        let recorded_in = &pe.spec.pull.repository;
        let Some(elsewhere) = moved
            .iter()
            .find(|r| r.id == recorded_in.id)
            .and_then(|r| r.moved_to.clone())
        else {
            continue;
        };
        let still_served = matches!(
            ctx.settings
                .config
                .serving(&ctx.settings.allowlist, recorded_in),
            Serving::Served(_)
        );
        if still_served || pe.spec.desired != Desired::Deployed {
            continue;
        }
        let event = PullRequestEvent {
            action: PullAction::MovedOut,
            pull: PullFacts {
                repository: Repository {
                    id: recorded_in.id,
                    full_name: elsewhere.clone(),
                },
                ..pe.spec.pull.clone()
            },
            open: true,
            label: None,
        };
        if note(ctx, &event, None).await? {
            tracing::info!(pr = pe.spec.pull.number, now = %elsewhere, "the repository moved to an owner not served: its preview ends");
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
    let outcome = record(&ctx.client, &ctx.records, &ctx.settings.instance, delivery).await?;
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
