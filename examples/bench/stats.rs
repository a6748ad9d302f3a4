//! Samples and how the benchmark prints them.

use std::time::Duration;

/// The sample at `p` (0..=1) of `samples`, nearest rank.
pub fn percentile(samples: &[Duration], p: f64) -> Duration {
    if samples.is_empty() {
        return Duration::ZERO;
    }
    let mut sorted = samples.to_vec();
    sorted.sort();
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

/// `d` in milliseconds, rounded.
pub fn ms(d: Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1000.0)
}

/// A table row: label, median and p90 of `samples`.
pub fn row(label: &str, samples: &[Duration]) -> String {
    format!(
        "| {label} | {} | {} |",
        ms(percentile(samples, 0.5)),
        ms(percentile(samples, 0.9))
    )
}

/// Median of `a` over median of `b`.
pub fn ratio(a: &[Duration], b: &[Duration]) -> f64 {
    percentile(a, 0.5).as_secs_f64() / percentile(b, 0.5).as_secs_f64().max(1e-9)
}

/// From a Prometheus text exposition: `(label value, sum in seconds, count)` of every series of
/// histogram `name` whose one label is `label`.
pub fn histogram_sums(exposition: &str, name: &str, label: &str) -> Vec<(String, f64, f64)> {
    let mut found: Vec<(String, f64, f64)> = Vec::new();
    for line in exposition.lines() {
        let (series, value) = match line.rsplit_once(' ') {
            Some(split) => split,
            None => continue,
        };
        let Ok(value) = value.parse::<f64>() else {
            continue;
        };
        let (is_sum, rest) = if let Some(rest) = series.strip_prefix(&format!("{name}_sum{{")) {
            (true, rest)
        } else if let Some(rest) = series.strip_prefix(&format!("{name}_count{{")) {
            (false, rest)
        } else {
            continue;
        };
        let Some(key) = rest
            .strip_prefix(&format!("{label}=\""))
            .and_then(|r| r.strip_suffix("\"}"))
        else {
            continue;
        };
        let at = match found.iter().position(|(k, _, _)| k == key) {
            Some(at) => at,
            None => {
                found.push((key.to_owned(), 0.0, 0.0));
                found.len() - 1
            }
        };
        if is_sum {
            found[at].1 = value;
        } else {
            found[at].2 = value;
        }
    }
    found
}
