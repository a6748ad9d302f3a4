//! Whether a pull request's preview may run by the repository's policy (pure): forks need a
//! maintainer's approval of their exact head SHA; otherwise a maintainer's request wins, and
//! without one the automatic policy (drafts, branch patterns, label mode, auto-deploy) decides.

use crate::config::RepositoryConfig;
use crate::model::crd::PreviewEnvironmentSpec;

/// The policy's verdict.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Gate {
    /// The preview may run (subject to pause and caps).
    Open,
    /// It may not, for this reason.
    Closed(Closed),
}

/// Why a preview may not run, and what follows from it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Closed {
    /// Shown in the status and the PR comment.
    pub reason: String,
    /// Whether a PR comment is posted while nothing runs (forks and drafts: people wait for
    /// it; opt-in modes stay silent until something happens).
    pub announce: bool,
    /// Whether an approved deployment keeps running (a fork's later push awaits approval; every
    /// other closed gate takes the preview down).
    pub keep_running: bool,
}

/// Judges `spec` by `repo`'s policy.
pub(crate) fn gate(spec: &PreviewEnvironmentSpec, repo: &RepositoryConfig) -> Gate {
    if spec.pull.fork {
        return match spec.approved_sha.as_deref() {
            Some(approved) if approved == spec.pull.head_sha => Gate::Open,
            approved => Gate::Closed(Closed {
                reason: fork_reason(&spec.pull.head_sha, approved),
                announce: true,
                keep_running: true,
            }),
        };
    }
    if spec.requested {
        return Gate::Open;
    }
    let closed = |reason: String, announce: bool| {
        Gate::Closed(Closed {
            reason,
            announce,
            keep_running: false,
        })
    };
    if spec.pull.draft && !repo.deploy_drafts {
        return closed(
            "draft pull request: the preview deploys when it is marked ready for review (or on `/preview deploy`)".into(),
            true,
        );
    }
    if let Some(why) = repo.base_branches.judge(&spec.pull.base_branch) {
        return closed(format!("base branch {why}"), false);
    }
    if let Some(why) = repo.head_branches.judge(&spec.pull.branch) {
        return closed(format!("head branch {why}"), false);
    }
    if let Some(label) = &repo.label
        && !spec.pull.labels.iter().any(|l| l == label)
    {
        return closed(
            format!("label mode: add the label `{label}` to deploy a preview"),
            false,
        );
    }
    if !repo.auto_deploy {
        return closed(
            "previews of this repository deploy on request: comment `/preview deploy`".into(),
            false,
        );
    }
    Gate::Open
}

fn fork_reason(head: &str, approved: Option<&str>) -> String {
    let short = |sha: &str| sha.chars().take(7).collect::<String>();
    let how = format!(
        "A maintainer who has reviewed the code approves it by commenting `/preview deploy {head}`."
    );
    match approved {
        Some(approved) => format!(
            "this pull request comes from a fork: {} was approved, the new commit {} is not deployed until it is approved too. {how}",
            short(approved),
            short(head)
        ),
        None => format!(
            "this pull request comes from a fork: its code runs only after approval of an exact commit. {how}"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::branches::BranchPatterns;
    use crate::model::crd::Desired;

    fn spec() -> PreviewEnvironmentSpec {
        serde_json::from_value(serde_json::json!({
            "repository": {"id": 1, "fullName": "o/r"}, "number": 1, "headSha": "bbbbbbbbbb",
            "branch": "feature", "baseBranch": "main", "title": "t", "author": "a",
            "desired": {"state": "Deployed"}
        }))
        .unwrap()
    }

    fn reason(gate: Gate) -> String {
        match gate {
            Gate::Closed(closed) => closed.reason,
            Gate::Open => panic!("open"),
        }
    }

    #[test]
    fn same_repository_pull_requests_deploy_by_default() {
        assert_eq!(spec().desired, Desired::Deployed);
        assert_eq!(gate(&spec(), &RepositoryConfig::named("o/r")), Gate::Open);
    }

    #[test]
    fn forks_run_only_the_approved_sha() {
        let repo = RepositoryConfig::named("o/r");
        let mut fork = spec();
        fork.pull.fork = true;
        fork.requested = true;
        let Gate::Closed(closed) = gate(&fork, &repo) else {
            panic!()
        };
        assert!(closed.announce && closed.keep_running);
        assert!(
            closed.reason.contains("`/preview deploy bbbbbbbbbb`."),
            "{closed:?}"
        );
        fork.approved_sha = Some("bbbbbbbbbb".into());
        assert_eq!(gate(&fork, &repo), Gate::Open);
        fork.pull.head_sha = "cccccccccc".into();
        let why = reason(gate(&fork, &repo));
        assert!(
            why.contains("bbbbbbb was approved, the new commit ccccccc is not deployed"),
            "{why}"
        );
    }

    #[test]
    fn automatic_policy_in_order() {
        let mut repo = RepositoryConfig::named("o/r");
        let mut draft = spec();
        draft.pull.draft = true;
        assert!(reason(gate(&draft, &repo)).starts_with("draft pull request"));
        repo.deploy_drafts = true;
        assert_eq!(gate(&draft, &repo), Gate::Open);

        repo.base_branches = BranchPatterns {
            include: vec!["release/*".into()],
            exclude: vec![],
        };
        assert!(reason(gate(&spec(), &repo)).starts_with("base branch"));
        repo.base_branches = BranchPatterns::default();
        repo.head_branches = BranchPatterns {
            include: vec![],
            exclude: vec!["feat*".into()],
        };
        assert!(reason(gate(&spec(), &repo)).starts_with("head branch"));
        repo.head_branches = BranchPatterns::default();

        repo.label = Some("preview".into());
        let Gate::Closed(closed) = gate(&spec(), &repo) else {
            panic!()
        };
        assert!(!closed.announce && !closed.keep_running);
        assert_eq!(
            closed.reason,
            "label mode: add the label `preview` to deploy a preview"
        );
        let mut labelled = spec();
        labelled.pull.labels = vec!["preview".into()];
        assert_eq!(gate(&labelled, &repo), Gate::Open);

        repo.label = None;
        repo.auto_deploy = false;
        assert!(reason(gate(&spec(), &repo)).contains("`/preview deploy`"));
        let mut requested = spec();
        requested.requested = true;
        requested.pull.draft = true;
        assert_eq!(gate(&requested, &repo), Gate::Open, "a request wins");
    }
}
