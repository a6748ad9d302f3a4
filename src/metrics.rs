//! The process's Prometheus metrics: one registry, written to by the webhook handler, the
//! controller and the GitHub client, read by `GET /metrics`.

use std::sync::{LazyLock, Mutex};

use kube::runtime::reflector::Store;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::model::crd::PreviewEnvironment;

/// A webhook delivery: its `X-GitHub-Event` and what previewd did with it.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct Delivery {
    /// One of `EVENT_LABELS`.
    pub event: String,
    /// `recorded`, `ignored`, `pong`, `unauthorized`, `too_large`, `too_slow`, `busy`,
    /// `malformed`, `unrecorded`.
    pub result: String,
}

/// The values of a delivery's `event` label: the events previewd acts on, and `other` for any
/// other `X-GitHub-Event` (or none). Never the raw header, which anyone can send.
pub(crate) const EVENT_LABELS: [&str; 4] = ["pull_request", "issue_comment", "ping", "other"];

/// The `event` label of a delivery whose `X-GitHub-Event` is `header`.
pub(crate) fn event_label(header: Option<&str>) -> &'static str {
    EVENT_LABELS
        .iter()
        .find(|known| header == Some(**known))
        .unwrap_or(&"other")
}

/// How a reconcile ended.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct Outcome {
    /// `ok` or the error kind.
    pub outcome: String,
}

/// A step of previewd's work, timed (what the benchmark breaks a deploy down into).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct Step {
    /// `record_read`, `record_write`, `reconcile_read`, `namespace_read`, `render`,
    /// `namespace_apply`, `fences_apply`, `quota_wait`, `objects_apply`, `workloads_read`,
    /// `status_write`, `publish`.
    pub step: String,
}

/// One GitHub endpoint (its calls timed).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct Endpoint {
    /// The route with its variables left as names.
    pub endpoint: String,
}

/// A phase previews are in.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct Phase {
    /// `Pending`, `Deploying`, `Ready`, `Failed`, ...
    pub phase: String,
}

/// One GitHub API call.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct GitHubCall {
    /// The route with its variables left as names: `POST /repos/{owner}/{repo}/issues/{number}/comments`.
    pub endpoint: String,
    /// The HTTP status, or `timeout` / `error` when no answer came.
    pub status: String,
}

/// An error previewd met.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct ErrorKind {
    /// `kubernetes`, `github`, `terminating`, ...
    pub kind: String,
}

/// Where a delivery's record was looked up.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct Lookup {
    /// `cache` (the replica's watch), or `api_server` (the cache had not listed yet, the record
    /// is being removed, or a write decided on the cache was refused).
    pub source: String,
}

/// A namespace the orphan sweep looked at.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct Orphan {
    /// `deleted`, or `reported` when previewd was not certain enough to delete it.
    pub action: String,
}

type Histograms<L> = Family<L, Histogram, fn() -> Histogram>;

/// Every metric previewd exports.
pub(crate) struct Metrics {
    registry: Registry,
    /// Webhook deliveries by event and result.
    pub deliveries: Family<Delivery, Counter>,
    /// Reconcile durations by outcome.
    pub reconcile_seconds: Histograms<Outcome>,
    /// Time per step.
    pub step_seconds: Histograms<Step>,
    /// Time per GitHub call.
    pub github_seconds: Histograms<Endpoint>,
    /// Previews of this instance by phase (reported by the leader, which watches them).
    pub previews: Family<Phase, Gauge>,
    /// GitHub API calls by endpoint and status.
    pub github_calls: Family<GitHubCall, Counter>,
    /// What GitHub's last `x-ratelimit-remaining` said (-1 before any answer carried it).
    pub github_rate_limit_remaining: Gauge,
    /// 1 while this replica holds the lease and runs the controller.
    pub leader: Gauge,
    /// Errors by kind.
    pub errors: Family<ErrorKind, Counter>,
    /// Orphan namespaces by what was done about them.
    pub orphans: Family<Orphan, Counter>,
    /// Records looked up for deliveries, by where.
    pub record_lookups: Family<Lookup, Counter>,
    /// The leader's cache of previews, counted by phase when scraped (not at every reconcile,
    /// which would cost each reconcile a pass over every preview).
    previews_source: Mutex<Option<Store<PreviewEnvironment>>>,
}

