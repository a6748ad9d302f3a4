use super::*;
use crate::model::command::HELP;

fn deploy(sha: Option<&str>) -> Command {
    Command::Deploy {
        sha: sha.map(str::to_owned),
        force: false,
    }
}

fn forced(sha: Option<&str>) -> Command {
    Command::Deploy {
        sha: sha.map(str::to_owned),
        force: true,
    }
}

fn help(problem: Option<&str>) -> Command {
    Command::Help {
        problem: problem.map(str::to_owned),
    }
}

fn extend(seconds: u64) -> Command {
    Command::Extend { seconds }
}

fn check(cases: &[(&str, Option<Command>)]) {
    for (body, expected) in cases {
        assert_eq!(parse(body), *expected, "parsing {body:?}");
    }
}

#[test]
fn every_subcommand() {
    check(&[
        ("/preview deploy", Some(deploy(None))),
        ("/preview deploy abc1234", Some(deploy(Some("abc1234")))),
        ("/preview deploy --force", Some(forced(None))),
        (
            "/preview deploy --FORCE abc1234",
            Some(forced(Some("abc1234"))),
        ),
        (
            "/preview deploy abc1234 --force",
            Some(forced(Some("abc1234"))),
        ),
        (
            "/preview deploy 0123456789abcdef0123456789abcdef01234567",
            Some(deploy(Some("0123456789abcdef0123456789abcdef01234567"))),
        ),
        ("/preview redeploy", Some(Command::Redeploy)),
        ("/preview destroy", Some(Command::Destroy)),
        ("/preview extend 24h", Some(extend(24 * 3600))),
        ("/preview extend 1d12h", Some(extend(36 * 3600))),
        ("/preview extend 90s", Some(extend(90))),
        ("/preview extend 1w", Some(extend(7 * 86_400))),
        ("/preview pin", Some(Command::Pin)),
        ("/preview unpin", Some(Command::Unpin)),
        ("/preview status", Some(Command::Status)),
        ("/preview help", Some(help(None))),
        ("/preview help deploy", Some(help(None))),
        ("/preview", Some(help(None))),
        ("/preview   ", Some(help(None))),
    ]);
}

#[test]
fn case_and_spacing() {
    check(&[
        ("/Preview DEPLOY", Some(deploy(None))),
        ("/PREVIEW Destroy", Some(Command::Destroy)),
        ("/preview ExTeNd 24H", Some(extend(24 * 3600))),
        ("/preview deploy ABC1234", Some(deploy(Some("abc1234")))),
        ("/preview deploy AbCdEf0", Some(deploy(Some("abcdef0")))),
        ("/preview\tdeploy", Some(deploy(None))),
        (
            "/preview    deploy   abc1234   ",
            Some(deploy(Some("abc1234"))),
        ),
        ("/preview \t extend \t 2h", Some(extend(7200))),
        ("   /preview pin", Some(Command::Pin)),
        ("/preview status\t", Some(Command::Status)),
        ("/PREVIEW", Some(help(None))),
        // Not the command word.
        ("/previewer deploy", None),
        ("/previews", None),
        ("/preview-deploy", None),
        ("/preview/deploy", None),
        ("/prev deploy", None),
        ("preview deploy", None),
        ("/ preview deploy", None),
        ("\\/preview deploy", None),
        // Not at the start of the line.
        ("please /preview deploy", None),
        ("- /preview deploy", None),
        ("* /preview deploy", None),
        ("1. /preview deploy", None),
        ("**/preview deploy**", None),
        ("", None),
        ("\n\n", None),
        ("Looks good to me!", None),
    ]);
}

#[test]
fn first_command_line_wins() {
    check(&[
        (
            "LGTM\n/preview deploy abc1234\n/preview destroy",
            Some(deploy(Some("abc1234"))),
        ),
        ("/preview status\n/preview deploy", Some(Command::Status)),
        // A bad first command is not skipped for a good later one.
        (
            "/preview frobnicate\n/preview deploy",
            Some(help(Some("unknown command `frobnicate`"))),
        ),
        ("/preview\n/preview deploy", Some(help(None))),
        // Ignored lines do not count as the first (the blank line ends the quote; see
        // `lazy_quote_continuations_are_quoted` for a quote without one).
        ("> /preview destroy\n\n/preview pin", Some(Command::Pin)),
        ("/previewer\n/preview unpin", Some(Command::Unpin)),
    ]);
}

