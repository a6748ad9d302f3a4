//! Which branches get previews (pure): include and exclude glob patterns over branch names.

use serde::{Deserialize, Serialize};
use wildmatch::WildMatch;

/// Glob match: `*` matches any run of characters (including `/`), `?` exactly one character,
/// everything else literally (case-sensitive, like git refs; no `[...]` classes, no `\`
/// escapes, `**` is just `*`). The whole of `text` must match.
///
/// `wildmatch` speaks exactly this language and backtracks only to the last `*`, so the time is
/// at most proportional to `pattern.len() * text.len()`, never exponential.
pub(crate) fn glob_match(pattern: &str, text: &str) -> bool {
    WildMatch::new(pattern).matches(text)
}

/// Branch include and exclude patterns (globs, see [`glob_match`]) of a repository.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BranchPatterns {
    /// Branches that get previews; empty means every branch.
    #[serde(default)]
    pub include: Vec<String>,
    /// Branches that never get previews, even when included.
    #[serde(default)]
    pub exclude: Vec<String>,
}

impl BranchPatterns {
    /// `None` when `branch` is admitted (an empty `include` admits everything; `exclude` wins
    /// over `include`); otherwise why not, e.g. "`release/1.0` is excluded by `release/*`" or
    /// "`feature/x` matches none of `main`, `release/*`".
    pub(crate) fn judge(&self, branch: &str) -> Option<String> {
        if let Some(pattern) = self.exclude.iter().find(|p| glob_match(p, branch)) {
            return Some(format!("`{branch}` is excluded by `{pattern}`"));
        }
        if self.include.is_empty() || self.include.iter().any(|p| glob_match(p, branch)) {
            return None;
        }
        let patterns: Vec<String> = self.include.iter().map(|p| format!("`{p}`")).collect();
        Some(format!(
            "`{branch}` matches none of {}",
            patterns.join(", ")
        ))
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;

    #[test]
    fn glob_matches_as_documented() {
        let cases: &[(&str, &str, bool)] = &[
            // Literals, whole text only.
            ("main", "main", true),
            ("main", "mainline", false),
            ("main", "xmain", false),
            ("main", "mai", false),
            ("main", "Main", false),
            ("", "", true),
            ("", "a", false),
            ("a", "", false),
            // `*` matches any run, including empty and including `/`.
            ("*", "", true),
            ("*", "anything/at/all", true),
            ("**", "a", true),
            ("release/*", "release/1.0", true),
            ("release/*", "release/", true),
            ("release/*", "release/1.0/hotfix", true),
            ("release/*", "release", false),
            ("release/*", "prerelease/1.0", false),
            ("*/docs", "team/a/docs", true),
            ("*/docs", "docs", false),
            ("feature-*-wip", "feature-login-wip", true),
            ("feature-*-wip", "feature--wip", true),
            ("feature-*-wip", "feature-login-wip2", false),
            ("*fix*", "hotfix/1", true),
            ("*fix*", "fix", true),
            ("*fix*", "fi-x", false),
            ("a*b*c", "abc", true),
            ("a*b*c", "aXbYc", true),
            ("a*b*c", "aXbY", false),
            ("a*b*c", "acb", false),
            ("*a", "banana", true),
            ("*ab", "aab", true),
            ("*aab", "aaab", true),
            // `?` matches exactly one character, `/` included.
            ("v?", "v1", true),
            ("v?", "v", false),
            ("v?", "v10", false),
            ("a?b", "a/b", true),
            ("??", "ab", true),
            ("?*", "", false),
            ("?*", "x", true),
            // One character is a Unicode scalar, not a byte.
            ("caf?", "café", true),
            ("?", "é", true),
            ("*é", "résumé", true),
            // Everything else is literal.
            ("[ab]", "a", false),
            ("[ab]", "[ab]", true),
            ("a.b", "axb", false),
            ("a+b", "a+b", true),
            ("dependabot/**", "dependabot/npm/left-pad-1.0", true),
            ("[!a]", "[!a]", true),
            ("[a-z]*", "b1", false),
            ("{a,b}", "a", false),
            // A backslash escapes nothing: it is a literal and the wildcard after it still works.
            (r"a\*", r"a\bc", true),
            (r"a\*", "a*", false),
            (r"a\?", r"a\x", true),
            (r"\\", r"\\", true),
            // Case matters beyond ASCII too.
            ("release/*", "Release/1.0", false),
            ("É*", "école", false),
        ];
        for (pattern, text, expected) in cases {
            assert_eq!(
                glob_match(pattern, text),
                *expected,
                "glob_match({pattern:?}, {text:?})"
            );
        }
    }

    #[test]
    fn glob_is_not_exponential() {
        let text = "a".repeat(40);
        let started = Instant::now();
        assert!(!glob_match("*a*a*a*a*a*b", &text));
        assert!(!glob_match(
            "*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b",
            &text
        ));
        assert!(glob_match(
            "*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*",
            &text
        ));
        let long = "a".repeat(5_000);
        assert!(!glob_match(&format!("{}b", "*a".repeat(50)), &long));
        assert!(!glob_match(&"*?".repeat(200), &long[..100]));
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "took {:?}",
            started.elapsed()
        );
    }

