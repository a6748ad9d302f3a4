//! The controller's own spec writes (settling with GitHub, running commands, expiry): a replace
//! with the resourceVersion it read, so a concurrent delivery is never overwritten.

use kube::api::PostParams;
use kube::{Api, ResourceExt};

use crate::controller::{Ctx, Error};
use crate::model::crd::{PreviewEnvironment, PreviewEnvironmentSpec};
use crate::model::labels::FIELD_MANAGER;

/// Replaces `read`'s spec with `spec`; fails with a conflict if it changed since it was read.
pub(crate) async fn replace_spec(
    ctx: &Ctx,
    read: &PreviewEnvironment,
    spec: PreviewEnvironmentSpec,
) -> Result<(), Error> {
    let mut next = read.clone();
    next.spec = spec;
    next.metadata.managed_fields = None;
    let params = PostParams {
        field_manager: Some(FIELD_MANAGER.into()),
        ..Default::default()
    };
    Api::<PreviewEnvironment>::all(ctx.client.clone())
        .replace(&read.name_any(), &params, &next)
        .await?;
    Ok(())
}
