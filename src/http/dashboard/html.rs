//! HTML text that cannot become markup: every value from GitHub or the cluster is escaped for
//! text and for attributes, and only `http(s)` addresses become links (pure).

/// `text` escaped for an element's content or a quoted attribute value.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() && c != '\n' && c != '\t' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// `url` if it is an `http` or `https` address (a `javascript:` or `data:` one never is a link).
pub(crate) fn safe_url(url: &str) -> Option<&str> {
    let lower = url.trim_start().to_ascii_lowercase();
    (lower.starts_with("https://") || lower.starts_with("http://")).then_some(url)
}

/// A link to `url` showing `text`, or the text alone when `url` is not a web address.
pub(crate) fn link(url: Option<&str>, text: &str) -> String {
    match url.and_then(safe_url) {
        Some(url) => format!(
            "<a href=\"{}\" rel=\"noopener noreferrer\">{}</a>",
            escape(url),
            escape(text)
        ),
        None => escape(text),
    }
}

/// The commit page of `sha` next to a pull request's page (`.../pull/7` → `.../commit/<sha>`).
pub(crate) fn commit_url(pull_request_url: &str, sha: &str) -> Option<String> {
    let (repository, _) = pull_request_url.rsplit_once("/pull/")?;
    let hex = sha.len() >= 7 && sha.bytes().all(|b| b.is_ascii_hexdigit());
    hex.then(|| format!("{repository}/commit/{sha}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_in_text_and_attributes_stays_text() {
        assert_eq!(
            escape("<script>alert(1)</script>\"><img src=x onerror='y'>&"),
            "&lt;script&gt;alert(1)&lt;/script&gt;&quot;&gt;&lt;img src=x onerror=&#39;y&#39;&gt;&amp;"
        );
        assert_eq!(escape("a\u{1b}b"), "a\u{FFFD}b");
    }

    #[test]
    fn only_web_addresses_become_links() {
        assert_eq!(
            link(Some("https://x.test/?a=1&b=\"2\""), "<x>"),
            "<a href=\"https://x.test/?a=1&amp;b=&quot;2&quot;\" rel=\"noopener noreferrer\">&lt;x&gt;</a>"
        );
        for bad in [
            "javascript:alert(1)",
            " JavaScript:alert(1)",
            "data:text/html,x",
            "//x.test",
        ] {
            assert_eq!(link(Some(bad), "t"), "t", "{bad}");
        }
        assert_eq!(link(None, "t"), "t");
    }

    #[test]
    fn commits_link_next_to_their_pull_request() {
        assert_eq!(
            commit_url("https://github.com/o/r/pull/7", "abcdef1234").as_deref(),
            Some("https://github.com/o/r/commit/abcdef1234")
        );
        assert_eq!(
            commit_url("https://github.com/o/r/pull/7", "not a sha"),
            None
        );
        assert_eq!(commit_url("", "abcdef1234"), None);
    }
}
