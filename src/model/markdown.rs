//! Text previewd writes into the Markdown of its PR comments and messages, bounded (pure).

/// Longest piece of someone's text echoed back in a message, in characters.
pub(crate) const ECHO_LIMIT: usize = 40;

/// The first `max` characters of `text`, and how many were left out.
fn cut(text: &str, max: usize) -> (String, usize) {
    let kept: String = text.chars().take(max).collect();
    let left_out = text.chars().count() - kept.chars().count();
    (kept, left_out)
}

/// `text` as inline code for a message: backticks become `'` (they would end the code span),
/// control characters spaces (a line break could end it too), and long text is cut short.
pub(crate) fn code(text: &str) -> String {
    let (kept, left_out) = cut(text, ECHO_LIMIT);
    let shown: String = kept
        .chars()
        .map(|c| match c {
            '`' => '\'',
            c if c.is_control() => ' ',
            c => c,
        })
        .collect();
    let ellipsis = if left_out > 0 { "…" } else { "" };
    format!("`{shown}{ellipsis}`")
}

/// At most `max` characters of `text`, saying how many were left out.
pub(crate) fn clip(text: &str, max: usize) -> String {
    match cut(text, max) {
        (kept, 0) => kept,
        (kept, left_out) => format!("{kept}… ({left_out} more characters)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_stays_one_span_on_one_line() {
        assert_eq!(code("a`b\n\nc"), "`a'b  c`");
    }

    #[test]
    fn clipping_keeps_whole_characters() {
        assert_eq!(clip("ääää", 2), "ää… (2 more characters)");
        assert_eq!(clip("ok", 2), "ok");
    }
}
