//! `previewd list`: every preview of an installation, as a table or as JSON (pure, from the
//! records).

use std::borrow::Borrow;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{age, expiry, expiry_text, printable};
use crate::config::FileConfig;
use crate::model::crd::{Desired, PreviewEnvironment};
use crate::model::time::from_k8s;

/// One preview as `previewd list` shows it.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Row {
    /// PreviewEnvironment (and namespace) name.
    pub name: String,
    /// `owner/name`.
    pub repository: String,
    /// PR number.
    pub number: u64,
    /// PR title.
    pub title: String,
    /// PR author.
    pub author: String,
    /// The PR's web address.
    pub pull_request_url: String,
    /// `Deployed`, or `Destroyed: <reason>`.
    pub desired: String,
    /// Phase (`Pending` before the controller wrote a status).
    pub phase: String,
    /// Where the preview answers.
    pub url: Option<String>,
    /// The SHA deployed.
    pub deployed_sha: Option<String>,
    /// When the record was made.
    pub created_at: Option<DateTime<Utc>>,
    /// When the preview expires if idle (none: pinned, never, or not running).
    pub expires_at: Option<DateTime<Utc>>,
    /// `/preview pin`.
    pub pinned: bool,
    /// Place in the line of previews waiting for a slot (1 first), by when they started waiting.
    pub queue_place: Option<usize>,
    /// The failure reason, or what is awaited.
    pub message: Option<String>,
}

/// The rows of `previews`, by repository and PR number; time to live from `config` (names as
/// written there: the CLI does not ask GitHub).
pub fn rows<P: Borrow<PreviewEnvironment>>(previews: &[P], config: &FileConfig) -> Vec<Row> {
    let previews: Vec<&PreviewEnvironment> = previews.iter().map(Borrow::borrow).collect();
    let mut waiting: Vec<(DateTime<Utc>, String)> = previews
        .iter()
        .filter_map(|pe| {
            let status = pe.status.as_ref()?;
            let queued = status
                .queued_at
                .filter(|_| pe.spec.desired == Desired::Deployed)?;
            Some((queued, pe.metadata.name.clone().unwrap_or_default()))
        })
        .collect();
    waiting.sort();
    let mut rows: Vec<Row> = previews
        .iter()
        .map(|pe| {
            let name = pe.metadata.name.clone().unwrap_or_default();
            let status = pe.status.clone().unwrap_or_default();
            let pull = &pe.spec.pull;
            Row {
                repository: pull.repository.full_name.clone(),
                number: pull.number,
                title: pull.title.clone(),
                author: pull.author.clone(),
                pull_request_url: pull.pull_request_url.clone(),
                desired: match pe.spec.desired {
                    Desired::Deployed => "Deployed".to_owned(),
                    Desired::Destroyed(reason) => format!("Destroyed: {reason:?}"),
                },
                phase: status.phase.as_str().to_owned(),
                url: status.url.clone(),
                deployed_sha: status.deployed_sha.clone(),
                created_at: pe.metadata.creation_timestamp.as_ref().map(from_k8s),
                expires_at: expiry(pe, config),
                pinned: pe.spec.pinned,
                queue_place: waiting
                    .iter()
                    .position(|(_, waiting)| *waiting == name)
                    .map(|i| i + 1),
                message: status.message.clone(),
                name,
            }
        })
        .collect();
    rows.sort_by(|a, b| {
        (a.repository.to_ascii_lowercase(), a.number)
            .cmp(&(b.repository.to_ascii_lowercase(), b.number))
    });
    rows
}

/// The rows as a table with a header, one line per preview, every cell safe for a terminal.
pub fn table(rows: &[Row], now: DateTime<Utc>) -> String {
    let header = [
        "REPOSITORY",
        "PR",
        "PHASE",
        "SHA",
        "AGE",
        "EXPIRES",
        "URL",
        "MESSAGE",
    ];
    let mut lines: Vec<Vec<String>> = vec![header.iter().map(|h| (*h).to_owned()).collect()];
    for row in rows {
        let phase = match (&row.queue_place, row.desired.as_str()) {
            (Some(place), _) => format!("{} (queued #{place})", row.phase),
            (None, "Deployed") => row.phase.clone(),
            (None, desired) => format!(
                "{} ({})",
                row.phase,
                desired.trim_start_matches("Destroyed: ")
            ),
        };
        let expires = expiry_text(row.pinned, row.expires_at, now).unwrap_or_else(|| "-".into());
        lines.push(vec![
            printable(&row.repository, 60),
            row.number.to_string(),
            phase,
            row.deployed_sha
                .as_deref()
                .map_or("-".to_owned(), |s| printable(s, 7)),
            row.created_at.map_or("-".to_owned(), |at| age(at, now)),
            expires,
            row.url
                .as_deref()
                .map_or("-".to_owned(), |u| printable(u, 100)),
            row.message
                .as_deref()
                .and_then(|m| m.lines().next())
                .map_or("-".to_owned(), |m| printable(m, 80)),
        ]);
    }
    let widths: Vec<usize> = (0..header.len())
        .map(|i| {
            lines
                .iter()
                .map(|l| l[i].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for line in lines {
        let cells: Vec<String> = line
            .iter()
            .zip(&widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests;
