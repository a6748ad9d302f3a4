//! Reading a head SHA's CI checks for the plan: the gated names (the repository's list, or the
//! base branch's required checks), then the commit's check runs and statuses, judged by
//! `rules::checks`.

use super::{Ctx, Error};
use crate::config::repository::Checks;
use crate::metrics;
use crate::model::pull::PullFacts;
use crate::rules::checks::{Gated, Verdict, judge};

/// What `pull`'s head SHA's checks say under `policy`.
pub(crate) async fn read(ctx: &Ctx, pull: &PullFacts, policy: &Checks) -> Result<Verdict, Error> {
    let (github, memory, repository) = (&ctx.github, &ctx.checks, &pull.repository);
    let gated: Vec<Gated> = match policy {
        Checks::None => return Ok(Verdict::Passed),
        Checks::Named(names) => names.iter().map(|n| Gated::named(n)).collect(),
        Checks::Required => {
            let memories = (memory, &ctx.branches);
            let required = github.required_checks(repository, &pull.base_branch, memories);
            metrics::timed("github_required_checks", required).await?
        }
    };
    if gated.is_empty() {
        return Ok(Verdict::Passed);
    }
    let sha = &pull.head_sha;
    let runs = metrics::timed(
        "github_check_runs",
        github.check_runs(repository, sha, memory),
    );
    let statuses = github.commit_statuses(repository, sha, memory);
    let (runs, statuses) = tokio::join!(runs, metrics::timed("github_commit_statuses", statuses));
    Ok(judge(&gated, &runs?, &statuses?))
}
