//! The dashboard's pages, rendered on the server from the records (pure). Every value is escaped;
//! the script only updates them with `textContent` from the same `Card`s as JSON.

use chrono::{DateTime, Utc};
use k8s_openapi::api::events::v1::Event;
use serde::Serialize;

use super::html::{commit_url, escape, link, safe_url};
use crate::model::crd::PreviewEnvironment;
use crate::model::time::{from_k8s, rfc3339};
use crate::ops::list::Row;
use crate::ops::status::event_time;
use crate::ops::{age, expiry_text};

/// Longest message shown in the list.
const MESSAGE_SHOWN: usize = 300;

/// One preview as the dashboard shows it: display text, and links only to web addresses.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Card {
    pub name: String,
    pub repository: String,
    pub number: u64,
    pub title: String,
    pub author: String,
    pub pr_url: Option<String>,
    pub phase: String,
    pub icon: &'static str,
    pub url: Option<String>,
    pub sha: String,
    pub commit_url: Option<String>,
    pub age: String,
    pub expires: String,
    pub queue: String,
    pub message: String,
    pub details: String,
}

/// The icon shown with a phase (with its name: the colour is never the only sign).
/// Symbols common fonts have (an offline cluster's browser may have no emoji font).
fn icon(phase: &str) -> &'static str {
    match phase {
        "Pending" => "◔",
        "Deploying" => "↻",
        "Ready" => "✔",
        "Failed" => "✖",
        "Terminating" => "◌",
        "Destroyed" => "∅",
        _ => "•",
    }
}

/// The card of `row`, seen `now`.
pub(crate) fn card(row: &Row, now: DateTime<Utc>) -> Card {
    let sha = row.deployed_sha.clone().unwrap_or_default();
    let message: String = row
        .message
        .as_deref()
        .unwrap_or_default()
        .chars()
        .take(MESSAGE_SHOWN)
        .collect();
    Card {
        name: row.name.clone(),
        repository: row.repository.clone(),
        number: row.number,
        title: row.title.clone(),
        author: row.author.clone(),
        pr_url: safe_url(&row.pull_request_url).map(str::to_owned),
        phase: row.phase.clone(),
        icon: icon(&row.phase),
        url: row.url.as_deref().and_then(safe_url).map(str::to_owned),
        commit_url: commit_url(&row.pull_request_url, &sha),
        sha: sha.chars().take(7).collect(),
        age: row.created_at.map_or_else(String::new, |at| age(at, now)),
        expires: expiry_text(row.pinned, row.expires_at, now).unwrap_or_else(|| "—".into()),
        queue: row
            .queue_place
            .map_or_else(|| "—".to_owned(), |p| format!("#{p}")),
        message,
        details: format!("/previews/{}", row.name),
    }
}

/// What the list is filtered by.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Deserialize)]
pub(crate) struct Filters {
    /// Only this repository (`owner/name`).
    #[serde(default)]
    pub repository: Option<String>,
    /// Only this phase.
    #[serde(default)]
    pub phase: Option<String>,
}

impl Filters {
    /// Whether `card` passes.
    pub(crate) fn keep(&self, card: &Card) -> bool {
        given(&self.repository).is_none_or(|r| r.eq_ignore_ascii_case(&card.repository))
            && given(&self.phase).is_none_or(|p| p == card.phase)
    }
}

/// A filter's value, if one was chosen.
fn given(filter: &Option<String>) -> Option<&str> {
    filter.as_deref().filter(|v| !v.is_empty())
}

const PHASES: [&str; 6] = [
    "Pending",
    "Deploying",
    "Ready",
    "Failed",
    "Terminating",
    "Destroyed",
];

fn head(title: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<link rel=\"icon\" href=\"/static/icon.svg\" type=\"image/svg+xml\">\n\
         <link rel=\"stylesheet\" href=\"/static/dashboard.css\">\n</head>\n",
        escape(title)
    )
}

fn options(name: &str, label: &str, all: &[String], chosen: Option<&str>) -> String {
    let mut out = format!(
        "<label for=\"{name}\">{label}</label>\n<select id=\"{name}\" name=\"{name}\">\n<option value=\"\">All</option>\n"
    );
    for value in all {
        let selected = if chosen == Some(value.as_str()) {
            " selected"
        } else {
            ""
        };
        out.push_str(&format!(
            "<option value=\"{0}\"{selected}>{0}</option>\n",
            escape(value)
        ));
    }
    out.push_str("</select>\n");
    out
}

