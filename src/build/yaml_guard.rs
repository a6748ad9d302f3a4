//! YAML aliases refused in untrusted text (pure): an alias re-reads its anchor's node, so a few
//! of them nested ("billion laughs") make a small document parse into more values than memory
//! holds. Text from a repository's definition and from upstream renderers is scanned before it
//! is parsed; previewd's own templates are not (the operator wrote them).

/// What is said of an alias.
pub const REFUSED: &str = "YAML aliases (*name) are refused";

/// `Err` naming `file` and the line of the first alias in `text`.
pub fn refuse_aliases(file: &str, text: &str) -> Result<(), String> {
    match first_alias(text) {
        Some(line) => Err(format!("{file}: line {line}: {REFUSED}")),
        None => Ok(()),
    }
}

/// The 1-based line of the first alias in `text`.
pub fn first_alias(text: &str) -> Option<usize> {
    let mut block_indent: Option<usize> = None;
    for (number, line) in text.lines().enumerate() {
        let indent = line.len() - line.trim_start().len();
        if let Some(block) = block_indent {
            if line.trim().is_empty() || indent > block {
                continue;
            }
            block_indent = None;
        }
        if has_alias(line) {
            return Some(number + 1);
        }
        if opens_block_scalar(line) {
            block_indent = Some(indent);
        }
    }
    None
}

/// Whether `line` ends in a block scalar indicator (`|`, `>`, with chomping or indentation).
fn opens_block_scalar(line: &str) -> bool {
    let code = line.split(" #").next().unwrap_or("").trim_end();
    let last = code.rsplit([' ', '\t']).next().unwrap_or("");
    (last.starts_with('|') || last.starts_with('>'))
        && last[1..]
            .chars()
            .all(|c| matches!(c, '-' | '+' | '0'..='9'))
        && code.len() > last.len()
}

/// Whether a node of `line` (outside quotes) starts with `*` and a name.
fn has_alias(line: &str) -> bool {
    let chars: Vec<char> = line.chars().collect();
    let (mut single, mut double) = (false, false);
    let mut node_start = true;
    for (i, &c) in chars.iter().enumerate() {
        match c {
            '\'' if !double => single = !single,
            '"' if !single => double = !double,
            '#' if !single && !double && (i == 0 || chars[i - 1] == ' ') => return false,
            _ => {}
        }
        if single || double {
            node_start = false;
            continue;
        }
        if c == '*' && node_start && chars.get(i + 1).is_some_and(|n| !n.is_whitespace()) {
            return true;
        }
        node_start = match c {
            ' ' | '\t' => {
                node_start || matches!(chars.get(i.wrapping_sub(1)), Some(':' | '-' | ',' | '?'))
            }
            '[' | '{' | ',' => true,
            _ => false,
        };
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_are_found_where_a_node_starts() {
        for text in [
            "a: *x\n",
            "- *x\n",
            "a: [*x, *y]\n",
            "a: {b: *x}\n",
            "*x\n",
            "  - a: 1\n    b: *x\n",
        ] {
            assert!(refuse_aliases("f", text).is_err(), "{text:?}");
        }
    }

    #[test]
    fn stars_that_are_no_alias_pass() {
        for text in [
            "a: \"*x\"\n",
            "a: '*x'\n",
            "a: b*x\n",
            "a: * x\n",
            "a: x # *y\n",
            "script: |\n  echo *.txt\n  *emphasis*\nnext: 1\n",
            "glob: >-\n  *.yaml\n",
            "cron: \"*/5 * * * *\"\n",
        ] {
            assert!(refuse_aliases("f", text).is_ok(), "{text:?}");
        }
        let err = refuse_aliases(".preview/chart/templates/x.yaml", "a: 1\nb: [*a]\n").unwrap_err();
        assert_eq!(
            err,
            ".preview/chart/templates/x.yaml: line 2: YAML aliases (*name) are refused"
        );
    }
}
