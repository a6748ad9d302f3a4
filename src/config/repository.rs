//! Settings of one served repository: its template values and the policy that decides which of
//! its pull requests deploy by themselves.

use std::time::Duration;

use serde::{Deserialize, Deserializer};
use serde_json::Value;

use crate::config::branches::BranchPatterns;

use crate::timing::DEFAULT_TTL;

/// Settings of one repository.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RepositoryConfig {
    /// `owner/name`, or `owner/*`: every repository of that owner (matched by the owner's
    /// current name).
    pub name: String,
    /// Template values for this repository, merged over the global ones.
    #[serde(default)]
    pub values: Option<Value>,
    /// Same-repository pull requests deploy when opened (otherwise only on `/preview deploy`).
    #[serde(default = "yes")]
    pub auto_deploy: bool,
    /// Label mode: only pull requests carrying this label deploy by themselves; removing it
    /// destroys the preview.
    #[serde(default)]
    pub label: Option<String>,
    /// Draft pull requests deploy too (by default they wait until ready for review).
    #[serde(default)]
    pub deploy_drafts: bool,
    /// Which base branches deploy by themselves.
    #[serde(default)]
    pub base_branches: BranchPatterns,
    /// Which head branches deploy by themselves.
    #[serde(default)]
    pub head_branches: BranchPatterns,
    /// At most this many previews of this repository deployed at once; others queue.
    #[serde(default)]
    pub max_previews: Option<usize>,
    /// Idle time after the last push before a preview expires (`72h`, `7d`, or `never`).
    #[serde(default, deserialize_with = "ttl")]
    pub ttl: Ttl,
    /// Each deployed SHA is a GitHub deployment of environment `preview/pr-<n>`.
    #[serde(default)]
    pub deployments: bool,
}

/// A preview's time to live: `None` means it never expires.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ttl(pub Option<Duration>);

impl Default for Ttl {
    fn default() -> Self {
        Ttl(Some(DEFAULT_TTL))
    }
}

fn yes() -> bool {
    true
}

fn ttl<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Ttl, D::Error> {
    let text = String::deserialize(deserializer)?;
    if text.eq_ignore_ascii_case("never") {
        return Ok(Ttl(None));
    }
    crate::model::duration::parse(&text)
        .map(|d| Ttl(Some(d)))
        .map_err(|e| serde::de::Error::custom(format!("ttl: {e} (or `never`)")))
}

impl RepositoryConfig {
    /// The owner an `owner/*` entry names; `None` for an entry of one repository.
    pub fn owner_pattern(&self) -> Option<&str> {
        self.name
            .strip_suffix("/*")
            .filter(|owner| !owner.contains('/'))
    }

    /// A repository with every setting at its default.
    pub(crate) fn named(name: &str) -> Self {
        RepositoryConfig {
            name: name.to_owned(),
            values: None,
            auto_deploy: true,
            label: None,
            deploy_drafts: false,
            base_branches: BranchPatterns::default(),
            head_branches: BranchPatterns::default(),
            max_previews: None,
            ttl: Ttl::default(),
            deployments: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(yaml: &str) -> Result<RepositoryConfig, serde_yaml_ng::Error> {
        serde_yaml_ng::from_str(yaml)
    }

    #[test]
    fn defaults_deploy_same_repository_pull_requests_for_three_days() {
        let repo = parse("name: o/r\n").unwrap();
        assert_eq!(repo, RepositoryConfig::named("o/r"));
        assert!(repo.auto_deploy && !repo.deploy_drafts && repo.label.is_none());
        assert_eq!(repo.ttl, Ttl(Some(Duration::from_secs(259_200))));
    }

    #[test]
    fn every_policy_setting_parses() {
        let repo = parse(
            "name: o/r\nautoDeploy: false\nlabel: preview\ndeployDrafts: true\n\
             baseBranches: {include: [main, 'release/*']}\nheadBranches: {exclude: ['dependabot/*']}\n\
             maxPreviews: 3\nttl: 1d12h\n",
        )
        .unwrap();
        assert!(!repo.auto_deploy && repo.deploy_drafts);
        assert_eq!(repo.label.as_deref(), Some("preview"));
        assert_eq!(repo.base_branches.include, ["main", "release/*"]);
        assert_eq!(repo.head_branches.exclude, ["dependabot/*"]);
        assert_eq!(repo.max_previews, Some(3));
        assert_eq!(repo.ttl, Ttl(Some(Duration::from_secs(129_600))));
        assert_eq!(parse("name: o/r\nttl: never\n").unwrap().ttl, Ttl(None));
    }

    #[test]
    fn a_bad_ttl_names_the_setting() {
        let err = parse("name: o/r\nttl: soon\n").unwrap_err().to_string();
        assert!(err.contains("ttl"), "{err}");
    }
}
