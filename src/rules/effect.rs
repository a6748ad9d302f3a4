//! What an authorized command does to a preview's spec, and what it answers (pure).

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::model::command::{Command, HELP};
use crate::model::crd::{Desired, Phase, PreviewEnvironmentSpec};
use crate::model::time::rfc3339;
use crate::rules::expiry::{expires_at, extended};

/// What the command needs to know besides the spec.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Facts<'a> {
    /// Who asked (already authorized).
    pub login: &'a str,
    /// The repository's time to live.
    pub ttl: Option<Duration>,
    /// When the current deployment started (the time to live counts from it too).
    pub deployed_since: Option<DateTime<Utc>>,
    /// Now.
    pub now: DateTime<Utc>,
    /// The repository gates deploys on CI checks.
    pub gated: bool,
}

/// The answer to a command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Effect {
    /// Shown in the PR comment.
    pub notice: String,
    /// When the command counts as done.
    pub done: Done,
}

/// When a command is done (its reaction: 🚀 when done, 😕 when failed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Done {
    /// Done as soon as it is recorded.
    Now,
    /// Could not be done; the notice says why.
    Failed,
    /// Done when the preview reaches this phase.
    When(Phase),
}

/// Applies `command` to `spec` and says what happened.
pub(crate) fn apply(
    spec: &mut PreviewEnvironmentSpec,
    command: &Command,
    facts: Facts<'_>,
) -> Effect {
    let who = format!("@{}", facts.login);
    let asked = format!("{who} `{}`", command.as_text());
    let failed = |why: String| Effect {
        notice: format!("{asked}: {why}"),
        done: Done::Failed,
    };
    let now = |what: String| Effect {
        notice: format!("{asked}: {what}"),
        done: Done::Now,
    };
    let closed = matches!(&spec.desired, Desired::Destroyed(r) if !r.cleared_by_deploy_command());
    match command {
        Command::Deploy { .. } | Command::Redeploy if closed => {
            failed("the pull request is closed; reopen it to deploy a preview".into())
        }
        Command::Deploy { sha, force } => {
            if let Err(why) = check_sha(spec, sha.as_deref()) {
                return failed(why);
            }
            deploy(spec, facts.now);
            let head = short(&spec.pull.head_sha);
            let how = match (*force, facts.gated) {
                (true, _) => {
                    spec.forced_sha = Some(spec.pull.head_sha.clone());
                    " now, without waiting for its CI checks (`--force`)"
                }
                (false, true) => " once its CI checks pass",
                (false, false) => "",
            };
            Effect {
                notice: format!("{asked}: deploying `{head}`{how}"),
                done: Done::When(Phase::Ready),
            }
        }
        Command::Redeploy => {
            if spec.pull.fork && spec.approved_sha.as_deref() != Some(spec.pull.head_sha.as_str()) {
                return failed(format!(
                    "the head `{}` of this fork is not approved; approve it with `/preview deploy {}`",
                    short(&spec.pull.head_sha),
                    spec.pull.head_sha
                ));
            }
            deploy(spec, facts.now);
            spec.redeploys = spec.redeploys.saturating_add(1);
            Effect {
                notice: format!(
                    "{asked}: redeploying `{}` with fresh pods",
                    short(&spec.pull.head_sha)
                ),
                done: Done::When(Phase::Ready),
            }
        }
        Command::Destroy => match spec.desired {
            Desired::Destroyed(_) => now("the preview is already destroyed".into()),
            Desired::Deployed => {
                spec.desired = Desired::Destroyed(crate::model::crd::DestroyReason::Requested);
                spec.requested = false;
                Effect {
                    notice: format!(
                        "{asked}: destroying the preview; `/preview deploy` brings it back"
                    ),
                    done: Done::When(Phase::Destroyed),
                }
            }
        },
        Command::Extend { seconds } => {
            if facts.ttl.is_none() {
                return failed("previews of this repository do not expire".into());
            }
            if spec.desired != Desired::Deployed {
                return failed("the preview is destroyed; `/preview deploy` brings it back".into());
            }
            let until = extended(
                expires_at(spec, facts.ttl, facts.deployed_since),
                Duration::from_secs(*seconds),
                facts.now,
            );
            spec.extended_until = Some(until);
            let pinned = if spec.pinned {
                " (it is pinned: it does not expire while pinned)"
            } else {
                ""
            };
            now(format!(
                "the preview now expires at {}{pinned}",
                rfc3339(until)
            ))
        }
        Command::Pin => {
            spec.pinned = true;
            now("pinned: the preview does not expire until `/preview unpin`".into())
        }
        Command::Unpin => {
            spec.pinned = false;
            // The idle time counts from the unpin, not from a push long ago.
            spec.last_activity_at = Some(facts.now);
            match expires_at(spec, facts.ttl, facts.deployed_since) {
                Some(at) => now(format!("unpinned: the preview expires at {}", rfc3339(at))),
                None => now("unpinned (previews of this repository do not expire)".into()),
            }
        }
        Command::Status => now(format!("status as of {}", rfc3339(facts.now))),
        Command::Help { problem: None } => now(format!("\n\n{HELP}")),
        Command::Help {
            problem: Some(problem),
        } => failed(format!("{problem}\n\n{HELP}")),
    }
}

/// The answer to a command from someone without write permission.
pub(crate) fn refusal(login: &str, command: &Command, repository: &str) -> String {
    format!(
        "@{login} `{}` was refused: commands need write permission on {repository}",
        command.as_text()
    )
}

/// The answer to a command whose author's permission GitHub would not tell.
pub(crate) fn unverified(login: &str, command: &Command, error: &impl std::fmt::Display) -> String {
    format!(
        "@{login} `{}` was not run: previewd could not check the permission ({error})",
        command.as_text()
    )
}

fn deploy(spec: &mut PreviewEnvironmentSpec, now: DateTime<Utc>) {
    spec.desired = Desired::Deployed;
    spec.requested = true;
    spec.last_activity_at = Some(now);
    if spec.pull.fork {
        spec.approved_sha = Some(spec.pull.head_sha.clone());
    }
}

/// A named SHA must be the head (a prefix of it will do for the repository's own branches). A
/// fork's approval must name the full 40-character head: a short prefix could be matched by a
/// commit crafted after the review.
fn check_sha(spec: &PreviewEnvironmentSpec, sha: Option<&str>) -> Result<(), String> {
    let head = spec.pull.head_sha.as_str();
    match sha {
        Some(sha) if !head.starts_with(sha) => Err(format!(
            "`{sha}` is not the head of this pull request; the head is `{}`",
            short(head)
        )),
        Some(sha) if spec.pull.fork && sha != head => Err(format!(
            "approving a fork's code takes the full commit SHA: `/preview deploy {head}`"
        )),
        None if spec.pull.fork => Err(format!(
            "this pull request comes from a fork: name the full commit you reviewed, `/preview deploy {head}`"
        )),
        _ => Ok(()),
    }
}

fn short(sha: &str) -> String {
    sha.chars().take(7).collect()
}

#[cfg(test)]
mod tests;
