//! Whether a preview may deploy now (pure): the pause switch and the queue's verdict.

use crate::rules::queue::Slot;

/// What the controller may do with a preview that should be deployed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Admission {
    /// Render and apply.
    Proceed,
    /// Do not apply; the preview is Pending for this reason.
    Wait(String),
    /// Wait in the queue for a free slot (the reason shows the place).
    Queue(String),
    /// Do not apply; what runs keeps running, and the status says why nothing new is.
    Hold(String),
}

/// Facts the decision needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Facts<'a> {
    /// The configuration's pause switch.
    pub paused: bool,
    /// The SHA the preview should run.
    pub head_sha: &'a str,
    /// The SHA it runs, if it holds a deployment.
    pub running_sha: Option<&'a str>,
    /// The queue's verdict (asked only when [`needs_slot`] says so).
    pub slot: Option<Slot>,
}

/// Whether the decision needs a slot from the queue: only a first deployment takes one.
pub(crate) fn needs_slot(running_sha: Option<&str>) -> bool {
    running_sha.is_none()
}

/// Decides. Pausing stops anything new (a first deploy or a new SHA) but leaves running previews
/// alone; the caps stop only first deploys.
pub(crate) fn admit(facts: &Facts<'_>) -> Admission {
    if facts.paused {
        return match facts.running_sha {
            Some(running) if running == facts.head_sha => Admission::Proceed,
            Some(running) => Admission::Hold(format!(
                "previewd is paused: {} is not deployed, {} keeps running",
                short(facts.head_sha),
                short(running)
            )),
            None => Admission::Wait("previewd is paused: nothing new is deployed".into()),
        };
    }
    match &facts.slot {
        Some(Slot::Queued { place, full }) => Admission::Queue(format!(
            "queued: {} in line for a slot ({full}); the preview deploys when one is destroyed",
            ordinal(*place)
        )),
        _ => Admission::Proceed,
    }
}

/// `1st`, `2nd`, `3rd`, `4th`, ..., `11th`, `21st`.
pub(crate) fn ordinal(n: usize) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

fn short(sha: &str) -> &str {
    sha.get(..7).unwrap_or(sha)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(paused: bool, running: Option<&'static str>, slot: Option<Slot>) -> Facts<'static> {
        Facts {
            paused,
            head_sha: "bbbbbbbbbb",
            running_sha: running,
            slot,
        }
    }

    #[test]
    fn pause_stops_only_what_is_new() {
        assert!(matches!(
            admit(&facts(true, None, None)),
            Admission::Wait(_)
        ));
        assert_eq!(
            admit(&facts(true, Some("bbbbbbbbbb"), None)),
            Admission::Proceed
        );
        let Admission::Hold(why) = admit(&facts(true, Some("aaaaaaaaaa"), None)) else {
            panic!()
        };
        assert_eq!(
            why,
            "previewd is paused: bbbbbbb is not deployed, aaaaaaa keeps running"
        );
    }

    #[test]
    fn a_queued_preview_shows_its_place() {
        assert!(needs_slot(None));
        assert!(!needs_slot(Some("a")));
        let queued = Slot::Queued {
            place: 2,
            full: "1 of 1 previews of o/r are deployed".into(),
        };
        assert_eq!(
            admit(&facts(false, None, Some(queued))),
            Admission::Queue(
                "queued: 2nd in line for a slot (1 of 1 previews of o/r are deployed); the preview deploys when one is destroyed".into()
            )
        );
        assert_eq!(
            admit(&facts(false, None, Some(Slot::Free))),
            Admission::Proceed
        );
    }

    #[test]
    fn ordinals() {
        let got: Vec<String> = [1, 2, 3, 4, 11, 12, 13, 21, 22, 101, 111]
            .into_iter()
            .map(ordinal)
            .collect();
        assert_eq!(
            got,
            [
                "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "101st",
                "111th"
            ]
        );
    }
}