fn step_histogram() -> Histogram {
    // 1 ms .. ~16 s.
    Histogram::new(exponential_buckets(0.001, 2.0, 15))
}

fn reconcile_histogram() -> Histogram {
    // 5 ms .. ~80 s.
    Histogram::new(exponential_buckets(0.005, 2.5, 12))
}

impl Metrics {
    fn new() -> Self {
        let mut registry = Registry::with_prefix("previewd");
        let deliveries = Family::<Delivery, Counter>::default();
        registry.register(
            "webhook_deliveries",
            "Webhook deliveries by event and result",
            deliveries.clone(),
        );
        let reconcile_seconds: Histograms<Outcome> =
            Family::new_with_constructor(reconcile_histogram);
        registry.register(
            "reconcile_duration_seconds",
            "Time one reconcile of a preview took, by outcome",
            reconcile_seconds.clone(),
        );
        let step_seconds: Histograms<Step> = Family::new_with_constructor(step_histogram);
        registry.register(
            "step_duration_seconds",
            "Time a step of previewd's work took (the webhook's record write, each part of a reconcile, publishing)",
            step_seconds.clone(),
        );
        let github_seconds: Histograms<Endpoint> = Family::new_with_constructor(step_histogram);
        registry.register(
            "github_api_call_duration_seconds",
            "Time a GitHub API call took, waits for GitHub's pace included, by endpoint",
            github_seconds.clone(),
        );
        let previews = Family::<Phase, Gauge>::default();
        registry.register(
            "previews",
            "Previews by phase (reported by the leader)",
            previews.clone(),
        );
        let github_calls = Family::<GitHubCall, Counter>::default();
        registry.register(
            "github_api_calls",
            "GitHub API calls by endpoint and status",
            github_calls.clone(),
        );
        let github_rate_limit_remaining = Gauge::default();
        github_rate_limit_remaining.set(-1);
        registry.register(
            "github_rate_limit_remaining",
            "Requests left in GitHub's rate limit window, as its last answer said",
            github_rate_limit_remaining.clone(),
        );
        let leader = Gauge::default();
        registry.register(
            "leader",
            "1 while this replica holds the lease and runs the controller",
            leader.clone(),
        );
        let errors = Family::<ErrorKind, Counter>::default();
        registry.register("errors", "Errors by kind", errors.clone());
        let orphans = Family::<Orphan, Counter>::default();
        registry.register(
            "orphan_namespaces",
            "Namespaces of this instance whose preview is gone, by what was done",
            orphans.clone(),
        );
        let record_lookups = Family::<Lookup, Counter>::default();
        registry.register(
            "record_lookups",
            "Records looked up to decide a delivery or a resync finding, by where (cache or api_server)",
            record_lookups.clone(),
        );
        Metrics {
            registry,
            deliveries,
            reconcile_seconds,
            step_seconds,
            github_seconds,
            previews,
            github_calls,
            github_rate_limit_remaining,
            leader,
            errors,
            orphans,
            record_lookups,
            previews_source: Mutex::new(None),
        }
    }

    /// Counts the previews of `store` by phase whenever the metrics are scraped.
    pub(crate) fn count_previews_in(&self, store: Store<PreviewEnvironment>) {
        *self
            .previews_source
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = Some(store);
    }

    /// The metrics in the text exposition format.
    pub(crate) fn encode(&self) -> String {
        let source = self
            .previews_source
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        if let Some(store) = source {
            let state = store.state();
            self.set_previews(state.iter().map(|pe| {
                pe.status
                    .as_ref()
                    .map_or("Pending", |status| status.phase.as_str())
            }));
        }
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }

    /// Notes that `step` took `took`.
    pub(crate) fn step(&self, step: &str, took: std::time::Duration) {
        self.step_seconds
            .get_or_create(&Step {
                step: step.to_owned(),
            })
            .observe(took.as_secs_f64());
    }

    /// Counts a record looked up in the cache (`cached`) or at the API server.
    pub(crate) fn record_lookup(&self, cached: bool) {
        let source = if cached { "cache" } else { "api_server" };
        self.record_lookups
            .get_or_create(&Lookup {
                source: source.to_owned(),
            })
            .inc();
    }

    /// Counts an error of `kind`.
    pub(crate) fn error(&self, kind: &str) {
        self.errors
            .get_or_create(&ErrorKind {
                kind: kind.to_owned(),
            })
            .inc();
    }

