//! Human durations (pure): `90s`, `30m`, `72h`, `3d`, `1w`, `1h30m`, `1d12h`.
//!
//! A duration is one or more `<number><unit>` parts written without spaces; the units are `s`,
//! `m`, `h`, `d` (24 hours) and `w` (7 days), in either case except `M` (a month to some, a
//! minute to others: refused). It is more than nothing and at most a year. `humantime` adds the
//! parts up; the text is first held to this language, much narrower than humantime's (spaces,
//! fractions, `ms`, months, years, words).

use std::time::Duration;

use super::markdown::code;
use crate::timing::LONGEST_ASKED;

/// Seconds per unit, largest first (the order [`format`] writes them in).
const UNITS: [(char, u64); 5] = [
    ('w', 7 * 24 * 60 * 60),
    ('d', 24 * 60 * 60),
    ('h', 60 * 60),
    ('m', 60),
    ('s', 1),
];

/// Why a text is not a duration previewd takes; the message names the text as inline code, cut
/// short and with its backticks made quotes, as it is echoed into a PR comment.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum DurationError {
    /// Nothing was written.
    #[error("empty duration: write one like `30m`, `24h` or `1d12h`")]
    Empty,
    /// The text has whitespace inside it.
    #[error("{} is not a duration: write it without spaces, like `1h30m`", code(.input))]
    Space {
        /// The text as given.
        input: String,
    },
    /// A unit (or something else) where a number was expected.
    #[error("{} is not a duration: expected a number at {}", code(.input), code(.rest))]
    ExpectedNumber {
        /// The text as given.
        input: String,
        /// The part of the text from where the number is missing.
        rest: String,
    },
    /// A number without a unit.
    #[error("{} is not a duration: {} has no unit (use s, m, h, d or w)", code(.input), code(.number))]
    MissingUnit {
        /// The text as given.
        input: String,
        /// The number lacking its unit.
        number: String,
    },
    /// A unit previewd does not know.
    #[error("{} is not a duration: {} is not a unit (use s, m, h, d or w)", code(.input), code(.unit))]
    UnknownUnit {
        /// The text as given.
        input: String,
        /// The unknown unit as written.
        unit: String,
    },
    /// `M`, which reads as months as readily as minutes.
    #[error(
        "{} is not a duration: `M` could mean minutes or months; write `m` for minutes",
        code(.input)
    )]
    AmbiguousM {
        /// The text as given.
        input: String,
    },
    /// Longer than previewd takes.
    #[error("{} is longer than a year", code(.input))]
    TooLong {
        /// The text as given.
        input: String,
    },
    /// The parts add up to nothing.
    #[error("{} is a zero duration: it must be longer than that", code(.input))]
    Zero {
        /// The text as given.
        input: String,
    },
}

/// Parses a human duration such as `90s`, `72h` or `1d12h` (surrounding whitespace is ignored).
pub(crate) fn parse(text: &str) -> Result<Duration, DurationError> {
    let input = text.trim();
    let owned = || input.to_owned();
    if input.is_empty() {
        return Err(DurationError::Empty);
    }
    if input.contains(char::is_whitespace) {
        return Err(DurationError::Space { input: owned() });
    }
    let mut rest = input;
    while !rest.is_empty() {
        let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        let (number, after) = rest.split_at(digits);
        let unit = after
            .split(|c: char| c.is_ascii_digit())
            .next()
            .unwrap_or("");
        match (number, unit) {
            ("", _) => {
                return Err(DurationError::ExpectedNumber {
                    input: owned(),
                    rest: rest.to_owned(),
                });
            }
            (_, "") => {
                return Err(DurationError::MissingUnit {
                    input: owned(),
                    number: number.to_owned(),
                });
            }
            (_, "M") => return Err(DurationError::AmbiguousM { input: owned() }),
            _ if !is_unit(unit) => {
                return Err(DurationError::UnknownUnit {
                    input: owned(),
                    unit: unit.to_owned(),
                });
            }
            _ => rest = &after[unit.len()..],
        }
    }
    // Only our units and digits are left, which mean to humantime what they mean here (in
    // lowercase): it can only find the total too big.
    let total = humantime::parse_duration(&input.to_ascii_lowercase())
        .map_err(|_| DurationError::TooLong { input: owned() })?;
    if total.is_zero() {
        return Err(DurationError::Zero { input: owned() });
    }
    if total > LONGEST_ASKED {
        return Err(DurationError::TooLong { input: owned() });
    }
    Ok(total)
}

/// Whether `unit` is one of ours: a single letter of [`UNITS`], in either case.
fn is_unit(unit: &str) -> bool {
    let mut chars = unit.chars();
    matches!((chars.next(), chars.next()), (Some(letter), None)
        if UNITS.iter().any(|(name, _)| *name == letter.to_ascii_lowercase()))
}