#[test]
fn windows_line_endings() {
    check(&[
        ("/preview deploy\r\n", Some(deploy(None))),
        ("Thanks!\r\n/preview extend 24h\r\n", Some(extend(86_400))),
        (
            "/preview deploy abc1234\r\n/preview destroy\r\n",
            Some(deploy(Some("abc1234"))),
        ),
        (
            "```\r\n/preview destroy\r\n```\r\n/preview pin\r\n",
            Some(Command::Pin),
        ),
        (
            "<!--\r\n/preview destroy\r\n-->\r\n/preview status",
            Some(Command::Status),
        ),
        ("/preview\r\n", Some(help(None))),
    ]);
}

#[test]
fn quoted_lines_are_ignored() {
    check(&[
        ("> /preview deploy", None),
        (">/preview deploy", None),
        ("   > /preview deploy", None),
        ("> > /preview deploy", None),
        (">> /preview deploy", None),
        (
            "> /preview destroy\n\nNo, let's keep it:\n/preview extend 1d",
            Some(extend(86_400)),
        ),
        // A fence inside a quote ends with the quote.
        ("> ```\n/preview pin", Some(Command::Pin)),
        // So does an HTML comment opened inside a quote.
        ("> <!--\n/preview pin\n-->", Some(Command::Pin)),
    ]);
}

#[test]
fn lazy_quote_continuations_are_quoted() {
    // A line right under a quoted paragraph continues the quote even without `>`: GitHub shows
    // it inside the quote.
    check(&[
        ("> quote\n/preview destroy", None),
        ("> /preview destroy\n/preview pin", None),
        ("> > nested\n/preview destroy", None),
        ("- > quote in a list\n/preview destroy", None),
        (
            "> quote\n/preview destroy\n\n/preview pin",
            Some(Command::Pin),
        ),
        // Only a paragraph continues lazily: after an empty quote, a heading or a fence the
        // next line is outside the quote.
        (">\n/preview pin", Some(Command::Pin)),
        ("> # title\n/preview pin", Some(Command::Pin)),
        ("> ```\n/preview pin", Some(Command::Pin)),
    ]);
}

#[test]
fn pre_and_details_are_ignored() {
    check(&[
        ("<pre>\n/preview destroy\n</pre>", None),
        (
            "<pre>\n/preview destroy\n</pre>\n/preview pin",
            Some(Command::Pin),
        ),
        ("<PRE class=\"log\">\n\n/preview destroy\n\n</PRE>", None),
        ("Log: <pre>\n/preview destroy\n</pre>", None),
        // A collapsed section hides its content, blank lines and markdown inside included.
        ("<details>\n/preview destroy\n</details>", None),
        (
            "<details>\n<summary>Logs</summary>\n\n/preview destroy\n\n</details>",
            None,
        ),
        (
            "<details>\n\n/preview destroy\n\n</details>\n\n/preview pin",
            Some(Command::Pin),
        ),
        // Nested sections end with the outer one.
        (
            "<details>\n\n<details>\n\n/preview destroy\n\n</details>\n\n/preview destroy\n\n</details>\n\n/preview pin",
            Some(Command::Pin),
        ),
        // An unclosed one runs to the end, as the browser closes it there.
        ("<details>\n\n/preview destroy", None),
        // A tag shown as code, escaped or commented out opens nothing.
        ("`<details>`\n/preview pin", Some(Command::Pin)),
        ("\\<details>\n/preview pin", Some(Command::Pin)),
        ("<!-- <details> -->\n/preview pin", Some(Command::Pin)),
        ("<detailsx>\n\n/preview pin", Some(Command::Pin)),
        // Within a quote a tag is quoted along with it.
        ("> <details>\n\n/preview pin", Some(Command::Pin)),
        // The tags themselves stay: a line starting with one is no command line.
        ("<pre></pre>/preview destroy", None),
        (
            "/preview destroy <pre>now</pre>",
            Some(help(Some(
                "unexpected `<pre></pre>`: `destroy` takes no arguments",
            ))),
        ),
    ]);
}

