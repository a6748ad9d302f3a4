//! Property tests of the command parser: any comment body parses without a panic into nothing or
//! a command within what the module documents, and a command line is found or refused by the
//! documented rules whatever text surrounds it.

use previewd_testkit::hostile::{cases, hostile_or_long_text, hostile_text, word};
use proptest::prelude::*;
use proptest::sample::select;

use super::*;
use crate::model::markdown::ECHO_LIMIT;
use crate::timing::LONGEST_ASKED;

/// The longest problem the parser may write: its longest fixed wording (about 110 characters)
/// and two echoes of an argument, each at most `ECHO_LIMIT` characters, `…` and backticks.
const LONGEST_PROBLEM: usize = 120 + 2 * (ECHO_LIMIT + 3);

/// Any characters at all, up to `max` of them.
fn any_text(max: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec(any::<char>(), 0..=max).prop_map(String::from_iter)
}

/// `text` in a random mix of upper and lower case.
fn random_case(text: &'static str) -> impl Strategy<Value = String> {
    proptest::collection::vec(any::<bool>(), text.len()).prop_map(move |upper| {
        text.chars()
            .zip(upper)
            .map(|(c, upper)| if upper { c.to_ascii_uppercase() } else { c })
            .collect()
    })
}

/// One argument word: a SHA-like run of hex, a duration-like text, or hostile text, with no
/// whitespace in it; `safe` leaves out `<`, which can open raw HTML that hides text below.
fn argument(safe: bool) -> impl Strategy<Value = String> {
    let hex = proptest::collection::vec(select(&b"0123456789abcdefABCDEFg"[..]), 0..45)
        .prop_map(|bytes| bytes.into_iter().map(char::from).collect::<String>());
    let duration = proptest::collection::vec(
        (
            prop_oneof![0..100u64, any::<u64>()],
            select(
                &[
                    "s", "m", "h", "d", "w", "S", "H", "D", "W", "M", "y", "ms", "",
                ][..],
            ),
        ),
        1..4,
    )
    .prop_map(|parts| {
        parts
            .into_iter()
            .map(|(number, unit)| format!("{number}{unit}"))
            .collect::<String>()
    });
    prop_oneof![hex, duration, hostile_or_long_text(4, 300)].prop_map(move |text| {
        let word: String = text.split_whitespace().collect();
        let word = if safe { word.replace('<', "(") } else { word };
        if word.is_empty() {
            "x".to_owned()
        } else {
            word
        }
    })
}

/// The parts of a command line: what precedes `/preview` (at most 3 spaces, no code block),
/// `/preview` in any case, whitespace, a subcommand in any case (or none, or an unknown one),
/// its arguments, and trailing whitespace.
#[derive(Clone, Debug)]
struct CommandLine {
    indent: &'static str,
    prefix: String,
    gap: &'static str,
    subcommand: String,
    arguments: Vec<String>,
    trailing: &'static str,
}

impl CommandLine {
    fn text(&self) -> String {
        let mut line = format!("{}{}", self.indent, self.prefix);
        if !self.subcommand.is_empty() {
            line.push_str(self.gap);
            line.push_str(&self.subcommand);
        }
        for argument in &self.arguments {
            line.push_str(self.gap);
            line.push_str(argument);
        }
        line.push_str(self.trailing);
        line
    }

    /// The same line written plainly: lowercase `/preview` and subcommand, single spaces. An
    /// unknown subcommand stays as written, as the problem echoes it.
    fn canonical(&self) -> String {
        let mut words = vec![PREFIX.to_owned()];
        if SUBCOMMANDS.contains(&self.subcommand.to_ascii_lowercase().as_str()) {
            words.push(self.subcommand.to_ascii_lowercase());
        } else {
            words.push(self.subcommand.clone());
        }
        words.extend(self.arguments.iter().cloned());
        words.join(" ")
    }
}

/// The subcommands previewd knows, and none.
const SUBCOMMANDS: [&str; 9] = [
    "deploy", "redeploy", "destroy", "extend", "pin", "unpin", "status", "help", "",
];

fn command_line(safe_arguments: bool) -> impl Strategy<Value = CommandLine> {
    (
        select(&["", " ", "  ", "   "][..]),
        random_case(PREFIX),
        select(&[" ", "  ", "\t", " \t "][..]),
        prop_oneof![select(&SUBCOMMANDS[..]).prop_flat_map(random_case), word(),],
        proptest::collection::vec(argument(safe_arguments), 0..3),
        select(&["", " ", "\t", "  "][..]),
    )
        .prop_map(
            |(indent, prefix, gap, subcommand, arguments, trailing)| CommandLine {
                indent,
                prefix,
                gap,
                subcommand,
                arguments,
                trailing,
            },
        )
}

