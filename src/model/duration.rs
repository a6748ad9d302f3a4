//! Human durations (pure): `90s`, `30m`, `72h`, `3d`, `1w`, `1h30m`, `1d12h`.
//!
//! A duration is one or more `<number><unit>` parts written without spaces; the units are `s`,
//! `m`, `h`, `d` (24 hours) and `w` (7 days), in either case. Parts add up, in any order.
//! `humantime` does the arithmetic; this module first narrows its much wider language (spaces,
//! fractions, `ms`, `M` for months, `y`, long unit names) down to the one above, so that `1M`
//! stays one minute and what was refused before stays refused.

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
    let owned = || input.to_owned();
    if input.is_empty() {
        return Err(DurationError::Empty);
    }
    if input.contains(char::is_whitespace) {
        return Err(DurationError::Space { input: owned() });
    }
    // Walk the `<digits><non-digits>` parts up to the first one that is not a number and one of
    // our units: that refuses fractions (`.`), signs and every humantime unit beyond ours.
    let mut valid = 0;
    let fault = loop {
        let rest = &input[valid..];
        let number =
            &rest[..rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len()];
        let unit = rest[number.len()..]
            .split(|c: char| c.is_ascii_digit())
            .next()
            .unwrap_or("");
        break match (number, unit) {
            _ if rest.is_empty() => None,
            ("", _) => Some(DurationError::ExpectedNumber {
                input: owned(),
                rest: rest.to_owned(),
            }),
            (_, "") => Some(DurationError::MissingUnit {
                input: owned(),
                number: number.to_owned(),
            }),
            _ if !is_unit(unit) => Some(DurationError::UnknownUnit {
                input: owned(),
                unit: unit.to_owned(),
            }),
            _ => {
                valid += number.len() + unit.len();
                continue;
            }
        };
    };
    // humantime's units are case-sensitive (`M` is a month); ours are not, and in lowercase our
    // five letters mean the same to it. The parts before a fault are added up first so that an
    // overflow there is reported ahead of the fault, as reading left to right finds them.
    let total = match &input[..valid] {
        "" => Duration::ZERO,
        parts => humantime::parse_duration(&parts.to_ascii_lowercase())
            // Checked above to be digits and our units, the parts can only be too big.
            .map_err(|_| DurationError::Overflow { input: owned() })?,
    };
    if let Some(fault) = fault {
        return Err(fault);
    }
    if total.is_zero() {
        return Err(DurationError::Zero { input: owned() });
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
    fn refuses_what_humantime_alone_would_accept() {
        // Each of these is a duration to `humantime::parse_duration`.
        let unknown: &[(&str, &str)] = &[
            ("500ms", "ms"),
            ("1y", "y"),
            ("2years", "years"),
            ("1month", "month"),
            ("1.5h", "."),
            ("1min", "min"),
            ("2hrs", "hrs"),
            ("10sec", "sec"),
            ("1day", "day"),
            ("3wk", "wk"),
            ("5ns", "ns"),
            ("5us", "us"),
            ("5µs", "µs"),
        ];
        for (text, unit) in unknown {
            let expected = DurationError::UnknownUnit {
                input: (*text).to_owned(),
                unit: (*unit).to_owned(),
            };
            assert_eq!(parse(text), Err(expected), "parsing {text:?}");
        }
        for text in ["2h 30m", "1 2h", "2 hours"] {
            let expected = DurationError::Space {
                input: text.to_owned(),
            };
            assert_eq!(parse(text), Err(expected), "parsing {text:?}");
        }
    }

    #[test]
    fn capital_m_is_minutes_not_months() {
        // humantime reads `M` as a month; here case never matters.
        assert_eq!(parse("1M"), Ok(Duration::from_secs(MINUTE)));
        assert_eq!(parse("1H30M"), Ok(Duration::from_secs(HOUR + 30 * MINUTE)));
    }

    #[test]
    fn the_first_fault_from_the_left_is_named() {
        // An overflow in the parts before a bad one is found first, as reading left to right.
        assert_eq!(
            parse("99999999999999999999s5y"),
            Err(DurationError::Overflow {
                input: "99999999999999999999s5y".to_owned()
            })
        );
        assert_eq!(
            parse("18446744073709551615s1s30"),
            Err(DurationError::Overflow {
                input: "18446744073709551615s1s30".to_owned()
            })
        );
        // A number too big in the bad part itself is not looked at.
        assert_eq!(
            parse("1s99999999999999999999y"),
            Err(DurationError::UnknownUnit {
                input: "1s99999999999999999999y".to_owned(),
                unit: "y".to_owned()
            })
        );
        assert_eq!(
            parse("1h1x5"),
            Err(DurationError::UnknownUnit {
                input: "1h1x5".to_owned(),
                unit: "x".to_owned()
            })
        );
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