#[test]
fn other_html_reads_as_text() {
    check(&[
        // The line GitHub inserts for an uploaded screenshot.
        (
            "<img width=\"640\" alt=\"shot\" src=\"https://example.com/a.png\">\n/preview deploy",
            Some(deploy(None)),
        ),
        ("<div>\n/preview pin\n</div>", Some(Command::Pin)),
        ("<b>/preview pin</b>", None),
    ]);
}

#[test]
fn paragraph_lines_are_read_one_by_one() {
    check(&[
        ("Please\n/preview pin\nthanks", Some(Command::Pin)),
        ("- item\n  /preview pin", Some(Command::Pin)),
        // Indentation under a paragraph line continues the paragraph: it is no code block.
        ("Please\n    /preview pin", Some(Command::Pin)),
        // `<!--` that never closes is no comment: GitHub shows it as written.
        ("Hello <!-- not closed\n/preview pin", Some(Command::Pin)),
    ]);
}

#[test]
fn fenced_code_is_ignored() {
    check(&[
        ("```\n/preview deploy\n```", None),
        ("```sh\n/preview deploy\n```", None),
        ("~~~\n/preview deploy\n~~~", None),
        ("~~~ text\n/preview deploy\n~~~", None),
        ("   ```\n/preview deploy\n   ```", None),
        // The command after the fence counts.
        (
            "```\n/preview destroy\n```\n/preview status",
            Some(Command::Status),
        ),
        (
            "~~~\n/preview destroy\n~~~\n/preview status",
            Some(Command::Status),
        ),
        // A longer fence is closed only by one at least as long.
        (
            "````\n```\n/preview destroy\n````\n/preview pin",
            Some(Command::Pin),
        ),
        ("````\n```\n/preview destroy\n```\n````", None),
        (
            "```\n/preview destroy\n`````\n/preview pin",
            Some(Command::Pin),
        ),
        // Only the same character closes it.
        ("```\n~~~\n/preview destroy\n~~~\n```", None),
        (
            "~~~\n```\n/preview destroy\n```\n~~~\n/preview pin",
            Some(Command::Pin),
        ),
        // A closing fence has nothing after it but whitespace.
        (
            "```\n``` not a close\n/preview destroy\n```  \n/preview pin",
            Some(Command::Pin),
        ),
        // A closing fence is indented at most 3 spaces.
        (
            "```\n    ```\n/preview destroy\n```\n/preview pin",
            Some(Command::Pin),
        ),
        // An unclosed fence runs to the end.
        ("```\n/preview deploy", None),
        ("~~~~\n~~~\n/preview deploy", None),
        // Two backticks or tildes are no fence.
        ("``\n/preview pin", Some(Command::Pin)),
        ("~~\n/preview pin", Some(Command::Pin)),
        // A fence indented 4 spaces is indented code, not a fence.
        ("    ```\n/preview pin", Some(Command::Pin)),
        // Backticks in the info string make it inline code, not a fence.
        ("```/preview destroy```\n/preview pin", Some(Command::Pin)),
        // Tildes may carry any info string.
        (
            "~~~ `x`\n/preview destroy\n~~~\n/preview pin",
            Some(Command::Pin),
        ),
        // Other markup inside a fence is literal.
        ("```\n<!--\n```\n/preview pin\n-->", Some(Command::Pin)),
        (
            "```\n> quoted\n/preview destroy\n```\n/preview pin",
            Some(Command::Pin),
        ),
    ]);
}

#[test]
fn indented_code_is_ignored() {
    check(&[
        ("    /preview deploy", None),
        ("        /preview deploy", None),
        ("\t/preview deploy", None),
        ("  \t/preview deploy", None),
        ("Run this:\n\n    /preview deploy\n\nthanks", None),
        ("    /preview destroy\n/preview pin", Some(Command::Pin)),
        // Up to 3 spaces is still a command line.
        ("   /preview pin", Some(Command::Pin)),
    ]);
}

