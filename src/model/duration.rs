//! Human durations (pure): `90s`, `30m`, `72h`, `3d`, `1w`, `1h30m`, `1d12h`.
//!
//! A duration is one or more `<number><unit>` parts written without spaces; the units are `s`,
//! `m`, `h`, `d` (24 hours) and `w` (7 days), in either case. Parts add up, in any order.

use std::time::Duration;

/// Seconds per unit, largest first (the order [`format`] writes them in).
const UNITS: [(char, u64); 5] = [
    ('w', 7 * 24 * 60 * 60),
    ('d', 24 * 60 * 60),
    ('h', 60 * 60),
    ('m', 60),
    ('s', 1),
];

/// Why a text is not a duration; the message names the text.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    /// Nothing was written.
    #[error("empty duration: write one like `30m`, `24h` or `1d12h`")]
    Empty,
    /// The text has whitespace inside it.
    #[error("`{input}` is not a duration: write it without spaces, like `1h30m`")]
    Space {
        /// The text as given.
        input: String,
    },
    /// A unit (or something else) where a number was expected.
    #[error("`{input}` is not a duration: expected a number at `{rest}`")]
    ExpectedNumber {
        /// The text as given.
        input: String,
        /// The part of the text from where the number is missing.
        rest: String,
    },
    /// A number without a unit.
    #[error("`{input}` is not a duration: `{number}` has no unit (use s, m, h, d or w)")]
    MissingUnit {
        /// The text as given.
        input: String,
        /// The number lacking its unit.
        number: String,
    },
    /// A unit previewd does not know.
    #[error("`{input}` is not a duration: `{unit}` is not a unit (use s, m, h, d or w)")]
    UnknownUnit {
        /// The text as given.
        input: String,
        /// The unknown unit as written.
        unit: String,
    },
    /// More seconds than fit in 64 bits.
    #[error("`{input}` is too long a duration")]
    Overflow {
        /// The text as given.
        input: String,
    },
    /// The parts add up to nothing.
    #[error("`{input}` is a zero duration: it must be longer than that")]
    Zero {
        /// The text as given.
        input: String,
    },
}

/// Parses a human duration such as `90s`, `72h` or `1d12h` (surrounding whitespace is ignored).
/// Empty text, whitespace inside, a number without a unit, an unknown unit, a total that does not
/// fit in `u64` seconds and a zero total are errors.
pub fn parse(text: &str) -> Result<Duration, DurationError> {
    let input = text.trim();
    if input.is_empty() {
        return Err(DurationError::Empty);
    }
    if input.contains(char::is_whitespace) {
        return Err(DurationError::Space {
            input: input.to_owned(),
        });
    }
    let overflow = || DurationError::Overflow {
        input: input.to_owned(),
    };
    let mut total: u64 = 0;
    let mut rest = input;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if digits == 0 {
            return Err(DurationError::ExpectedNumber {
                input: input.to_owned(),
                rest: rest.to_owned(),
            });
        }
        let (number, after) = rest.split_at(digits);
        let unit_len = after
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(after.len());
        let (unit, after) = after.split_at(unit_len);
        if unit.is_empty() {
            return Err(DurationError::MissingUnit {
                input: input.to_owned(),
                number: number.to_owned(),
            });
        }
        let seconds_per = unit_seconds(unit).ok_or_else(|| DurationError::UnknownUnit {
            input: input.to_owned(),
            unit: unit.to_owned(),
        })?;
        let count: u64 = number.parse().map_err(|_| overflow())?;
        total = count
            .checked_mul(seconds_per)
            .and_then(|part| total.checked_add(part))
            .ok_or_else(overflow)?;
        rest = after;
    }
    if total == 0 {
        return Err(DurationError::Zero {
            input: input.to_owned(),
        });
    }
    Ok(Duration::from_secs(total))
}

/// Seconds in one `unit` (a single letter, either case).
fn unit_seconds(unit: &str) -> Option<u64> {
    let mut chars = unit.chars();
    let (Some(letter), None) = (chars.next(), chars.next()) else {
        return None;
    };
    let letter = letter.to_ascii_lowercase();
    UNITS
        .iter()
        .find(|(name, _)| *name == letter)
        .map(|(_, seconds)| *seconds)
}

