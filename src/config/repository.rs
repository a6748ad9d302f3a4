//! Settings of one served repository: its template values and the policy that decides which of
//! its pull requests deploy by themselves.

use std::time::Duration;

use serde::{Deserialize, Deserializer};
use serde_json::Value;

use crate::config::branches::BranchPatterns;
use crate::config::copies::{Copy, Source};

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
    /// Which CI checks a commit must pass before it deploys: `none`, `required` (the base
    /// branch's required status checks) or a list of check names.
    #[serde(default)]
    pub checks: Checks,
    /// The repository may define its previews in its own definition directory (read from the
    /// pull request's base branch).
    #[serde(default)]
    pub defined_in_repository: bool,
    /// That directory.
    #[serde(default = "default_definition_dir")]
    pub definition_dir: String,
    /// The HTTP chart repositories (URLs) a definition may take its chart from.
    #[serde(default)]
    pub chart_repositories: Vec<String>,
    /// Secrets copied into each preview namespace of the repository.
    #[serde(default)]
    pub copy_secrets: Vec<Copy>,
    /// ConfigMaps copied into each preview namespace of the repository.
    #[serde(default)]
    pub copy_config_maps: Vec<Copy>,
    /// Secrets the repository's definition may ask copies of (its `copySecrets`).
    #[serde(default)]
    pub copyable_secrets: Vec<Source>,
    /// ConfigMaps the repository's definition may ask copies of (its `copyConfigMaps`).
    #[serde(default)]
    pub copyable_config_maps: Vec<Source>,
    /// Pull requests from forks get the copies too (by default they get none).
    #[serde(default)]
    pub copy_to_forks: bool,
    /// How long a commit waits for its checks before previewd stops waiting (`1h`).
    #[serde(
        default = "default_checks_timeout",
        deserialize_with = "checks_timeout"
    )]
    pub checks_timeout: Duration,
}

/// Which CI checks gate a repository's deploys.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Checks {
    /// None: a commit deploys as soon as it is pushed.
    #[default]
    None,
    /// The required status checks the base branch's rulesets and branch protection name.
    Required,
    /// These check runs or commit statuses, by name.
    Named(Vec<String>),
}

impl<'de> Deserialize<'de> for Checks {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Given {
            Word(String),
            Names(Vec<String>),
        }
        let wrong = || {
            serde::de::Error::custom(
                "checks: `none`, `required`, or a non-empty list of check names",
            )
        };
        match Given::deserialize(deserializer).map_err(|_| wrong())? {
            Given::Word(word) if word == "none" => Ok(Checks::None),
            Given::Word(word) if word == "required" => Ok(Checks::Required),
            Given::Word(_) => Err(wrong()),
            Given::Names(names)
                if names.is_empty() || names.iter().any(|n| n.trim().is_empty()) =>
            {
                Err(wrong())
            }
            Given::Names(names) => Ok(Checks::Named(names)),
        }
    }
}

/// The directory of a repository that holds its preview's definition, unless configured.
pub const DEFAULT_DEFINITION_DIR: &str = ".preview";

fn default_definition_dir() -> String {
    DEFAULT_DEFINITION_DIR.to_owned()
}

fn default_checks_timeout() -> Duration {
    crate::timing::DEFAULT_CHECKS_TIMEOUT
}

fn checks_timeout<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
    let text = String::deserialize(deserializer)?;
    crate::model::duration::parse(&text)
        .map_err(|e| serde::de::Error::custom(format!("checksTimeout: {e}")))
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
            checks: Checks::None,
            defined_in_repository: false,
            definition_dir: default_definition_dir(),
            checks_timeout: default_checks_timeout(),
            chart_repositories: Vec::new(),
            copy_secrets: Vec::new(),
            copy_config_maps: Vec::new(),
            copyable_secrets: Vec::new(),
            copyable_config_maps: Vec::new(),
            copy_to_forks: false,
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
    fn checks_are_none_required_or_named() {
        assert_eq!(parse("name: o/r\n").unwrap().checks, Checks::None);
        let required = parse("name: o/r\nchecks: required\nchecksTimeout: 20m\n").unwrap();
        assert_eq!(required.checks, Checks::Required);
        assert_eq!(required.checks_timeout, Duration::from_secs(1200));
        assert_eq!(
            parse("name: o/r\nchecks: [build, 'ci/test']\n")
                .unwrap()
                .checks,
            Checks::Named(vec!["build".into(), "ci/test".into()])
        );
        for bad in [
            "checks: all",
            "checks: []",
            "checks: ['']",
            "checks: {a: b}",
        ] {
            let err = parse(&format!("name: o/r\n{bad}\n"))
                .unwrap_err()
                .to_string();
            assert!(err.contains("checks: `none`, `required`"), "{bad}: {err}");
        }
    }

    #[test]
    fn a_bad_ttl_names_the_setting() {
        let err = parse("name: o/r\nttl: soon\n").unwrap_err().to_string();
        assert!(err.contains("ttl"), "{err}");
    }
}
