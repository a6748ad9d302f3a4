//! previewd driven by signed deliveries, timed from the delivery being sent to its comment
//! arriving at the GitHub stand-in; what its status history says about where the time went.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use futures::StreamExt;
use kube::api::DeleteParams;
use kube::{Api, Client};
use previewd::model::crd::{Phase, PreviewEnvironment};
use previewd::model::names;
use previewd::model::pull::Repository;
use previewd_testkit::github::{GitHub, Pull, repo_id};
use previewd_testkit::webhooks::{Delivery, Payload, Sent, variant};

use crate::{LIMIT, OWNER, REPO};

const SECRET: &str = "bench-secret";
/// Deliveries on their way at once when many PRs open together: half previewd's default bound
/// on deliveries in flight (beyond it previewd answers 503 at once, and GitHub does not deliver
/// again).
pub const DELIVERED_AT_ONCE: usize = 16;
/// Where the benchmarked previewd listens.
const LISTEN: &str = "127.0.0.1:18571";

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn previewd_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("own path");
    exe.parent()
        .and_then(|examples| examples.parent())
        .expect("target dir")
        .join("previewd")
}

/// The preview name of PR `number` of the benchmark repository.
pub fn preview_name(number: u64) -> String {
    let full_name = format!("{OWNER}/{REPO}");
    let repository = Repository {
        id: repo_id(&full_name),
        full_name,
    };
    names::preview_name(&repository, number)
}

/// A running previewd with its delivery client.
pub struct Driven {
    child: Child,
    delivery: Delivery,
    dir: PathBuf,
    kube: Client,
    instance: String,
}

/// One delivery's times: answered, and its comment's arrival; the status history's phase
/// changes after it was sent.
pub struct Timed {
    pub answered: Duration,
    pub commented: Duration,
    pub deploying_at: Option<Duration>,
    pub ready_at: Option<Duration>,
}

impl Driven {
    /// Starts previewd, as the instance `bench-<name>`, serving the benchmark repository with
    /// `replicas` pods per preview.
    pub async fn start(gh: &GitHub, name: &str, replicas: u32) -> Self {
        Driven::start_with(gh, name, replicas, &[]).await
    }

    /// The same with more environment variables (settings) for previewd.
    pub async fn start_with(
        gh: &GitHub,
        name: &str,
        replicas: u32,
        settings: &[(&str, &str)],
    ) -> Self {
        Driven::start_serving(gh, name, replicas, settings, "").await
    }

