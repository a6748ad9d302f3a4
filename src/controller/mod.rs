//! The controller: watches PreviewEnvironments (and the namespaces and workloads they own) and
//! drives each to its desired state. Idempotent; all state comes from the API server: a
//! reconcile decides on the cached record when the watch has brought back this process's last
//! status write to it (`own_writes`), else it reads the record afresh.

pub(crate) mod apply;
pub(crate) mod checks;
pub(crate) mod commands;
pub mod confirm;
pub mod copies;
pub(crate) mod deploy;
pub mod events;
pub mod kinds;
pub mod own_writes;
pub mod publisher;
pub mod recheck;
pub(crate) mod report;
pub mod slots;
pub(crate) mod spec_write;
pub(crate) mod steps;
pub(crate) mod wakes;
pub(crate) mod watch_backoff;

use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{Mutex, mpsc};

use futures::StreamExt;
use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Namespace;
use kube::runtime::controller::{Action, Config as ControllerConfig, Controller};
use kube::runtime::finalizer::{Event, finalizer};
use kube::runtime::reflector::ObjectRef;
use kube::runtime::utils::PredicateConfig;
use kube::runtime::{WatchStreamExt, reflector, watcher};
use kube::{Api, Client, Resource, ResourceExt};
use serde::de::DeserializeOwned;
use tracing::Instrument;

use self::events::Recorder;
use self::kinds::Kinds;
use self::own_writes::OwnWrites;
use self::slots::Slots;
use self::watch_backoff::WatchBackoff;
use crate::build::fence_objects::ReadBinding;
use crate::build::render::Template;
use crate::config::{Allowlist, FileConfig};
use crate::github::branches::Branches;
use crate::github::checks::ChecksMemory;
use crate::github::client::{GitHub, GitHubError};
use crate::github::definition::Definitions;
use crate::github::permissions::Permissions;
use crate::metrics::{self, Outcome};
use crate::model::crd::PreviewEnvironment;
use crate::model::labels;
use crate::records::{Records, without_managed_fields};
use crate::timing;

/// Finalizer that keeps a PreviewEnvironment until its namespace is gone.
pub const FINALIZER: &str = "previewd.dev/teardown";

/// Settings the controller runs with.
pub struct Settings {
    /// This installation's instance label value.
    pub instance: String,
    /// The templates, loaded once at startup.
    pub templates: Vec<Template>,
    /// Handlebars pattern of the preview host.
    pub host_pattern: String,
    /// The upstream renderers a repository's definition may use (Helm), and their bounds.
    pub renderers: crate::sandbox::Renderers,
    /// How long a deployment may take to become ready before it is Failed.
    pub ready_timeout: Duration,
    /// How often a commit's CI checks are read again while it waits for them.
    pub checks_recheck: Duration,
    /// How long to wait for a namespace to be gone before reporting it stuck.
    pub terminate_timeout: Duration,
    /// The configuration file.
    pub config: FileConfig,
    /// What its repositories' names stand for now (shared with the webhook).
    pub allowlist: Arc<Allowlist>,
    /// Reconciles run at once.
    pub concurrency: u16,
    /// Test-only crash point (`after-comment-create`).
    pub failpoint: Option<String>,
    /// The RoleBinding each preview namespace gets so previewd reads its objects there (none:
    /// previewd's own grants read them).
    pub read_binding: Option<ReadBinding>,
}

/// What every reconcile shares.
pub struct Ctx {
    /// Kubernetes client.
    pub client: Client,
    /// GitHub client.
    pub github: GitHub,
    /// Settings.
    pub settings: Settings,
    /// Discovery cache.
    pub kinds: Kinds,
    /// Who may run commands (cached answers from GitHub).
    pub permissions: Permissions,
    /// The caps' queue.
    pub queue: Slots,
    /// Kubernetes Events about previews.
    pub events: Recorder,
    /// What this process applied last per preview (a deploy under way is then only re-read).
    pub applied: recheck::Applied,
    /// What the controller remembers of its own status writes.
    pub own_writes: OwnWrites,
    /// This replica's cache of the records, what the resync's findings are decided on first.
    pub records: Records,
    /// The last answers about commits' CI checks (asked again conditionally).
    pub checks: ChecksMemory,
    /// The definitions repositories give their previews, by tree (read once).
    pub definitions: Definitions,
    /// The last answer about each branch read (base branches: their required checks, their
    /// definition).
    pub branches: Branches,
}

