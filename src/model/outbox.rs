//! The outbox's state in a status (pure): what the comment should say, whether GitHub has it,
//! and which queued reactions are not sent yet.

use crate::model::crd::{PreviewEnvironmentStatus, QueuedReaction, WantedComment};

impl WantedComment {
    /// A fingerprint of everything the comment says except the time, so unchanged state
    /// rewrites nothing.
    pub fn fingerprint(&self) -> String {
        let checks = self
            .checks
            .as_ref()
            .and_then(|c| serde_json::to_string(c).ok())
            .unwrap_or_default();
        format!(
            "{}|{}|{}|{}|{}|{}|{}|{checks}",
            self.phase.as_str(),
            self.url.as_deref().unwrap_or(""),
            self.sha,
            self.namespace,
            self.message.as_deref().unwrap_or(""),
            self.expires_at.map(|at| at.timestamp()).unwrap_or_default(),
            self.notice.as_deref().unwrap_or("")
        )
    }
}

impl PreviewEnvironmentStatus {
    /// Whether the publisher has sent everything the outbox holds: the comment says what is
    /// wanted (or GitHub refused it, which the status reports) and every reaction went out.
    pub fn published(&self) -> bool {
        !comment_pending(self) && unsent(&self.reactions, self.reacted_up_to).next().is_none()
    }
}

/// Whether the comment does not yet say what is wanted (and GitHub did not refuse it).
pub fn comment_pending(status: &PreviewEnvironmentStatus) -> bool {
    let Some(wanted) = &status.comment_wanted else {
        return false;
    };
    status.comment_failure.is_none()
        && status.commented.as_deref() != Some(wanted.fingerprint().as_str())
}

/// The queued reactions not yet sent (sent: up to `reacted_up_to`).
pub fn unsent(
    reactions: &[QueuedReaction],
    reacted_up_to: Option<u64>,
) -> impl Iterator<Item = &QueuedReaction> {
    reactions
        .iter()
        .filter(move |r| reacted_up_to.is_none_or(|up_to| r.number > up_to))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::crd::Phase;

    fn wanted(phase: Phase) -> WantedComment {
        WantedComment {
            phase,
            sha: "a".repeat(40),
            ..WantedComment::default()
        }
    }

    #[test]
    fn fingerprint_ignores_nothing_the_comment_says() {
        assert_eq!(
            wanted(Phase::Ready).fingerprint(),
            wanted(Phase::Ready).fingerprint()
        );
        assert_ne!(
            wanted(Phase::Ready).fingerprint(),
            wanted(Phase::Failed).fingerprint()
        );
        let answered = WantedComment {
            notice: Some("pinned".into()),
            ..wanted(Phase::Ready)
        };
        assert_ne!(answered.fingerprint(), wanted(Phase::Ready).fingerprint());
    }

    #[test]
    fn pending_until_the_comment_says_what_is_wanted_or_github_refused_it() {
        let mut status = PreviewEnvironmentStatus {
            comment_wanted: Some(wanted(Phase::Ready)),
            ..PreviewEnvironmentStatus::default()
        };
        assert!(comment_pending(&status));
        status.commented = Some(wanted(Phase::Ready).fingerprint());
        assert!(!comment_pending(&status));
        status.commented = Some("older".into());
        status.comment_failure = Some("403".into());
        assert!(!comment_pending(&status));
        assert!(!comment_pending(&PreviewEnvironmentStatus::default()));
    }
}
