//! Comment edits coalesced: at most one edit of a comment per window. An edit asked for within
//! the window waits for its end; if a newer edit of the same comment is asked for meanwhile,
//! the older one is dropped and only the newer (the latest state) is sent.

use std::collections::HashMap;
use std::sync::Mutex;

use tokio::time::Instant;

pub(crate) use crate::timing::EDIT_WINDOW;

#[derive(Debug)]
struct Window {
    last_sent: Option<Instant>,
    latest_ticket: u64,
}

/// Edit windows by comment id.
#[derive(Debug, Default)]
pub(crate) struct Edits {
    windows: Mutex<HashMap<u64, Window>>,
}

impl Edits {
    /// Waits for `comment`'s window; false when a newer edit of it came meanwhile (then this
    /// edit is not to be sent).
    pub(crate) async fn wait_turn(&self, comment: u64) -> bool {
        let (ticket, last_sent) = {
            let mut windows = self.lock();
            windows.retain(|_, w| w.last_sent.is_none_or(|at| at.elapsed() < EDIT_WINDOW * 10));
            let window = windows.entry(comment).or_insert(Window {
                last_sent: None,
                latest_ticket: 0,
            });
            window.latest_ticket += 1;
            (window.latest_ticket, window.last_sent)
        };
        if let Some(at) = last_sent {
            tokio::time::sleep_until(at + EDIT_WINDOW).await;
        }
        self.lock()
            .get(&comment)
            .is_none_or(|w| w.latest_ticket == ticket)
    }

    /// Notes that an edit of `comment` was sent now.
    pub(crate) fn sent(&self, comment: u64) {
        if let Some(window) = self.lock().get_mut(&comment) {
            window.last_sent = Some(Instant::now());
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Window>> {
        self.windows.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn the_first_edit_goes_at_once_and_the_next_waits_for_the_window() {
        let edits = Edits::default();
        let start = Instant::now();
        assert!(edits.wait_turn(1).await);
        edits.sent(1);
        assert_eq!(start.elapsed(), std::time::Duration::ZERO);
        assert!(edits.wait_turn(1).await);
        assert_eq!(start.elapsed(), EDIT_WINDOW);
        assert!(
            edits.wait_turn(2).await,
            "another comment has its own window"
        );
        assert_eq!(start.elapsed(), EDIT_WINDOW);
    }

    #[tokio::test(start_paused = true)]
    async fn an_edit_overtaken_by_a_newer_one_is_dropped() {
        let edits = std::sync::Arc::new(Edits::default());
        assert!(edits.wait_turn(1).await);
        edits.sent(1);
        let older = tokio::spawn({
            let edits = edits.clone();
            async move { edits.wait_turn(1).await }
        });
        tokio::task::yield_now().await;
        let newer = edits.wait_turn(1).await;
        assert!(newer);
        assert!(!older.await.unwrap());
    }
}
