//! How long a destroyed preview's record (its tombstone) is kept: while it exists, a late or
//! redelivered event about the closed pull request changes nothing; once it is removed, such an
//! event is confirmed with GitHub first (see `rules::intent`). Kept at least as long as an event
//! counts as fresh, so nothing falls between the two.

use std::time::Duration;

use serde::{Deserialize, Deserializer};

use crate::timing::{DEFAULT_KEEP_DESTROYED, FRESH_EVENT};

/// `keepDestroyedFor`: a duration such as `7d`, between `FRESH_EVENT` and a year.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeepDestroyedFor(pub Duration);

impl Default for KeepDestroyedFor {
    fn default() -> Self {
        KeepDestroyedFor(DEFAULT_KEEP_DESTROYED)
    }
}

impl<'de> Deserialize<'de> for KeepDestroyedFor {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        let keep = crate::model::duration::parse(&text).map_err(serde::de::Error::custom)?;
        if keep < FRESH_EVENT {
            return Err(serde::de::Error::custom(format!(
                "`{text}` is shorter than {}: a late event would find neither the record nor a reason to ask GitHub",
                crate::model::duration::format(FRESH_EVENT)
            )));
        }
        Ok(KeepDestroyedFor(keep))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<KeepDestroyedFor, String> {
        serde_yaml_ng::from_str(text).map_err(|e| e.to_string())
    }

    #[test]
    fn takes_durations_from_an_hour_to_a_year() {
        assert_eq!(parse("7d").unwrap().0, Duration::from_secs(7 * 86_400));
        assert_eq!(parse("1h").unwrap().0, FRESH_EVENT);
        assert!(parse("59m").unwrap_err().contains("shorter than 1h"));
        assert!(parse("2y").is_err());
        assert!(
            parse("9999999999999w")
                .unwrap_err()
                .contains("longer than a year")
        );
        assert!(parse("never").is_err());
    }
}
