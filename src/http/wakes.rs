//! Deliveries that wake waiting previews rather than record intent: a commit's CI changed
//! (`check_run`, `check_suite`, `status`), or a branch moved that previews are defined on
//! (`push`).

use axum::http::StatusCode;
use tracing::Instrument;

use super::AppState;
use super::webhook::{Answer, answer, not_served, reply};
use crate::config::Serving;
use crate::config::repository::Checks;
use crate::intake::wake::{Change, wake};
use crate::model::crd::{Desired, PreviewEnvironment};
use crate::model::event::{ChecksEvent, PushEvent};
use crate::model::labels::{BASE_CHANGED, CHECKS_CHANGED};
use crate::model::pull::Repository;
use crate::rules::checks::waits_on;

/// Wakes the previews whose head waits on the commit whose checks changed.
pub(super) async fn checks(app: &AppState, event: &ChecksEvent) -> Answer {
    let span = tracing::info_span!("checks", repository = %event.repository.full_name, sha = %event.sha, change = %event.change);
    let gated = |repo: &crate::config::RepositoryConfig| repo.checks != Checks::None;
    let change = Change {
        repository_id: event.repository.id,
        annotation: CHECKS_CHANGED,
        value: &event.change,
    };
    let concerned = |pe: &PreviewEnvironment| waits_on(&pe.spec, pe.status.as_ref(), &event.sha);
    let what = (
        "does not gate previews on checks",
        "waits on this commit's checks",
    );
    woken(app, &event.repository, gated, &change, concerned, what)
        .instrument(span)
        .await
}

/// Renders again the previews of pull requests into a branch their repository defines its
/// previews on.
pub(super) async fn push(app: &AppState, event: &PushEvent) -> Answer {
    let span = tracing::info_span!("push", repository = %event.repository.full_name, branch = %event.branch);
    let defining = |repo: &crate::config::RepositoryConfig| repo.defined_in_repository;
    let change = Change {
        repository_id: event.repository.id,
        annotation: BASE_CHANGED,
        value: &event.after,
    };
    let concerned = |pe: &PreviewEnvironment| {
        pe.spec.desired == Desired::Deployed && pe.spec.pull.base_branch == event.branch
    };
    let what = (
        "does not define its previews",
        "is a pull request into this branch",
    );
    woken(app, &event.repository, defining, &change, concerned, what)
        .instrument(span)
        .await
}

/// Wakes the records `concerned` picks, if `repository` is served and `applies` to its
/// settings; `what` says (what the repository does not, what no preview is) when nothing is.
async fn woken(
    app: &AppState,
    repository: &Repository,
    applies: impl Fn(&crate::config::RepositoryConfig) -> bool,
    change: &Change<'_>,
    concerned: impl Fn(&PreviewEnvironment) -> bool,
    (not_applying, none_concerned): (&str, &str),
) -> Answer {
    let repo = match app.config.serving(&app.allowlist, repository) {
        Serving::Served(repo) => repo,
        other => return not_served(&other),
    };
    if !applies(repo) {
        let why = format!("ignored: this repository {not_applying}\n");
        return reply(StatusCode::ACCEPTED, "ignored", why);
    }
    match wake(&app.client, &app.records, &app.instance, change, concerned).await {
        Ok(names) if names.is_empty() => {
            let why = format!("ignored: no preview {none_concerned}\n");
            reply(StatusCode::ACCEPTED, "ignored", why)
        }
        Ok(names) => {
            tracing::info!(previews = ?names, annotation = change.annotation, "woken");
            let woke = format!("woken: {}\n", names.join(", "));
            reply(StatusCode::ACCEPTED, "recorded", woke)
        }
        Err(e) => answer(Err(e)),
    }
}