#[test]
fn html_comments_are_ignored() {
    check(&[
        ("<!-- /preview deploy -->", None),
        ("<!--\n/preview deploy\n-->", None),
        ("<!--\n\n/preview deploy\n\n-->", None),
        ("Hello <!-- hidden\n/preview deploy\n-->", None),
        ("<!-- a -->\n/preview pin", Some(Command::Pin)),
        (
            "<!--\n/preview destroy\n-->\n/preview pin",
            Some(Command::Pin),
        ),
        // An unclosed comment runs to the end.
        ("<!--\n/preview deploy", None),
        // Text after the comment is visible.
        ("<!-- note --> /preview pin", Some(Command::Pin)),
        ("<!--\nnote\n--> /preview pin", Some(Command::Pin)),
        // A comment inside the command line is left out of it.
        ("/preview deploy <!-- abc1234 -->", Some(deploy(None))),
        ("/preview <!-- x --> status", Some(Command::Status)),
        (
            "/preview deploy <!-- starts here\n/preview destroy\n-->",
            Some(deploy(None)),
        ),
        // Two comments on one line, the second one open.
        (
            "<!-- a --> b <!-- c\n/preview destroy\n-->\n/preview pin",
            Some(Command::Pin),
        ),
        // `<!--` in inline code opens no comment.
        (
            "Write `<!--` to hide text\n/preview pin",
            Some(Command::Pin),
        ),
        (
            "Write ``a `<!--` b`` to hide\n/preview pin",
            Some(Command::Pin),
        ),
        // An unmatched backtick does not hide a comment.
        ("a ` b <!-- c\n/preview destroy\n-->", None),
        // Fence markers inside a comment are literal.
        ("<!--\n```\n-->\n/preview pin\n```", Some(Command::Pin)),
    ]);
}

#[test]
fn inline_code_is_ignored() {
    check(&[
        ("`/preview deploy`", None),
        ("``/preview deploy``", None),
        ("Type `/preview deploy` to deploy.", None),
        ("`/preview destroy`\n/preview pin", Some(Command::Pin)),
    ]);
}

#[test]
fn own_sticky_comment_is_ignored() {
    check(&[
        (
            "<!-- previewd:sticky-comment instance=default -->\n### ✅ Preview ready\n/preview destroy",
            None,
        ),
        (
            "<!-- previewd:sticky-comment instance=x -->\r\n/preview deploy\r\n",
            None,
        ),
        // Only the first line marks it.
        (
            "/preview pin\n<!-- previewd:sticky-comment instance=x -->",
            Some(Command::Pin),
        ),
        // Some other comment first is not previewd's.
        ("<!-- note -->\n/preview pin", Some(Command::Pin)),
    ]);
}

#[test]
fn bad_commit_sha() {
    let not_a_sha = |shown: &str| {
        Some(help(Some(&format!(
            "`{shown}` is not a commit SHA (7 to 40 hex characters)"
        ))))
    };
    check(&[
        ("/preview deploy xyz", not_a_sha("xyz")),
        ("/preview deploy abc123", not_a_sha("abc123")),
        ("/preview deploy abc123g", not_a_sha("abc123g")),
        ("/preview deploy main", not_a_sha("main")),
        ("/preview deploy v1.2.3", not_a_sha("v1.2.3")),
        (
            "/preview deploy 0123456789abcdef0123456789abcdef012345678",
            not_a_sha("0123456789abcdef0123456789abcdef01234567…"),
        ),
        ("/preview deploy `abc1234`", not_a_sha("'abc1234'")),
        (
            "/preview deploy ａｂｃ１２３４",
            not_a_sha("ａｂｃ１２３４"),
        ),
        (
            "/preview deploy abc1234 please",
            Some(help(Some(
                "unexpected `please`: `deploy` takes at most a commit SHA and `--force`",
            ))),
        ),
        (
            "/preview deploy abc1234 def5678 now",
            Some(help(Some(
                "unexpected `def5678 now`: `deploy` takes at most a commit SHA and `--force`",
            ))),
        ),
    ]);
}

