//! Benchmark: webhook → Ready comment, and close → namespace gone (comment says destroyed),
//! over a series of PRs on the local control plane; next to the same Kubernetes calls made by a
//! minimal client in the same run. Run through `scripts/bench.sh`.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Namespace;
use kube::api::{DeleteParams, DynamicObject, Patch, PatchParams};
use kube::discovery::pinned_kind;
use kube::runtime::wait::{await_condition, conditions};
use kube::{Api, Client, ResourceExt};
use previewd::build::render::{Context, render};
use previewd::model::crd::PreviewEnvironment;
use previewd::model::pull::{PullFacts, Repository};
use previewd::rules::readiness::{Readiness, readiness};
use previewd::{build::templates, model::names};
use previewd_testkit::github::{GitHub, Pull, repo_id};
use previewd_testkit::webhooks::{Delivery, variant};

const SECRET: &str = "bench-secret";
const OWNER: &str = "bench";
const REPO: &str = "app";
const LIMIT: Duration = Duration::from_secs(300);

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

#[derive(Default)]
struct Stats {
    answered: Vec<Duration>,
    ready: Vec<Duration>,
    gone: Vec<Duration>,
}

fn percentile(samples: &[Duration], p: f64) -> Duration {
    let mut sorted = samples.to_vec();
    sorted.sort();
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

fn ms(d: Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1000.0)
}

async fn wait_comment(gh: &GitHub, number: u64, needle: &str) {
    let start = Instant::now();
    while start.elapsed() < LIMIT {
        if gh
            .comments(OWNER, REPO, number)
            .iter()
            .any(|c| c.body.contains(needle))
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("PR {number}: no comment saying {needle:?} within {LIMIT:?}");
}

/// Where the benchmarked previewd listens.
const LISTEN: &str = "127.0.0.1:18571";

/// Starts previewd serving the benchmark repository with `replicas` pods per preview.
fn start_previewd(gh: &GitHub, dir: &std::path::Path, replicas: u32) -> Child {
    let config = format!(
        "repositories:\n  - name: {OWNER}/{REPO}\nvalues: {{image: registry.test/app, replicas: {replicas}, port: 8080}}\n"
    );
    std::fs::write(dir.join("config.yaml"), config).expect("write config");
    Command::new(previewd_binary())
        .arg("serve")
        .env("PREVIEWD_LISTEN", LISTEN)
        .env("PREVIEWD_WEBHOOK_SECRET", SECRET)
        .env("PREVIEWD_GITHUB_TOKEN", GitHub::TOKEN)
        .env("PREVIEWD_GITHUB_API_URL", gh.url())
        .env("PREVIEWD_CONFIG", dir.join("config.yaml"))
        .env("PREVIEWD_TEMPLATES_DIR", repo_root().join("templates"))
        .env("PREVIEWD_INSTANCE", "bench")
        .env("PREVIEWD_PREVIEW_HOST", "{{namespace}}.preview.test")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("previewd.log")).expect("log file"))
        .spawn()
        .expect("start previewd (build it with `cargo build --release --bin previewd`)")
}

fn memory_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