    /// The same, the benchmark repository's entry in the configuration file taking
    /// `repository` (YAML lines of its settings, each indented by four spaces) too.
    pub async fn start_serving(
        gh: &GitHub,
        name: &str,
        replicas: u32,
        settings: &[(&str, &str)],
        repository: &str,
    ) -> Self {
        let dir = std::env::temp_dir().join(format!("previewd-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("bench dir");
        let config = format!(
            "repositories:\n  - name: {OWNER}/{REPO}\n{repository}values: {{image: registry.test/app, replicas: {replicas}, port: 8080}}\n"
        );
        std::fs::write(dir.join("config.yaml"), config).expect("write config");
        let child = Command::new(previewd_binary())
            .arg("serve")
            .env("PREVIEWD_LISTEN", LISTEN)
            .env("PREVIEWD_WEBHOOK_SECRET", SECRET)
            .env("PREVIEWD_GITHUB_TOKEN", GitHub::TOKEN)
            .env("PREVIEWD_GITHUB_API_URL", gh.url())
            .env("PREVIEWD_CONFIG", dir.join("config.yaml"))
            .env("PREVIEWD_TEMPLATES_DIR", repo_root().join("templates"))
            .env("PREVIEWD_INSTANCE", format!("bench-{name}"))
            .env("PREVIEWD_PREVIEW_HOST", "{{namespace}}.preview.test")
            .env("RUST_LOG", "warn")
            .envs(settings.iter().copied())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.join("previewd.log")).expect("log file"))
            .spawn()
            .expect("start previewd (build it with `cargo build --release --bin previewd`)");
        let client = reqwest::Client::new();
        while client
            .get(format!("http://{LISTEN}/healthz"))
            .send()
            .await
            .is_err()
        {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let delivery = Delivery::new(
            &format!("http://{LISTEN}/webhooks/github"),
            SECRET.as_bytes(),
        );
        let kube = Client::try_default().await.expect("kube client");
        Driven {
            child,
            delivery,
            dir,
            kube,
            instance: format!("bench-{name}"),
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// How many of its previews report Ready.
    pub async fn ready_count(&self) -> usize {
        let selector = format!("previewd.dev/instance={}", self.instance);
        Api::<PreviewEnvironment>::all(self.kube.clone())
            .list(&kube::api::ListParams::default().labels(&selector))
            .await
            .map(|list| {
                list.items
                    .iter()
                    .filter(|pe| pe.status.as_ref().is_some_and(|s| s.phase == Phase::Ready))
                    .count()
            })
            .unwrap_or(0)
    }

    /// Whether PR `number`'s preview reports Ready at `sha` for its latest spec.
    pub async fn ready_at(&self, number: u64, sha: &str) -> bool {
        let found = Api::<PreviewEnvironment>::all(self.kube.clone())
            .get_opt(&preview_name(number))
            .await
            .ok()
            .flatten();
        found.is_some_and(|pe| {
            pe.status.as_ref().is_some_and(|s| {
                s.phase == Phase::Ready
                    && s.deployed_sha.as_deref() == Some(sha)
                    && s.observed_generation == pe.metadata.generation
            })
        })
    }

    /// Sends `payload` (signed, a fresh delivery id) and returns previewd's answer.
    pub async fn send(&self, payload: &Payload) -> Sent {
        self.delivery.send(payload).await
    }

    /// Sends `payloads`, `DELIVERED_AT_ONCE` on their way at a time, each accepted.
    pub async fn send_all(&self, payloads: &[Payload]) {
        let answers: Vec<Sent> = futures::stream::iter(payloads)
            .map(|p| self.send(p))
            .buffer_unordered(DELIVERED_AT_ONCE)
            .collect()
            .await;
        for sent in answers {
            assert_eq!(sent.status, 202, "{}", sent.body);
        }
    }

    /// Sends `body`, already serialized, as `event` for the repository `target`.
    pub async fn send_raw(&self, event: &str, body: &[u8], target: u64) -> Sent {
        self.delivery.send_raw(event, body, target).await
    }

    /// Sends `payload` for PR `number` and waits until a comment write saying `needle` arrives.
    pub async fn drive(&self, gh: &GitHub, payload: &Payload, number: u64, needle: &str) -> Timed {
        let seen = gh.requests().len();
        let sent_at = Utc::now();
        let start = Instant::now();
        let sent = self.delivery.send(payload).await;
        assert_eq!(sent.status, 202, "{}", sent.body);
        let answered = start.elapsed();
        let arrived = arrival(gh, seen, &preview_name(number), needle).await;
        let commented = arrived.saturating_duration_since(start);
        let history = self.history(number).await;
        let after = |phase: Phase| {
            history
                .iter()
                .filter(|(p, at)| *p == phase && *at >= sent_at)
                .map(|(_, at)| (*at - sent_at).to_std().unwrap_or_default())
                .next_back()
        };
        Timed {
            answered,
            commented,
            deploying_at: after(Phase::Deploying),
            ready_at: after(Phase::Ready),
        }
    }

    async fn history(&self, number: u64) -> Vec<(Phase, DateTime<Utc>)> {
        Api::<PreviewEnvironment>::all(self.kube.clone())
            .get_opt(&preview_name(number))
            .await
            .ok()
            .flatten()
            .and_then(|pe| pe.status)
            .map(|s| s.history.iter().map(|c| (c.phase, c.at)).collect())
            .unwrap_or_default()
    }

    /// previewd's `/metrics`.
    pub async fn metrics(&self) -> String {
        reqwest::get(format!("http://{LISTEN}/metrics"))
            .await
            .expect("metrics")
            .text()
            .await
            .expect("metrics text")
    }

    /// Deletes the records of `numbers`, waits while previewd (still running) removes each,
    /// and stops previewd.
    pub async fn stop(self, numbers: impl Iterator<Item = u64>) {
        let previews = Api::<PreviewEnvironment>::all(self.kube.clone());
        let names: Vec<String> = numbers.map(preview_name).collect();
        for name in &names {
            let _ = previews.delete(name, &DeleteParams::default()).await;
        }
        let start = Instant::now();
        for name in &names {
            while start.elapsed() < LIMIT && matches!(previews.get_opt(name).await, Ok(Some(_))) {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Drop for Driven {
    /// A benchmark that fails leaves no previewd running.
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The payload of `variant_name` for PR `number`, the stand-in told the PR is at `sha`.
pub fn payload(gh: &GitHub, variant_name: &str, number: u64, sha: &str) -> Payload {
    let payload = variant(variant_name)
        .repo(OWNER, REPO)
        .number(number)
        .head_sha(sha);
    let branch = payload
        .str("/pull_request/head/ref")
        .unwrap_or_else(|| "changes".into());
    let mut pull = Pull::new(OWNER, REPO, number).head(sha, &branch);
    if variant_name.starts_with("pr-closed") {
        pull = pull.closed();
    }
    gh.set_pull(pull);
    payload
}

/// Marks PRs `numbers` closed on the stand-in, so a later previewd's resync finds them closed.
pub fn close_on_github(gh: &GitHub, numbers: impl Iterator<Item = u64>) {
    for number in numbers {
        gh.set_pull(Pull::new(OWNER, REPO, number).closed());
    }
}

/// The `pr-opened` payloads of PRs `numbers` at `sha`.
pub fn opened(gh: &GitHub, numbers: std::ops::Range<u64>, sha: &str) -> Vec<Payload> {
    numbers
        .map(|number| payload(gh, "pr-opened", number, sha))
        .collect()
}

/// When a comment write (POST or PATCH) after the first `seen` requests, in the comment of
/// preview `namespace`, saying `needle`, arrived at the stand-in.
async fn arrival(gh: &GitHub, seen: usize, namespace: &str, needle: &str) -> Instant {
    let start = Instant::now();
    while start.elapsed() < LIMIT {
        let found = gh.requests().into_iter().skip(seen).find(|r| {
            (r.method == "POST" || r.method == "PATCH")
                && r.path.contains("/issues/")
                && r.body
                    .as_ref()
                    .and_then(|b| b["body"].as_str())
                    .is_some_and(|body| body.contains(namespace) && body.contains(needle))
        });
        if let Some(request) = found {
            return request.received;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    panic!("{namespace}: no comment saying {needle:?} within {LIMIT:?}");
}
