//! A preview's objects from what it renders from: handlebars templates (in process), a chart
//! (`helm template`) or an overlay (`kustomize build`), both in the sandbox.

use std::collections::BTreeMap;

use super::Renderers;
use crate::build::definition::chart::{self, Chart};
use crate::build::definition::overlay::{self, Overlay};
use crate::build::render::{self, Context, RenderedObject, Template};

/// What a preview renders from.
#[derive(Clone, Copy, Debug)]
pub enum Rendering<'a> {
    /// Handlebars templates (previewd's, or a definition's with their paths in the repository).
    Templates(&'a [Template]),
    /// A definition's chart, shown as `shown` (its path in the repository).
    Chart {
        /// The chart.
        chart: &'a Chart,
        /// Its path in the repository, for errors.
        shown: &'a str,
    },
    /// A definition's overlay, the definition shown as `shown` (its path in the repository).
    Overlay {
        /// The overlay.
        overlay: &'a Overlay,
        /// The definition's path in the repository, for errors.
        shown: &'a str,
    },
}

impl Rendering<'_> {
    /// The objects rendered for `ctx`, placed in its namespace with `labels`, or why not, naming
    /// the file.
    pub async fn objects(
        &self,
        renderers: &Renderers,
        ctx: &Context,
        labels: &BTreeMap<String, String>,
    ) -> Result<Vec<RenderedObject>, String> {
        match self {
            Rendering::Templates(templates) => {
                render::render(templates, ctx, labels).map_err(|e| e.to_string())
            }
            Rendering::Chart { chart, shown } => {
                let values = chart::values(ctx);
                let output =
                    super::helm::template(renderers, chart, &values, &ctx.namespace, shown).await?;
                chart::objects(chart, shown, &output, ctx, labels).map_err(|e| e.to_string())
            }
            Rendering::Overlay { overlay, shown } => {
                let output = super::kustomize::build(renderers, overlay, ctx, shown).await?;
                overlay::objects(shown, &output, ctx, labels).map_err(|e| e.to_string())
            }
        }
    }
}
