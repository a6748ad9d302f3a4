//! The polling mode's commands: where GitHub cannot deliver webhooks, each resync round reads
//! the comments written in a repository since the last round and records each `/preview`
//! command in one like the `issue_comment` delivery GitHub would have sent. A comment is handled
//! once (`rules::comment_cursor`); one that cannot be recorded now is read again next round.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::Utc;

use super::record::{Delivery, Outcome, record};
use super::resync::ResyncError;
use crate::controller::Ctx;
use crate::github::command;
use crate::github::comment_feed::{FeedCache, RepositoryComment};
use crate::github::conditional::Cost;
use crate::github::pull::PullRequest;
use crate::model::event::CommandEvent;
use crate::model::pull::{PullFacts, Repository};
use crate::rules::comment_cursor::CommentCursor;
use crate::timing::COMMAND_MAX_AGE;

/// Where the polling is in each repository (by id, or name before the id is known).
#[derive(Default)]
pub(crate) struct CommentPoll {
    cursors: Mutex<HashMap<String, CommentCursor>>,
    feed: FeedCache,
}

/// What one repository's poll did.
#[derive(Debug, Default)]
pub(crate) struct Polled {
    /// Comments new to the cursor.
    pub new_comments: usize,
    /// Commands recorded (those that changed a record).
    pub commands: usize,
    /// What reading the comments cost.
    pub cost: Cost,
}

fn key(repository: &Repository) -> String {
    match repository.id {
        0 => repository.full_name.to_ascii_lowercase(),
        id => id.to_string(),
    }
}

impl CommentPoll {
    fn cursor(&self, repository: &Repository) -> CommentCursor {
        let mut cursors = self.cursors.lock().unwrap_or_else(|p| p.into_inner());
        cursors
            .entry(key(repository))
            .or_insert_with(|| {
                // A command older than this would not run anyway.
                let start =
                    Utc::now() - chrono::Duration::from_std(COMMAND_MAX_AGE).unwrap_or_default();
                CommentCursor::from(start)
            })
            .clone()
    }

    fn advance(&self, repository: &Repository, cursor: CommentCursor) {
        self.cursors
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(key(repository), cursor);
    }
}

/// Reads `repository`'s new comments and records their commands; `open` is the round's list of
/// its open pull requests (a comment on anything else is looked up).
pub(crate) async fn poll(
    ctx: &Ctx,
    state: &CommentPoll,
    repository: &Repository,
    open: &[PullRequest],
) -> Result<Polled, ResyncError> {
    let cursor = state.cursor(repository);
    let (comments, cost) = ctx
        .github
        .comments_since(repository, cursor.since, &state.feed)
        .await?;
    let mut new: Vec<&RepositoryComment> = comments
        .iter()
        .filter(|c| cursor.is_new(c.id, c.created_at))
        .collect();
    new.sort_by_key(|c| (c.created_at, c.id));
    let mut polled = Polled {
        new_comments: new.len(),
        cost,
        ..Polled::default()
    };
    for comment in &new {
        let Some(event) = command_event(ctx, repository, comment, open).await? else {
            continue;
        };
        let delivery = Delivery::Command(&event);
        let outcome = record(&ctx.client, &ctx.records, &ctx.settings.instance, delivery).await?;
        tracing::info!(
            comment = comment.id,
            pr = event.pull.number,
            ?outcome,
            "command read from GitHub"
        );
        if matches!(outcome, Outcome::Recorded { changed: true, .. }) {
            polled.commands += 1;
        }
    }
    state.advance(
        repository,
        cursor.after(new.iter().map(|c| (c.id, c.created_at))),
    );
    Ok(polled)
}

/// The command `comment` carries, as its `issue_comment` delivery would tell it; `None` for a
/// comment with no command, or on an issue that is no pull request.
async fn command_event(
    ctx: &Ctx,
    repository: &Repository,
    comment: &RepositoryComment,
    open: &[PullRequest],
) -> Result<Option<CommandEvent>, ResyncError> {
    let Some(command) = comment.body.as_deref().and_then(command::parse) else {
        return Ok(None);
    };
    let (Some(number), Some(author)) = (comment.issue_number(), comment.user.as_ref()) else {
        return Ok(None);
    };
    let pull = match open.iter().find(|p| p.number == number) {
        Some(listed) => listed.clone(),
        None => match ctx.github.get_pull(repository, number).await {
            Ok(pull) => pull,
            Err(error) if error.is_not_found() => return Ok(None),
            Err(error) => return Err(error.into()),
        },
    };
    Ok(Some(CommandEvent {
        pull: PullFacts {
            repository: repository.clone(),
            number,
            title: pull.title.clone(),
            author: pull
                .user
                .as_ref()
                .map(|u| u.login.clone())
                .unwrap_or_default(),
            pull_request_url: pull.html_url.clone(),
            ..PullFacts::default()
        },
        open: pull.state().open,
        comment_id: comment.id,
        created_at: Some(comment.created_at),
        login: author.login.clone(),
        command,
    }))
}
