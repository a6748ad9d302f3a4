//! Reads previewd's `/metrics`: checks every line is valid Prometheus/OpenMetrics text and
//! gives the samples by series.

use std::collections::BTreeMap;

/// The samples of one scrape, by series (`name{label="value",...}` exactly as exposed).
#[derive(Debug, Default)]
pub struct Scrape {
    samples: BTreeMap<String, f64>,
}

impl Scrape {
    /// The value of `name` with exactly `labels` (0 when the series is not exposed).
    pub fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        let key = series(name, labels);
        self.samples.get(&key).copied().unwrap_or(0.0)
    }

    /// The sum of every series of `name` whose labels include `labels`.
    pub fn sum(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.samples
            .iter()
            .filter(|(key, _)| {
                key.split('{').next() == Some(name)
                    && labels
                        .iter()
                        .all(|(k, v)| key.contains(&format!("{k}=\"{v}\"")))
            })
            .map(|(_, v)| v)
            .sum()
    }
}

fn series(name: &str, labels: &[(&str, &str)]) -> String {
    if labels.is_empty() {
        return name.to_owned();
    }
    let inner: Vec<String> = labels.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect();
    format!("{name}{{{}}}", inner.join(","))
}

/// Scrapes `base_url/metrics`, panicking with the offending line when the text is not valid.
pub async fn scrape(base_url: &str) -> Scrape {
    let response = reqwest::get(format!("{base_url}/metrics"))
        .await
        .expect("GET /metrics");
    assert_eq!(response.status(), 200);
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(
        content_type.starts_with("application/openmetrics-text")
            || content_type.starts_with("text/plain"),
        "content type {content_type}"
    );
    parse(&response.text().await.expect("metrics body"))
}

/// Parses the text exposition format.
pub(crate) fn parse(text: &str) -> Scrape {
    let mut scrape = Scrape::default();
    let mut typed = BTreeMap::new();
    assert!(text.ends_with("# EOF\n"), "no # EOF at the end");
    for line in text.lines() {
        if let Some(comment) = line.strip_prefix("# ") {
            let mut words = comment.splitn(3, ' ');
            match (words.next(), words.next(), words.next()) {
                (Some("TYPE"), Some(name), Some(kind)) => {
                    assert!(
                        [
                            "counter",
                            "gauge",
                            "histogram",
                            "summary",
                            "unknown",
                            "info"
                        ]
                        .contains(&kind),
                        "unknown metric type in {line:?}"
                    );
                    typed.insert(name.to_owned(), kind.to_owned());
                }
                (Some("HELP" | "UNIT"), Some(_), _) | (Some("EOF"), None, None) => {}
                _ => panic!("malformed comment line {line:?}"),
            }
            continue;
        }
        let (key, value) = line
            .rsplit_once(' ')
            .unwrap_or_else(|| panic!("sample without a value: {line:?}"));
        let value: f64 = match value {
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            v => v
                .parse()
                .unwrap_or_else(|_| panic!("bad value in {line:?}")),
        };
        let name = key.split('{').next().unwrap_or_default();
        assert!(
            !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':'),
            "bad metric name in {line:?}"
        );
        if let Some(labels) = key.strip_prefix(name) {
            assert!(
                labels.is_empty() || (labels.starts_with('{') && labels.ends_with('}')),
                "bad label set in {line:?}"
            );
        }
        assert!(
            typed.keys().any(|family| name.starts_with(family.as_str())),
            "sample {line:?} before its # TYPE"
        );
        scrape.samples.insert(key.to_owned(), value);
    }
    scrape
}
