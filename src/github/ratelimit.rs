//! GitHub's rate limits, judged from one answer (pure). A 403 or 429 is a rate limit only when
//! it says so: a `retry-after` header, `x-ratelimit-remaining: 0`, or the secondary-limit
//! message. Any other 403 is a permission error, which waiting does not fix.

use std::time::Duration;

pub(crate) use crate::timing::{
    RATE_LIMIT_FIRST_BACKOFF as FIRST_BACKOFF, RATE_LIMIT_MAX_BACKOFF as MAX_BACKOFF,
};

/// What the rate-limit headers of an answer said.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Limits {
    /// `retry-after`, in seconds.
    pub retry_after: Option<u64>,
    /// `x-ratelimit-remaining`.
    pub remaining: Option<u64>,
    /// `x-ratelimit-reset`, in Unix seconds.
    pub reset: Option<i64>,
}

impl Limits {
    /// Reads the headers (a header that is missing or not a number counts as absent).
    pub(crate) fn read(headers: &http::HeaderMap) -> Self {
        fn number<T: std::str::FromStr>(headers: &http::HeaderMap, name: &str) -> Option<T> {
            headers.get(name)?.to_str().ok()?.trim().parse().ok()
        }
        Limits {
            retry_after: number(headers, "retry-after"),
            remaining: number(headers, "x-ratelimit-remaining"),
            reset: number(headers, "x-ratelimit-reset"),
        }
    }

    /// Seconds until the window resets, counted from `now` (Unix seconds).
    fn until_reset(&self, now: i64) -> Option<Duration> {
        self.reset
            .map(|reset| Duration::from_secs(reset.saturating_sub(now).max(1) as u64))
    }
}

/// What an answer means for the calls after it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Go on.
    Proceed,
    /// The call was refused for a rate limit; make no call for this long.
    Limited(Duration),
    /// The call went through but used the last request of the window: make no call until it
    /// resets, this long from now.
    Exhausted(Duration),
}

/// Judges an answer with `status`, `limits` and GitHub's `message`, at `now` (Unix seconds),
/// after `in_a_row` rate-limited answers just before it.
pub(crate) fn judge(
    status: u16,
    limits: &Limits,
    message: &str,
    now: i64,
    in_a_row: u32,
) -> Verdict {
    let said_so = limits.retry_after.is_some()
        || limits.remaining == Some(0)
        || message.to_ascii_lowercase().contains("rate limit");
    if matches!(status, 403 | 429) && said_so {
        let wait = limits
            .retry_after
            .map(Duration::from_secs)
            .or_else(|| {
                limits
                    .until_reset(now)
                    .filter(|_| limits.remaining == Some(0))
            })
            .unwrap_or_else(|| backoff(in_a_row));
        return Verdict::Limited(wait.min(MAX_BACKOFF));
    }
    if (200..400).contains(&status) && limits.remaining == Some(0) {
        let wait = limits.until_reset(now).unwrap_or(FIRST_BACKOFF);
        return Verdict::Exhausted(wait.min(MAX_BACKOFF));
    }
    Verdict::Proceed
}

/// 60 s, 120 s, 240 s, ... up to the maximum.
fn backoff(in_a_row: u32) -> Duration {
    FIRST_BACKOFF
        .saturating_mul(2u32.saturating_pow(in_a_row.min(10)))
        .min(MAX_BACKOFF)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000;

    fn limits(retry_after: Option<u64>, remaining: Option<u64>, reset: Option<i64>) -> Limits {
        Limits {
            retry_after,
            remaining,
            reset,
        }
    }

    #[test]
    fn retry_after_is_honoured_first() {
        let l = limits(Some(7), Some(0), Some(NOW + 600));
        assert_eq!(
            judge(403, &l, "", NOW, 0),
            Verdict::Limited(Duration::from_secs(7))
        );
        assert_eq!(
            judge(429, &l, "", NOW, 3),
            Verdict::Limited(Duration::from_secs(7))
        );
    }

    #[test]
    fn an_exhausted_primary_limit_waits_for_the_reset() {
        let l = limits(None, Some(0), Some(NOW + 120));
        assert_eq!(
            judge(403, &l, "API rate limit exceeded for user ID 1.", NOW, 0),
            Verdict::Limited(Duration::from_secs(120))
        );
    }

    #[test]
    fn a_secondary_limit_without_a_time_backs_off_from_a_minute() {
        let l = limits(None, Some(4000), Some(NOW + 3000));
        let message = "You have exceeded a secondary rate limit.";
        assert_eq!(
            judge(403, &l, message, NOW, 0),
            Verdict::Limited(FIRST_BACKOFF)
        );
        assert_eq!(
            judge(403, &l, message, NOW, 1),
            Verdict::Limited(Duration::from_secs(120))
        );
        assert_eq!(
            judge(403, &l, message, NOW, 30),
            Verdict::Limited(MAX_BACKOFF)
        );
    }

    #[test]
    fn any_other_403_is_a_permission_error() {
        let l = limits(None, Some(4999), Some(NOW + 3000));
        assert_eq!(
            judge(403, &l, "Resource not accessible by integration", NOW, 0),
            Verdict::Proceed
        );
        assert_eq!(judge(404, &l, "Not Found", NOW, 0), Verdict::Proceed);
    }

    #[test]
    fn the_last_request_of_a_window_pauses_until_the_reset() {
        let l = limits(None, Some(0), Some(NOW + 30));
        assert_eq!(
            judge(200, &l, "", NOW, 0),
            Verdict::Exhausted(Duration::from_secs(30))
        );
        let past = limits(None, Some(0), Some(NOW - 5));
        assert_eq!(
            judge(201, &past, "", NOW, 0),
            Verdict::Exhausted(Duration::from_secs(1))
        );
    }

    #[test]
    fn headers_that_are_not_numbers_are_ignored() {
        let mut headers = http::HeaderMap::new();
        headers.insert(
            "retry-after",
            "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap(),
        );
        headers.insert("x-ratelimit-remaining", "12".parse().unwrap());
        assert_eq!(Limits::read(&headers), limits(None, Some(12), None));
    }
}