#[test]
fn bad_durations() {
    check(&[
        (
            "/preview extend",
            Some(help(Some(
                "`extend` needs a duration, e.g. `/preview extend 24h` or `/preview extend 1d12h`",
            ))),
        ),
        (
            "/preview extend 0h",
            Some(help(Some(
                "`0h` is a zero duration: it must be longer than that; `extend` needs a duration, e.g. `24h` or `1d12h`",
            ))),
        ),
        (
            "/preview extend 24",
            Some(help(Some(
                "`24` is not a duration: `24` has no unit (use s, m, h, d or w); `extend` needs a duration, e.g. `24h` or `1d12h`",
            ))),
        ),
        (
            "/preview extend tomorrow",
            Some(help(Some(
                "`tomorrow` is not a duration: expected a number at `tomorrow`; `extend` needs a duration, e.g. `24h` or `1d12h`",
            ))),
        ),
        (
            "/preview extend 2y",
            Some(help(Some(
                "`2y` is not a duration: `y` is not a unit (use s, m, h, d or w); `extend` needs a duration, e.g. `24h` or `1d12h`",
            ))),
        ),
        (
            "/preview extend 1h 30m",
            Some(help(Some(
                "unexpected `30m`: `extend` takes exactly one argument, a duration",
            ))),
        ),
        (
            "/preview extend 24h please",
            Some(help(Some(
                "unexpected `please`: `extend` takes exactly one argument, a duration",
            ))),
        ),
    ]);
}

/// Found by `properties::any_body_parses_into_a_documented_command_or_none` and
/// `properties::an_argument_never_ends_the_code_span_that_echoes_it`: a bad duration was echoed
/// whole and raw, so a long one made a problem of any length and a backtick in it ended the
/// code span, letting the commenter's Markdown into previewd's reply.
#[test]
fn bad_durations_are_echoed_as_code_cut_short() {
    let colons = ":".repeat(56);
    check(&[
        (
            format!("/preview extend {colons}").as_str(),
            Some(help(Some(&format!(
                "`{cut}…` is not a duration: expected a number at `{cut}…`; `extend` needs a duration, e.g. `24h` or `1d12h`",
                cut = &colons[..40]
            )))),
        ),
        (
            "/preview extend ```",
            Some(help(Some(
                "`'''` is not a duration: expected a number at `'''`; `extend` needs a duration, e.g. `24h` or `1d12h`",
            ))),
        ),
        (
            "/preview extend 1h`@team`",
            Some(help(Some(
                "`1h'@team'` is not a duration: `h'@team'` is not a unit (use s, m, h, d or w); `extend` needs a duration, e.g. `24h` or `1d12h`",
            ))),
        ),
    ]);
}

#[test]
fn unknown_subcommands_and_stray_arguments() {
    check(&[
        (
            "/preview frobnicate",
            Some(help(Some("unknown command `frobnicate`"))),
        ),
        (
            "/preview Frobnicate now",
            Some(help(Some("unknown command `Frobnicate`"))),
        ),
        (
            "/preview deploy-now",
            Some(help(Some("unknown command `deploy-now`"))),
        ),
        (
            "/preview `deploy`",
            Some(help(Some("unknown command `'deploy'`"))),
        ),
        (
            "/preview destroy now",
            Some(help(Some("unexpected `now`: `destroy` takes no arguments"))),
        ),
        (
            "/preview redeploy please",
            Some(help(Some(
                "unexpected `please`: `redeploy` takes no arguments",
            ))),
        ),
        (
            "/preview PIN forever and ever",
            Some(help(Some(
                "unexpected `forever and ever`: `pin` takes no arguments",
            ))),
        ),
        (
            "/preview unpin x",
            Some(help(Some("unexpected `x`: `unpin` takes no arguments"))),
        ),
        (
            "/preview status?",
            Some(help(Some("unknown command `status?`"))),
        ),
        (
            "/preview status please",
            Some(help(Some(
                "unexpected `please`: `status` takes no arguments",
            ))),
        ),
    ]);
}

#[test]
fn canonical_text() {
    let cases: Vec<(Command, &str)> = vec![
        (deploy(None), "/preview deploy"),
        (deploy(Some("abc1234")), "/preview deploy abc1234"),
        (Command::Redeploy, "/preview redeploy"),
        (Command::Destroy, "/preview destroy"),
        (extend(86_400), "/preview extend 1d"),
        (extend(93_600), "/preview extend 1d2h"),
        (extend(36 * 3600), "/preview extend 1d12h"),
        (extend(90), "/preview extend 1m30s"),
        (Command::Pin, "/preview pin"),
        (Command::Unpin, "/preview unpin"),
        (Command::Status, "/preview status"),
        (help(None), "/preview help"),
        (help(Some("unknown command `x`")), "/preview help"),
    ];
    for (command, text) in cases {
        assert_eq!(command.as_text(), text, "{command:?}");
    }
}