/// The canonical compact form of whole seconds, largest units first and zero parts left out:
/// 93600 seconds is `1d2h`, nothing is `0s`. Fractions of a second are dropped, so
/// `parse(&format(d))` gives `d` back for every non-zero whole number of seconds.
pub fn format(d: Duration) -> String {
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
            // Case does not matter.
            ("24H", 24 * HOUR),
            ("1D12H", DAY + 12 * HOUR),
            ("2W", 2 * WEEK),
            ("5S", 5),
            ("10M", 10 * MINUTE),
            // Leading zeros and zero parts are fine as long as the total is not zero.
            ("007m", 7 * MINUTE),
            ("0h5m", 5 * MINUTE),
            // Surrounding whitespace is ignored.
            ("  24h\t", 24 * HOUR),
            ("\r\n1d\n", DAY),
            // The largest number of seconds there is.
            ("18446744073709551615s", u64::MAX),
        ];
        for (text, seconds) in cases {
            assert_eq!(
                parse(text),
                Ok(Duration::from_secs(*seconds)),
                "parsing {text:?}"
            );
        }
    }

    #[test]
    fn rejects_what_is_not_a_duration() {
        let input = |s: &str| s.to_owned();
        let cases: Vec<(&str, DurationError)> = vec![
            ("", DurationError::Empty),
            ("   ", DurationError::Empty),
            (
                "1h 30m",
                DurationError::Space {
                    input: input("1h 30m"),
                },
            ),
            (
                "1\th",
                DurationError::Space {
                    input: input("1\th"),
                },
            ),
            (
                "72",
                DurationError::MissingUnit {
                    input: input("72"),
                    number: input("72"),
                },
            ),
            (
                "1h30",
                DurationError::MissingUnit {
                    input: input("1h30"),
                    number: input("30"),
                },
            ),
            (
                "h",
                DurationError::ExpectedNumber {
                    input: input("h"),
                    rest: input("h"),
                },
            ),
            (
                "-5m",
                DurationError::ExpectedNumber {
                    input: input("-5m"),
                    rest: input("-5m"),
                },
            ),
            (
                "+5m",
                DurationError::ExpectedNumber {
                    input: input("+5m"),
                    rest: input("+5m"),
                },
            ),
            (
                "abc",
                DurationError::ExpectedNumber {
                    input: input("abc"),
                    rest: input("abc"),
                },
            ),
            (
                "5y",
                DurationError::UnknownUnit {
                    input: input("5y"),
                    unit: input("y"),
                },
            ),
            (
                "30ms",
                DurationError::UnknownUnit {
                    input: input("30ms"),
                    unit: input("ms"),
                },
            ),
            (
                "2hours",
                DurationError::UnknownUnit {
                    input: input("2hours"),
                    unit: input("hours"),
                },
            ),
            (
                "1.5h",
                DurationError::UnknownUnit {
                    input: input("1.5h"),
                    unit: input("."),
                },
            ),
            (
                "1h-",
                DurationError::UnknownUnit {
                    input: input("1h-"),
                    unit: input("h-"),
                },
            ),
            ("0s", DurationError::Zero { input: input("0s") }),
            (
                "0d0h",
                DurationError::Zero {
                    input: input("0d0h"),
                },
            ),
            // A number too big for u64 itself.
            (
                "18446744073709551616s",
                DurationError::Overflow {
                    input: input("18446744073709551616s"),
                },
            ),
            // Multiplying by the unit overflows.
            (
                "18446744073709551615m",
                DurationError::Overflow {
                    input: input("18446744073709551615m"),
                },
            ),
            // Adding the parts overflows.
            (
                "18446744073709551615s1s",
                DurationError::Overflow {
                    input: input("18446744073709551615s1s"),
                },
            ),
        ];
        for (text, error) in cases {
            assert_eq!(parse(text), Err(error), "parsing {text:?}");
        }
    }

    #[test]
    fn error_messages_name_the_input() {
        let cases: &[(&str, &str)] = &[
            ("", "empty duration: write one like `30m`, `24h` or `1d12h`"),
            (
                "1h 30m",
                "`1h 30m` is not a duration: write it without spaces, like `1h30m`",
            ),
            (
                "72",
                "`72` is not a duration: `72` has no unit (use s, m, h, d or w)",
            ),
            ("-5m", "`-5m` is not a duration: expected a number at `-5m`"),
            (
                "5y",
                "`5y` is not a duration: `y` is not a unit (use s, m, h, d or w)",
            ),
            (
                "99999999999999999999w",
                "`99999999999999999999w` is too long a duration",
            ),
            ("0h", "`0h` is a zero duration: it must be longer than that"),
        ];
        for (text, message) in cases {
            assert_eq!(
                parse(text).unwrap_err().to_string(),
                *message,
                "parsing {text:?}"
            );
        }
    }

    #[test]
    fn formats_largest_units_first() {
        let cases: &[(u64, &str)] = &[
            (0, "0s"),
            (1, "1s"),
            (59, "59s"),
            (60, "1m"),
            (90, "1m30s"),
            (HOUR, "1h"),
            (HOUR + 30 * MINUTE, "1h30m"),
            (DAY, "1d"),
            (93_600, "1d2h"),
            (DAY + 12 * HOUR, "1d12h"),
            (72 * HOUR, "3d"),
            (6 * DAY, "6d"),
            (WEEK, "1w"),
            (8 * DAY, "1w1d"),
            (2 * WEEK + 1, "2w1s"),
            (WEEK + DAY + HOUR + MINUTE + 1, "1w1d1h1m1s"),
            (u64::MAX, "30500568904943w7h15s"),
        ];
        for (seconds, text) in cases {
            assert_eq!(
                format(Duration::from_secs(*seconds)),
                *text,
                "formatting {seconds} s"
            );
        }
    }

    #[test]
    fn format_drops_fractions_of_a_second() {
        assert_eq!(format(Duration::from_millis(1_999)), "1s");
        assert_eq!(format(Duration::from_millis(999)), "0s");
        assert_eq!(format(Duration::new(HOUR, 500_000_000)), "1h");
    }

    #[test]
    fn parse_of_format_round_trips() {
        let mut samples = vec![
            1,
            59,
            61,
            3_599,
            HOUR,
            93_600,
            WEEK - 1,
            WEEK,
            WEEK + 1,
            u64::MAX,
            u64::MAX - 1,
        ];
        // Plus a spread of values touching every unit.
        let mut x: u64 = 1;
        for _ in 0..200 {
            x = x
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            samples.push(x >> (x % 60));
        }
        for seconds in samples.into_iter().filter(|s| *s > 0) {
            let d = Duration::from_secs(seconds);
            assert_eq!(parse(&format(d)), Ok(d), "round trip of {seconds} s");
        }
    }

    #[test]
    fn format_of_parse_is_canonical() {
        let cases: &[(&str, &str)] = &[
            ("90s", "1m30s"),
            ("72h", "3d"),
            ("24H", "1d"),
            ("30m1h", "1h30m"),
            ("7d", "1w"),
            ("1d12h", "1d12h"),
        ];
        for (text, canonical) in cases {
            assert_eq!(format(parse(text).unwrap()), *canonical, "{text:?}");
        }
    }
}
