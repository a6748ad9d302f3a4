//! previewd keeps time as `chrono`; Kubernetes' types keep it as their own (`jiff` inside
//! k8s-openapi). This is the one place where the two meet.

use chrono::{DateTime, Utc};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, Time};
use k8s_openapi::jiff::Timestamp;

/// How long ago `at` was, seen `now`; nothing for a time ahead of `now` (clock skew).
pub(crate) fn age(at: DateTime<Utc>, now: DateTime<Utc>) -> std::time::Duration {
    (now - at).to_std().unwrap_or_default()
}

/// A Kubernetes `Time` (second precision, as the API server stores it).
pub(crate) fn to_k8s(at: DateTime<Utc>) -> Time {
    Time(Timestamp::from_second(at.timestamp()).unwrap_or_default())
}

/// A Kubernetes `MicroTime` (microsecond precision, as Events carry it).
pub(crate) fn to_k8s_micro(at: DateTime<Utc>) -> MicroTime {
    MicroTime(Timestamp::from_microsecond(at.timestamp_micros()).unwrap_or_default())
}

/// previewd's time of a Kubernetes `Time`.
pub(crate) fn from_k8s(at: &Time) -> DateTime<Utc> {
    DateTime::from_timestamp(at.0.as_second(), at.0.subsec_nanosecond().max(0) as u32)
        .unwrap_or_default()
}

/// `at` as GitHub and Kubernetes write times: `2026-01-02T03:04:05Z`.
pub(crate) fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// previewd's time of a Kubernetes `MicroTime`.
pub(crate) fn from_k8s_micro(at: &MicroTime) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(at.0.as_microsecond()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_at_second_precision() {
        let at = DateTime::from_timestamp(1_767_225_600, 0).unwrap();
        assert_eq!(from_k8s(&to_k8s(at)), at);
        let precise = DateTime::from_timestamp(1_767_225_600, 123_456_789).unwrap();
        assert_eq!(
            from_k8s(&to_k8s(precise)),
            at,
            "the API server keeps seconds"
        );
        assert_eq!(
            to_k8s_micro(precise).0.as_microsecond(),
            precise.timestamp_micros()
        );
    }
}
