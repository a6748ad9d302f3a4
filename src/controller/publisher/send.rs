//! One round of publishing for one preview: the reactions not yet sent, in order, then the
//! comment if it does not say what is wanted (edited in place, found again by its marker when
//! its id is unknown, created only when there is none); then what GitHub took is written into
//! the status under the publisher's own field manager.

use chrono::Utc;
use kube::api::{Patch, PatchParams};
use kube::{Api, ResourceExt};
use serde::Serialize;
use serde_json::json;
use tokio::time::Instant;

use crate::controller::{Ctx, Error, github_retry};
use crate::github::comment;
use crate::github::comment::view;
use crate::metrics;
use crate::model::crd::{DeploymentReport, PreviewEnvironment, PreviewEnvironmentStatus};
use crate::model::labels::PUBLISHER_FIELD_MANAGER;
use crate::model::outbox::unsent;
use crate::rules::outbox::send_at;
use crate::timing::{self, DEPLOYING_QUIET, EDIT_WINDOW, PUBLISHER_WRITE_RETRY};

mod deployment;

/// What this process sent for a preview: newer than its status until the status write lands, so
/// an older record seen meanwhile never sends (or creates) again.
#[derive(Clone, Debug, Default)]
pub(crate) struct Sent {
    uid: Option<String>,
    reported: Reported,
}

/// The publisher's fields of the status.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
struct Reported {
    #[serde(skip_serializing_if = "Option::is_none")]
    comment_id: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    commented: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    comment_failure: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reacted_up_to: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    deployment: Option<DeploymentReport>,
}

impl Reported {
    fn of(status: &PreviewEnvironmentStatus) -> Self {
        Reported {
            comment_id: status.comment_id,
            commented: status.commented.clone(),
            comment_failure: status.comment_failure.clone(),
            reacted_up_to: status.reacted_up_to,
            deployment: status.deployment.clone(),
        }
    }
}

/// When to look at the preview again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Next {
    /// When its record changes.
    Idle,
    /// At this time at the latest (a deploy's comment held back, GitHub's retry time).
    At(Instant),
}

/// Sends what `pe`'s outbox holds; returns what was sent and when to look again.
pub(crate) async fn publish(ctx: &Ctx, pe: &PreviewEnvironment, sent: Sent) -> (Sent, Next) {
    let status = pe.status.clone().unwrap_or_default();
    let written = Reported::of(&status);
    let uid = pe.uid();
    let mut known = match sent.uid == uid {
        true => Reported {
            comment_id: sent.reported.comment_id.or(written.comment_id),
            commented: sent.reported.commented.or(written.commented.clone()),
            comment_failure: written.comment_failure.clone(),
            reacted_up_to: sent.reported.reacted_up_to.max(written.reacted_up_to),
            deployment: sent.reported.deployment.or(written.deployment.clone()),
        },
        false => written.clone(),
    };
    let repository = &pe.spec.pull.repository;
    for reaction in unsent(&status.reactions, known.reacted_up_to) {
        // A courtesy: a failure is logged, never retried in a loop.
        if let Err(e) = ctx
            .github
            .react(repository, reaction.comment_id, &reaction.content)
            .await
        {
            tracing::warn!(preview = %pe.name_any(), comment = reaction.comment_id, content = %reaction.content, error = %e, "could not react to the command");
        }
        known.reacted_up_to = Some(reaction.number);
    }
    let next = match publish_comment(ctx, pe, &status, &mut known).await {
        Next::Idle => {
            let comment_id = known.comment_id;
            deployment::publish(ctx, pe, &status, comment_id, &mut known.deployment).await
        }
        later => later,
    };
    let next = match known != written {
        true => match write_reported(ctx, &pe.name_any(), &known).await {
            Ok(()) => next,
            Err(e) => {
                tracing::warn!(preview = %pe.name_any(), error = %e, "publisher: writing the status failed");
                Next::At(Instant::now() + PUBLISHER_WRITE_RETRY)
            }
        },
        false => next,
    };
    let sent = Sent {
        uid,
        reported: known,
    };
    (sent, next)
}

