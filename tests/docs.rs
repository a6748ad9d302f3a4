//! The documentation holds together: every relative Markdown link in README.md and docs/*.md
//! points at a file or folder that exists, and every `#anchor` names a heading of the Markdown
//! file it points into (GitHub's anchor rules). The README stays the front door: at most 15 KiB,
//! and it names the test command CI runs.
//!
//! Only std and the files of this repository: no cluster, no network.
//!
//! What counts as a link: inline links and images, `[text](target "title")` and
//! `[text](<target>)`, and reference definitions, `[label]: target`. Links inside fenced code
//! blocks and inline code spans are not links. Absolute `http(s)://` and `mailto:` links are
//! skipped. Headings are ATX (`## Title`) and setext (`Title` over `---` or `===`).

use std::collections::HashMap;
use std::fs;
use std::path::{Component, Path, PathBuf};

/// The README is the front door; everything longer belongs in docs/.
const README_MAX_BYTES: u64 = 15 * 1024;
/// The command the README gives for the tests, and that CI's `.ci/run` calls.
const TEST_COMMAND: &str = "scripts/test.sh";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// README.md and every Markdown file under docs/, relative to the root, sorted.
fn documents(root: &Path) -> Vec<PathBuf> {
    let mut found = vec![PathBuf::from("README.md")];
    let mut folders = vec![PathBuf::from("docs")];
    while let Some(folder) = folders.pop() {
        let entries = fs::read_dir(root.join(&folder))
            .unwrap_or_else(|e| panic!("cannot list {}: {e}", folder.display()));
        for entry in entries {
            let entry = entry.unwrap_or_else(|e| panic!("cannot list {}: {e}", folder.display()));
            let path = folder.join(entry.file_name());
            if entry.path().is_dir() {
                folders.push(path);
            } else if is_markdown(&path) {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

fn is_markdown(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("md"))
}

fn read(root: &Path, path: &Path) -> String {
    fs::read_to_string(root.join(path))
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// The opening fence of a fenced code block on this line, as (fence character, length).
fn fence_open(line: &str) -> Option<(char, usize)> {
    let trimmed = line.trim_start();
    let c = trimmed.chars().next().filter(|c| *c == '`' || *c == '~')?;
    let run = trimmed.chars().take_while(|x| *x == c).count();
    (run >= 3).then_some((c, run))
}

/// Whether this line closes a fence opened with `fence`: the same character, at least as many,
/// and nothing else.
fn fence_closes(line: &str, (c, len): (char, usize)) -> bool {
    let trimmed = line.trim();
    let run = trimmed.chars().take_while(|x| *x == c).count();
    run >= len && run == trimmed.chars().count()
}

/// The text with every fenced code block (fences included) blanked to empty lines, so that line
/// numbers still hold.
fn without_fences(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut open: Option<(char, usize)> = None;
    for line in text.split('\n') {
        match open {
            Some(fence) => {
                if fence_closes(line, fence) {
                    open = None;
                }
            }
            None => match fence_open(line) {
                Some(fence) => open = Some(fence),
                None => out.push_str(line),
            },
        }
        out.push('\n');
    }
    out.pop();
    out
}

/// The text with every inline code span blanked to spaces (newlines kept). A span ends at the
/// next run of as many backticks within the same paragraph; an unmatched run is literal text.
fn without_code_spans(text: &str) -> String {
    let mut bytes = text.as_bytes().to_vec();
    let run_at = |b: &[u8], i: usize| b[i..].iter().take_while(|x| **x == b'`').count();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'`' || (i > 0 && bytes[i - 1] == b'\\') {
            i += 1;
            continue;
        }
        let len = run_at(&bytes, i);
        let mut j = i + len;
        let mut end = None;
        while j < bytes.len() {
            if bytes[j] == b'\n'
                && bytes[j + 1..]
                    .iter()
                    .take_while(|x| **x != b'\n')
                    .all(|x| x.is_ascii_whitespace())
            {
                break; // a blank line ends the paragraph
            }
            if bytes[j] == b'`' {
                let close = run_at(&bytes, j);
                if close == len {
                    end = Some(j + close);
                    break;
                }
                j += close;
            } else {
                j += 1;
            }
        }
        match end {
            Some(end) => {
                for b in &mut bytes[i..end] {
                    if *b != b'\n' {
                        *b = b' ';
                    }
                }
                i = end;
            }
            None => i += len,
        }
    }
    // Only whole UTF-8 sequences inside spans became spaces, so the text is still UTF-8.
    String::from_utf8(bytes).expect("blanking code spans keeps UTF-8")
}

/// One link of a document: the line it is on (1-based) and its target as written.
#[derive(Debug, PartialEq)]
struct Link {
    line: usize,
    target: String,
}

/// Every link target of a Markdown text, outside code.
fn links(text: &str) -> Vec<Link> {
    let text = without_code_spans(&without_fences(text));
    let line_of = |pos: usize| text[..pos].matches('\n').count() + 1;
    let mut found = Vec::new();

    // Inline links and images: `](target)`, `](<target>)`, `](target "title")`.
    let mut from = 0;
    while let Some(at) = text[from..].find("](") {
        let start = from + at + 2;
        from = start;
        let rest = text[start..].trim_start_matches([' ', '\t']);
        let target = if let Some(inner) = rest.strip_prefix('<') {
            inner.split('>').next().unwrap_or("").to_string()
        } else {
            let mut depth = 0usize;
            let end = rest
                .char_indices()
                .find(|(_, c)| match c {
                    '(' => {
                        depth += 1;
                        false
                    }
                    ')' if depth == 0 => true,
                    ')' => {
                        depth -= 1;
                        false
                    }
                    c => c.is_whitespace(),
                })
                .map_or(rest.len(), |(i, _)| i);
            rest[..end].to_string()
        };
        found.push(Link {
            line: line_of(start),
            target,
        });
    }

    // Reference definitions: `[label]: target` at the start of a line (not footnotes, `[^1]:`).
    for (n, line) in text.split('\n').enumerate() {
        let indent = line.len() - line.trim_start_matches(' ').len();
        let line = line.trim_start_matches(' ');
        if indent > 3 || !line.starts_with('[') || line.starts_with("[^") {
            continue;
        }
        if let Some((_, after)) = line.split_once("]:") {
            let target = after.trim().trim_start_matches('<');
            let target = target.split(['>', ' ', '\t']).next().unwrap_or("");
            found.push(Link {
                line: n + 1,
                target: target.to_string(),
            });
        }
    }
    found.sort_by_key(|l| l.line);
    found
}

/// The text GitHub shows for a heading's Markdown: link and image syntax reduced to its text.
fn heading_text(markdown: &str) -> String {
    let mut out = String::new();
    let mut rest = markdown;
    while let Some(open) = rest.find('[') {
        let Some(close) = rest[open..].find("](").map(|c| open + c) else {
            break;
        };
        let Some(end) = rest[close..].find(')').map(|e| close + e) else {
            break;
        };
        let before = &rest[..open];
        out.push_str(before.strip_suffix('!').unwrap_or(before));
        out.push_str(&rest[open + 1..close]);
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

/// The headings of a Markdown text, in order, as GitHub shows their text.
fn headings(text: &str) -> Vec<String> {
    let text = without_fences(text);
    let lines: Vec<&str> = text.split('\n').collect();
    let mut found = Vec::new();
    for (i, raw) in lines.iter().enumerate() {
        let indent = raw.len() - raw.trim_start_matches(' ').len();
        if indent > 3 {
            continue;
        }
        let line = raw.trim();
        let hashes = line.chars().take_while(|c| *c == '#').count();
        if (1..=6).contains(&hashes) {
            let rest = &line[hashes..];
            if rest.is_empty() || rest.starts_with([' ', '\t']) {
                // An optional closing run of `#` after a space is not part of the text.
                let rest = rest.trim();
                let without_closing = rest.trim_end_matches('#');
                let content =
                    if without_closing.is_empty() || without_closing.ends_with([' ', '\t']) {
                        without_closing.trim_end()
                    } else {
                        rest
                    };
                found.push(heading_text(content));
            }
            continue;
        }
        // Setext: a paragraph line underlined with `===` (h1) or `---` (h2).
        let underline =
            !line.is_empty() && (line.chars().all(|c| c == '=') || line.chars().all(|c| c == '-'));
        if underline && i > 0 {
            let above = lines[i - 1].trim();
            let paragraph = !above.is_empty()
                && !above.starts_with(['#', '-', '*', '+', '>', '|'])
                && !above
                    .split_once(". ")
                    .is_some_and(|(n, _)| n.chars().all(|c| c.is_ascii_digit()));
            if paragraph {
                found.push(heading_text(above));
            }
        }
    }
    found
}

/// GitHub's anchor for a heading's text: lowercased; letters, digits, `-` and `_` kept; each
/// space becomes `-`; everything else dropped.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            '-' | '_' => Some(c),
            c if c.is_alphanumeric() => Some(c),
            _ => None,
        })
        .collect()
}

/// Every anchor of a Markdown text: each heading's slug, a repeated one numbered `-1`, `-2`, ...
fn anchors(text: &str) -> Vec<String> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    headings(text)
        .iter()
        .map(|h| {
            let base = slug(h);
            let count = seen.entry(base.clone()).or_insert(0);
            let anchor = if *count == 0 {
                base.clone()
            } else {
                format!("{base}-{count}")
            };
            *count += 1;
            anchor
        })
        .collect()
}

/// `%XX` escapes decoded; anything else, including a malformed escape, kept as it is.
fn percent_decoded(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap_or_else(|_| text.to_string())
}

/// `path` with `.` and `..` resolved without touching the disk; `None` if it climbs above the
/// start.
fn normalized(path: &Path) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    return None;
                }
            }
            Component::Normal(p) => out.push(p),
            Component::RootDir | Component::Prefix(_) => {}
        }
    }
    Some(out)
}

