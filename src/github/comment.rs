//! The sticky PR comment: rendered from a preview's state, found again by a hidden marker (pure).

use chrono::{DateTime, Utc};

use crate::model::checks::{CheckState, ChecksOutcome, ChecksReport};
use crate::model::crd::{Phase, WantedComment};
use crate::model::markdown::{clip, code};
use crate::model::time::rfc3339;

/// Characters of the message (a failure reason can quote a long API server answer) and of the
/// notice shown; with the rest of the comment, well under GitHub's limit of 65,536.
const MESSAGE_SHOWN: usize = 20_000;
const NOTICE_SHOWN: usize = 20_000;

/// The hidden marker that identifies this installation's comment.
pub fn marker(instance: &str) -> String {
    format!("<!-- previewd:sticky-comment instance={instance} -->")
}

/// Whether a comment is this installation's own: written by one of `own_logins` (the current
/// one, or one previewd wrote as before) and carrying the marker. Someone else quoting the
/// marker does not make their comment ours.
pub(crate) fn is_own(
    body: Option<&str>,
    author: Option<&str>,
    own_logins: &[String],
    marker: &str,
) -> bool {
    author.is_some_and(|a| own_logins.iter().any(|own| a.eq_ignore_ascii_case(own)))
        && body.is_some_and(|b| b.lines().next() == Some(marker))
}

/// What the comment shows.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct CommentView<'a> {
    /// Current phase.
    pub phase: Phase,
    /// Preview URL, once known.
    pub url: Option<&'a str>,
    /// SHA the phase refers to.
    pub sha: &'a str,
    /// Preview namespace.
    pub namespace: &'a str,
    /// Failure reason, what is awaited, or why it was destroyed.
    pub message: Option<&'a str>,
    /// When the preview expires, if it does.
    pub expires_at: Option<DateTime<Utc>>,
    /// The answer to the last command.
    pub notice: Option<&'a str>,
    /// The gated CI checks the head waits for, if it waits.
    pub checks: Option<&'a ChecksReport>,
}

/// The text a wanted comment is rendered from.
pub(crate) fn view(wanted: &WantedComment) -> CommentView<'_> {
    CommentView {
        phase: wanted.phase,
        url: wanted.url.as_deref(),
        sha: &wanted.sha,
        namespace: &wanted.namespace,
        message: wanted.message.as_deref(),
        expires_at: wanted.expires_at,
        notice: wanted.notice.as_deref(),
        checks: wanted.checks.as_ref(),
    }
}

/// Renders the comment body; the marker is its first line.
pub(crate) fn render(view: &CommentView<'_>, instance: &str, at: DateTime<Utc>) -> String {
    let headline = match view.phase {
        Phase::Pending => "⏳ Preview pending",
        Phase::Deploying => "🚧 Preview deploying",
        Phase::Ready => "✅ Preview ready",
        Phase::Failed => "❌ Preview failed",
        Phase::Terminating => "🧹 Preview being destroyed",
        Phase::Destroyed => "🗑️ Preview destroyed",
    };
    let short_sha: String = view.sha.chars().take(7).collect();
    let mut body = format!("{}\n### {headline}\n\n", marker(instance));
    body.push_str("| | |\n|---|---|\n");
    if let Some(url) = view.url.filter(|_| view.phase != Phase::Destroyed) {
        body.push_str(&format!("| URL | [{url}]({url}) |\n"));
    }
    body.push_str(&format!("| Commit | `{short_sha}` |\n"));
    body.push_str(&format!("| Namespace | `{}` |\n", view.namespace));
    body.push_str(&format!("| Phase | {} |\n", view.phase.as_str()));
    if let Some(expires) = view.expires_at {
        body.push_str(&format!(
            "| Expires | {} (idle; `/preview extend 24h` or `/preview pin` keeps it) |\n",
            rfc3339(expires)
        ));
    }
    body.push_str(&format!("| Updated | {} |\n", rfc3339(at)));
    if let Some(message) = view.message {
        let label = if view.phase == Phase::Failed {
            "Reason"
        } else {
            "Details"
        };
        body.push_str(&format!(
            "\n**{label}:**\n\n```\n{}\n```\n",
            clip(message, MESSAGE_SHOWN).replace("```", "'''")
        ));
    }
    if let Some(checks) = view.checks {
        body.push_str(&checks_section(checks));
    }
    if let Some(notice) = view.notice.filter(|n| !n.is_empty()) {
        body.push('\n');
        for line in clip(notice, NOTICE_SHOWN).lines() {
            body.push_str(&format!("> {line}\n"));
        }
    }
    body.push_str("\n<sub>Steer this preview with `/preview help`.</sub>\n");
    body
}

/// Gated checks listed at most (a repository may require many).
const CHECKS_SHOWN: usize = 20;

/// The checks the head waits for, each named and linked to its page on GitHub.
fn checks_section(report: &ChecksReport) -> String {
    let short_sha: String = report.sha.chars().take(7).collect();
    let headline = match report.outcome {
        ChecksOutcome::Waiting => format!("`{short_sha}` deploys when its checks pass:"),
        ChecksOutcome::Failed => format!("`{short_sha}` is not deployed: a check failed."),
        ChecksOutcome::TimedOut => {
            format!("`{short_sha}` is not deployed: its checks did not finish in time.")
        }
    };
    let mut section = format!("\n**Checks:** {headline}\n\n");
    for check in report.checks.iter().take(CHECKS_SHOWN) {
        let icon = match check.state {
            CheckState::NotCreated | CheckState::Running => "⏳",
            CheckState::Failed => "❌",
        };
        let state = check.state_words();
        let name = code(&check.name);
        let link = check
            .url
            .as_deref()
            .and_then(web_link)
            .map(|url| format!(" ([details]({url}))"))
            .unwrap_or_default();
        section.push_str(&format!("- {icon} {name}: {state}{link}\n"));
    }
    if report.checks.len() > CHECKS_SHOWN {
        section.push_str(&format!(
            "- … and {} more\n",
            report.checks.len() - CHECKS_SHOWN
        ));
    }
    section
}