/// Brings the comment to what `status` wants, noting in `known` what GitHub took.
async fn publish_comment(
    ctx: &Ctx,
    pe: &PreviewEnvironment,
    status: &PreviewEnvironmentStatus,
    known: &mut Reported,
) -> Next {
    let Some(wanted) = &status.comment_wanted else {
        return Next::Idle;
    };
    let view = view(wanted);
    let fingerprint = wanted.fingerprint();
    if known.commented.as_deref() == Some(fingerprint.as_str()) {
        return Next::Idle;
    }
    let quiet = chrono::Duration::from_std(DEPLOYING_QUIET).unwrap_or_default();
    if let Some(at) = send_at(wanted, status.deploy_started_at, quiet) {
        let wait = (at - Utc::now()).to_std().unwrap_or_default();
        if !wait.is_zero() {
            return Next::At(Instant::now() + wait);
        }
    }
    let body = comment::render(&view, &ctx.settings.instance, Utc::now());
    match upsert(pe, ctx, known.comment_id, &body).await {
        Ok(Upserted { id, sent }) => {
            known.comment_id = Some(id);
            known.comment_failure = None;
            if sent {
                known.commented = Some(fingerprint);
                Next::Idle
            } else {
                // An edit overtaken by a newer one: look again once the window is over.
                Next::At(Instant::now() + EDIT_WINDOW)
            }
        }
        Err(e) => {
            tracing::warn!(preview = %pe.name_any(), error = %e, "the PR comment was not updated");
            metrics::get().error("github");
            let retry = match &e {
                Error::GitHub(e) => github_retry(e),
                _ => timing::ERROR_RETRY,
            };
            known.comment_failure = Some(e.to_string());
            Next::At(Instant::now() + retry)
        }
    }
}

/// Writes the publisher's fields of `name`'s status (a record gone meanwhile is no failure).
async fn write_reported(ctx: &Ctx, name: &str, reported: &Reported) -> Result<(), kube::Error> {
    let patch = json!({
        "apiVersion": "previewd.dev/v1alpha1",
        "kind": "PreviewEnvironment",
        "status": reported,
    });
    match Api::<PreviewEnvironment>::all(ctx.client.clone())
        .patch_status(
            name,
            &PatchParams::apply(PUBLISHER_FIELD_MANAGER).force(),
            &Patch::Apply(&patch),
        )
        .await
    {
        Err(kube::Error::Api(status)) if status.code == 404 => Ok(()),
        Err(e) => Err(e),
        Ok(_) => Ok(()),
    }
}

/// The comment an upsert left: its id, and whether this body went out.
struct Upserted {
    id: u64,
    sent: bool,
}

/// Edits the known comment, or finds this installation's comment by its marker, or creates it.
async fn upsert(
    pe: &PreviewEnvironment,
    ctx: &Ctx,
    known: Option<u64>,
    body: &str,
) -> Result<Upserted, Error> {
    let repo = &pe.spec.pull.repository;
    if let Some(id) = known {
        match ctx.github.update_comment(repo, id, body).await {
            Ok(sent) => return Ok(Upserted { id, sent }),
            Err(e) if e.is_not_found() => {
                tracing::info!(comment = id, "comment gone; looking for it again")
            }
            Err(e) => return Err(e.into()),
        }
    }
    let logins = ctx.github.own_logins().await?;
    let marker = comment::marker(&ctx.settings.instance);
    let found = ctx
        .github
        .list_comments(repo, pe.spec.pull.number)
        .await?
        .into_iter()
        .find(|c| {
            comment::is_own(
                c.body.as_deref(),
                c.user.as_ref().map(|u| u.login.as_str()),
                &logins,
                &marker,
            )
        });
    if let Some(existing) = found {
        let sent = ctx.github.update_comment(repo, existing.id, body).await?;
        return Ok(Upserted {
            id: existing.id,
            sent,
        });
    }
    let id = ctx
        .github
        .create_comment(repo, pe.spec.pull.number, body)
        .await?;
    if ctx.settings.failpoint.as_deref() == Some("after-comment-create") {
        tracing::error!(comment = id, "failpoint after-comment-create: aborting");
        std::process::abort();
    }
    Ok(Upserted { id, sent: true })
}
