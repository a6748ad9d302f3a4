//! `previewd status <owner/repo>#<pr>`: one preview's record, conditions and Events, and the PR
//! comment as previewd renders it from the status (the CLI holds no GitHub token, so it shows
//! what the comment says, not what GitHub has).

use chrono::{DateTime, Utc};
use k8s_openapi::api::events::v1::Event;
use kube::api::ListParams;
use kube::{Api, Client, ResourceExt};

use super::{expiry, printable};
use crate::config::FileConfig;
use crate::github::comment::{self, CommentView};
use crate::model::crd::{Desired, Phase, PreviewEnvironment};
use crate::model::time::{from_k8s, from_k8s_micro, rfc3339};

/// Longest text shown of anything GitHub or the cluster wrote (a title, a message).
const SHOWN: usize = 2000;

/// `owner/repo#number` read as its two parts; `None` when it is not that shape.
pub fn parse_target(text: &str) -> Option<(String, u64)> {
    let (repository, number) = text.rsplit_once('#')?;
    let (owner, name) = repository.split_once('/')?;
    let number: u64 = number.parse().ok()?;
    (!owner.is_empty() && !name.is_empty() && !name.contains('/') && number > 0)
        .then(|| (repository.to_owned(), number))
}

/// The record of `repository`'s PR `number` among `previews` (names compare as GitHub's do).
pub fn find<'a>(
    previews: &'a [PreviewEnvironment],
    repository: &str,
    number: u64,
) -> Option<&'a PreviewEnvironment> {
    previews.iter().find(|pe| {
        pe.spec.pull.number == number
            && pe
                .spec
                .pull
                .repository
                .full_name
                .eq_ignore_ascii_case(repository)
    })
}

/// The Events about `pe` in previewd's namespace `namespace`, oldest first.
pub async fn events_of(
    client: &Client,
    namespace: &str,
    pe: &PreviewEnvironment,
) -> Result<Vec<Event>, kube::Error> {
    let name = pe.name_any();
    let mut events: Vec<Event> = Api::<Event>::namespaced(client.clone(), namespace)
        .list(&ListParams::default())
        .await?
        .items
        .into_iter()
        .filter(|e| {
            e.regarding.as_ref().is_some_and(|r| {
                r.kind.as_deref() == Some("PreviewEnvironment") && r.name.as_deref() == Some(&name)
            })
        })
        .collect();
    events.sort_by_key(event_time);
    Ok(events)
}

/// When an Event happened (its own time, else when it was stored).
pub(crate) fn event_time(event: &Event) -> Option<DateTime<Utc>> {
    event
        .event_time
        .as_ref()
        .map(from_k8s_micro)
        .or_else(|| event.metadata.creation_timestamp.as_ref().map(from_k8s))
}

/// What `previewd status` prints about `pe` (pure).
pub fn describe(
    pe: &PreviewEnvironment,
    events: &[Event],
    config: &FileConfig,
    instance: &str,
    now: DateTime<Utc>,
) -> String {
    let status = pe.status.clone().unwrap_or_default();
    let pull = &pe.spec.pull;
    let name = pe.name_any();
    let expires = expiry(pe, config);
    let mut out = String::new();
    let mut field = |label: &str, value: String| {
        out.push_str(&format!("{label:<11}{value}\n"));
    };
    field(
        "Preview:",
        format!(
            "{}#{}  ({name})",
            printable(&pull.repository.full_name, 200),
            pull.number
        ),
    );
    field("Title:", printable(&pull.title, SHOWN));
    field("Author:", printable(&pull.author, 100));
    field("PR:", printable(&pull.pull_request_url, 300));
    field(
        "Desired:",
        match pe.spec.desired {
            Desired::Deployed => "Deployed".to_owned(),
            Desired::Destroyed(reason) => format!("Destroyed ({})", reason.describe()),
        },
    );
    let since = status
        .last_transition_at
        .map(|at| format!("  (since {})", rfc3339(at)))
        .unwrap_or_default();
    field("Phase:", format!("{}{since}", status.phase.as_str()));
    if let Some(url) = &status.url {
        field("URL:", printable(url, 300));
    }
    field(
        "Head:",
        format!(
            "{}  deployed: {}",
            printable(&pull.head_sha, 64),
            status
                .deployed_sha
                .as_deref()
                .map_or("-".to_owned(), |s| printable(s, 64))
        ),
    );
    field(
        "Namespace:",
        status.namespace.clone().unwrap_or_else(|| "-".into()),
    );
    let expiry = match (pe.spec.pinned, expires) {
        (true, _) => "never (pinned)".to_owned(),
        (false, Some(at)) => rfc3339(at),
        (false, None) => "-".to_owned(),
    };
    field("Expires:", expiry);
    if let Some(queued) = status.queued_at {
        field(
            "Queued:",
            format!("waiting for a slot since {}", rfc3339(queued)),
        );
    }
    if let Some(message) = &status.message {
        for (i, line) in message.lines().take(40).enumerate() {
            field(if i == 0 { "Message:" } else { "" }, printable(line, SHOWN));
        }
    }
    out.push_str("\nConditions:\n");
    if status.conditions.is_empty() {
        out.push_str("  (none)\n");
    }
    for c in &status.conditions {
        out.push_str(&format!(
            "  {}={}  {}  {}  {}\n",
            c.type_,
            c.status,
            printable(&c.reason, 100),
            rfc3339(from_k8s(&c.last_transition_time)),
            printable(&c.message, SHOWN)
        ));
    }
    out.push_str("\nEvents (Kubernetes keeps them about an hour):\n");
    if events.is_empty() {
        out.push_str("  (none)\n");
    }
    for e in events {
        out.push_str(&format!(
            "  {}  {}  {}  {}\n",
            event_time(e).map_or("-".to_owned(), rfc3339),
            e.type_.as_deref().unwrap_or("-"),
            e.reason
                .as_deref()
                .map_or("-".to_owned(), |r| printable(r, 100)),
            e.note
                .as_deref()
                .map_or("-".to_owned(), |n| printable(n, SHOWN))
        ));
    }
    let view = CommentView {
        phase: status.phase,
        url: status.url.as_deref(),
        sha: status.deployed_sha.as_deref().unwrap_or(&pull.head_sha),
        namespace: &name,
        message: status
            .message
            .as_deref()
            .filter(|_| status.phase != Phase::Deploying),
        expires_at: expires,
        notice: status.notice.as_deref(),
        checks: status.checks.as_ref(),
    };
    let at = status.last_transition_at.unwrap_or(now);
    out.push_str("\nComment (as previewd writes it from this status):\n");
    for line in comment::render(&view, instance, at).lines() {
        out.push_str(&format!("  {}\n", printable(line, SHOWN)));
    }
    out
}

#[cfg(test)]
mod tests;
