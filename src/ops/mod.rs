//! Operator verbs over the kubeconfig, outside the controller: `previewd list`, `previewd status`
//! and `previewd gc`. They read what the controller recorded and judge it with the controller's
//! own rules; what they print is built by pure functions here, apart from the reads and deletes.

#[cfg(test)]
pub(crate) mod fixtures;
pub mod gc;
pub mod list;
pub mod status;

use chrono::{DateTime, Utc};
use kube::api::ListParams;
use kube::{Api, Client};

use crate::config::{Allowlist, FileConfig};
use crate::model::crd::{Desired, PreviewEnvironment};
use crate::model::labels;
use crate::rules::expiry::expires_at;
use crate::rules::status::holds_phase;

/// Every PreviewEnvironment of installation `instance`.
pub async fn previews(
    client: &Client,
    instance: &str,
) -> Result<Vec<PreviewEnvironment>, kube::Error> {
    let selector = labels::instance_selector(instance);
    Ok(Api::<PreviewEnvironment>::all(client.clone())
        .list(&ListParams::default().labels(&selector))
        .await?
        .items)
}

/// `text` safe to print on a terminal: control characters (escape sequences in a PR title or
/// branch) become `�`, and it is cut to `max` characters with `…`.
pub(crate) fn printable(text: &str, max: usize) -> String {
    let mut out: String = text
        .chars()
        .map(|c| if c.is_control() { '\u{FFFD}' } else { c })
        .take(max)
        .collect();
    if text.chars().count() > max {
        out.pop();
        out.push('…');
    }
    out
}

/// When `pe`'s running preview expires if idle, by its repository's time to live in `config`
/// (names as written there: the verbs do not ask GitHub); `None` when pinned, never, or not
/// running.
pub(crate) fn expiry(pe: &PreviewEnvironment, config: &FileConfig) -> Option<DateTime<Utc>> {
    let status = pe.status.clone().unwrap_or_default();
    let allowlist = Allowlist::unresolved(config.repositories.len());
    let ttl = config
        .repository_settings(&allowlist, &pe.spec.pull.repository)
        .ttl
        .0;
    let running = pe.spec.desired == Desired::Deployed && holds_phase(status.phase);
    expires_at(&pe.spec, ttl, status.deploy_started_at).filter(|_| running)
}

/// The expiry as a list shows it: `pinned`, `in 2d`, `now`, or `None` when there is none.
pub(crate) fn expiry_text(
    pinned: bool,
    expires_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Option<String> {
    match (pinned, expires_at) {
        (true, _) => Some("pinned".to_owned()),
        (false, Some(at)) if at > now => Some(format!("in {}", span((at - now).num_seconds()))),
        (false, Some(_)) => Some("now".to_owned()),
        (false, None) => None,
    }
}

/// How long ago `at` was, as `kubectl` shows ages: `45s`, `12m`, `5h`, `3d`.
pub(crate) fn age(at: DateTime<Utc>, now: DateTime<Utc>) -> String {
    span((now - at).num_seconds())
}

/// `seconds` as `kubectl` shows ages (nothing below zero).
fn span(seconds: i64) -> String {
    match seconds.max(0) {
        s if s < 120 => format!("{s}s"),
        s if s < 2 * 3600 => format!("{}m", s / 60),
        s if s < 2 * 86_400 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86_400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn text_from_github_cannot_move_the_terminal() {
        assert_eq!(printable("a\u{1b}[2Jb\n", 10), "a\u{FFFD}[2Jb\u{FFFD}");
        assert_eq!(printable("abcdef", 4), "abc…");
        assert_eq!(printable("abcd", 4), "abcd");
    }

    #[test]
    fn ages_read_like_kubectls() {
        let now = Utc.with_ymd_and_hms(2026, 1, 10, 0, 0, 0).unwrap();
        let ago = |s: i64| age(now - chrono::Duration::seconds(s), now);
        assert_eq!(ago(5), "5s");
        assert_eq!(ago(600), "10m");
        assert_eq!(ago(5 * 3600), "5h");
        assert_eq!(ago(3 * 86_400), "3d");
        assert_eq!(age(now + chrono::Duration::seconds(5), now), "0s");
    }
}
