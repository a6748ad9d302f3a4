//! When an idle preview expires (pure): its time to live counts from the last push or the start
//! of its current deployment, whichever is later (a PR that waited long in the queue or as a
//! draft still gets its full time); `extend` moves the end, `pin` removes it.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::model::crd::PreviewEnvironmentSpec;
use crate::timing::SAME_MOMENT;

/// When `spec`'s preview, deploying since `deployed_since`, expires under `ttl`; `None` when it
/// never does.
pub(crate) fn expires_at(
    spec: &PreviewEnvironmentSpec,
    ttl: Option<Duration>,
    deployed_since: Option<DateTime<Utc>>,
) -> Option<DateTime<Utc>> {
    if spec.pinned {
        return None;
    }
    let ttl = chrono::Duration::from_std(ttl?).ok()?;
    // A deployment that started right after the push (the usual case) does not move the end:
    // the comment written while deploying and the one written when ready show the same time.
    let idle_since = match (spec.last_activity_at, deployed_since) {
        (Some(push), Some(deploy))
            if deploy - push <= chrono::Duration::from_std(SAME_MOMENT).unwrap_or_default() =>
        {
            Some(push)
        }
        (push, deploy) => push.max(deploy),
    };
    // A time near the end of the calendar (a hand-written spec) saturates instead of panicking.
    let idle_end = idle_since.map(|at| {
        at.checked_add_signed(ttl)
            .unwrap_or(DateTime::<Utc>::MAX_UTC)
    });
    match (idle_end, spec.extended_until) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

/// The new end after `/preview extend <by>`: from the current end, or from now if that is later
/// (extending an already expired preview counts from now).
pub(crate) fn extended(
    current: Option<DateTime<Utc>>,
    by: Duration,
    now: DateTime<Utc>,
) -> DateTime<Utc> {
    let by = chrono::Duration::from_std(by).unwrap_or(chrono::Duration::MAX);
    let from = current.map_or(now, |end| end.max(now));
    from.checked_add_signed(by)
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 1, hour, 0, 0).unwrap()
    }

    fn spec() -> PreviewEnvironmentSpec {
        serde_json::from_value(serde_json::json!({
            "repository": {"id": 1, "fullName": "o/r"}, "number": 1, "headSha": "b",
            "branch": "f", "baseBranch": "main", "title": "t", "author": "a",
            "desired": {"state": "Deployed"}, "lastActivityAt": "2026-01-01T01:00:00Z"
        }))
        .unwrap()
    }

    const HOURS_3: Option<Duration> = Some(Duration::from_secs(3 * 3600));

    #[test]
    fn counts_from_the_last_push_or_the_deployment() {
        assert_eq!(expires_at(&spec(), HOURS_3, None), Some(at(4)));
        assert_eq!(expires_at(&spec(), HOURS_3, Some(at(0))), Some(at(4)));
        let right_after = at(1) + chrono::Duration::seconds(30);
        assert_eq!(expires_at(&spec(), HOURS_3, Some(right_after)), Some(at(4)));
        assert_eq!(expires_at(&spec(), HOURS_3, Some(at(5))), Some(at(8)));
        assert_eq!(expires_at(&spec(), None, Some(at(5))), None);
    }

    #[test]
    fn extend_moves_and_pin_removes_the_end() {
        let mut s = spec();
        s.extended_until = Some(extended(
            expires_at(&s, HOURS_3, None),
            Duration::from_secs(3600),
            at(2),
        ));
        assert_eq!(expires_at(&s, HOURS_3, None), Some(at(5)));
        assert_eq!(
            extended(Some(at(1)), Duration::from_secs(3600), at(6)),
            at(7)
        );
        s.pinned = true;
        assert_eq!(expires_at(&s, HOURS_3, None), None);
    }

    #[test]
    fn times_at_the_end_of_the_calendar_saturate() {
        let mut s = spec();
        s.last_activity_at = Some(DateTime::<Utc>::MAX_UTC - chrono::Duration::seconds(1));
        let longest = Some(crate::timing::LONGEST_ASKED);
        assert_eq!(
            expires_at(&s, longest, None),
            Some(DateTime::<Utc>::MAX_UTC)
        );
        assert_eq!(
            extended(s.last_activity_at, Duration::MAX, at(0)),
            DateTime::<Utc>::MAX_UTC
        );
    }
}