/// The canonical compact form of whole seconds, largest units first and zero parts left out:
/// 93600 seconds is `1d2h`, nothing is `0s`. Fractions of a second are dropped, so
/// `parse(&format(d))` gives `d` back for every whole number of seconds it takes.
pub(crate) fn format(d: Duration) -> String {
    let mut left = d.as_secs();
    if left == 0 {
        return "0s".to_owned();
    }
    let mut text = String::new();
    for (name, seconds) in UNITS {
        let count = left / seconds;
        if count > 0 {
            text.push_str(&count.to_string());
            text.push(name);
            left %= seconds;
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: u64 = 60;
    const HOUR: u64 = 60 * MINUTE;
    const DAY: u64 = 24 * HOUR;
    const WEEK: u64 = 7 * DAY;

    #[test]
    fn parses_every_unit_and_combination() {
        let cases: &[(&str, u64)] = &[
            ("1s", 1),
            ("90s", 90),
            ("30m", 30 * MINUTE),
            ("72h", 72 * HOUR),
            ("3d", 3 * DAY),
            ("1w", WEEK),
            ("1h30m", HOUR + 30 * MINUTE),
            ("1d12h", DAY + 12 * HOUR),
            ("1w2d3h4m5s", WEEK + 2 * DAY + 3 * HOUR + 4 * MINUTE + 5),
            // Parts add up in any order, repeated or not.
            ("30m1h", HOUR + 30 * MINUTE),
            ("1h1h", 2 * HOUR),
            // Case does not matter (but for `M`).
            ("24H", 24 * HOUR),
            ("1D12H", DAY + 12 * HOUR),
            ("2W", 2 * WEEK),
            ("5S", 5),
            // Leading zeros and zero parts are fine as long as the total is not zero.
            ("007m", 7 * MINUTE),
            ("0h5m", 5 * MINUTE),
            // Surrounding whitespace is ignored.
            ("  24h\t", 24 * HOUR),
            ("\r\n1d\n", DAY),
            // A year is the most there is.
            ("365d", 365 * DAY),
            ("52w1d", 365 * DAY),
        ];
        for (text, seconds) in cases {
            assert_eq!(parse(text), Ok(Duration::from_secs(*seconds)), "{text:?}");
        }
    }

    #[test]
    fn refuses_with_a_message_naming_the_text() {
        let cases: &[(&str, &str)] = &[
            ("", "empty duration: write one like `30m`, `24h` or `1d12h`"),
            (
                "   ",
                "empty duration: write one like `30m`, `24h` or `1d12h`",
            ),
            (
                "1h 30m",
                "`1h 30m` is not a duration: write it without spaces, like `1h30m`",
            ),
            (
                "2 hours",
                "`2 hours` is not a duration: write it without spaces, like `1h30m`",
            ),
            (
                "72",
                "`72` is not a duration: `72` has no unit (use s, m, h, d or w)",
            ),
            (
                "1h30",
                "`1h30` is not a duration: `30` has no unit (use s, m, h, d or w)",
            ),
            ("h", "`h` is not a duration: expected a number at `h`"),
            ("-5m", "`-5m` is not a duration: expected a number at `-5m`"),
            ("+5m", "`+5m` is not a duration: expected a number at `+5m`"),
            (
                "1y",
                "`1y` is not a duration: `y` is not a unit (use s, m, h, d or w)",
            ),
            (
                "500ms",
                "`500ms` is not a duration: `ms` is not a unit (use s, m, h, d or w)",
            ),
            (
                "1.5h",
                "`1.5h` is not a duration: `.` is not a unit (use s, m, h, d or w)",
            ),
            (
                "2hours",
                "`2hours` is not a duration: `hours` is not a unit (use s, m, h, d or w)",
            ),
            (
                "1month",
                "`1month` is not a duration: `month` is not a unit (use s, m, h, d or w)",
            ),
            (
                "5µs",
                "`5µs` is not a duration: `µs` is not a unit (use s, m, h, d or w)",
            ),
            (
                "1M",
                "`1M` is not a duration: `M` could mean minutes or months; write `m` for minutes",
            ),
            (
                "1h30M",
                "`1h30M` is not a duration: `M` could mean minutes or months; write `m` for minutes",
            ),
            ("0s", "`0s` is a zero duration: it must be longer than that"),
            (
                "0d0h",
                "`0d0h` is a zero duration: it must be longer than that",
            ),
            ("366d", "`366d` is longer than a year"),
            ("53w", "`53w` is longer than a year"),
            (
                "18446744073709551616s",
                "`18446744073709551616s` is longer than a year",
            ),
            (
                "18446744073709551615m",
                "`18446744073709551615m` is longer than a year",
            ),
        ];
        for (text, message) in cases {
            let refused = parse(text).expect_err(text);
            assert_eq!(refused.to_string(), *message, "{text:?}");
        }
    }

    #[test]
    fn formats_largest_units_first() {
        let cases: &[(u64, &str)] = &[
            (0, "0s"),
            (59, "59s"),
            (90, "1m30s"),
            (HOUR + 30 * MINUTE, "1h30m"),
            (93_600, "1d2h"),
            (72 * HOUR, "3d"),
            (8 * DAY, "1w1d"),
            (WEEK + DAY + HOUR + MINUTE + 1, "1w1d1h1m1s"),
            (u64::MAX, "30500568904943w7h15s"),
        ];
        for (seconds, text) in cases {
            assert_eq!(format(Duration::from_secs(*seconds)), *text, "{seconds} s");
        }
        assert_eq!(
            format(Duration::from_millis(1_999)),
            "1s",
            "fractions are dropped"
        );
    }

    #[test]
    fn parse_of_format_round_trips_up_to_a_year() {
        let mut x: u64 = 1;
        for _ in 0..500 {
            x = x
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let seconds = 1 + (x >> 11) % (365 * DAY);
            let d = Duration::from_secs(seconds);
            assert_eq!(parse(&format(d)), Ok(d), "round trip of {seconds} s");
        }
    }
}
