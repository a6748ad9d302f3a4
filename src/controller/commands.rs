//! Running the commands the webhook recorded: authorize each author with GitHub, queue the
//! reactions in the outbox (👀 when taken, 🚀 when done, 😕 when it failed, 👎 when refused; the
//! publisher sends them), apply what it asks to the spec, and remember the comment so that a
//! redelivery runs nothing.
//!
//! The status (processed ids, the answer, what awaits completion) is written before the spec that
//! removes the commands, so a crash in between re-runs the commands still queued in the spec,
//! whose effects were not written, and a redelivery is recognized either way.

use chrono::Utc;
use kube::ResourceExt;
use kube::runtime::controller::Action;

use crate::config::repository::Checks;
use crate::controller::report::write_status;
use crate::controller::spec_write::replace_spec;
use crate::controller::{Ctx, Error};
use crate::model::crd::{
    AwaitedCommand, Phase, PreviewEnvironment, PreviewEnvironmentStatus, QueuedReaction,
};
use crate::model::outbox::unsent;
use crate::rules::command_limits::{note_refusal, notice, refusal_is_quiet, remember, too_old};
use crate::rules::effect::{Done, Facts, apply, refusal, unverified};
use crate::rules::outbox::queue_reaction;
use crate::timing;

/// GitHub's reaction names.
mod reaction {
    pub(super) const TAKEN: &str = "eyes";
    pub(super) const DONE: &str = "rocket";
    pub(super) const FAILED: &str = "confused";
    pub(super) const REFUSED: &str = "-1";
}

/// Runs the recorded commands of `pe` (as the reconcile read it from the API server); the spec
/// write wakes the controller for what follows.
pub(crate) async fn run(pe: &PreviewEnvironment, ctx: &Ctx) -> Result<Action, Error> {
    let repository = &pe.spec.pull.repository;
    let settings = &ctx.settings;
    let repository_settings = settings
        .config
        .repository_settings(&settings.allowlist, repository);
    let ttl = repository_settings.ttl.0;
    let gated = repository_settings.checks != Checks::None;
    let status = pe.status.clone().unwrap_or_default();
    let next_generation = pe.metadata.generation.unwrap_or(0) + 1;
    let mut spec = pe.spec.clone();
    spec.commands.clear();
    let mut processed = status.processed_commands.clone();
    let mut processed_up_to = status.processed_up_to;
    let mut refusals = status.refusals.clone();
    let mut awaiting = status.awaiting.clone();
    let mut reactions: Vec<QueuedReaction> = unsent(&status.reactions, status.reacted_up_to)
        .cloned()
        .collect();
    let mut react = |comment_id: u64, content: &str| {
        queue_reaction(&mut reactions, status.reacted_up_to, comment_id, content)
    };
    let mut answers = Vec::new();
    for pending in &pe.spec.commands {
        let id = pending.comment_id;
        let login = pending.login.as_str();
        if too_old(pending.created_at, Utc::now()) {
            // Recorded in time, but waited past the bound (previewd was down): not run.
            tracing::info!(comment = id, login = %login, "command comment too old to run: dropped");
            remember(&mut processed, &mut processed_up_to, id);
            continue;
        }
        let allowed = match ctx.permissions.allows(&ctx.github, repository, login).await {
            Ok(allowed) => allowed,
            // GitHub will not say (the token may not read collaborators): the command fails
            // with the reason instead of blocking every later one.
            Err(e) if e.is_permanent() => {
                tracing::warn!(comment = id, login = %login, error = %e, "cannot check the permission");
                react(id, reaction::FAILED);
                answers.push((login.to_owned(), unverified(login, &pending.command, &e)));
                remember(&mut processed, &mut processed_up_to, id);
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        if !allowed {
            let now = Utc::now();
            if refusal_is_quiet(&refusals, login, now) {
                tracing::info!(comment = id, login = %login, "command refused again within the hour: not answered");
            } else {
                tracing::info!(comment = id, login = %login, "command refused: no write permission");
                react(id, reaction::REFUSED);
                answers.push((
                    login.to_owned(),
                    refusal(login, &pending.command, &repository.full_name),
                ));
                note_refusal(&mut refusals, login, now);
            }
        } else {
            react(id, reaction::TAKEN);
            let facts = Facts {
                login,
                ttl,
                now: Utc::now(),
                deployed_since: status.deploy_started_at,
                gated,
            };
            let effect = apply(&mut spec, &pending.command, facts);
            tracing::info!(comment = id, login = %login, command = %pending.command.as_text(), done = ?effect.done, "command taken");
            match effect.done {
                Done::Now => react(id, reaction::DONE),
                Done::Failed => react(id, reaction::FAILED),
                Done::When(until) => {
                    // A re-run (the spec write failed before) replaces its earlier entry.
                    awaiting.retain(|a| a.comment_id != id);
                    awaiting.push(AwaitedCommand {
                        comment_id: id,
                        until,
                        generation: next_generation,
                    });
                }
            }
            answers.push((login.to_owned(), effect.notice));
        }
        remember(&mut processed, &mut processed_up_to, id);
    }
    // Only quiet refusals: the last answer stays as it was.
    let notice = match answers.is_empty() {
        true => status.notice.clone(),
        false => Some(notice(&answers)),
    };
    let next_status = PreviewEnvironmentStatus {
        processed_commands: processed,
        processed_up_to,
        refusals,
        notice,
        awaiting,
        reactions,
        ..status
    };
    let noted = write_status(ctx, &pe.name_any(), &next_status).await?;
    if noted.spec != pe.spec {
        // A delivery changed the spec meanwhile: run again on what it wrote.
        return Ok(Action::requeue(timing::COMMANDS_RERUN));
    }
    replace_spec(ctx, &noted, spec).await?;
    Ok(Action::await_change())
}

/// Resolves the awaited commands of `status` now that the preview (at spec `generation`) is at
/// `phase`, running its head SHA or not: queues 🚀 when it got where the command wanted, 😕 when
/// a deploy failed, and keeps what still awaits.
pub(crate) fn settle_awaiting(
    status: &mut PreviewEnvironmentStatus,
    generation: i64,
    phase: Phase,
    at_head: bool,
) {
    let awaiting = std::mem::take(&mut status.awaiting);
    let mut still = Vec::new();
    for awaited in &awaiting {
        let verdict = match (awaited.until, phase) {
            _ if awaited.generation > generation => Verdict::Pending,
            // Held (paused, a fork's push awaiting approval, a head waiting for its checks): what
            // runs, or failed, is not what was asked.
            (Phase::Ready, Phase::Ready | Phase::Failed) if !at_head => Verdict::Pending,
            (until, phase) if until == phase => Verdict::React(reaction::DONE),
            (Phase::Ready, Phase::Failed) => Verdict::React(reaction::FAILED),
            // Superseded (destroyed before it was ready, or deployed again before it was gone).
            (Phase::Ready, Phase::Destroyed) | (Phase::Destroyed, Phase::Ready) => Verdict::Drop,
            _ => Verdict::Pending,
        };
        match verdict {
            Verdict::React(content) => queue_reaction(
                &mut status.reactions,
                status.reacted_up_to,
                awaited.comment_id,
                content,
            ),
            Verdict::Drop => {}
            Verdict::Pending => still.push(awaited.clone()),
        }
    }
    status.awaiting = still;
}

enum Verdict {
    React(&'static str),
    Drop,
    Pending,
}
