//! One reconcile as plan and execute: gather what is known about the preview, ask the pure plan
//! (`rules::plan`) for the next step, execute it, and plan again with what the step learned,
//! until the plan reports. The report publishes the status (written once) and the PR comment,
//! and says when to look again.

use chrono::Utc;
use k8s_openapi::api::core::v1::Namespace;
use kube::api::{DeleteParams, Preconditions};
use kube::runtime::controller::Action;
use kube::{Api, ResourceExt};

use super::deploy::Came;
use super::report::report;
use super::spec_write::replace_spec;
use super::{Ctx, Error, checks, commands, confirm, deploy};
use crate::metrics;
use crate::model::crd::{Desired, DestroyReason, Phase, PreviewEnvironment};
use crate::model::outbox::comment_pending;
use crate::model::{labels, time};
use crate::rules::checks::Verdict;
use crate::rules::plan::{Facts, NamespaceState, Step, Then, plan};
use crate::timing;

/// More steps than any plan takes (look, claim, apply, report): a plan that loops is a bug,
/// reported rather than spun on.
const MAX_STEPS: usize = 8;

/// Drives `pe` one reconcile towards its spec; `deleting` when its finalizer runs.
pub(crate) async fn run(
    pe: &PreviewEnvironment,
    ctx: &Ctx,
    deleting: bool,
) -> Result<Action, Error> {
    let name = pe.name_any();
    let uid = pe.uid().ok_or_else(|| Error::NoUid(name.clone()))?;
    let config = &ctx.settings.config;
    let status = pe.status.clone().unwrap_or_default();
    let repository = config.repository_settings(&ctx.settings.allowlist, &pe.spec.pull.repository);
    let mut facts = Facts {
        name: &name,
        spec: &pe.spec,
        status: &status,
        generation_changed: status.observed_generation != pe.metadata.generation,
        deleting,
        repository: &repository,
        paused: config.paused,
        ready_timeout: ctx.settings.ready_timeout,
        terminate_timeout: ctx.settings.terminate_timeout,
        keep_destroyed_for: config.keep_destroyed_for.0,
        now: Utc::now(),
        namespace: None,
        slot: None,
        applied: None,
        checks: None,
        checks_recheck: ctx.settings.checks_recheck,
    };
    // The namespace as read: applying updates it only at this version (never adopting one),
    // deleting deletes only that one.
    let mut checked = None;
    let mut seen_uid = None;
    // The workloads of a deploy under way were only read: once Ready, it is applied in full
    // soon after, so drift meanwhile (a Service deleted by hand, say) is put back.
    let mut reread = false;
    for _ in 0..MAX_STEPS {
        match plan(&facts) {
            Step::Confirm => return confirm::run(pe, ctx).await,
            Step::RunCommands => return commands::run(pe, ctx).await,
            Step::Expire => {
                tracing::info!("idle past its time to live: expiring");
                let mut spec = pe.spec.clone();
                spec.desired = Desired::Destroyed(DestroyReason::Expired);
                replace_spec(ctx, pe, spec).await?;
                return Ok(Action::await_change());
            }
            Step::LookAtNamespace => {
                let namespaces = Api::<Namespace>::all(ctx.client.clone());
                let found = metrics::timed("namespace_read", namespaces.get_opt(&name)).await?;
                facts.namespace = Some(state_of(found.as_ref(), &ctx.settings.instance, &uid));
                seen_uid = found.as_ref().and_then(|ns| ns.metadata.uid.clone());
                checked =
                    found.filter(|ns| labels::owns(&ns.metadata, &ctx.settings.instance, &uid));
            }
            Step::ReadChecks => {
                let policy = &repository.checks;
                facts.checks = Some(match checks::read(ctx, &pe.spec.pull, policy).await {
                    Ok(verdict) => verdict,
                    // Asking again cannot help (a permission missing): said in the status
                    // and the comment, and waited on like a check not created.
                    Err(Error::GitHub(e)) if e.is_permanent() => {
                        tracing::warn!(error = %e, "cannot read the CI checks");
                        Verdict::Unreadable(e.to_string())
                    }
                    Err(e) => return Err(e),
                });
                facts.now = Utc::now();
            }
            Step::ClaimSlot { since } => {
                facts.slot = Some(
                    ctx.queue
                        .claim(pe, since, config, &ctx.settings.allowlist)
                        .await,
                );
            }
            Step::Apply => {
                let (outcome, came) = deploy::apply(pe, ctx, checked.as_ref(), &uid).await?;
                facts.applied = Some(outcome);
                reread = came == Came::Reread;
                facts.now = Utc::now();
            }
            Step::DeleteNamespace => {
                tracing::info!(namespace = %name, "deleting preview namespace");
                // Only the namespace looked at.
                let only_that = DeleteParams {
                    preconditions: Some(Preconditions {
                        uid: seen_uid.clone(),
                        resource_version: None,
                    }),
                    ..DeleteParams::default()
                };
                let deleted = Api::<Namespace>::all(ctx.client.clone())
                    .delete(&name, &only_that)
                    .await;
                facts.namespace = match deleted {
                    Err(kube::Error::Api(status)) if status.code == 404 => {
                        Some(NamespaceState::Absent)
                    }
                    Err(e) => return Err(e.into()),
                    Ok(_) => Some(NamespaceState::Ours {
                        terminating_since: Some(Utc::now()),
                    }),
                };
            }
            Step::Forget if comment_pending(&status) => {
                // The record is the outbox: it goes once GitHub has its last comment.
                return Ok(Action::requeue(timing::COMMENT_PENDING_RETRY));
            }
            Step::Forget => {
                tracing::info!("destroyed longer ago than records are kept: removing the record");
                // Only the version planned on: a delivery recorded meanwhile is kept (409).
                let precondition = DeleteParams {
                    preconditions: Some(Preconditions {
                        uid: Some(uid.clone()),
                        resource_version: pe.resource_version(),
                    }),
                    ..DeleteParams::default()
                };
                return match Api::<PreviewEnvironment>::all(ctx.client.clone())
                    .delete(&name, &precondition)
                    .await
                {
                    Err(kube::Error::Api(status)) if status.code == 409 => {
                        Ok(Action::requeue(timing::MIN_REQUEUE))
                    }
                    Err(e) => Err(e.into()),
                    Ok(_) => Ok(Action::await_change()),
                };
            }
            Step::Report { seen, then } => {
                let confirm = reread && seen.phase == Phase::Ready;
                let written = report(pe, ctx, seen).await?;
                if deleting && comment_pending(&written) {
                    // The finalizer stays until the publisher has sent the last comment.
                    return Err(Error::CommentPending(name));
                }
                return match then {
                    _ if confirm => Ok(Action::requeue(timing::CONFIRM_REREAD)),
                    Then::AwaitChange => Ok(Action::await_change()),
                    Then::After(wait) => Ok(Action::requeue(wait)),
                    Then::StillTerminating => Err(Error::StillTerminating(name)),
                };
            }
        }
    }
    Err(Error::Plan(name))
}

/// The namespace of the preview's name as the plan sees it.
fn state_of(found: Option<&Namespace>, instance: &str, uid: &str) -> NamespaceState {
    let Some(ns) = found else {
        return NamespaceState::Absent;
    };
    let deleting_since = ns.metadata.deletion_timestamp.as_ref().map(time::from_k8s);
    if labels::owns(&ns.metadata, instance, uid) {
        NamespaceState::Ours {
            terminating_since: deleting_since,
        }
    } else {
        NamespaceState::Foreign {
            terminating: deleting_since.is_some(),
        }
    }
}