/// `url` as a Markdown link target, if it is a plain http(s) address (a status's `target_url`
/// is whatever its author set).
fn web_link(url: &str) -> Option<&str> {
    let plain = url
        .chars()
        .all(|c| c.is_ascii_graphic() && !matches!(c, '(' | ')' | '<' | '>' | '[' | ']' | '`'));
    (plain && (url.starts_with("https://") || url.starts_with("http://"))).then_some(url)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn view(phase: Phase, message: Option<&str>) -> CommentView<'_> {
        CommentView {
            phase,
            url: Some("https://pr-1.preview.test"),
            sha: "0123456789abcdef",
            namespace: "o-r-pr1-abc",
            message,
            expires_at: None,
            notice: None,
            checks: None,
        }
    }

    #[test]
    fn waiting_checks_are_named_and_linked() {
        let report = ChecksReport {
            sha: "0123456789abcdef".into(),
            since: Utc::now(),
            outcome: ChecksOutcome::Failed,
            checks: vec![
                crate::model::checks::GatedCheck {
                    name: "test `suite`".into(),
                    state: CheckState::Failed,
                    conclusion: Some("failure".into()),
                    url: Some("https://github.com/o/r/runs/7".into()),
                },
                crate::model::checks::GatedCheck {
                    name: "lint".into(),
                    state: CheckState::Running,
                    conclusion: None,
                    url: Some("javascript:alert(1)".into()),
                },
            ],
        };
        let v = CommentView {
            checks: Some(&report),
            ..view(Phase::Ready, None)
        };
        let body = render(&v, "default", Utc::now());
        assert!(
            body.contains("**Checks:** `0123456` is not deployed: a check failed."),
            "{body}"
        );
        assert!(
            body.contains(
                "- ❌ `test 'suite'`: failure ([details](https://github.com/o/r/runs/7))"
            )
        );
        assert!(body.contains("- ⏳ `lint`: running\n"), "{body}");
    }

    #[test]
    fn ready_comment_has_marker_link_sha_and_namespace() {
        let at = Utc.with_ymd_and_hms(2026, 11, 28, 8, 0, 0).unwrap();
        let body = render(&view(Phase::Ready, None), "default", at);
        assert!(body.starts_with(&marker("default")));
        assert!(body.contains("[https://pr-1.preview.test](https://pr-1.preview.test)"));
        assert!(body.contains("`0123456`"));
        assert!(body.contains("`o-r-pr1-abc`"));
        assert!(body.contains("2026-11-28T08:00:00Z"));
    }

    #[test]
    fn failure_reason_cannot_break_out_of_its_block() {
        let body = render(
            &view(Phase::Failed, Some("bad ``` fence")),
            "default",
            Utc::now(),
        );
        assert!(body.contains("**Reason:**"));
        assert_eq!(body.matches("```").count(), 2);
    }

    #[test]
    fn only_own_comments_with_the_marker_are_ours() {
        let m = marker("default");
        let ours = format!("{m}\nbody");
        let own = ["previewd[bot]".to_owned(), "previewd-bot".to_owned()];
        assert!(is_own(Some(&ours), Some("previewd-bot"), &own, &m));
        assert!(is_own(Some(&ours), Some("Previewd[bot]"), &own, &m));
        assert!(!is_own(Some(&ours), Some("mallory"), &own, &m));
        assert!(!is_own(
            Some(&format!("> {m}")),
            Some("previewd-bot"),
            &own,
            &m
        ));
        assert!(!is_own(
            Some(&format!("{}\n", marker("other"))),
            Some("previewd-bot"),
            &own,
            &m
        ));
    }

    #[test]
    fn expiry_and_the_last_answer_are_shown() {
        let at = Utc.with_ymd_and_hms(2026, 11, 28, 8, 0, 0).unwrap();
        let v = CommentView {
            expires_at: Some(at),
            notice: Some("@alice `/preview pin`: pinned\nsecond line"),
            ..view(Phase::Ready, None)
        };
        let body = render(&v, "default", at);
        assert!(body.contains("| Expires | 2026-11-28T08:00:00Z"), "{body}");
        assert!(body.contains("> @alice `/preview pin`: pinned\n> second line\n"));
    }

    /// GitHub refuses a comment body longer than this many characters.
    const GITHUB_COMMENT_LIMIT: usize = 65_536;

    #[test]
    fn the_longest_comment_stays_under_githubs_limit() {
        let at = Utc.with_ymd_and_hms(2026, 11, 28, 8, 0, 0).unwrap();
        let huge = "\u{1F600}".repeat(100_000);
        let v = CommentView {
            expires_at: Some(at),
            notice: Some(&huge),
            ..view(Phase::Failed, Some(&huge))
        };
        let body = render(&v, &"i".repeat(63), at);
        assert!(
            body.chars().count() < GITHUB_COMMENT_LIMIT,
            "{}",
            body.chars().count()
        );
        assert!(body.contains("… (80000 more characters)"));
    }
}
