//! How long the controller's watches rest after an error. kube-runtime's default doubles from
//! 0.8 s to 30 s with jitter for all of the controller's watches together, so after an API
//! server restart, when each watch in turn is told its resourceVersion is too old (410) and must
//! list again, the errors add up to a minute or more with no reconcile at all. previewd's
//! backoff stays short: an outage costs seconds of blindness, not minutes.

use std::time::Duration;

use kube::runtime::utils::Backoff;

use crate::timing::WATCH_BACKOFF_FIRST as FIRST;
use crate::timing::WATCH_BACKOFF_MAX as MAX;

/// Doubles from 250 ms up to 1 s; reset after a success.
#[derive(Clone, Debug)]
pub(crate) struct WatchBackoff {
    next: Duration,
}

impl Default for WatchBackoff {
    fn default() -> Self {
        WatchBackoff { next: FIRST }
    }
}

impl Iterator for WatchBackoff {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        let wait = self.next;
        self.next = (self.next * 2).min(MAX);
        Some(wait)
    }
}

impl Backoff for WatchBackoff {
    fn reset(&mut self) {
        self.next = FIRST;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_up_to_the_cap_and_starts_over_after_a_reset() {
        let mut backoff = WatchBackoff::default();
        let waits: Vec<u128> = backoff.by_ref().take(7).map(|d| d.as_millis()).collect();
        assert_eq!(waits, [250, 500, 1000, 1000, 1000, 1000, 1000]);
        backoff.reset();
        assert_eq!(backoff.next(), Some(FIRST));
    }
}