/// The rows of one repository's table.
fn table(cards: &[&Card]) -> String {
    let mut out = String::from(
        "<table>\n<thead><tr><th scope=\"col\">Pull request</th><th scope=\"col\">Author</th>\
         <th scope=\"col\">Phase</th><th scope=\"col\">Preview</th><th scope=\"col\">Commit</th>\
         <th scope=\"col\">Age</th><th scope=\"col\">Expires</th><th scope=\"col\">Queue</th>\
         <th scope=\"col\">Details</th></tr></thead>\n<tbody>\n",
    );
    for c in cards {
        out.push_str(&format!(
            "<tr data-name=\"{name}\"><td data-label=\"Pull request\">{pr}</td>\
             <td data-label=\"Author\">{author}</td>\
             <td data-label=\"Phase\"><span class=\"phase phase-{class}\">{icon} {phase}</span></td>\
             <td data-label=\"Preview\">{url}</td><td data-label=\"Commit\">{commit}</td>\
             <td data-label=\"Age\">{age}</td><td data-label=\"Expires\">{expires}</td>\
             <td data-label=\"Queue\">{queue}</td>\
             <td data-label=\"Details\"><a href=\"{details}\">details</a> <span class=\"message\">{message}</span></td></tr>\n",
            name = escape(&c.name),
            pr = link(c.pr_url.as_deref(), &format!("#{} {}", c.number, c.title)),
            author = escape(&c.author),
            class = escape(&c.phase.to_ascii_lowercase()),
            icon = c.icon,
            phase = escape(&c.phase),
            url = c.url.as_deref().map_or("—".to_owned(), |u| link(Some(u), u)),
            commit = if c.sha.is_empty() { "—".to_owned() } else { link(c.commit_url.as_deref(), &c.sha) },
            age = escape(&c.age),
            expires = escape(&c.expires),
            queue = escape(&c.queue),
            details = escape(&c.details),
            message = escape(&c.message),
        ));
    }
    out.push_str("</tbody>\n</table>\n");
    out
}

/// The list of previews, grouped by repository, filtered by `filters`.
pub(crate) fn list(cards: &[Card], filters: &Filters, now: DateTime<Utc>) -> String {
    let mut repositories: Vec<String> = cards.iter().map(|c| c.repository.clone()).collect();
    repositories.sort_by_key(|r| r.to_ascii_lowercase());
    repositories.dedup();
    let phases: Vec<String> = PHASES.iter().map(|p| (*p).to_owned()).collect();
    let shown: Vec<&Card> = cards.iter().filter(|c| filters.keep(c)).collect();
    let mut out = head("Previews · previewd");
    out.push_str("<body>\n<header><h1>Previews</h1>\n");
    out.push_str(&format!(
        "<p id=\"updated\" aria-live=\"polite\">Updated {}</p></header>\n<main>\n",
        now.format("%H:%M:%S UTC")
    ));
    out.push_str("<form id=\"filters\" method=\"get\" action=\"/\">\n");
    out.push_str(&options(
        "repository",
        "Repository",
        &repositories,
        filters.repository.as_deref(),
    ));
    out.push_str(&options(
        "phase",
        "Phase",
        &phases,
        filters.phase.as_deref(),
    ));
    out.push_str("<button type=\"submit\">Filter</button>\n</form>\n<div id=\"previews\">\n");
    if shown.is_empty() {
        out.push_str("<p class=\"empty\">No previews.</p>\n");
    }
    let mut start = 0;
    while start < shown.len() {
        let repository = &shown[start].repository;
        let end = start
            + shown[start..]
                .iter()
                .take_while(|c| c.repository == *repository)
                .count();
        out.push_str(&format!(
            "<section>\n<h2>{}</h2>\n{}</section>\n",
            escape(repository),
            table(&shown[start..end])
        ));
        start = end;
    }
    out.push_str(
        "</div>\n</main>\n<script src=\"/static/dashboard.js\"></script>\n</body>\n</html>\n",
    );
    out
}

