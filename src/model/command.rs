//! What a `/preview` comment asks for, once found and read (`github::command` finds it in the
//! comment's Markdown). Recorded in the PreviewEnvironment's spec for the controller to run.

use std::time::Duration;

use super::duration;

/// What a `/preview` comment asks for.
#[derive(
    Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(tag = "name", rename_all = "camelCase")]
pub enum Command {
    /// `/preview deploy [--force] [sha]`: deploy the preview; with a SHA, approve exactly that
    /// commit (how a fork's code gets to run); with `--force`, without waiting for CI checks.
    Deploy {
        /// The approved commit, lowercase hex (7 to 40 characters).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        sha: Option<String>,
        /// Deploy the head now, whatever its CI checks say.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        force: bool,
    },
    /// `/preview redeploy`: restart the preview's workloads with fresh pods.
    Redeploy,
    /// `/preview destroy`: tear the preview down.
    Destroy,
    /// `/preview extend <duration>`: keep the preview at least this much longer.
    Extend {
        /// How much longer, in seconds (never zero when parsed from a comment).
        seconds: u64,
    },
    /// `/preview pin`: the preview never expires.
    Pin,
    /// `/preview unpin`: the preview expires again when idle.
    Unpin,
    /// `/preview status`: report the preview's state.
    Status,
    /// `/preview help`, a bare `/preview`, an unknown subcommand or bad arguments; `problem` says
    /// what was wrong.
    Help {
        /// What was wrong with the command, when something was.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        problem: Option<String>,
    },
}

impl Command {
    /// The canonical text of the command, e.g. `/preview extend 1d12h` or
    /// `/preview deploy abc1234` (`Help` is always `/preview help`).
    pub(crate) fn as_text(&self) -> String {
        match self {
            Command::Deploy { sha, force } => {
                let force = if *force { " --force" } else { "" };
                let sha = sha.as_deref().map(|s| format!(" {s}")).unwrap_or_default();
                format!("{PREFIX} deploy{force}{sha}")
            }
            Command::Redeploy => format!("{PREFIX} redeploy"),
            Command::Destroy => format!("{PREFIX} destroy"),
            Command::Extend { seconds } => format!(
                "{PREFIX} extend {}",
                duration::format(Duration::from_secs(*seconds))
            ),
            Command::Pin => format!("{PREFIX} pin"),
            Command::Unpin => format!("{PREFIX} unpin"),
            Command::Status => format!("{PREFIX} status"),
            Command::Help { .. } => format!("{PREFIX} help"),
        }
    }
}

/// The commands as markdown, one per line, each in inline code so that the help itself never
/// parses as a command.
pub(crate) const HELP: &str = "\
**previewd commands**: comment on the pull request with the command on a line of its own.

- `/preview deploy`: deploy the preview of this pull request
- `/preview deploy <sha>`: approve and deploy exactly this commit (7 to 40 hex characters; how a fork's code gets to run)
- `/preview deploy --force`: deploy the head now, without waiting for its CI checks
- `/preview redeploy`: restart the preview's workloads with fresh pods
- `/preview destroy`: tear the preview down
- `/preview extend <duration>`: keep the preview longer, e.g. `/preview extend 24h` or `/preview extend 1d12h` (units `s`, `m`, `h`, `d`, `w`)
- `/preview pin`: never expire the preview
- `/preview unpin`: let the preview expire again when idle
- `/preview status`: report the preview's state
- `/preview help`: show this help
";

/// The command word, matched case-insensitively.
pub(crate) const PREFIX: &str = "/preview";
