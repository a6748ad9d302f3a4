//! A definition read from a checkout on disk (`previewd render --repo-dir`): every file under
//! the directory, symbolic links refused (one could point anywhere on the machine).

use std::path::Path;

use super::Files;

/// The files under `dir`, each path relative to it.
pub fn read_dir(dir: &Path) -> Result<Files, String> {
    let mut files = Files::default();
    walk(dir, "", &mut files)?;
    Ok(files)
}

fn walk(dir: &Path, prefix: &str, files: &mut Files) -> Result<(), String> {
    let shown = |relative: &str| format!("{}/{relative}", dir.display());
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .collect::<Result<_, _>>()
        .map_err(|e| format!("{}: {e}", dir.display()))?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = entry
            .file_name()
            .into_string()
            .map_err(|_| format!("{}: a name that is not UTF-8", dir.display()))?;
        let relative = format!("{prefix}{name}");
        let path = entry.path();
        let meta =
            std::fs::symlink_metadata(&path).map_err(|e| format!("{}: {e}", shown(&name)))?;
        if meta.file_type().is_symlink() {
            return Err(format!("{relative}: a symbolic link is refused"));
        }
        if meta.is_dir() {
            walk(&path, &format!("{relative}/"), files)?;
        } else if meta.is_file() {
            if meta.len() > super::MAX_FILE_BYTES as u64 {
                return Err(format!(
                    "{relative}: {} bytes, more than {}",
                    meta.len(),
                    super::MAX_FILE_BYTES
                ));
            }
            let content = std::fs::read(&path).map_err(|e| format!("{relative}: {e}"))?;
            files.add(&relative, content)?;
        } else {
            return Err(format!("{relative}: neither a file nor a directory"));
        }
    }
    Ok(())
}