/// One preview's page: its facts, conditions, phase history and the last hour's Events.
pub(crate) fn detail(pe: &PreviewEnvironment, card: &Card, events: &[Event]) -> String {
    let status = pe.status.clone().unwrap_or_default();
    let mut out = head(&format!("{} #{} · previewd", card.repository, card.number));
    out.push_str(&format!(
        "<body data-preview=\"{}\">\n<header><p><a href=\"/\">All previews</a></p>\n<h1>{} #{}</h1></header>\n<main>\n",
        escape(&card.name),
        escape(&card.repository),
        card.number
    ));
    let facts = [
        ("Pull request", link(card.pr_url.as_deref(), &card.title)),
        ("Author", escape(&card.author)),
        (
            "Phase",
            format!(
                "<span id=\"phase\" class=\"phase phase-{}\">{} {}</span>",
                escape(&card.phase.to_ascii_lowercase()),
                card.icon,
                escape(&card.phase)
            ),
        ),
        (
            "Preview",
            card.url
                .as_deref()
                .map_or("—".to_owned(), |u| link(Some(u), u)),
        ),
        (
            "Commit",
            if card.sha.is_empty() {
                "—".to_owned()
            } else {
                link(card.commit_url.as_deref(), &card.sha)
            },
        ),
        (
            "Namespace",
            escape(status.namespace.as_deref().unwrap_or("—")),
        ),
        ("Expires", escape(&card.expires)),
        ("Queue", escape(&card.queue)),
        (
            "Message",
            format!(
                "<span id=\"message\">{}</span>",
                escape(status.message.as_deref().unwrap_or("—"))
            ),
        ),
    ];
    out.push_str("<dl>\n");
    for (term, value) in facts {
        out.push_str(&format!("<dt>{term}</dt><dd>{value}</dd>\n"));
    }
    out.push_str("</dl>\n<h2>Conditions</h2>\n");
    let conditions: Vec<[String; 4]> = status
        .conditions
        .iter()
        .map(|c| {
            [
                format!("{}={}", c.type_, c.status),
                c.reason.clone(),
                rfc3339(from_k8s(&c.last_transition_time)),
                c.message.clone(),
            ]
        })
        .collect();
    out.push_str(&rows_table(
        &["Condition", "Reason", "Since", "Message"],
        &conditions,
    ));
    out.push_str("<h2>Phase history</h2>\n");
    let history: Vec<[String; 4]> = status
        .history
        .iter()
        .rev()
        .map(|h| {
            [
                rfc3339(h.at),
                h.phase.as_str().to_owned(),
                h.sha
                    .as_deref()
                    .map(|s| s.chars().take(7).collect())
                    .unwrap_or_default(),
                h.message.clone().unwrap_or_default(),
            ]
        })
        .collect();
    out.push_str(&rows_table(
        &["When", "Phase", "Commit", "Message"],
        &history,
    ));
    out.push_str("<h2>Events of the last hour</h2>\n");
    let events: Vec<[String; 4]> = events
        .iter()
        .rev()
        .map(|e| {
            [
                event_time(e).map(rfc3339).unwrap_or_default(),
                e.type_.clone().unwrap_or_default(),
                e.reason.clone().unwrap_or_default(),
                e.note.clone().unwrap_or_default(),
            ]
        })
        .collect();
    out.push_str(&rows_table(&["When", "Type", "Reason", "Note"], &events));
    out.push_str("</main>\n<script src=\"/static/dashboard.js\"></script>\n</body>\n</html>\n");
    out
}

fn rows_table(headers: &[&str; 4], rows: &[[String; 4]]) -> String {
    if rows.is_empty() {
        return "<p class=\"empty\">None.</p>\n".to_owned();
    }
    let mut out = String::from("<table>\n<thead><tr>");
    for h in headers {
        out.push_str(&format!("<th scope=\"col\">{h}</th>"));
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for row in rows {
        out.push_str("<tr>");
        for (h, cell) in headers.iter().zip(row) {
            out.push_str(&format!("<td data-label=\"{h}\">{}</td>", escape(cell)));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody>\n</table>\n");
    out
}

#[cfg(test)]
mod tests;
