//! The outbox (pure): what a reconcile leaves in the status for the publisher to say on GitHub
//! (the PR comment's wanted content, reactions to command comments), and what of it is due.
//!
//! The reconcile owns the outbox's content; the publisher owns what it reports back (the
//! comment's id, what it says, a failure, how far the reactions went). Each side writes only its
//! own fields, so neither overwrites the other's news.

use chrono::{DateTime, Utc};

use crate::model::crd::{Phase, PreviewEnvironmentStatus, QueuedReaction, WantedComment};
use crate::rules::status::{Observation, holds_phase};

/// The status fields only the publisher writes (left out of the reconcile's status writes).
pub(crate) const PUBLISHER_FIELDS: [&str; 4] =
    ["commentId", "commented", "commentFailure", "reactedUpTo"];

/// What the comment should show for `seen` of preview `namespace` at `head_sha`, or the wanted
/// comment left as it was when the preview waits quietly (nothing to say yet).
pub(crate) fn wanted_comment(
    current: &PreviewEnvironmentStatus,
    seen: &Observation,
    namespace: &str,
    head_sha: &str,
) -> Option<WantedComment> {
    let silent = seen.quiet && current.comment_id.is_none() && current.notice.is_none();
    if silent {
        return current.comment_wanted.clone();
    }
    Some(WantedComment {
        phase: seen.phase,
        url: seen.url.clone(),
        sha: seen
            .deployed_sha
            .clone()
            .unwrap_or_else(|| head_sha.to_owned()),
        namespace: namespace.to_owned(),
        // Progress while deploying changes often; the comment shows it only in its phase.
        message: seen
            .message
            .clone()
            .filter(|_| seen.phase != Phase::Deploying),
        expires_at: seen.expires_at.filter(|_| holds_phase(seen.phase)),
        notice: current.notice.clone(),
        checks: seen.checks.as_deref().cloned(),
    })
}

/// Queues a reaction behind every one queued before (also those already sent).
pub(crate) fn queue_reaction(
    reactions: &mut Vec<QueuedReaction>,
    reacted_up_to: Option<u64>,
    comment_id: u64,
    content: &str,
) {
    let last = reactions
        .iter()
        .map(|r| r.number)
        .chain(reacted_up_to)
        .max()
        .unwrap_or(0);
    reactions.push(QueuedReaction {
        number: last + 1,
        comment_id,
        content: content.to_owned(),
    });
}

/// When the publisher sends a wanted comment: at once, or (a deploy under way that may well be
/// Ready in a moment) once the deploy has taken `quiet_for` without being Ready, so that a
/// quick deploy costs one write saying Ready rather than two.
pub(crate) fn send_at(
    wanted: &WantedComment,
    deploy_started_at: Option<DateTime<Utc>>,
    quiet_for: chrono::Duration,
) -> Option<DateTime<Utc>> {
    match (wanted.phase, deploy_started_at) {
        (Phase::Deploying, Some(started)) => Some(started + quiet_for),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::outbox::unsent;

    fn seen(phase: Phase) -> Observation {
        Observation {
            phase,
            message: Some("waiting for web".into()),
            deployed_sha: Some("b".repeat(40)),
            ..Observation::default()
        }
    }

    #[test]
    fn a_deploying_comment_leaves_out_the_progress_and_a_quiet_wait_says_nothing() {
        let status = PreviewEnvironmentStatus::default();
        let wanted = wanted_comment(&status, &seen(Phase::Deploying), "ns", "a").unwrap();
        assert_eq!(wanted.message, None);
        assert_eq!(wanted.sha, "b".repeat(40));
        let failed = wanted_comment(&status, &seen(Phase::Failed), "ns", "a").unwrap();
        assert_eq!(failed.message.as_deref(), Some("waiting for web"));
        let quiet = Observation {
            quiet: true,
            ..seen(Phase::Pending)
        };
        assert_eq!(wanted_comment(&status, &quiet, "ns", "a"), None);
        let commented = PreviewEnvironmentStatus {
            comment_id: Some(7),
            ..status
        };
        assert!(wanted_comment(&commented, &quiet, "ns", "a").is_some());
    }

    #[test]
    fn reactions_are_numbered_after_every_one_queued_or_sent() {
        let mut reactions = Vec::new();
        queue_reaction(&mut reactions, Some(4), 10, "eyes");
        queue_reaction(&mut reactions, Some(4), 10, "rocket");
        let numbers: Vec<u64> = reactions.iter().map(|r| r.number).collect();
        assert_eq!(numbers, [5, 6]);
        let left: Vec<&str> = unsent(&reactions, Some(5))
            .map(|r| r.content.as_str())
            .collect();
        assert_eq!(left, ["rocket"]);
        assert_eq!(unsent(&reactions, None).count(), 2);
    }

    #[test]
    fn only_a_deploy_under_way_waits_before_it_is_said() {
        let started = Utc::now();
        let quiet = chrono::Duration::seconds(2);
        let mut wanted = WantedComment {
            phase: Phase::Deploying,
            ..WantedComment::default()
        };
        assert_eq!(
            send_at(&wanted, Some(started), quiet),
            Some(started + quiet)
        );
        assert_eq!(send_at(&wanted, None, quiet), None);
        wanted.phase = Phase::Ready;
        assert_eq!(send_at(&wanted, Some(started), quiet), None);
    }
}
