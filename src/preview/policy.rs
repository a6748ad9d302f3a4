//! Whether a preview may deploy now (pure): the pause switch and the global cap.

/// What the controller may do with a preview that should be deployed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Admission {
    /// Render and apply.
    Proceed,
    /// Do not apply; the preview is Pending for this reason.
    Wait(String),
    /// Do not apply; what runs keeps running, and the status says why nothing new is.
    Hold(String),
}

/// Facts the decision needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Facts<'a> {
    /// The configuration's pause switch.
    pub paused: bool,
    /// The configuration's global cap.
    pub cap: Option<usize>,
    /// The SHA the preview should run.
    pub head_sha: &'a str,
    /// The SHA it runs, if it holds a deployment.
    pub running_sha: Option<&'a str>,
    /// How many previews hold a deployment (asked only when [`needs_count`] says so).
    pub deployed: Option<usize>,
}

/// Whether the decision needs the number of deployed previews (a list call).
pub fn needs_count(cap: Option<usize>, running_sha: Option<&str>) -> bool {
    cap.is_some() && running_sha.is_none()
}

/// Decides. Pausing stops anything new (a first deploy or a new SHA) but leaves running previews
/// alone; the cap stops only first deploys.
pub fn admit(facts: &Facts<'_>) -> Admission {
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
    match (facts.cap, facts.running_sha, facts.deployed) {
        (Some(cap), None, Some(deployed)) if deployed >= cap => Admission::Wait(format!(
            "waiting: {deployed} previews are deployed, the cap is {cap}"
        )),
        _ => Admission::Proceed,
    }
}

fn short(sha: &str) -> &str {
    sha.get(..7).unwrap_or(sha)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(
        paused: bool,
        cap: Option<usize>,
        running: Option<&'static str>,
        deployed: Option<usize>,
    ) -> Facts<'static> {
        Facts {
            paused,
            cap,
            head_sha: "bbbbbbbbbb",
            running_sha: running,
            deployed,
        }
    }

    #[test]
    fn pause_stops_only_what_is_new() {
        assert!(matches!(
            admit(&facts(true, None, None, None)),
            Admission::Wait(_)
        ));
        assert_eq!(
            admit(&facts(true, None, Some("bbbbbbbbbb"), None)),
            Admission::Proceed
        );
        let Admission::Hold(why) = admit(&facts(true, None, Some("aaaaaaaaaa"), None)) else {
            panic!()
        };
        assert_eq!(
            why,
            "previewd is paused: bbbbbbb is not deployed, aaaaaaa keeps running"
        );
    }

    #[test]
    fn the_cap_stops_first_deploys_only() {
        assert!(needs_count(Some(2), None));
        assert!(!needs_count(Some(2), Some("a")));
        assert!(!needs_count(None, None));
        let Admission::Wait(why) = admit(&facts(false, Some(2), None, Some(2))) else {
            panic!()
        };
        assert_eq!(why, "waiting: 2 previews are deployed, the cap is 2");
        assert_eq!(
            admit(&facts(false, Some(2), None, Some(1))),
            Admission::Proceed
        );
        assert_eq!(
            admit(&facts(false, Some(2), Some("a"), Some(5))),
            Admission::Proceed
        );
        assert_eq!(admit(&facts(false, None, None, None)), Admission::Proceed);
    }
}