async fn bench_previewd(gh: &GitHub, prs: u64, first: u64) -> (Stats, u64, u64) {
    let dir = std::env::temp_dir().join(format!("previewd-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("bench dir");
    let (child, delivery) = started(gh, &dir, 2).await;
    let mut stats = Stats::default();
    for number in first..first + prs {
        gh.set_pull(Pull::new(OWNER, REPO, number));
        let start = Instant::now();
        let sent = delivery
            .send(&variant("pr-opened").repo(OWNER, REPO).number(number))
            .await;
        assert_eq!(sent.status, 202, "{}", sent.body);
        stats.answered.push(start.elapsed());
        wait_comment(gh, number, "Preview ready").await;
        stats.ready.push(start.elapsed());
        let start = Instant::now();
        delivery
            .send(
                &variant("pr-closed-unmerged")
                    .repo(OWNER, REPO)
                    .number(number),
            )
            .await;
        wait_comment(gh, number, "Preview destroyed").await;
        stats.gone.push(start.elapsed());
    }
    let (rss, peak) = (
        memory_kib(child.id(), "VmRSS:"),
        memory_kib(child.id(), "VmHWM:"),
    );
    stop(child, first..first + prs, &dir).await;
    (stats, rss, peak)
}

/// Starts previewd and waits until it answers; returns it and a delivery client for it.
async fn started(gh: &GitHub, dir: &std::path::Path, replicas: u32) -> (Child, Delivery) {
    let child = start_previewd(gh, dir, replicas);
    let client = reqwest::Client::new();
    let health = format!("http://{LISTEN}/healthz");
    while client.get(&health).send().await.is_err() {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let url = format!("http://{LISTEN}/webhooks/github");
    (child, Delivery::new(&url, SECRET.as_bytes()))
}

/// Deletes the PreviewEnvironments of `numbers`, waits while previewd (still running) tears each
/// down, and stops previewd.
async fn stop(mut child: Child, numbers: std::ops::Range<u64>, dir: &std::path::Path) {
    let kube = Client::try_default().await.expect("kube client");
    let previews = Api::<PreviewEnvironment>::all(kube);
    let names: Vec<String> = numbers
        .map(|number| {
            let full_name = format!("{OWNER}/{REPO}");
            let repository = Repository {
                id: repo_id(&full_name),
                full_name,
            };
            names::preview_name(&repository, number)
        })
        .collect();
    for name in &names {
        let _ = previews.delete(name, &DeleteParams::default()).await;
    }
    let start = Instant::now();
    for name in &names {
        while start.elapsed() < LIMIT && matches!(previews.get_opt(name).await, Ok(Some(_))) {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(dir);
}

/// previewd's memory with no preview, then with `live` previews open at once and Ready.
struct Fleet {
    idle_rss: u64,
    live_rss: u64,
    live_peak: u64,
    all_ready: Duration,
}

async fn bench_fleet(gh: &GitHub, live: u64, first: u64) -> Fleet {
    let dir = std::env::temp_dir().join(format!("previewd-fleet-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("fleet dir");
    // One pod per preview: the local cluster's fake node takes 110 pods.
    let (child, delivery) = started(gh, &dir, 1).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let idle_rss = memory_kib(child.id(), "VmRSS:");
    let start = Instant::now();
    for number in first..first + live {
        gh.set_pull(Pull::new(OWNER, REPO, number));
        let sent = delivery
            .send(&variant("pr-opened").repo(OWNER, REPO).number(number))
            .await;
        assert_eq!(sent.status, 202, "{}", sent.body);
    }
    for number in first..first + live {
        wait_comment(gh, number, "Preview ready").await;
    }
    let all_ready = start.elapsed();
    let fleet = Fleet {
        idle_rss,
        live_rss: memory_kib(child.id(), "VmRSS:"),
        live_peak: memory_kib(child.id(), "VmHWM:"),
        all_ready,
    };
    stop(child, first..first + live, &dir).await;
    fleet
}

/// The same Kubernetes work with no previewd: render, apply namespace and objects, watch the
/// Deployment until ready; delete the namespace and watch until it is gone.
async fn bench_minimal(prs: u64, first: u64) -> Stats {
    let kube = Client::try_default().await.expect("kube client");
    let templates = templates::load(&repo_root().join("templates")).expect("templates");
    let namespaces = Api::<Namespace>::all(kube.clone());
    let mut stats = Stats::default();
    for number in first..first + prs {
        let repository = Repository {
            id: 1,
            full_name: "bench/app".into(),
        };
        let name = format!("minimal-{}", names::preview_name(&repository, number));
        let pull = PullFacts {
            repository,
            number,
            head_sha: "ec26c3e57ca3a959ca5aad62de7213c562f8c821".into(),
            ..Default::default()
        };
        let values = serde_json::json!({"image": "registry.test/app", "replicas": 2, "port": 8080});
        let start = Instant::now();
        let context =
            Context::new(&pull, &name, "{{namespace}}.preview.test", values).expect("context");
        let objects = render(&templates, &context, &Default::default()).expect("render");
        let ns = serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}});
        let apply = PatchParams::apply("bench-minimal").force();
        namespaces
            .patch(&name, &apply, &Patch::Apply(&ns))
            .await
            .expect("apply namespace");
        for object in &objects {
            let api_version = object.object["apiVersion"].as_str().unwrap_or_default();
            let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
            let gvk = kube::core::GroupVersionKind::gvk(
                group,
                version,
                object.object["kind"].as_str().unwrap_or_default(),
            );
            let (resource, _) = pinned_kind(&kube, &gvk).await.expect("discovery");
            let api = Api::<DynamicObject>::namespaced_with(kube.clone(), &name, &resource);
            let object_name = object.object["metadata"]["name"]
                .as_str()
                .unwrap_or_default();
            api.patch(object_name, &apply, &Patch::Apply(&object.object))
                .await
                .expect("apply object");
        }
        let deployments = Api::<Deployment>::namespaced(kube.clone(), &name);
        let ready = |d: Option<&Deployment>| {
            d.is_some_and(|d| {
                readiness("Deployment", &serde_json::to_value(d).unwrap_or_default())
                    == Readiness::Ready
            })
        };
        tokio::time::timeout(LIMIT, await_condition(deployments, "web", ready))
            .await
            .expect("ready in time")
            .expect("watch");
        stats.ready.push(start.elapsed());
        let start = Instant::now();
        let uid = namespaces
            .get(&name)
            .await
            .expect("namespace")
            .uid()
            .unwrap_or_default();
        namespaces
            .delete(&name, &DeleteParams::default())
            .await
            .expect("delete namespace");
        tokio::time::timeout(
            LIMIT,
            await_condition(namespaces.clone(), &name, conditions::is_deleted(&uid)),
        )
        .await
        .expect("gone in time")
        .expect("watch");
        stats.gone.push(start.elapsed());
    }
    stats
}

#[tokio::main]
async fn main() {
    let prs: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(10);
    let first = 1000 + u64::from(std::process::id() % 1000) * 100;
    let gh = GitHub::start().await;
    eprintln!("bench: {prs} PRs through previewd, then {prs} through a minimal client");
    let live: u64 = std::env::args()
        .nth(2)
        .and_then(|a| a.parse().ok())
        .unwrap_or(0);
    let (previewd, rss, peak) = bench_previewd(&gh, prs, first).await;
    let minimal = bench_minimal(prs, first).await;
    let writes = gh.writes().len();
    println!("| {prs} PRs, one after another | median | p90 |");
    println!("|---|---|---|");
    for (label, samples) in [
        (
            "previewd: webhook answered (202, intent recorded)",
            &previewd.answered,
        ),
        ("previewd: webhook → Ready comment", &previewd.ready),
        ("minimal client: apply → Deployment ready", &minimal.ready),
        (
            "previewd: close webhook → destroyed comment (namespace gone)",
            &previewd.gone,
        ),
        ("minimal client: delete → namespace gone", &minimal.gone),
    ] {
        println!(
            "| {label} | {} | {} |",
            ms(percentile(samples, 0.5)),
            ms(percentile(samples, 0.9))
        );
    }
    println!();
    println!(
        "previewd memory after the run: RSS {} MiB, peak {} MiB; GitHub writes: {writes} ({:.1} per PR)",
        rss / 1024,
        peak / 1024,
        writes as f64 / prs as f64
    );
    if live > 0 {
        eprintln!("bench: {live} previews open at once");
        let fleet = bench_fleet(&gh, live, first + prs).await;
        println!(
            "previewd memory with 0 previews: RSS {} MiB; with {live} live previews: RSS {} MiB (peak {} MiB); all {live} Ready comments {:.1} s after the first delivery",
            fleet.idle_rss / 1024,
            fleet.live_rss / 1024,
            fleet.live_peak / 1024,
            fleet.all_ready.as_secs_f64()
        );
    }
}
