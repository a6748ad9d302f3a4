//! What renders printed, kept by a digest of everything they were given (the definition's files
//! or the chart archive, the values, the namespace, the release or the wrapping kustomization):
//! a preview applied again with the same inputs (a wake-up, drift put back) spawns no renderer,
//! and a chart drawing random strings keeps the ones it drew first. Only successful renders are
//! kept.

use std::sync::Arc;

use sha2::{Digest, Sha256};

use super::kept::Kept;
use crate::build::definition::Files;

/// Outputs kept at most; the older half goes when full.
const KEPT: usize = 256;

/// The kept outputs.
#[derive(Clone, Debug)]
pub struct Outputs(Kept<[u8; 32], Arc<String>>);

impl Default for Outputs {
    fn default() -> Self {
        Outputs(Kept::new(KEPT))
    }
}

/// The inputs of one render, digested.
#[derive(Default)]
pub(crate) struct Key(Sha256);

impl Key {
    /// Adds a labelled piece of input.
    pub(crate) fn with(mut self, label: &str, bytes: &[u8]) -> Self {
        for part in [label.as_bytes(), bytes] {
            self.0.update((part.len() as u64).to_le_bytes());
            self.0.update(part);
        }
        self
    }

    /// Adds every file, path and content.
    pub(crate) fn with_files(self, files: &Files) -> Self {
        files.paths().fold(self, |key, path| {
            key.with(path, files.get(path).unwrap_or_default())
        })
    }

    fn finish(self) -> [u8; 32] {
        self.0.finalize().into()
    }
}

impl Outputs {
    /// The output kept for `key`, or the one `render` makes (kept when it succeeds).
    pub(crate) async fn get_or_render<F>(&self, key: Key, render: F) -> Result<Arc<String>, String>
    where
        F: Future<Output = Result<String, String>>,
    {
        let key = key.finish();
        if let Some(kept) = self.0.get(&key) {
            return Ok(kept);
        }
        let output = Arc::new(render.await?);
        self.0.keep(key, output.clone());
        Ok(output)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_same_inputs_render_once_and_failures_are_not_kept() {
        let outputs = Outputs::default();
        let key = || Key::default().with("values", b"{\"a\":1}");
        let first = outputs.get_or_render(key(), async { Ok("one".to_owned()) });
        assert_eq!(*first.await.unwrap(), "one");
        let again = outputs.get_or_render(key(), async { Ok("two".to_owned()) });
        assert_eq!(*again.await.unwrap(), "one", "rendered again");
        let other = Key::default().with("values", b"{\"a\":2}");
        let failed = outputs.get_or_render(other, async { Err("bad".to_owned()) });
        assert!(failed.await.is_err());
        let other = Key::default().with("values", b"{\"a\":2}");
        let retried = outputs.get_or_render(other, async { Ok("three".to_owned()) });
        assert_eq!(*retried.await.unwrap(), "three", "a failure was kept");
        // A label and its bytes are told apart from a different split of the same bytes.
        let split = |a: &str, b: &[u8]| Key::default().with(a, b).finish();
        assert_ne!(split("ab", b"c"), split("a", b"bc"));
    }
}
