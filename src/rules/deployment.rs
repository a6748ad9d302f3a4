//! What a preview's GitHub deployment should say (pure). Each SHA the PR comment reports on is
//! one deployment of environment `preview/pr-<n>`; its status follows the phase (deploying →
//! `in_progress`, Ready → `success`, Failed → `failure`, Destroyed → `inactive`). When a new SHA
//! is deployed, the previous SHA's deployment is made inactive (GitHub's `auto_inactive` does not
//! cover transient environments), after the new one reports, so "View deployment" never
//! disappears in between.

use crate::model::crd::{DeploymentReport, Phase, WantedComment};

/// The environment of PR `number`'s deployments.
pub(crate) fn environment(number: u64) -> String {
    format!("preview/pr-{number}")
}

/// The deployment state a phase stands for; none for phases with nothing to say yet.
pub(crate) fn state_for(phase: Phase) -> Option<&'static str> {
    match phase {
        Phase::Deploying => Some("in_progress"),
        Phase::Ready => Some("success"),
        Phase::Failed => Some("failure"),
        Phase::Destroyed => Some("inactive"),
        Phase::Pending | Phase::Terminating => None,
    }
}

/// What to send, in this order: find or create the deployment of `deploy` (which becomes the
/// preview's deployment), give the preview's deployment the state `report`, then make each of
/// `retire` inactive.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Steps {
    /// The SHA whose deployment to find again or create.
    pub deploy: Option<String>,
    /// The state to report.
    pub report: Option<&'static str>,
    /// Deployments to make inactive.
    pub retire: Vec<u64>,
}

impl Steps {
    /// Whether there is nothing to send.
    pub(crate) fn is_empty(&self) -> bool {
        *self == Steps::default()
    }
}

/// The steps from what GitHub was last told (`known`) to what `wanted` says.
pub(crate) fn steps(known: Option<&DeploymentReport>, wanted: &WantedComment) -> Steps {
    let pending = known.map(|k| k.retiring.clone()).unwrap_or_default();
    let with_known = |mut ids: Vec<u64>| {
        if let Some(k) = known.filter(|k| k.state.as_deref() != Some("inactive")) {
            ids.push(k.id);
        }
        ids
    };
    let Some(state) = state_for(wanted.phase) else {
        return Steps {
            retire: pending,
            ..Steps::default()
        };
    };
    match known {
        Some(k) if k.sha == wanted.sha => Steps {
            report: (k.state.as_deref() != Some(state)).then_some(state),
            retire: pending,
            ..Steps::default()
        },
        // Destroyed: whatever was deployed last ends; a SHA never deployed is not created.
        _ if state == "inactive" => Steps {
            retire: with_known(pending),
            ..Steps::default()
        },
        _ if wanted.sha.is_empty() => Steps {
            retire: pending,
            ..Steps::default()
        },
        _ => Steps {
            deploy: Some(wanted.sha.clone()),
            report: Some(state),
            retire: with_known(pending),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "ec26c3e57ca3a959ca5aad62de7213c562f8c821";
    const B: &str = "d6fde92930d4715a2b49857d24b940956b26d2d3";

    fn wanted(phase: Phase, sha: &str) -> WantedComment {
        WantedComment {
            phase,
            sha: sha.to_owned(),
            ..WantedComment::default()
        }
    }

    fn known(sha: &str, id: u64, state: Option<&str>) -> DeploymentReport {
        DeploymentReport {
            sha: sha.to_owned(),
            id,
            state: state.map(str::to_owned),
            retiring: Vec::new(),
        }
    }

    #[test]
    fn a_lifecycle_is_one_deployment_per_sha_and_each_ends_inactive() {
        let first = steps(None, &wanted(Phase::Ready, A));
        assert_eq!(
            first,
            Steps {
                deploy: Some(A.into()),
                report: Some("success"),
                retire: vec![]
            }
        );
        let a = known(A, 1, Some("success"));
        assert!(steps(Some(&a), &wanted(Phase::Ready, A)).is_empty());
        let push = steps(Some(&a), &wanted(Phase::Ready, B));
        assert_eq!(
            push,
            Steps {
                deploy: Some(B.into()),
                report: Some("success"),
                retire: vec![1]
            }
        );
        let b = known(B, 2, Some("success"));
        assert!(steps(Some(&b), &wanted(Phase::Terminating, B)).is_empty());
        assert_eq!(
            steps(Some(&b), &wanted(Phase::Destroyed, B)).report,
            Some("inactive")
        );
        assert!(
            steps(
                Some(&known(B, 2, Some("inactive"))),
                &wanted(Phase::Destroyed, B)
            )
            .is_empty()
        );
    }

    #[test]
    fn a_deployment_created_but_not_reported_on_gets_its_state() {
        let created = known(A, 1, None);
        assert_eq!(
            steps(Some(&created), &wanted(Phase::Ready, A)),
            Steps {
                report: Some("success"),
                ..Steps::default()
            }
        );
    }

    #[test]
    fn nothing_is_created_for_what_never_deployed() {
        assert!(steps(None, &wanted(Phase::Pending, A)).is_empty());
        assert!(steps(None, &wanted(Phase::Destroyed, A)).is_empty());
        assert!(steps(None, &wanted(Phase::Ready, "")).is_empty());
        // Destroyed while a newer SHA waited: the last deployment ends, none is created.
        let a = known(A, 1, Some("success"));
        assert_eq!(
            steps(Some(&a), &wanted(Phase::Destroyed, B)),
            Steps {
                retire: vec![1],
                ..Steps::default()
            }
        );
    }

    #[test]
    fn an_earlier_deployment_not_yet_inactive_is_retired_whatever_the_phase() {
        let b = DeploymentReport {
            retiring: vec![1],
            ..known(B, 2, Some("success"))
        };
        for phase in [Phase::Ready, Phase::Terminating, Phase::Pending] {
            let steps = steps(Some(&b), &wanted(phase, B));
            assert_eq!(steps.retire, vec![1], "{phase:?}");
            assert_eq!(steps.deploy, None);
        }
        assert_eq!(
            steps(Some(&b), &wanted(Phase::Destroyed, B)).retire,
            vec![1]
        );
        assert_eq!(
            steps(Some(&b), &wanted(Phase::Destroyed, B)).report,
            Some("inactive")
        );
    }

    #[test]
    fn a_failure_and_a_slow_deploy_are_reported_on_the_same_deployment() {
        let deploying = steps(None, &wanted(Phase::Deploying, A));
        assert_eq!(deploying.report, Some("in_progress"));
        let a = known(A, 1, Some("in_progress"));
        assert_eq!(
            steps(Some(&a), &wanted(Phase::Failed, A)).report,
            Some("failure")
        );
    }
}
