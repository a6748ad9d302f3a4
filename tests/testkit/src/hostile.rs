//! Hostile text for the property tests (`src/**/properties.rs`): strings made of pieces that mean
//! something to one of the readers previewd hands free text to (YAML, Handlebars, Markdown and
//! HTML, JSON, shells, terminals), single characters of any kind, and plain words; and the case
//! count those tests run.

use proptest::prelude::*;
use proptest::sample::select;

/// The fewest cases a property test runs; `PROPTEST_CASES` may ask for more, never fewer.
pub const MIN_CASES: u32 = 10_000;

/// How many cases each property test runs: `PROPTEST_CASES` when it is set to more than
/// [`MIN_CASES`], else [`MIN_CASES`]. A config built with `ProptestConfig::with_cases` ignores
/// the variable, so the tests read it here.
pub fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|text| text.trim().parse::<u32>().ok())
        .map_or(MIN_CASES, |asked| asked.max(MIN_CASES))
}

/// Pieces with a meaning to some reader of free text.
#[rustfmt::skip]
const PIECES: &[&str] = &[
    // YAML
    ": ", ":", "- ", "---", "...", "#", " #", "|", "|-", ">", ">-", "&anchor", "*anchor", "!!str",
    "!!binary", "!<tag:yaml.org,2002:str>", "%YAML 1.2", "? ", "{", "}", "[", "]", ",", "~",
    "null", "true", "no", "0x1F", "1e400", ".nan", "<<: *anchor", "'", "''", "\"", "\\\"",
    "\\", "\\u0000", "@", "`", "%",
    // Handlebars
    "{{", "}}", "{{{", "}}}", "{{title}}", "{{values.image}}", "{{#each this}}", "{{/each}}",
    "{{> partial}}", "{{!-- --}}", "\\{{", "{{else}}", "{{lookup . \"x\"}}",
    // previewd's free-text tokens (see `src/build/render.rs`), and what they were before
    "x~previewd~title~x", "x~previewd~branch~x", "x~previewd~base-branch~x",
    "x~previewd~author~x", "x-previewd-free-text-title-x",
    // Markdown and HTML as GitHub reads comments
    "/preview", "/preview deploy", "/PREVIEW extend 1d", "```", "~~~", "    ", "> ", ">",
    "<!--", "-->", "<!-- previewd:", "<pre>", "</pre>", "<details>", "</details>", "<img src=x>",
    "* ", "1. ", "**", "__", "[x](y)", "<", "&amp;", "&#96;", "|---|", "===",
    // Line breaks, whitespace and control characters
    "\n", "\r\n", "\r", "\n\n", "\t", " ", "\u{0}", "\u{7}", "\u{8}", "\u{b}", "\u{c}",
    "\u{1b}[31m", "\u{7f}", "\u{85}", "\u{a0}", "\u{2028}", "\u{2029}", "\u{feff}", "\u{200b}",
    "\u{202e}", "\u{fffd}", "\u{10ffff}",
    // Unicode whose case or width is not what ASCII expects
    "é", "e\u{301}", "İ", "ß", "ﬁ", "\u{212a}", "ǅ", "Σ", "日本語", "🦀", "👩\u{200d}👩\u{200d}👧",
    "עברית", "Ⅻ", "０１２", "ａｂｃ",
    // Path, shell and URL pieces
    "/", "..", "../", "$(id)", "${HOME}", "%00", "%2F", "?", "=", "&", "+",
];

/// A short run of ASCII letters, digits and `-` (what names are mostly made of).
pub fn word() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        select(&b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_."[..]),
        1..8,
    )
    .prop_map(|bytes| bytes.into_iter().map(char::from).collect())
}

/// One piece of hostile text: a meaningful piece, any character, or a plain word.
fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => select(PIECES).prop_map(str::to_owned),
        3 => any::<char>().prop_map(String::from),
        3 => word(),
    ]
}

/// Text of at most `max_pieces` hostile pieces (so up to a few times that many characters).
pub fn hostile_text(max_pieces: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec(piece(), 0..=max_pieces).prop_map(|pieces| pieces.concat())
}

/// Mostly [`hostile_text`] of at most `max_pieces` pieces; one time in ten a piece repeated
/// into a text of up to `long_chars` characters or so.
pub fn hostile_or_long_text(max_pieces: usize, long_chars: usize) -> impl Strategy<Value = String> {
    prop_oneof![
        9 => hostile_text(max_pieces),
        1 => (piece(), 1..=long_chars).prop_map(|(piece, chars)| {
            let count = chars / piece.chars().count().max(1) + 1;
            piece.repeat(count)
        }),
    ]
}
