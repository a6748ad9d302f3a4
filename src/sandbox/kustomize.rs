//! `kustomize build` on a definition's overlay: the definition's files and the wrapping
//! kustomization previewd generates written to a scratch directory, built with the load
//! restrictor at each kustomization's root, no plugins, no chart inflation and no network.

use std::ffi::OsString;

use std::sync::Arc;

use super::Renderers;
use super::outputs::Key;
use super::run::run;
use crate::build::definition::overlay::{self, Overlay};
use crate::build::render::Context;

/// The name errors give a kustomize run.
const WHAT: &str = "kustomize build";

/// What `kustomize build` prints for `overlay` wrapped for `ctx` (kept for the same inputs),
/// or why it failed (the definition's files named under `shown`, where the definition is in
/// the repository).
pub async fn build(
    renderers: &Renderers,
    overlay: &Overlay,
    ctx: &Context,
    shown: &str,
) -> Result<Arc<String>, String> {
    let wrapper = overlay::wrapper(overlay, ctx).to_string();
    let key = Key::default()
        .with("kustomization", wrapper.as_bytes())
        .with_files(&overlay.files);
    let rendered = render(renderers, overlay, &wrapper, shown);
    renderers.outputs.get_or_render(key, rendered).await
}

async fn render(
    renderers: &Renderers,
    overlay: &Overlay,
    wrapper: &str,
    shown: &str,
) -> Result<String, String> {
    let (_turn, scratch) = renderers.begin(WHAT).await?;
    scratch.write_files("definition", &overlay.files)?;
    let wrap = scratch.dir("wrap")?;
    scratch.write_new(&wrap.join("kustomization.yaml"), wrapper.as_bytes())?;
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