    /// Replaces the previews-by-phase gauge with `phases` (one entry per preview).
    pub(crate) fn set_previews<'a>(&self, phases: impl IntoIterator<Item = &'a str>) {
        let mut counts = std::collections::BTreeMap::<&str, i64>::new();
        for phase in phases {
            *counts.entry(phase).or_default() += 1;
        }
        self.previews.clear();
        for (phase, count) in counts {
            self.previews
                .get_or_create(&Phase {
                    phase: phase.to_owned(),
                })
                .set(count);
        }
    }
}

/// The process's metrics.
pub(crate) fn get() -> &'static Metrics {
    static METRICS: LazyLock<Metrics> = LazyLock::new(Metrics::new);
    &METRICS
}

/// Runs `work`, noting how long it took as `step`.
pub(crate) async fn timed<T>(step: &str, work: impl Future<Output = T>) -> T {
    let started = std::time::Instant::now();
    let out = work.await;
    get().step(step, started.elapsed());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_every_family_with_its_prefix() {
        let metrics = Metrics::new();
        metrics
            .deliveries
            .get_or_create(&Delivery {
                event: "pull_request".into(),
                result: "recorded".into(),
            })
            .inc();
        metrics.error("github");
        metrics.set_previews(["Ready", "Ready", "Failed"]);
        metrics
            .reconcile_seconds
            .get_or_create(&Outcome {
                outcome: "ok".into(),
            })
            .observe(0.02);
        let text = metrics.encode();
        assert!(text.contains(
            "previewd_webhook_deliveries_total{event=\"pull_request\",result=\"recorded\"} 1"
        ));
        assert!(text.contains("previewd_errors_total{kind=\"github\"} 1"));
        assert!(text.contains("previewd_previews{phase=\"Ready\"} 2"));
        assert!(text.contains("previewd_previews{phase=\"Failed\"} 1"));
        assert!(text.contains("previewd_github_rate_limit_remaining -1"));
        assert!(text.contains("# TYPE previewd_reconcile_duration_seconds histogram"));
        assert!(text.contains("previewd_reconcile_duration_seconds_count{outcome=\"ok\"} 1"));
        assert!(text.ends_with("# EOF\n"));
    }

    #[test]
    fn previews_are_counted_from_the_cache_when_scraped() {
        let metrics = Metrics::new();
        let (store, mut writer) = kube::runtime::reflector::store::<PreviewEnvironment>();
        metrics.count_previews_in(store);
        let preview = |name: &str, phase: Option<crate::model::crd::Phase>| {
            let spec = crate::model::crd::PreviewEnvironmentSpec::deployed(Default::default());
            let mut pe = PreviewEnvironment::new(name, spec);
            pe.status = phase.map(|phase| crate::model::crd::PreviewEnvironmentStatus {
                phase,
                ..Default::default()
            });
            pe
        };
        use crate::model::crd::Phase as P;
        for pe in [
            preview("a", Some(P::Ready)),
            preview("b", Some(P::Ready)),
            preview("c", None),
        ] {
            writer.apply_watcher_event(&kube::runtime::watcher::Event::Apply(pe));
        }
        let text = metrics.encode();
        assert!(
            text.contains("previewd_previews{phase=\"Ready\"} 2"),
            "{text}"
        );
        assert!(
            text.contains("previewd_previews{phase=\"Pending\"} 1"),
            "{text}"
        );
        writer.apply_watcher_event(&kube::runtime::watcher::Event::Delete(preview("a", None)));
        let text = metrics.encode();
        assert!(
            text.contains("previewd_previews{phase=\"Ready\"} 1"),
            "{text}"
        );
    }

    #[test]
    fn event_labels_come_from_a_fixed_set() {
        assert_eq!(event_label(Some("pull_request")), "pull_request");
        assert_eq!(event_label(Some("issue_comment")), "issue_comment");
        for sent in [
            None,
            Some(""),
            Some("Pull_Request"),
            Some("x-3f9a"),
            Some("push"),
        ] {
            assert_eq!(event_label(sent), "other", "{sent:?}");
        }
    }

    #[test]
    fn a_phase_no_preview_is_in_any_more_disappears() {
        let metrics = Metrics::new();
        metrics.set_previews(["Deploying"]);
        metrics.set_previews(["Ready"]);
        let text = metrics.encode();
        assert!(!text.contains("phase=\"Deploying\""));
        assert!(text.contains("previewd_previews{phase=\"Ready\"} 1"));
    }
}
