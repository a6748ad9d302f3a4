//! The resync's look at the base branches a repository defines its previews on: a base whose
//! head moved since its previews were last woken for it (a `push` delivery that never came, or
//! the polling mode, which has none) wakes them as the delivery would have, with the same
//! annotation and value (the base's head commit), so a delivery and a resync never wake twice.
//! Each base is one conditional read: an unmoved branch answers `304`.

use std::collections::BTreeSet;

use crate::controller::Ctx;
use crate::intake::resync::ResyncError;
use crate::intake::wake::{Change, wake};
use crate::model::crd::Desired;
use crate::model::labels::BASE_CHANGED;
use crate::model::pull::Repository;

/// Wakes the previews into each of `bases` whose head moved; returns how many were woken.
pub(crate) async fn wake_moved(
    ctx: &Ctx,
    repository: &Repository,
    bases: BTreeSet<&str>,
) -> Result<usize, ResyncError> {
    let settings = &ctx.settings;
    let defines = settings
        .config
        .repository_settings(&settings.allowlist, repository)
        .defined_in_repository;
    if !defines {
        return Ok(0);
    }
    let mut woken = 0;
    for base in bases {
        let Some(branch) = ctx.github.branch(repository, base, &ctx.branches).await? else {
            continue;
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
        woken += wake(&ctx.client, &ctx.records, instance, &change, into_base)
            .await?
            .len();
    }
    Ok(woken)
}
