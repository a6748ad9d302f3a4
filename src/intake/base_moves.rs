//! The resync's look at the base branches a repository defines its previews on: a base whose
//! head moved since its previews were last woken for it (a `push` delivery that never came, or
//! the polling mode, which has none) wakes them as the delivery would have, with the same
//! annotation and value (the base's head commit), so a delivery and a resync never wake twice.
//! Each base is one conditional read: an unmoved branch answers `304`.

use std::collections::BTreeSet;

use crate::controller::Ctx;
use crate::intake::wake::{Change, wake};
use crate::model::crd::Desired;
use crate::model::labels::BASE_CHANGED;
use crate::model::pull::Repository;

/// Wakes the previews into each of `bases` whose head moved; returns how many were woken. A
/// base that cannot be read or woken is logged and left to the next round.
pub(crate) async fn wake_moved(ctx: &Ctx, repository: &Repository, bases: BTreeSet<&str>) -> usize {
    let settings = &ctx.settings;
    let defines = settings
        .config
        .repository_settings(&settings.allowlist, repository)
        .defined_in_repository;
    if !defines {
        return 0;
    }
    let mut woken = 0;
    for base in bases {
        let branch = match ctx.github.branch(repository, base, &ctx.branches).await {
            Ok(Some(branch)) => branch,
            Ok(None) => continue,
            Err(error) => {
                tracing::warn!(%error, base, "cannot read the base branch; next round");
                continue;
            }
        };
        let change = Change {
            repository_id: repository.id,
            annotation: BASE_CHANGED,
            value: &branch.commit.sha,
        };
        let into_base = |pe: &crate::model::crd::PreviewEnvironment| {
            pe.spec.desired == Desired::Deployed && pe.spec.pull.base_branch == base
        };
        let instance = &settings.instance;
        match wake(&ctx.client, &ctx.records, instance, &change, into_base).await {
            Ok(names) => woken += names.len(),
            Err(error) => tracing::warn!(%error, base, "cannot wake the previews into the base"),
        }
    }
    woken
}
