//! `/preview` commands in pull request comments (pure).
//!
//! A comment carries at most one command: its first command line, a line whose trimmed text
//! starts with `/preview` (any case) followed by whitespace or the end of the line. Text that
//! GitHub does not show as plain prose is never a command; `pulldown-cmark` finds it as CommonMark
//! does: code blocks (fenced or indented), block quotes (with the lines that lazily continue
//! them without a `>`), HTML comments (also across lines), the content of `<pre>` and
//! `<details>` elements, and inline code (a line starting with a backtick). A line is otherwise
//! read as written, so one starting with markup (`- `, `**`, `\`) is no command line either.
//! Other raw HTML is read like text, as the browser shows it: the `<img>` line of an uploaded
//! screenshot does not hide a command below it.
//! previewd's own sticky comment (first line `<!-- previewd:…`) carries no command.

use std::ops::Range;

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

use crate::model::command::{Command, PREFIX};
use crate::model::duration::{self, DurationError};
use crate::model::markdown::code;

/// How previewd's own sticky comment starts.
const OWN_COMMENT: &str = "<!-- previewd:";

/// The command of a comment: its first command line, or `None` when it has none.
pub(crate) fn parse(body: &str) -> Option<Command> {
    if body
        .lines()
        .next()
        .is_some_and(|first| first.trim_start().starts_with(OWN_COMMENT))
    {
        return None;
    }
    let shown = shown_bytes(body);
    let mut start = 0;
    for line in body.split_inclusive('\n') {
        // A line is read as written, markup included, less what GitHub does not show; the `\r`
        // of Windows line endings goes with the `\n`.
        let visible: String = line
            .trim_end_matches(['\n', '\r'])
            .char_indices()
            .filter(|(i, _)| shown[start + i])
            .map(|(_, c)| c)
            .collect();
        if let Some(arguments) = command_arguments(&visible) {
            return Some(interpret(arguments));
        }
        start += line.len();
    }
    None
}

/// Which bytes of `body` GitHub shows as text: all but block quotes (lazy continuation lines
/// included), code blocks, HTML comments and `<pre>` and `<details>` elements, as CommonMark
/// reads them. Inline code stays shown: a line starting with it is no command line, and in a
/// command line it is part of the arguments.
fn shown_bytes(body: &str) -> Vec<bool> {
    let mut shown = vec![true; body.len()];
    let mut hide = |range: Range<usize>| shown[range].fill(false);
    let mut html = HtmlScan::default();
    // Raw HTML inside a quote or code block is hidden with it and neither opens nor closes
    // anything outside.
    let mut hidden_depth = 0usize;
    for (event, range) in Parser::new_ext(body, Options::empty()).into_offset_iter() {
        match event {
            Event::Start(Tag::BlockQuote(_) | Tag::CodeBlock(_)) => {
                if hidden_depth == 0 {
                    hide(range);
                }
                hidden_depth += 1;
            }
            Event::End(TagEnd::BlockQuote(_) | TagEnd::CodeBlock) => {
                hidden_depth = hidden_depth.saturating_sub(1);
            }
            Event::Html(_) | Event::InlineHtml(_) if hidden_depth == 0 => {
                html.scan(body, range, &mut hide);
            }
            _ => {}
        }
    }
    html.finish(body, &mut hide);
    shown
}

/// Elements whose content GitHub does not show as prose: preformatted text, and collapsed
/// sections (hidden until opened).
const HIDING_ELEMENTS: [&str; 2] = ["pre", "details"];

/// Comments and hiding elements found in the raw HTML of a comment body, read in document order.
#[derive(Default)]
struct HtmlScan {
    /// Up to where the source is inside an HTML comment already read.
    comment_end: usize,
    /// The hiding elements open, innermost last.
    open: Vec<&'static str>,
    /// Where the content of the outermost open hiding element starts.
    open_since: usize,
}

