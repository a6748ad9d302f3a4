//! Steering a scenario's previews from PR comments, and watching what previewd answered:
//! command comments, reactions, and waits on the recorded PreviewEnvironment.

use std::time::Duration;

use previewd::model::crd::{Desired, PreviewEnvironment};

use super::scenario::Scenario;
use super::webhooks::Sent;

impl Scenario {
    /// Comments `body` on PR `number` as `login` (claiming `association` in the payload): the
    /// comment exists in the stand-in, so reactions land on it, and GitHub's `issue_comment`
    /// `created` delivery is sent. Returns the comment id and previewd's answer.
    pub async fn comment_as(
        &self,
        number: u64,
        login: &str,
        association: &str,
        body: &str,
    ) -> (u64, Sent) {
        let id = self
            .github
            .seed_comment(&self.owner, &self.repo, number, login, body);
        let payload = self
            .payload("issue-comment-on-pr", number)
            .comment_id(id)
            .comment_author(login, association)
            .comment_body(body);
        (id, self.deliver(&payload).await)
    }

    /// A maintainer (write permission) comments `body` on PR `number`.
    pub async fn maintainer_says(&self, number: u64, body: &str) -> u64 {
        self.github
            .set_permission(&self.owner, &self.repo, MAINTAINER, "write");
        self.comment_as(number, MAINTAINER, "MEMBER", body).await.0
    }

    /// The reactions on comment `id`, by previewd, in order.
    pub fn reactions(&self, id: u64) -> Vec<String> {
        self.github
            .reactions(id)
            .into_iter()
            .filter(|(login, _)| login == super::github::GitHub::LOGIN)
            .map(|(_, content)| content)
            .collect()
    }

    /// Waits until comment `id` carries previewd's reaction `content`.
    pub async fn wait_reaction(&self, id: u64, content: &str, timeout: Duration) {
        let deadline = tokio::time::Instant::now() + timeout;
        while tokio::time::Instant::now() < deadline {
            if self.reactions(id).iter().any(|c| c == content) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "no {content} reaction on comment {id} after {timeout:?}; reactions {:?}\nprevewd log:\n{}",
            self.reactions(id),
            self.previewd.logs()
        );
    }

    /// Waits until PR `number`'s PreviewEnvironment satisfies `what`.
    pub async fn wait_preview(
        &self,
        number: u64,
        description: &str,
        timeout: Duration,
        what: impl Fn(&PreviewEnvironment) -> bool,
    ) -> PreviewEnvironment {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut last = None;
        while tokio::time::Instant::now() < deadline {
            if let Some(pe) = self.preview(number).await {
                if what(&pe) {
                    return pe;
                }
                last = Some(pe);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "PR {number}: not {description} after {timeout:?}; last {last:#?}\nprevewd log:\n{}",
            self.previewd.logs()
        );
    }

    /// Waits until PR `number`'s sticky comment contains `needle`; returns the body.
    pub async fn wait_comment(&self, number: u64, needle: &str) -> String {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            let mine: Vec<String> = self
                .comments(number)
                .into_iter()
                .filter(|c| c.author == super::github::GitHub::LOGIN)
                .map(|c| c.body)
                .collect();
            let text = mine.join("\n---\n");
            if mine.len() == 1 && text.contains(needle) {
                return text;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the comment never said {needle:?}: {text}\nprevewd log:\n{}",
                self.previewd.logs()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Pushes `sha` (the `pr-synchronize-new-sha` payload) to PR `number`, whose preview is
    /// destroyed: the SHA is recorded, `desired` stays, and no namespace comes back.
    pub async fn push_leaves_destroyed(&self, number: u64, sha: &str, desired: &Desired) {
        self.deliver(&self.payload("pr-synchronize-new-sha", number))
            .await;
        let pushed = self
            .wait_preview(number, "at the pushed SHA", Duration::from_secs(20), |pe| {
                pe.spec.pull.head_sha == sha
            })
            .await;
        assert_eq!(&pushed.spec.desired, desired);
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert!(
            self.namespace(number).await.is_none(),
            "a push revived a destroyed preview"
        );
        assert_eq!(&self.preview(number).await.unwrap().spec.desired, desired);
    }

    /// The sticky comment's body on PR `number`.
    pub fn comment_text(&self, number: u64) -> String {
        self.sticky_comment(number).body
    }
}

/// The maintainer login the tests comment as.
pub const MAINTAINER: &str = "maintainer-mona";

/// The status message of a preview (empty when there is none).
pub fn status_message(pe: &PreviewEnvironment) -> String {
    pe.status
        .as_ref()
        .and_then(|s| s.message.clone())
        .unwrap_or_default()
}
