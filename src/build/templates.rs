//! Loading the templates directory (the only file I/O of rendering).

use std::path::Path;

use crate::build::render::Template;

/// Reads every `*.yaml`, `*.yml` and `*.hbs` file of `dir`, sorted by name, so objects are
/// applied in a predictable order.
pub fn load(dir: &Path) -> Result<Vec<Template>, String> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| format!("templates directory {}: {e}", dir.display()))?;
    let mut templates = Vec::new();
    for entry in entries {
        let path = entry
            .map_err(|e| format!("templates directory {}: {e}", dir.display()))?
            .path();
        let is_template = path.is_file()
            && path
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| matches!(e, "yaml" | "yml" | "hbs"));
        if !is_template {
            continue;
        }
        let source = std::fs::read_to_string(&path)
            .map_err(|e| format!("template {}: {e}", path.display()))?;
        let file = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        templates.push(Template { file, source });
    }
    if templates.is_empty() {
        return Err(format!(
            "templates directory {} holds no *.yaml, *.yml or *.hbs file",
            dir.display()
        ));
    }
    templates.sort_by(|a, b| a.file.cmp(&b.file));
    Ok(templates)
}