#[test]
fn canonical_text_parses_back() {
    for command in [
        deploy(None),
        deploy(Some("abc1234")),
        deploy(Some("0123456789abcdef0123456789abcdef01234567")),
        Command::Redeploy,
        Command::Destroy,
        extend(1),
        extend(93_600),
        extend(365 * 86_400),
        Command::Pin,
        Command::Unpin,
        Command::Status,
        help(None),
    ] {
        assert_eq!(
            parse(&command.as_text()),
            Some(command.clone()),
            "{command:?}"
        );
    }
}

#[test]
fn help_lists_every_command_and_is_none() {
    assert_eq!(parse(HELP), None);
    for line in HELP.lines() {
        assert_eq!(parse(line), None, "help line {line:?}");
    }
    for command in [
        "`/preview deploy`",
        "`/preview deploy <sha>`",
        "`/preview deploy --force`",
        "`/preview redeploy`",
        "`/preview destroy`",
        "`/preview extend <duration>`",
        "`/preview pin`",
        "`/preview unpin`",
        "`/preview status`",
        "`/preview help`",
    ] {
        assert_eq!(
            HELP.lines()
                .filter(|l| l.starts_with(&format!("- {command}:")))
                .count(),
            1,
            "{command} in HELP"
        );
    }
    assert_eq!(HELP.lines().filter(|l| l.starts_with("- ")).count(), 10);
}

#[test]
fn serde_shape() {
    let cases: Vec<(Command, serde_json::Value)> = vec![
        (deploy(None), serde_json::json!({"name": "deploy"})),
        (
            deploy(Some("abc1234")),
            serde_json::json!({"name": "deploy", "sha": "abc1234"}),
        ),
        (Command::Redeploy, serde_json::json!({"name": "redeploy"})),
        (Command::Destroy, serde_json::json!({"name": "destroy"})),
        (
            extend(86_400),
            serde_json::json!({"name": "extend", "seconds": 86_400}),
        ),
        (Command::Pin, serde_json::json!({"name": "pin"})),
        (Command::Unpin, serde_json::json!({"name": "unpin"})),
        (Command::Status, serde_json::json!({"name": "status"})),
        (help(None), serde_json::json!({"name": "help"})),
        (
            help(Some("unknown command `x`")),
            serde_json::json!({"name": "help", "problem": "unknown command `x`"}),
        ),
    ];
    for (command, json) in cases {
        assert_eq!(serde_json::to_value(&command).unwrap(), json, "{command:?}");
        assert_eq!(
            serde_json::from_value::<Command>(json.clone()).unwrap(),
            command,
            "{json}"
        );
    }
    assert!(serde_json::from_value::<Command>(serde_json::json!({"name": "frobnicate"})).is_err());
    assert!(serde_json::from_value::<Command>(serde_json::json!({"name": "extend"})).is_err());
}

#[test]
fn has_a_json_schema() {
    let schema = serde_json::to_value(schemars::schema_for!(Command)).unwrap();
    let text = schema.to_string();
    for name in [
        "deploy", "redeploy", "destroy", "extend", "pin", "unpin", "status", "help",
    ] {
        assert!(text.contains(&format!("\"{name}\"")), "{name} in {text}");
    }
}

#[test]
fn extensions_are_bounded() {
    assert_eq!(
        parse("/preview extend 52w1d"),
        Some(Command::Extend {
            seconds: 365 * 86_400
        })
    );
    for huge in [
        "/preview extend 53w",
        "/preview extend 10000000000000000000s",
    ] {
        let Some(Command::Help {
            problem: Some(problem),
        }) = parse(huge)
        else {
            panic!("{huge} was accepted");
        };
        assert!(
            problem.ends_with(
                "is longer than a year, longer than a preview may be extended at once; `/preview pin` keeps it for good"
            ),
            "{problem}"
        );
    }
}

#[test]
fn large_hostile_comments_parse_quickly() {
    // GitHub keeps comments to 65,536 characters.
    let started = std::time::Instant::now();
    for unit in [
        "<details>",
        "<pre ",
        "</pre>",
        "<!--",
        "<!-- -->",
        "> ",
        "`",
        "*",
        "[",
        "<a>",
        "\n",
        "<details>\n\n",
        "- ",
    ] {
        let body = unit.repeat(65_536 / unit.len()) + "\n/preview pin";
        let _ = parse(&body);
    }
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
}