impl HtmlScan {
    /// Reads the raw HTML at `range` of `body`, hiding the comments and elements it finds.
    ///
    /// A comment runs to the next `-->` anywhere after it (or the end): one left open after
    /// another on the line that ends an HTML block goes on into the text below, as in the
    /// browser. An element runs to its closing tag in later raw HTML, nested ones counted.
    fn scan(&mut self, body: &str, range: Range<usize>, hide: &mut impl FnMut(Range<usize>)) {
        let mut at = range.start.max(self.comment_end);
        while let Some(offset) = body.get(at..range.end).and_then(|raw| raw.find('<')) {
            let tag_start = at + offset;
            let rest = &body[tag_start..];
            if let Some(inside) = rest.strip_prefix("<!--") {
                let end = inside
                    .find("-->")
                    .map_or(body.len(), |i| tag_start + 4 + i + 3);
                hide(tag_start..end);
                self.comment_end = end;
                at = end;
                continue;
            }
            at = tag_start + 1;
            let Some((name, closing)) = hiding_tag(rest) else {
                continue;
            };
            // The tags themselves stay shown, so that a line starting with one is no command
            // line, as before.
            if !closing {
                if self.open.is_empty() {
                    self.open_since = rest.find('>').map_or(body.len(), |i| tag_start + i + 1);
                }
                self.open.push(name);
            } else if let Some(depth) = self.open.iter().rposition(|open| *open == name) {
                self.open.truncate(depth);
                if self.open.is_empty() {
                    hide(self.open_since..tag_start.max(self.open_since));
                }
            }
        }
    }

    /// Hides what an element left open covers: the rest of the body, as the browser closes it
    /// only there.
    fn finish(&self, body: &str, hide: &mut impl FnMut(Range<usize>)) {
        if !self.open.is_empty() {
            hide(self.open_since..body.len());
        }
    }
}

/// The hiding element a tag at the start of `text` opens or closes (`true` when it closes).
fn hiding_tag(text: &str) -> Option<(&'static str, bool)> {
    let after = text.strip_prefix('<')?;
    let (after, closing) = match after.strip_prefix('/') {
        Some(after) => (after, true),
        None => (after, false),
    };
    HIDING_ELEMENTS.into_iter().find_map(|name| {
        let next = after.get(..name.len())?;
        let boundary = after[name.len()..]
            .chars()
            .next()
            .is_none_or(|c| c == '>' || c == '/' || c.is_ascii_whitespace());
        (next.eq_ignore_ascii_case(name) && boundary).then_some((name, closing))
    })
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
        "deploy" => deploy(&args),
        "extend" => match args.as_slice() {
            [] => problem(
                "`extend` needs a duration, e.g. `/preview extend 24h` or `/preview extend 1d12h`"
                    .to_owned(),
            ),
            [text] => match duration::parse(text) {
                Err(error @ DurationError::TooLong { .. }) => problem(format!(
                    "{error}, longer than a preview may be extended at once; `/preview pin` keeps it for good"
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

/// `deploy [--force] [sha]`, the flag before or after the SHA.
fn deploy(args: &[&str]) -> Command {
    let force = args.iter().any(|a| a.eq_ignore_ascii_case(FORCE));
    let rest: Vec<&str> = args
        .iter()
        .copied()
        .filter(|a| !a.eq_ignore_ascii_case(FORCE))
        .collect();
    match rest.as_slice() {
        [] => Command::Deploy { sha: None, force },
        [sha] => match commit_sha(sha) {
            Some(sha) => Command::Deploy {
                sha: Some(sha),
                force,
            },
            None => problem(format!(
                "{} is not a commit SHA (7 to 40 hex characters)",
                code(sha)
            )),
        },
        [_, extra @ ..] => unexpected(extra, "`deploy` takes at most a commit SHA and `--force`"),
    }
}

/// The flag of `deploy` that skips the wait for CI checks.
const FORCE: &str = "--force";

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

#[cfg(test)]
mod properties;

#[cfg(test)]
mod tests;
