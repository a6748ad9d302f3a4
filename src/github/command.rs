//! `/preview` commands in pull request comments (pure).
//!
//! A comment carries at most one command: its first command line, a line whose trimmed text
//! starts with `/preview` (any case) followed by whitespace or the end of the line. Text that
//! GitHub does not show as plain prose is never a command: fenced code blocks (```` ``` ```` or
//! `~~~`), indented code (4+ columns of leading whitespace), block quotes (`>`), HTML comments
//! (`<!-- … -->`, also across lines) and inline code (a line starting with a backtick).
//! previewd's own sticky comment (first line `<!-- previewd:…`) carries no command.

use std::time::Duration;

use crate::model::duration;

/// What a `/preview` comment asks for.
#[derive(
    Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(tag = "name", rename_all = "camelCase")]
pub enum Command {
    /// `/preview deploy [sha]`: deploy the preview; with a SHA, approve exactly that commit
    /// (how a fork's code gets to run).
    Deploy {
        /// The approved commit, lowercase hex (7 to 40 characters).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        sha: Option<String>,
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
    pub fn as_text(&self) -> String {
        match self {
            Command::Deploy { sha: None } => format!("{PREFIX} deploy"),
            Command::Deploy { sha: Some(sha) } => format!("{PREFIX} deploy {sha}"),
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
pub const HELP: &str = "\
**previewd commands**: comment on the pull request with the command on a line of its own.

- `/preview deploy`: deploy the preview of this pull request
- `/preview deploy <sha>`: approve and deploy exactly this commit (7 to 40 hex characters; how a fork's code gets to run)
- `/preview redeploy`: restart the preview's workloads with fresh pods
- `/preview destroy`: tear the preview down
- `/preview extend <duration>`: keep the preview longer, e.g. `/preview extend 24h` or `/preview extend 1d12h` (units `s`, `m`, `h`, `d`, `w`)
- `/preview pin`: never expire the preview
- `/preview unpin`: let the preview expire again when idle
- `/preview status`: report the preview's state
- `/preview help`: show this help
";

/// The longest `/preview extend` takes (longer asks for `/preview pin`).
pub const MAX_EXTENSION: Duration = Duration::from_secs(365 * 86_400);

/// The command word, matched case-insensitively.
const PREFIX: &str = "/preview";

/// How previewd's own sticky comment starts.
const OWN_COMMENT: &str = "<!-- previewd:";

/// Longest argument echoed back in a problem, in characters.
const ECHO_LIMIT: usize = 40;

/// The command of a comment: its first command line, or `None` when it has none.
pub fn parse(body: &str) -> Option<Command> {
    if body
        .lines()
        .next()
        .is_some_and(|first| first.trim_start().starts_with(OWN_COMMENT))
    {
        return None;
    }
    let mut fence: Option<Fence> = None;
    let mut in_comment = false;
    // `lines` also strips the `\r` of Windows line endings.
    for line in body.lines() {
        if let Some(open) = &fence {
            if open.is_closed_by(line) {
                fence = None;
            }
            continue;
        }
        if !in_comment {
            if indent_width(line) >= 4 || line.trim_start().starts_with('>') {
                continue;
            }
            if let Some(open) = Fence::opened_by(line) {
                fence = Some(open);
                continue;
            }
        }
        let visible = strip_html_comments(line, &mut in_comment);
        if let Some(arguments) = command_arguments(&visible) {
            return Some(interpret(arguments));
        }
    }
    None
}

/// An open fenced code block: its fence character and length.
#[derive(Clone, Copy, Debug)]
struct Fence {
    ch: char,
    len: usize,
}

impl Fence {
    /// The fence a line opens: up to 3 spaces, then 3 or more backticks or tildes (a backtick
    /// fence's info string cannot contain a backtick: that line is inline code instead).
    fn opened_by(line: &str) -> Option<Fence> {
        if indent_width(line) >= 4 {
            return None;
        }
        let rest = line.trim_start_matches(' ');
        let ch = rest.chars().next().filter(|c| matches!(c, '`' | '~'))?;
        let len = rest.chars().take_while(|&c| c == ch).count();
        if len < 3 || (ch == '`' && rest[len..].contains('`')) {
            return None;
        }
        Some(Fence { ch, len })
    }

    /// Whether `line` closes this fence: up to 3 spaces, then at least as many of the same
    /// character, then nothing but whitespace.
    fn is_closed_by(&self, line: &str) -> bool {
        if indent_width(line) >= 4 {
            return false;
        }
        let rest = line.trim_start_matches(' ');
        let len = rest.chars().take_while(|&c| c == self.ch).count();
        len >= self.len && rest[len..].trim().is_empty()
    }
}

/// Columns of leading whitespace, a tab advancing to the next multiple of 4.
fn indent_width(line: &str) -> usize {
    let mut width = 0;
    for c in line.chars() {
        match c {
            ' ' => width += 1,
            '\t' => width += 4 - width % 4,
            _ => break,
        }
    }
    width
}

/// `line` without its HTML comments; `in_comment` says whether a comment is open before the
/// line and is left saying whether one is open after it. `<!--` inside a code span does not
/// open a comment.
fn strip_html_comments(line: &str, in_comment: &mut bool) -> String {
    let mut visible = String::new();
    let mut rest = line;
    loop {
        if *in_comment {
            let Some(end) = rest.find("-->") else {
                return visible;
            };
            *in_comment = false;
            rest = &rest[end + 3..];
        } else {
            let Some(start) = comment_start(rest) else {
                visible.push_str(rest);
                return visible;
            };
            visible.push_str(&rest[..start]);
            *in_comment = true;
            rest = &rest[start + 4..];
        }
    }
}

/// Byte offset of the first `<!--` outside code spans.
fn comment_start(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let run_at = |i: usize| bytes[i..].iter().take_while(|&&b| b == b'`').count();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'`' {
            let run = run_at(i);
            // A code span closes at the next run of exactly as many backticks.
            let mut j = i + run;
            let mut end = None;
            while j < bytes.len() {
                if bytes[j] == b'`' {
                    let other = run_at(j);
                    if other == run {
                        end = Some(j + other);
                        break;
                    }
                    j += other;
                } else {
                    j += 1;
                }
            }
            i = end.unwrap_or(i + run);
        } else if bytes[i..].starts_with(b"<!--") {
            return Some(i);
        } else {
            i += 1;
        }
    }
    None
}

/// What follows `/preview` on a command line; `None` when the line is no command line.
fn command_arguments(line: &str) -> Option<&str> {
    let text = line.trim();
    let head = text.get(..PREFIX.len())?;
    let rest = &text[PREFIX.len()..];
    (head.eq_ignore_ascii_case(PREFIX)
        && (rest.is_empty() || rest.starts_with(char::is_whitespace)))
    .then_some(rest)
}

/// The command of the words after `/preview`.
fn interpret(arguments: &str) -> Command {
    let mut words = arguments.split_whitespace();
    let Some(name) = words.next() else {
        return Command::Help { problem: None };
    };
    let args: Vec<&str> = words.collect();
    match name.to_ascii_lowercase().as_str() {
        "deploy" => match args.as_slice() {
            [] => Command::Deploy { sha: None },
            [sha] => match commit_sha(sha) {
                Some(sha) => Command::Deploy { sha: Some(sha) },
                None => problem(format!(
                    "{} is not a commit SHA (7 to 40 hex characters)",
                    code(sha)
                )),
            },
            [_, extra @ ..] => {
                unexpected(extra, "`deploy` takes at most one argument, a commit SHA")
            }
        },
        "extend" => match args.as_slice() {
            [] => problem(
                "`extend` needs a duration, e.g. `/preview extend 24h` or `/preview extend 1d12h`"
                    .to_owned(),
            ),
            [text] => match duration::parse(text) {
                Ok(by) if by > MAX_EXTENSION => problem(format!(
                    "{} is longer than a preview may be extended at once ({}); `/preview pin` keeps it for good",
                    code(text),
                    duration::format(MAX_EXTENSION)
                )),
                Ok(by) => Command::Extend {
                    seconds: by.as_secs(),
                },
                Err(error) => problem(format!(
                    "{error}; `extend` needs a duration, e.g. `24h` or `1d12h`"
                )),
            },
            [_, extra @ ..] => unexpected(extra, "`extend` takes exactly one argument, a duration"),
        },
        "redeploy" => without_arguments(Command::Redeploy, "redeploy", &args),
        "destroy" => without_arguments(Command::Destroy, "destroy", &args),
        "pin" => without_arguments(Command::Pin, "pin", &args),
        "unpin" => without_arguments(Command::Unpin, "unpin", &args),
        "status" => without_arguments(Command::Status, "status", &args),
        // Whatever follows `help` is read as "help about …": the help it is.
        "help" => Command::Help { problem: None },
        _ => problem(format!("unknown command {}", code(name))),
    }
}

/// `command` when nothing follows it, else help saying what did.
fn without_arguments(command: Command, name: &str, args: &[&str]) -> Command {
    if args.is_empty() {
        command
    } else {
        unexpected(args, &format!("`{name}` takes no arguments"))
    }
}

fn unexpected(extra: &[&str], rule: &str) -> Command {
    problem(format!("unexpected {}: {rule}", code(&extra.join(" "))))
}

fn problem(problem: String) -> Command {
    Command::Help {
        problem: Some(problem),
    }
}

/// A commit SHA as previewd stores it (lowercase), if `text` is 7 to 40 hex characters.
fn commit_sha(text: &str) -> Option<String> {
    ((7..=40).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| text.to_ascii_lowercase())
}

/// `text` as inline code for a problem message: backticks become `'` (they would end the code
/// span) and long text is cut short.
fn code(text: &str) -> String {
    let mut shown: String = text
        .chars()
        .take(ECHO_LIMIT)
        .map(|c| if c == '`' { '\'' } else { c })
        .collect();
    if text.chars().count() > ECHO_LIMIT {
        shown.push('…');
    }
    format!("`{shown}`")
}

#[cfg(test)]
mod tests;
