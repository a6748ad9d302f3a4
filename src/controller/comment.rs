//! The sticky PR comment of a preview: one per pull request, edited in place. Its text comes
//! from the observation (`github::comment` renders it); it is edited only when what it shows
//! changed, found again by its marker when its id is unknown, and created only when there is
//! none.

use chrono::Utc;

use crate::controller::{Ctx, Error};
use crate::github::comment::{self, CommentView};
use crate::model::crd::{Phase, PreviewEnvironment, PreviewEnvironmentStatus};
use crate::rules::status::{Comment, Observation, holds_phase};

/// Brings the comment up to date with `seen`: the comment as this left it, and GitHub's
/// failure if it did not take the edit (the status tells the truth either way; the comment
/// follows on a later attempt).
pub(crate) async fn sync(
    pe: &PreviewEnvironment,
    ctx: &Ctx,
    seen: &Observation,
    current: &PreviewEnvironmentStatus,
) -> (Comment, Option<Error>) {
    let view = view_of(pe, seen, current);
    let fingerprint = view.fingerprint();
    let mut left = Comment {
        id: current.comment_id,
        fingerprint: current.commented.clone(),
        failure: None,
    };
    // A preview that waits quietly posts nothing until there is something to say.
    let silent = seen.quiet && current.comment_id.is_none() && current.notice.is_none();
    if left.fingerprint.as_deref() == Some(fingerprint.as_str()) || silent {
        return (left, None);
    }
    let body = comment::render(&view, &ctx.settings.instance, Utc::now());
    match upsert(pe, ctx, current.comment_id, &body).await {
        Ok(Upserted { id, sent }) => {
            left.id = Some(id);
            // An edit overtaken by a newer one is not on GitHub: the fingerprint stays, so the
            // next reconcile looks again rather than believe the comment current.
            if sent {
                left.fingerprint = Some(fingerprint);
            }
            (left, None)
        }
        Err(e) => {
            left.failure = Some(e.to_string());
            (left, Some(e))
        }
    }
}

/// What the comment shows for `seen`.
fn view_of<'a>(
    pe: &'a PreviewEnvironment,
    seen: &'a Observation,
    current: &'a PreviewEnvironmentStatus,
) -> CommentView<'a> {
    CommentView {
        phase: seen.phase,
        url: seen.url.as_deref(),
        sha: seen
            .deployed_sha
            .as_deref()
            .unwrap_or(&pe.spec.pull.head_sha),
        namespace: pe.metadata.name.as_deref().unwrap_or_default(),
        // Progress while deploying changes often; the comment shows it only in its phase.
        message: seen
            .message
            .as_deref()
            .filter(|_| seen.phase != Phase::Deploying),
        expires_at: seen.expires_at.filter(|_| holds_phase(seen.phase)),
        notice: current.notice.as_deref(),
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
    let login = ctx.github.login().await?.to_owned();
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
                &login,
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