/// Why a reconcile did not finish.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A Kubernetes API call failed.
    #[error("Kubernetes API: {0}")]
    Kube(#[from] kube::Error),
    /// A GitHub call failed.
    #[error(transparent)]
    GitHub(#[from] GitHubError),
    /// The namespace outlived the termination bound.
    #[error("namespace {0} is still terminating")]
    StillTerminating(String),
    /// The object came without a uid (never from a real API server).
    #[error("PreviewEnvironment {0} has no uid")]
    NoUid(String),
    /// Adding or removing the finalizer failed.
    #[error("finalizer: {0}")]
    Finalizer(String),
    /// The record is being deleted and its last comment is still in the outbox.
    #[error("PreviewEnvironment {0}: the last comment is not on GitHub yet")]
    CommentPending(String),
    /// The plan did not come to a report (a bug in previewd).
    #[error("PreviewEnvironment {0}: the reconcile plan did not settle")]
    Plan(String),
}

/// Previews to look at again (waiting ones, when a slot frees); shared by the controller's
/// successive terms as leader.
pub type Woken = Arc<Mutex<mpsc::UnboundedReceiver<ObjectRef<PreviewEnvironment>>>>;

/// Runs the controller until `shutdown` resolves (or the future is dropped, when leadership is
/// lost); `woken` names previews to look at again.
pub async fn run(
    ctx: Arc<Ctx>,
    woken: Woken,
    shutdown: impl Future<Output = ()> + Send + Sync + 'static,
) {
    let client = ctx.client.clone();
    let selector = labels::instance_selector(&ctx.settings.instance);
    let owned = watcher::Config::default().labels(&selector);
    let previews = Api::<PreviewEnvironment>::all(client.clone());
    let (store, writer) = reflector::store();
    let seeing = ctx.clone();
    let records = reflector::reflector(
        writer,
        watcher(previews, owned.clone())
            .modify(without_managed_fields)
            .backoff(WatchBackoff::default()),
    )
    // Past the reflector: what is noted as seen is in the cache.
    .inspect(move |event| {
        if let Ok(watcher::Event::Apply(pe) | watcher::Event::InitApply(pe)) = event {
            seeing.own_writes.note_seen(pe);
        }
    })
    .applied_objects()
    .predicate_filter(worth_a_reconcile, PredicateConfig::default());
    let controller = Controller::for_stream(records, store.clone());
    ctx.queue.attach(store.clone());
    metrics::get().count_previews_in(store);
    let woken = woken.lock_owned().await;
    let woken = futures::stream::unfold(woken, |mut rx| async move {
        rx.recv().await.map(|next| (next, rx))
    });
    controller
        .reconcile_on(woken)
        .watches_stream(
            wakes::changes(
                Api::<Namespace>::all(client.clone()),
                owned.clone(),
                wakes::namespace_key,
            ),
            by_preview_label,
        )
        .watches_stream(
            wakes::changes(
                Api::<Deployment>::all(client.clone()),
                owned.clone(),
                wakes::workload_key,
            ),
            by_preview_label,
        )
        .watches_stream(
            wakes::changes(
                Api::<StatefulSet>::all(client.clone()),
                owned.clone(),
                wakes::workload_key,
            ),
            by_preview_label,
        )
        .watches_stream(
            wakes::changes(Api::<Job>::all(client), owned, wakes::workload_key),
            by_preview_label,
        )
        .trigger_backoff(WatchBackoff::default())
        .with_config(ControllerConfig::default().concurrency(ctx.settings.concurrency))
        .graceful_shutdown_on(shutdown)
        .run(reconcile, error_policy, ctx)
        .for_each(|_| async {})
        .await;
}

/// What of a record a reconcile acts on: its spec (generation), its deletion and finalizers,
/// a change of its head's CI checks or of its base's definition (annotations the webhook sets),
/// and a comment GitHub
/// refused (the status shows it). Status writes, the reconcile's own and
/// the publisher's, wake no reconcile: each reconcile says when to look again.
fn worth_a_reconcile(pe: &PreviewEnvironment) -> Option<u64> {
    let mut hasher = std::hash::DefaultHasher::new();
    let meta = &pe.metadata;
    (
        &meta.uid,
        meta.generation,
        meta.deletion_timestamp.as_ref().map(|t| t.0.to_string()),
        &meta.finalizers,
        pe.annotations().get(labels::CHECKS_CHANGED),
        pe.annotations().get(labels::BASE_CHANGED),
        pe.status
            .as_ref()
            .and_then(|s| s.comment_failure.as_deref()),
    )
        .hash(&mut hasher);
    Some(hasher.finish())
}

fn by_preview_label<K: Resource + DeserializeOwned>(
    object: K,
) -> Option<ObjectRef<PreviewEnvironment>> {
    object
        .labels()
        .get(labels::PREVIEW)
        .map(|name| ObjectRef::new(name))
}

/// One reconcile, timed and counted; a failure is also reported as an Event.
async fn reconcile(pe: Arc<PreviewEnvironment>, ctx: Arc<Ctx>) -> Result<Action, Error> {
    let started = Instant::now();
    let result = drive(pe.clone(), ctx.clone()).await;
    let outcome = match &result {
        Ok(_) => "ok",
        Err(e) => e.kind(),
    };
    metrics::get()
        .reconcile_seconds
        .get_or_create(&Outcome {
            outcome: outcome.to_owned(),
        })
        .observe(started.elapsed().as_secs_f64());
    if let Err(error) = &result {
        metrics::get().error(outcome);
        if !matches!(error, Error::StillTerminating(_) | Error::CommentPending(_)) {
            ctx.events.failed(&pe, &error.to_string()).await;
        }
    }
    result
}

/// Drives `pe` one step towards what its spec asks; the finalizer keeps it until its namespace
/// is confirmed gone.
async fn drive(pe: Arc<PreviewEnvironment>, ctx: Arc<Ctx>) -> Result<Action, Error> {
    let api = Api::<PreviewEnvironment>::all(ctx.client.clone());
    let name = pe.name_any();
    // The watch cache can lag behind this controller's own last status write; a decision taken
    // on that older status would deploy again and say "deploying" on GitHub, and its status
    // write would put the older comment fingerprint back. Decide on the cached object once the
    // watch has brought that write back, else read afresh.
    let pe = if ctx.own_writes.is_fresh(&pe) {
        pe
    } else {
        let Some(read) = metrics::timed("reconcile_read", api.get_opt(&name)).await? else {
            return Ok(Action::await_change());
        };
        Arc::new(read)
    };
    let span = tracing::info_span!("reconcile", preview = %name, repository = %pe.spec.pull.repository.full_name, pr = pe.spec.pull.number);
    finalizer(&api, FINALIZER, pe, |event| async {
        match event {
            Event::Apply(pe) => steps::run(&pe, &ctx, false).await,
            Event::Cleanup(pe) => steps::run(&pe, &ctx, true).await,
        }
    })
    .instrument(span)
    .await
    .map_err(|e| match e {
        kube::runtime::finalizer::Error::ApplyFailed(inner)
        | kube::runtime::finalizer::Error::CleanupFailed(inner) => inner,
        other => Error::Finalizer(other.to_string()),
    })
}

impl Error {
    /// The error's kind, as counted in the metrics.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Error::Kube(_) => "kubernetes",
            Error::GitHub(_) => "github",
            Error::StillTerminating(_) => "terminating",
            Error::NoUid(_) | Error::Finalizer(_) => "finalizer",
            Error::Plan(_) => "plan",
            Error::CommentPending(_) => "comment",
        }
    }
}

/// When to ask GitHub again after `error`: when GitHub said to; a refusal asking again cannot
/// fix (a permission error, say) is reported in the status and retried only now and then.
pub(crate) fn github_retry(error: &GitHubError) -> Duration {
    match error.retry_in() {
        Some(wait) => wait.max(timing::GITHUB_MIN_RETRY),
        None if error.is_permanent() => timing::GITHUB_PERMANENT_RETRY,
        None => timing::GITHUB_RETRY,
    }
}

fn error_policy(pe: Arc<PreviewEnvironment>, error: &Error, _ctx: Arc<Ctx>) -> Action {
    let delay = match error {
        Error::StillTerminating(_) => {
            tracing::debug!(preview = %pe.name_any(), %error, "waiting for the namespace to go");
            return Action::requeue(timing::STILL_TERMINATING_RETRY);
        }
        Error::CommentPending(_) => {
            tracing::debug!(preview = %pe.name_any(), %error, "waiting for the publisher");
            return Action::requeue(timing::COMMENT_PENDING_RETRY);
        }
        Error::GitHub(e) => github_retry(e),
        _ => timing::ERROR_RETRY,
    };
    tracing::warn!(preview = %pe.name_any(), %error, "reconcile failed; retrying");
    Action::requeue(delay)
}
