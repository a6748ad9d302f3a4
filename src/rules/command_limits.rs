//! Bounds on what commands from PR comments can cost (pure): how many wait per author and in
//! all, how old a comment may be and still run, how taken comments are remembered so none runs
//! twice, how often a user without permission gets an answer, and how long the answers are.

use chrono::{DateTime, Utc};

use crate::model::crd::{PendingCommand, Refusal};
use crate::model::event::CommandEvent;
use crate::model::markdown::clip;
use crate::model::time::age;
use crate::timing::{COMMAND_MAX_AGE, REFUSAL_QUIET};

/// Commands of one author waiting in a preview's spec: a flood from one account cannot push
/// out anyone else's.
pub(crate) const WAITING_PER_AUTHOR: usize = 3;
/// Commands waiting in a preview's spec, from everyone.
pub(crate) const WAITING_IN_ALL: usize = 20;
/// Taken comment ids a preview remembers one by one; older ones raise `processed_up_to`.
pub(crate) const REMEMBERED: usize = 100;
/// Users whose refusals a preview remembers.
const REFUSALS_REMEMBERED: usize = 50;
/// Users with a line in the notice; the rest are counted.
const NOTICE_USERS: usize = 10;
/// Characters of one user's line in the notice: the whole help fits.
const NOTICE_LINE: usize = 1_500;

/// Why a command comment is not recorded; `None` when it is.
pub(crate) fn not_recorded(
    waiting: &[PendingCommand],
    event: &CommandEvent,
    now: DateTime<Utc>,
) -> Option<&'static str> {
    if too_old(event.created_at, now) {
        return Some("command comment written more than an hour ago");
    }
    let from_author = waiting.iter().filter(|c| c.login == event.login).count();
    if from_author >= WAITING_PER_AUTHOR {
        return Some("too many commands of this user waiting");
    }
    if waiting.len() >= WAITING_IN_ALL {
        return Some("too many commands waiting");
    }
    None
}

/// Whether a command comment written `created_at` is too old to run `now`.
pub(crate) fn too_old(created_at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    created_at.is_some_and(|at| age(at, now) > COMMAND_MAX_AGE)
}

/// Whether comment `id` was taken before.
pub(crate) fn taken(processed: &[u64], processed_up_to: Option<u64>, id: u64) -> bool {
    processed.contains(&id) || processed_up_to.is_some_and(|up_to| id <= up_to)
}

/// Remembers comment `id` as taken; ids that no longer fit raise `processed_up_to`.
pub(crate) fn remember(processed: &mut Vec<u64>, processed_up_to: &mut Option<u64>, id: u64) {
    if !processed.contains(&id) {
        processed.push(id);
    }
    let excess = processed.len().saturating_sub(REMEMBERED);
    for forgotten in processed.drain(..excess) {
        *processed_up_to = Some(processed_up_to.map_or(forgotten, |up_to| up_to.max(forgotten)));
    }
}

/// Whether a refusal for `login` goes unanswered now: one was answered within the hour.
pub(crate) fn refusal_is_quiet(refusals: &[Refusal], login: &str, now: DateTime<Utc>) -> bool {
    refusals
        .iter()
        .any(|r| r.login == login && within_quiet(r.at, now))
}

/// Notes a refusal answered for `login` now; forgets those past the hour, and the oldest when
/// too many users are remembered.
pub(crate) fn note_refusal(refusals: &mut Vec<Refusal>, login: &str, now: DateTime<Utc>) {
    refusals.retain(|r| r.login != login && within_quiet(r.at, now));
    refusals.push(Refusal {
        login: login.to_owned(),
        at: now,
    });
    let excess = refusals.len().saturating_sub(REFUSALS_REMEMBERED);
    refusals.drain(..excess);
}

fn within_quiet(at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    age(at, now) < REFUSAL_QUIET
}

/// The notice for the sticky comment from the answers `(login, text)` in the order given: each
/// user's last answer, each clipped, at most `NOTICE_USERS` of them and a count of the rest.
pub(crate) fn notice(answers: &[(String, String)]) -> String {
    let mut last: Vec<(&str, &str)> = Vec::new();
    for (login, text) in answers {
        last.retain(|(who, _)| who != login);
        last.push((login, text));
    }
    let left_out = last.len().saturating_sub(NOTICE_USERS);
    let mut lines: Vec<String> = last[left_out..]
        .iter()
        .map(|(_, text)| clip(text, NOTICE_LINE))
        .collect();
    if left_out > 0 {
        lines.insert(
            0,
            format!("({left_out} more users' commands answered before these)"),
        );
    }
    lines.join("\n\n")
}

#[cfg(test)]
mod tests;
