//! A branch as `GET /repos/{owner}/{repo}/branches/{branch}` tells it: the commit it points at
//! (with its tree) and its protection's required status checks. Read conditionally and
//! remembered once for every use (the checks a base branch requires, the definition on it),
//! so a branch that did not move costs a `304` however many features read it.

use serde::Deserialize;

use super::client::{GitHub, GitHubError};
use super::conditional::Remembered;
use super::transport::Call;
use crate::model::pull::Repository;
use crate::rules::checks::Gated;

/// A branch.
#[derive(Clone, Deserialize)]
pub(crate) struct Branch {
    /// The commit it points at.
    pub commit: BranchCommit,
    #[serde(default)]
    protection: Option<Protection>,
}

/// The commit a branch points at.
#[derive(Clone, Deserialize)]
pub(crate) struct BranchCommit {
    /// Its SHA.
    pub sha: String,
    /// The commit itself.
    pub commit: CommitTree,
}

/// A commit's tree.
#[derive(Clone, Deserialize)]
pub(crate) struct CommitTree {
    /// The tree.
    pub tree: TreeRef,
}

/// A tree, by SHA.
#[derive(Clone, Deserialize)]
pub(crate) struct TreeRef {
    /// Its SHA.
    pub sha: String,
}

#[derive(Clone, Deserialize)]
struct Protection {
    #[serde(default)]
    required_status_checks: Option<RequiredStatusChecks>,
}

#[derive(Clone, Deserialize)]
struct RequiredStatusChecks {
    #[serde(default)]
    contexts: Vec<String>,
    #[serde(default)]
    checks: Vec<ProtectionCheck>,
}

#[derive(Clone, Deserialize)]
struct ProtectionCheck {
    context: String,
    #[serde(default)]
    app_id: Option<u64>,
}

impl Branch {
    /// The status checks its protection requires (none when it is not protected).
    pub(crate) fn required_checks(self) -> Vec<Gated> {
        let Some(required) = self.protection.and_then(|p| p.required_status_checks) else {
            return Vec::new();
        };
        let pinned = required.checks.into_iter().map(|c| Gated {
            name: c.context,
            app_id: c.app_id,
        });
        let named = required.contexts.iter().map(|c| Gated::named(c));
        pinned.chain(named).collect()
    }
}

/// The last answer about each branch.
#[derive(Default)]
pub struct Branches(Remembered<Branch>);

/// `text` as one path segment (a branch name may hold `/`).
pub(crate) fn segment(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

impl GitHub {
    /// Branch `name` of `repository`; `None` when GitHub does not know it.
    pub(crate) async fn branch(
        &self,
        repository: &Repository,
        name: &str,
        memory: &Branches,
    ) -> Result<Option<Branch>, GitHubError> {
        let call = Call::get(
            "get a branch",
            "/repos/{owner}/{repo}/branches/{branch}",
            format!("/branches/{}", segment(name)),
        )
        .within(repository);
        let key = format!("{}/branch/{name}", repository.id);
        match self.read_remembered(call, key, &memory.0).await {
            Ok(read) => Ok(Some(read.value)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn branch_names_are_one_segment() {
        assert_eq!(segment("release/1.0"), "release%2F1.0");
        assert_eq!(segment("feature_x-2.~"), "feature_x-2.~");
        assert_eq!(segment("ä b"), "%C3%A4%20b");
    }

    #[test]
    fn required_checks_keep_their_pin() {
        let branch: Branch = serde_json::from_value(serde_json::json!({
            "commit": {"sha": "c", "commit": {"tree": {"sha": "t"}}},
            "protection": {"required_status_checks": {
                "contexts": ["build", "lint"],
                "checks": [{"context": "build", "app_id": 15368}]
            }}
        }))
        .unwrap();
        let names: Vec<(String, Option<u64>)> = branch
            .required_checks()
            .into_iter()
            .map(|g| (g.name, g.app_id))
            .collect();
        assert_eq!(
            names,
            [
                ("build".into(), Some(15368)),
                ("build".into(), None),
                ("lint".into(), None)
            ]
        );
    }
}