    fn patterns(include: &[&str], exclude: &[&str]) -> BranchPatterns {
        BranchPatterns {
            include: include.iter().map(|s| s.to_string()).collect(),
            exclude: exclude.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn judge_admits_and_explains() {
        let cases: Vec<(BranchPatterns, &str, Option<&str>)> = vec![
            // Nothing configured: every branch.
            (BranchPatterns::default(), "main", None),
            (BranchPatterns::default(), "feature/x", None),
            // Empty include with an exclude: everything but the excluded.
            (patterns(&[], &["release/*"]), "main", None),
            (
                patterns(&[], &["release/*"]),
                "release/1.0",
                Some("`release/1.0` is excluded by `release/*`"),
            ),
            // Include only.
            (patterns(&["main", "release/*"], &[]), "main", None),
            (patterns(&["main", "release/*"], &[]), "release/2.0", None),
            (
                patterns(&["main", "release/*"], &[]),
                "feature/x",
                Some("`feature/x` matches none of `main`, `release/*`"),
            ),
            (
                patterns(&["main"], &[]),
                "Main",
                Some("`Main` matches none of `main`"),
            ),
            // Exclude wins over include.
            (
                patterns(&["release/*"], &["release/1.*"]),
                "release/1.0",
                Some("`release/1.0` is excluded by `release/1.*`"),
            ),
            (
                patterns(&["release/*"], &["release/1.*"]),
                "release/2.0",
                None,
            ),
            // The first matching exclude is named.
            (
                patterns(&["*"], &["dependabot/*", "*/npm/*"]),
                "dependabot/npm/x",
                Some("`dependabot/npm/x` is excluded by `dependabot/*`"),
            ),
            (
                patterns(&["*"], &["dependabot/*", "*/npm/*"]),
                "renovate/npm/x",
                Some("`renovate/npm/x` is excluded by `*/npm/*`"),
            ),
            // Excluded and not included: the exclusion is the reason.
            (
                patterns(&["main"], &["wip-*"]),
                "wip-1",
                Some("`wip-1` is excluded by `wip-*`"),
            ),
        ];
        for (patterns, branch, expected) in cases {
            assert_eq!(
                patterns.judge(branch).as_deref(),
                expected,
                "{patterns:?} judging {branch:?}"
            );
        }
    }

    #[test]
    fn deserializes_with_defaults_and_rejects_unknown_fields() {
        let both: BranchPatterns =
            serde_json::from_str(r#"{"include": ["main"], "exclude": ["wip/*"]}"#).unwrap();
        assert_eq!(both, patterns(&["main"], &["wip/*"]));

        let none: BranchPatterns = serde_json::from_str("{}").unwrap();
        assert_eq!(none, BranchPatterns::default());

        let yaml: BranchPatterns = serde_yaml_ng::from_str("exclude:\n  - 'release/*'\n").unwrap();
        assert_eq!(yaml, patterns(&[], &["release/*"]));

        let error = serde_json::from_str::<BranchPatterns>(r#"{"includes": ["main"]}"#)
            .unwrap_err()
            .to_string();
        assert!(error.contains("unknown field `includes`"), "{error}");
    }

    #[test]
    fn serializes_camel_case_fields() {
        assert_eq!(
            serde_json::to_value(patterns(&["main"], &[])).unwrap(),
            serde_json::json!({"include": ["main"], "exclude": []})
        );
    }
}