/// What is wrong with one link of `doc`, if anything. `anchors_of` caches each target's anchors.
fn problem(
    root: &Path,
    doc: &Path,
    link: &Link,
    anchors_of: &mut HashMap<PathBuf, Vec<String>>,
) -> Option<String> {
    let target = link.target.as_str();
    let lower = target.to_ascii_lowercase();
    if ["http://", "https://", "mailto:"]
        .iter()
        .any(|s| lower.starts_with(s))
    {
        return None;
    }
    if target.is_empty() {
        return Some("the link has no target".to_string());
    }
    let (path, anchor) = match target.split_once('#') {
        Some((path, anchor)) => (percent_decoded(path), Some(percent_decoded(anchor))),
        None => (percent_decoded(target), None),
    };

    let resolved = if path.is_empty() {
        doc.to_path_buf()
    } else if let Some(from_root) = path.strip_prefix('/') {
        PathBuf::from(from_root)
    } else {
        doc.parent().unwrap_or(Path::new("")).join(&path)
    };
    let Some(resolved) = normalized(&resolved) else {
        return Some(format!("`{path}` leads out of the repository"));
    };
    let on_disk = root.join(&resolved);
    let shown = resolved.display();
    if !on_disk.exists() {
        return Some(if path.ends_with('/') {
            format!("the folder {shown}/ does not exist")
        } else {
            format!("the file {shown} does not exist")
        });
    }
    if path.ends_with('/') && !on_disk.is_dir() {
        return Some(format!("{shown} is written as a folder but is a file"));
    }

    let anchor = anchor?;
    if anchor.is_empty() {
        return Some("the `#` names no anchor".to_string());
    }
    if on_disk.is_dir() || !is_markdown(&resolved) {
        return Some(format!(
            "{shown} is not a Markdown file, so `#{anchor}` cannot be checked"
        ));
    }
    let known = anchors_of
        .entry(resolved.clone())
        .or_insert_with(|| anchors(&read(root, &resolved)));
    if known.contains(&anchor) {
        None
    } else {
        Some(format!(
            "no heading of {shown} has the anchor `#{anchor}` (its anchors: {})",
            known.join(", ")
        ))
    }
}