/// Lines of plain prose: words and punctuation that open no Markdown or HTML construct and hold
/// no command.
fn prose() -> impl Strategy<Value = String> {
    let line = proptest::collection::vec(
        prop_oneof![
            word(),
            select(&["!", ",", "?", ":", "(see)"][..]).prop_map(str::to_owned)
        ],
        0..8,
    )
    .prop_map(|words| words.join(" "));
    proptest::collection::vec(line, 0..4).prop_map(|lines| lines.join("\n"))
}

/// Text below a command line: hostile text and command lines of all kinds, mixed.
fn anything_below() -> impl Strategy<Value = String> {
    let line = prop_oneof![
        hostile_text(8),
        command_line(false).prop_map(|line| line.text()),
    ];
    proptest::collection::vec(line, 0..6).prop_map(|lines| lines.join("\n"))
}

/// What GitHub does not show as prose, opened and left open just above a command line, or
/// written at the start of it: the command line is no command line.
const HIDING_OPENERS: [&str; 14] = [
    "```\n",
    "~~~ sh\n",
    "<!--\n",
    "<!-- a comment\n",
    "<details>\n",
    "<details>\n\n",
    "<pre>\n",
    "> a quote\n",
    "> > nested\n",
    "\n    ",
    "> ",
    "- ",
    "**",
    "`",
];

/// Checks that a parsed command stays within what the parser documents.
fn assert_within_documented(command: &Command) {
    match command {
        Command::Deploy { sha: Some(sha), .. } => {
            assert!(
                (7..=40).contains(&sha.len()),
                "SHA {sha:?} is not 7 to 40 characters"
            );
            assert!(
                sha.bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
                "SHA {sha:?} is not lowercase hex"
            );
        }
        Command::Extend { seconds } => {
            assert!(
                (1..=LONGEST_ASKED.as_secs()).contains(seconds),
                "extend by {seconds} s: not more than nothing and at most a year"
            );
        }
        Command::Help {
            problem: Some(problem),
        } => {
            assert!(!problem.is_empty(), "an empty problem");
            assert!(
                problem.chars().count() <= LONGEST_PROBLEM,
                "a problem of {} characters: {problem:?}",
                problem.chars().count()
            );
            assert!(
                problem.matches('`').count() % 2 == 0,
                "a code span left open: {problem:?}"
            );
        }
        _ => {}
    }
}

/// A command, unless it is help, parses back from its canonical text.
fn assert_canonical_text_parses_back(command: &Command) {
    if !matches!(command, Command::Help { .. }) {
        assert_eq!(parse(&command.as_text()).as_ref(), Some(command));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn any_body_parses_into_a_documented_command_or_none(
        body in prop_oneof![any_text(200), hostile_text(40), anything_below()],
    ) {
        if let Some(command) = parse(&body) {
            assert_within_documented(&command);
            assert_canonical_text_parses_back(&command);
        }
    }

    #[test]
    fn case_and_spacing_never_change_the_command(line in command_line(false)) {
        let command = parse(&line.text());
        prop_assert!(command.is_some(), "{:?} is a command line", line.text());
        prop_assert_eq!(&command, &parse(&line.canonical()));
        let command = command.unwrap();
        assert_within_documented(&command);
        assert_canonical_text_parses_back(&command);
    }

    #[test]
    fn an_argument_never_ends_the_code_span_that_echoes_it(line in command_line(false)) {
        let quoted = CommandLine {
            arguments: line.arguments.iter().map(|a| a.replace('`', "'")).collect(),
            ..line.clone()
        };
        let backticks = |command: Option<Command>| match command {
            Some(Command::Help { problem: Some(problem) }) => problem.matches('`').count(),
            _ => 0,
        };
        prop_assert_eq!(
            backticks(parse(&line.text())),
            backticks(parse(&quoted.text())),
            "the backticks of {:?} reach the problem", line.text()
        );
    }

    #[test]
    fn prose_above_and_anything_below_leave_the_command(
        above in prose(),
        line in command_line(true),
        below in anything_below(),
    ) {
        let expected = parse(&line.text());
        prop_assert!(expected.is_some());
        let body = if above.is_empty() {
            format!("{}\n{below}", line.text())
        } else {
            format!("{above}\n{}\n{below}", line.text())
        };
        prop_assert_eq!(parse(&body), expected, "in {:?}", body);
    }

    #[test]
    fn a_hidden_command_line_is_never_found(
        opener in select(&HIDING_OPENERS[..]),
        line in command_line(true),
        below in anything_below(),
    ) {
        // Nothing below may be a command line: `/` is gone from it.
        let below = below.replace('/', "|");
        let body = format!("{opener}{}\n{below}", line.text().trim_start());
        prop_assert_eq!(parse(&body), None, "in {:?}", body);
    }

    #[test]
    fn previewds_own_comment_carries_no_command(
        indent in select(&["", "  "][..]),
        rest in anything_below(),
    ) {
        prop_assert_eq!(parse(&format!("{indent}{OWN_COMMENT} status -->\n{rest}")), None);
    }
}
