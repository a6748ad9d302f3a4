//! Text previewd writes into the Markdown of its PR comments.

/// Longest piece of someone's text echoed back in a message, in characters.
pub(crate) const ECHO_LIMIT: usize = 40;

/// `text` as inline code for a message: backticks become `'` (they would end the code span)
/// and long text is cut short.
pub(crate) fn code(text: &str) -> String {
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