#[test]
fn every_relative_link_resolves() {
    let root = root();
    let docs = documents(&root);
    assert!(
        docs.iter().any(|d| d.starts_with("docs")),
        "no Markdown file found under docs/"
    );
    let mut anchors_of = HashMap::new();
    let mut problems = Vec::new();
    for doc in &docs {
        for link in links(&read(&root, doc)) {
            if let Some(wrong) = problem(&root, doc, &link, &mut anchors_of) {
                problems.push(format!(
                    "{}:{}: link `{}`: {wrong}",
                    doc.display(),
                    link.line,
                    link.target
                ));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "{} broken link(s) in README.md and docs/:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[test]
fn readme_is_at_most_15_kib() {
    let path = root().join("README.md");
    let size = fs::metadata(&path)
        .unwrap_or_else(|e| panic!("cannot read README.md: {e}"))
        .len();
    assert!(
        size <= README_MAX_BYTES,
        "README.md is {size} bytes, over the {README_MAX_BYTES} (15 KiB) a front door may take: \
         move details into docs/"
    );
}

#[test]
fn readme_gives_the_test_command_ci_runs() {
    let root = root();
    let readme = read(&root, Path::new("README.md"));
    assert!(
        readme.contains(TEST_COMMAND),
        "README.md does not contain the test command `{TEST_COMMAND}`"
    );
    let ci = read(&root, Path::new(".ci/run"));
    assert!(
        ci.contains(TEST_COMMAND),
        ".ci/run does not call `{TEST_COMMAND}`, the test command README.md gives"
    );
}

#[test]
fn slug_follows_github() {
    let cases = [
        (
            "The CRD on upgrade and uninstall",
            "the-crd-on-upgrade-and-uninstall",
        ),
        (
            "Webhooks: record intent, answer fast",
            "webhooks-record-intent-answer-fast",
        ),
        ("Coming from src/preview/", "coming-from-srcpreview"),
        ("The `PreviewEnvironment`", "the-previewenvironment"),
        ("snake_case and kebab-case", "snake_case-and-kebab-case"),
        ("Webhook → Ready (p90)", "webhook--ready-p90"),
        ("  Straße für Ärzte  ", "straße-für-ärzte"),
        ("v1.2 & co.", "v12--co"),
    ];
    for (heading, want) in cases {
        assert_eq!(slug(heading), want, "slug of {heading:?}");
    }
}

#[test]
fn repeated_headings_are_numbered() {
    let text = "# Tests\n\n## Setup\n\ntext\n\n## Setup\n\nSetup\n-----\n\n## Tests\n";
    assert_eq!(
        anchors(text),
        ["tests", "setup", "setup-1", "setup-2", "tests-1"]
    );
}

#[test]
fn headings_skip_code_and_keep_link_text() {
    let text = "# Title #\n\n```sh\n# a comment, not a heading\n```\n\n\
                ## See [the docs](docs/x.md) ##\n\n    ### Indented code\n\n####### seven\n\n#no-space\n";
    assert_eq!(headings(text), ["Title", "See the docs"]);
}

#[test]
fn links_skip_code_and_read_every_form() {
    let text = "\
A [link](a.md#x) and ![image](img.png \"title\").
`[not](code.md)` and ``[nor](this.md)``.

~~~
[nor](fenced.md)
~~~
````md
```
[still](fenced.md)
```
````
[angle](<with space.md>) and [nested](a_(b).md)
[ref]: docs/ref.md
   [^note]: not a link
";
    let found: Vec<(usize, String)> = links(text)
        .into_iter()
        .map(|l| (l.line, l.target))
        .collect();
    let want = [
        (1, "a.md#x"),
        (1, "img.png"),
        (12, "with space.md"),
        (12, "a_(b).md"),
        (13, "docs/ref.md"),
    ]
    .map(|(line, target)| (line, target.to_string()));
    assert_eq!(found, want);
}
