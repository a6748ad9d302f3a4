//! `kustomize build` on a definition's overlay: the definition's files and the wrapping
//! kustomization previewd generates written to a scratch directory, built with the load
//! restrictor at each kustomization's root, no plugins, no chart inflation and no network.

use std::ffi::OsString;

use super::Renderers;
use super::run::run;
use crate::build::definition::overlay::{self, Overlay};
use crate::build::render::Context;

/// The name errors give a kustomize run.
const WHAT: &str = "kustomize build";

/// What `kustomize build` prints for `overlay` wrapped for `ctx`, or why it failed (the
/// definition's files named under `shown`, where the definition is in the repository).
pub async fn build(
    renderers: &Renderers,
    overlay: &Overlay,
    ctx: &Context,
    shown: &str,
) -> Result<String, String> {
    let (_turn, scratch) = renderers.begin(WHAT).await?;
    scratch.write_files("definition", &overlay.files)?;
    let wrap = scratch.dir("wrap")?;
    let wrapper = overlay::wrapper(overlay, ctx);
    scratch.write_new(
        &wrap.join("kustomization.yaml"),
        wrapper.to_string().as_bytes(),
    )?;
    let args: Vec<OsString> = ["build", "--load-restrictor", "LoadRestrictionsRootOnly"]
        .into_iter()
        .map(OsString::from)
        .chain([wrap.into_os_string()])
        .collect();
    let program = Renderers::resolve(&renderers.kustomize);
    run(&program, &args, &scratch, &renderers.limits, WHAT)
        .await
        .map_err(|why| {
            let definition = format!("{}/definition", scratch.path().display());
            let wrap = format!("{}/wrap", scratch.path().display());
            why.replace(&definition, shown)
                .replace(overlay::DEFINITION_FROM_WRAPPER, shown)
                .replace(&wrap, "previewd's wrapping kustomization")
        })
}
