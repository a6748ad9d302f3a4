//! previewd's command line: wiring only.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand};
use kube::CustomResourceExt;
use previewd::build::ReadBinding;
use previewd::build::copies as build_copies;
use previewd::build::definition::{self, Source};
use previewd::build::render::{self, Context};
use previewd::build::templates;
use previewd::config::{Allowlist, FileConfig, RepositoryConfig, lane};
use previewd::controller::events::Recorder;
use previewd::controller::kinds::Kinds;
use previewd::controller::slots::Slots;
use previewd::controller::{self, Ctx, Settings};
use previewd::github::app_key::AppKey;
use previewd::github::auth::Credentials;
use previewd::github::client::{GitHub, Identity};
use previewd::github::permissions::Permissions;
use previewd::http::dashboard::{self, Dashboard};
use previewd::http::{AppState, BodyLimits, router};
use previewd::intake::{allowlist, resync};
use previewd::leader::{self, Election};
use previewd::model::crd::PreviewEnvironment;
use previewd::model::pull::{PullFacts, Repository};
use previewd::model::{labels, names};
use previewd::ops;
use previewd::records::{self, Records};
use previewd::sandbox::{Limits, Renderers, Rendering};
use previewd::telemetry;
use tokio::sync::Semaphore;

/// A live preview environment on Kubernetes for every GitHub pull request.
#[derive(Parser)]
#[command(name = "previewd", version, about)]
struct Cli {
    /// Log as JSON lines instead of text.
    #[arg(long, global = true, env = "PREVIEWD_LOG_JSON")]
    log_json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve GitHub webhooks and run the controller.
    Serve(Box<ServeArgs>),
    /// Print the PreviewEnvironment CustomResourceDefinition as YAML.
    Crd,
    /// Print the objects a pull request's preview would apply, with no cluster.
    Render(Box<RenderArgs>),
    /// List an installation's previews (a table, or JSON).
    List(ListArgs),
    /// Show one preview: its record, conditions, Events and the comment it has.
    Status(StatusArgs),
    /// Delete what the controller's rules remove: records kept past their time, orphan
    /// namespaces (see what with --dry-run).
    Gc(GcArgs),
}

/// Where the operator verbs look.
#[derive(Args)]
struct ClusterArgs {
    /// Kubeconfig file (default: $KUBECONFIG, ~/.kube/config, or in-cluster).
    #[arg(long, env = "PREVIEWD_KUBECONFIG")]
    kubeconfig: Option<PathBuf>,
    /// The installation's instance label value.
    #[arg(long, env = "PREVIEWD_INSTANCE", default_value = "default")]
    instance: String,
    /// The installation's configuration file (time to live, how long records are kept).
    #[arg(long, env = "PREVIEWD_CONFIG")]
    config: Option<PathBuf>,
}

#[derive(Args)]
struct ListArgs {
    #[command(flatten)]
    cluster: ClusterArgs,
    /// Output format.
    #[arg(short, long, value_enum, default_value = "table")]
    output: Output,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum Output {
    Table,
    Json,
}

#[derive(Args)]
struct StatusArgs {
    #[command(flatten)]
    cluster: ClusterArgs,
    /// previewd's namespace, where its Events are (default: the kubeconfig context's).
    #[arg(long, env = "PREVIEWD_NAMESPACE")]
    namespace: Option<String>,
    /// The pull request: `owner/repo#number`.
    target: String,
}

#[derive(Args)]
struct GcArgs {
    #[command(flatten)]
    cluster: ClusterArgs,
    /// Print what would be deleted and why; delete nothing.
    #[arg(long)]
    dry_run: bool,
}

#[derive(Args)]
struct TemplateArgs {
    /// Directory of handlebars-templated manifests.
    #[arg(long, env = "PREVIEWD_TEMPLATES_DIR", default_value = "templates")]
    templates_dir: PathBuf,
    /// Handlebars pattern of each preview's host name.
    #[arg(
        long,
        env = "PREVIEWD_PREVIEW_HOST",
        default_value = "{{namespace}}.preview.example.com"
    )]
    preview_host: String,
    /// The configuration file (repositories served, caps, template values).
    #[arg(long, env = "PREVIEWD_CONFIG")]
    config: Option<PathBuf>,
    /// Instance label value: two installations with different instances never touch each other.
    #[arg(long, env = "PREVIEWD_INSTANCE", default_value = "default")]
    instance: String,
    #[command(flatten)]
    renderers: RendererArgs,
}

/// The upstream renderers a repository's definition may use, and the bounds of each run.
#[derive(Args)]
struct RendererArgs {
    /// The `helm` executable, for definitions with `source: helm`.
    #[arg(long, env = "PREVIEWD_HELM", default_value = "helm")]
    helm: PathBuf,
    /// The `kustomize` executable, for definitions with `source: kustomize`.
    #[arg(long, env = "PREVIEWD_KUSTOMIZE", default_value = "kustomize")]
    kustomize: PathBuf,
    /// Where each render gets a scratch directory of its own (default: the system's temporary
    /// directory).
    #[arg(long, env = "PREVIEWD_SCRATCH_DIR")]
    scratch_dir: Option<PathBuf>,
    /// Seconds a render may take before it is killed.
    #[arg(long, env = "PREVIEWD_RENDER_TIMEOUT_SECS", default_value_t = 30)]
    render_timeout_secs: u64,
    /// MiB of heap a render may hold.
    #[arg(long, env = "PREVIEWD_RENDER_MEMORY_MIB", default_value_t = 256)]
    render_memory_mib: u64,
    /// Renders run at once (each may hold --render-memory-mib); more wait their turn.
    #[arg(long, env = "PREVIEWD_RENDERS_AT_ONCE", default_value_t = 1)]
    renders_at_once: usize,
}

impl RendererArgs {
    fn renderers(&self) -> Renderers {
        let defaults = Renderers::default();
        Renderers {
            helm: self.helm.clone(),
            kustomize: self.kustomize.clone(),
            scratch_root: self.scratch_dir.clone().unwrap_or(defaults.scratch_root),
            limits: Limits {
                timeout: Duration::from_secs(self.render_timeout_secs.max(1)),
                memory_bytes: self.render_memory_mib.max(16) * 1024 * 1024,
                ..defaults.limits
            },
            at_once: Arc::new(tokio::sync::Semaphore::new(self.renders_at_once.max(1))),
            ..defaults
        }
    }
}

#[derive(Args)]
struct ServeArgs {
    #[command(flatten)]
    templates: TemplateArgs,
    /// Address to listen on for webhooks and health checks.
    #[arg(long, env = "PREVIEWD_LISTEN", default_value = "0.0.0.0:8080")]
    listen: SocketAddr,
    /// Address of the read-only dashboard (none: no dashboard). Put authentication in front of
    /// it: it shows every preview of the installation.
    #[arg(long, env = "PREVIEWD_DASHBOARD_LISTEN")]
    dashboard_listen: Option<SocketAddr>,
    /// The secret configured on the GitHub webhook.
    #[arg(long, env = "PREVIEWD_WEBHOOK_SECRET", hide_env_values = true)]
    webhook_secret: Option<String>,
    /// GitHub token previewd comments with (or the GitHub App settings below, not both).
    #[arg(long, env = "PREVIEWD_GITHUB_TOKEN", hide_env_values = true)]
    github_token: Option<String>,
    /// The GitHub App previewd acts as (with its private key file, in place of a token).
    #[arg(long, env = "PREVIEWD_GITHUB_APP_ID")]
    github_app_id: Option<u64>,
    /// The GitHub App's private key: the PEM file GitHub hands out.
    #[arg(long, env = "PREVIEWD_GITHUB_APP_PRIVATE_KEY_FILE")]
    github_app_private_key_file: Option<PathBuf>,
    /// Logins previewd wrote its comments as before (a token's login, before switching to an
    /// App), comma-separated: their comments with previewd's marker stay previewd's own.
    #[arg(long, env = "PREVIEWD_GITHUB_PREVIOUS_LOGINS", value_delimiter = ',')]
    github_previous_logins: Vec<String>,
    /// GitHub REST API base URL (GitHub Enterprise Server: https://HOST/api/v3).
    #[arg(
        long,
        env = "PREVIEWD_GITHUB_API_URL",
        default_value = "https://api.github.com"
    )]
    github_api_url: String,
    /// The login previewd comments as (default: asked of GitHub: GET /user for a token,
    /// `<slug>[bot]` for an App).
    #[arg(long, env = "PREVIEWD_GITHUB_LOGIN")]
    github_login: Option<String>,
    /// Timeout of one GitHub call, in seconds.
    #[arg(long, env = "PREVIEWD_GITHUB_TIMEOUT_SECS", default_value_t = 10)]
    github_timeout_secs: u64,
    /// Kubeconfig file (default: $KUBECONFIG, ~/.kube/config, or in-cluster).
    #[arg(long, env = "PREVIEWD_KUBECONFIG")]
    kubeconfig: Option<PathBuf>,
    /// Largest webhook body accepted, in bytes (at most GitHub's cap, 25 MiB). The default holds
    /// the largest delivery previewd acts on: see docs/threat-model.md.
    #[arg(long, env = "PREVIEWD_MAX_BODY_BYTES", default_value_t = 1024 * 1024,
        value_parser = clap::value_parser!(u32).range(1024..=25 * 1024 * 1024))]
    max_body_bytes: u32,
    /// Webhook deliveries handled at once; more are refused at once with 503. With
    /// --max-body-bytes, bounds the memory bodies take.
    #[arg(long, env = "PREVIEWD_MAX_DELIVERIES_IN_FLIGHT", default_value_t = 32,
        value_parser = clap::value_parser!(u16).range(1..))]
    max_deliveries_in_flight: u16,
    /// Seconds a deployment may take to become ready before the preview is Failed.
    #[arg(long, env = "PREVIEWD_READY_TIMEOUT_SECS", default_value_t = 600)]
    ready_timeout_secs: u64,
    /// Seconds to wait for a namespace to be gone before reporting it stuck.
    #[arg(long, env = "PREVIEWD_TERMINATE_TIMEOUT_SECS", default_value_t = 300)]
    terminate_timeout_secs: u64,
    /// Seconds between two resyncs with GitHub's list of open pull requests (0: never).
    #[arg(long, env = "PREVIEWD_RESYNC_SECS", default_value_t = 300)]
    resync_secs: u64,
    /// GitHub cannot deliver webhooks to this cluster: each resync also reads new comments for
    /// `/preview` commands, and the webhook secret is optional (without it no delivery is taken).
    #[arg(long, env = "PREVIEWD_POLLING", default_value_t = false)]
    polling: bool,
    /// Seconds between two reads of a commit's CI checks while it waits for them (repositories
    /// with `checks`), when no `check_run`, `check_suite` or `status` delivery comes sooner.
    /// Conditional reads: unchanged answers cost no rate limit.
    #[arg(long, env = "PREVIEWD_CHECKS_RECHECK_SECS", default_value_t = 30,
        value_parser = clap::value_parser!(u64).range(1..))]
    checks_recheck_secs: u64,
    /// Previews reconciled at once.
    #[arg(long, env = "PREVIEWD_CONCURRENCY", default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..))]
    concurrency: u16,
    /// The chart's admission policy holds this installation to its lane: settings it would
    /// refuse object by object (Pod Security off or privileged, kinds carrying pods it does not
    /// check, a preview host outside --preview-host-suffix) stop startup instead.
    #[arg(long, env = "PREVIEWD_ADMISSION_POLICY", default_value_t = false, action = clap::ArgAction::Set)]
    admission_policy: bool,
    /// The domain every preview host ends with (like .preview.example.com); required with
    /// --admission-policy, whose Ingress rule refuses any other host.
    #[arg(long, env = "PREVIEWD_PREVIEW_HOST_SUFFIX")]
    preview_host_suffix: Option<String>,
    /// A ClusterRole previewd binds to its own ServiceAccount (--service-account) in each
    /// preview namespace, to read and prune the template kinds there instead of cluster-wide
    /// (the chart's `<fullname>-preview`).
    #[arg(long, env = "PREVIEWD_PREVIEW_ROLE", requires = "service_account")]
    preview_role: Option<String>,
    /// previewd's ServiceAccount, in its namespace (--namespace): the subject of the
    /// --preview-role binding.
    #[arg(long, env = "PREVIEWD_SERVICE_ACCOUNT", requires = "preview_role")]
    service_account: Option<String>,
    /// previewd's own namespace, where its Lease and Events live (default: the namespace of
    /// the kubeconfig context, or the pod's own in a cluster).
    #[arg(long, env = "PREVIEWD_NAMESPACE")]
    namespace: Option<String>,
    #[command(flatten)]
    election: ElectionArgs,
    /// Test-only crash point.
    #[arg(long, env = "PREVIEWD_FAILPOINT", hide = true)]
    failpoint: Option<String>,
}

#[derive(Args)]
struct ElectionArgs {
    /// Run the controller only while holding the Lease `previewd-<instance>` (every replica
    /// serves webhooks either way); false: run it unconditionally (a single replica only).
    #[arg(long, env = "PREVIEWD_LEADER_ELECTION", default_value_t = true, action = clap::ArgAction::Set)]
    leader_election: bool,
    /// Seconds the Lease stays held without renewal: how long a standby waits for a leader that
    /// died without releasing it.
    #[arg(long, env = "PREVIEWD_LEASE_DURATION_SECS", default_value_t = 15, value_parser = clap::value_parser!(u64).range(2..))]
    lease_duration_secs: u64,
    /// Seconds before expiry the leader renews the Lease.
    #[arg(long, env = "PREVIEWD_LEASE_GRACE_SECS", default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..))]
    lease_grace_secs: u64,
    /// This replica's identity in the Lease (default: the host name and process id).
    #[arg(long, env = "PREVIEWD_POD_NAME")]
    identity: Option<String>,
}

#[derive(Args)]
struct RenderArgs {
    #[command(flatten)]
    templates: TemplateArgs,
    /// Repository, `owner/name`.
    #[arg(long)]
    repo: String,
    /// Pull request number.
    #[arg(long)]
    pr: u64,
    /// Head commit SHA.
    #[arg(long)]
    sha: String,
    /// Head branch.
    #[arg(long, default_value = "")]
    branch: String,
    /// Base branch.
    #[arg(long, default_value = "main")]
    base: String,
    /// Pull request title.
    #[arg(long, default_value = "")]
    title: String,
    /// Pull request author.
    #[arg(long, default_value = "")]
    author: String,
    /// GitHub's numeric repository id: labels, and the hash in the namespace name (0: the hash
    /// covers the full name instead, so the name differs from the one previewd gives).
    #[arg(long, default_value_t = 0)]
    repository_id: u64,
    /// A checkout of the application's repository: render the preview its definition
    /// directory (`--definition-dir`) describes instead of --templates-dir.
    #[arg(long)]
    repo_dir: Option<PathBuf>,
    /// The directory of a repository that defines its preview.
    #[arg(long, default_value = definition::DEFAULT_DIR)]
    definition_dir: PathBuf,
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("previewd: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            // One line naming what failed, not a backtrace.
            eprintln!("previewd: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Crd => write_stdout(&serde_yaml_ng::to_string(&PreviewEnvironment::crd())?),
        Command::Render(args) => render_command(*args).await,
        Command::Serve(args) => {
            telemetry::init(cli.log_json);
            serve(*args).await
        }
        Command::List(args) => list_command(args).await,
        Command::Status(args) => status_command(args).await,
        Command::Gc(args) => gc_command(args).await,
    }
}

async fn list_command(args: ListArgs) -> anyhow::Result<()> {
    let config = load_config(args.cluster.config.as_ref())?;
    let client = kube_client(args.cluster.kubeconfig.as_ref()).await?;
    let previews = ops::previews(&client, &args.cluster.instance).await?;
    let rows = ops::list::rows(&previews, &config);
    match args.output {
        Output::Table => write_stdout(&ops::list::table(&rows, chrono::Utc::now())),
        Output::Json => write_stdout(&format!("{}\n", serde_json::to_string_pretty(&rows)?)),
    }
}

async fn status_command(args: StatusArgs) -> anyhow::Result<()> {
    let Some((repository, number)) = ops::status::parse_target(&args.target) else {
        anyhow::bail!("{:?} is not owner/repo#number", args.target);
    };
    let config = load_config(args.cluster.config.as_ref())?;
    let client = kube_client(args.cluster.kubeconfig.as_ref()).await?;
    let instance = &args.cluster.instance;
    let previews = ops::previews(&client, instance).await?;
    let Some(pe) = ops::status::find(&previews, &repository, number) else {
        anyhow::bail!("no preview of {repository}#{number} in installation {instance:?}");
    };
    let namespace = args
        .namespace
        .clone()
        .unwrap_or_else(|| client.default_namespace().to_owned());
    let events = ops::status::events_of(&client, &namespace, pe).await?;
    let text = ops::status::describe(pe, &events, &config, instance, chrono::Utc::now());
    write_stdout(&text)
}

async fn gc_command(args: GcArgs) -> anyhow::Result<()> {
    let config = load_config(args.cluster.config.as_ref())?;
    let client = kube_client(args.cluster.kubeconfig.as_ref()).await?;
    let instance = &args.cluster.instance;
    let (previews, namespaces) = ops::gc::read(&client, instance).await?;
    let keep = config.keep_destroyed_for.0;
    let plan = ops::gc::plan(&previews, &namespaces, instance, keep, chrono::Utc::now());
    if args.dry_run {
        return write_stdout(&ops::gc::describe(&plan));
    }
    write_stdout(&ops::gc::execute(&client, &plan).await)
}

fn load_config(path: Option<&PathBuf>) -> anyhow::Result<FileConfig> {
    Ok(match path {
        Some(path) => FileConfig::load(path)?,
        None => FileConfig::default(),
    })
}

async fn render_command(args: RenderArgs) -> anyhow::Result<()> {
    let config = load_config(args.templates.config.as_ref())?;
    let repository = Repository {
        id: args.repository_id,
        full_name: args.repo.clone(),
    };
    let namespace = names::preview_name(&repository, args.pr);
    let allowlist = Allowlist::unresolved(config.repositories.len());
    let operator_values = config.values_for(config.repository(&allowlist, &repository));
    let repository_settings = config.repository_settings(&allowlist, &repository);
    let defined = match &args.repo_dir {
        Some(repo_dir) => {
            let dir = repo_dir.join(&args.definition_dir);
            let defined = definition::local::read_dir(&dir)
                .and_then(|files| definition::read(&files))
                .map_err(|e| anyhow::anyhow!("{}: {e}", dir.display()))?;
            Some(defined)
        }
        None => None,
    };
    let copies = match &defined {
        Some(defined) => build_copies::requested(
            &repository_settings,
            &defined.settings.copy_secrets,
            &defined.settings.copy_config_maps,
            &args
                .definition_dir
                .join(definition::SETTINGS_FILE)
                .to_string_lossy(),
        )
        .map_err(anyhow::Error::msg)?,
        None => build_copies::configured(&repository_settings),
    };
    tell_copies(&copies);
    let own_templates;
    let shown;
    let (rendering, values) = match &defined {
        Some(defined) => {
            let rendering = match &defined.source {
                Source::Templates(templates) => Rendering::Templates(templates),
                Source::Chart(chart) => {
                    shown = chart.shown_in(&args.definition_dir.to_string_lossy());
                    Rendering::Chart {
                        chart,
                        shown: &shown,
                    }
                }
                Source::Overlay(overlay) => {
                    shown = args.definition_dir.to_string_lossy().into_owned();
                    Rendering::Overlay {
                        overlay,
                        shown: &shown,
                    }
                }
            };
            (rendering, defined.values(operator_values))
        }
        None => {
            own_templates =
                templates::load(&args.templates.templates_dir).map_err(anyhow::Error::msg)?;
            (Rendering::Templates(&own_templates), operator_values)
        }
    };
    let pull = PullFacts {
        repository,
        number: args.pr,
        head_sha: args.sha,
        branch: args.branch,
        base_branch: args.base,
        title: args.title,
        author: args.author,
        ..PullFacts::default()
    };
    let context = Context::new(&pull, &namespace, &args.templates.preview_host, values)?;
    let preview_labels = labels::preview_labels(
        &args.templates.instance,
        &namespace,
        args.repository_id,
        args.pr,
    );
    let mut out = String::new();
    let renderers = args.templates.renderers.renderers();
    let mut objects = rendering
        .objects(&renderers, &context, &preview_labels)
        .await
        .map_err(anyhow::Error::msg)?;
    if let Some(wanted) = defined.as_ref().and_then(|d| d.settings.readiness.as_ref()) {
        definition::readiness::select(wanted, &mut objects).map_err(anyhow::Error::msg)?;
    }
    for object in objects {
        out.push_str(&format!("---\n# Source: {}\n", object.file));
        out.push_str(&serde_yaml_ng::to_string(&object.object)?);
    }
    write_stdout(&out)
}

/// Says on stderr which copies a deployed preview would also get (their data is read from the
/// sources only then).
fn tell_copies(copies: &[build_copies::Wanted]) {
    for wanted in copies {
        eprintln!(
            "{} {} from {} ({}): copied when deployed",
            wanted.kind.name(),
            wanted.copy.name(),
            wanted.copy.from,
            wanted.asked_in
        );
    }
}

/// Writes `text` to stdout; a reader that went away (`| head`) is not an error.
fn write_stdout(text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    match std::io::stdout().lock().write_all(text.as_bytes()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}

async fn kube_client(kubeconfig: Option<&PathBuf>) -> anyhow::Result<kube::Client> {
    let config = match kubeconfig {
        Some(path) => {
            let file = kube::config::Kubeconfig::read_from(path)
                .with_context(|| format!("kubeconfig {}", path.display()))?;
            kube::Config::from_custom_kubeconfig(file, &Default::default()).await?
        }
        None => kube::Config::infer()
            .await
            .context("no Kubernetes configuration found")?,
    };
    Ok(kube::Client::try_from(config)?)
}

/// A setting that must be given and not be empty; the error names the flag and its variable.
fn required<'a>(value: Option<&'a str>, flag: &str, env: &str) -> anyhow::Result<&'a str> {
    match value {
        Some(v) if !v.is_empty() => Ok(v),
        _ => anyhow::bail!("{flag} ({env}) is required and must not be empty"),
    }
}

/// Renders every repository's templates for a sample PR and logs what is broken at once, before
/// the first PR meets it (where it is reported in the PR comment and status as well).
fn check_templates(templates: &[render::Template], host: &str, config: &FileConfig) {
    let entries: Vec<Option<&RepositoryConfig>> = match config.repositories.as_slice() {
        [] => vec![None],
        all => all.iter().map(Some).collect(),
    };
    for entry in entries {
        if let Err(error) = render::check(templates, host, config.values_for(entry)) {
            let name = entry.map_or("", |e| e.name.as_str());
            tracing::error!(repository = name, %error, "templates do not render; previews of this repository will fail");
        }
    }
}

/// The configuration file `serve` needs, refused if the admission policy would refuse what it
/// asks for.
fn serve_config(args: &ServeArgs) -> anyhow::Result<FileConfig> {
    let Some(config_path) = args.templates.config.as_ref() else {
        anyhow::bail!(
            "--config (PREVIEWD_CONFIG) is required: it lists the repositories previewd serves"
        );
    };
    let config = load_config(Some(config_path))?;
    if args.admission_policy
        && let Some(why) = lane::refusal(
            &config,
            &args.templates.preview_host,
            args.preview_host_suffix.as_deref(),
        )
    {
        anyhow::bail!("refusing to start: {why}");
    }
    Ok(config)
}

/// The RoleBinding of `role` that previewd gives its ServiceAccount `account` (in `namespace`)
/// in each preview namespace.
fn read_binding(
    role: Option<String>,
    account: Option<String>,
    namespace: &str,
) -> Option<ReadBinding> {
    let (role, account) = role.zip(account)?;
    Some(ReadBinding {
        role,
        service_account: (namespace.to_owned(), account),
    })
}

/// The webhook secret: required, but in the polling mode (which needs a resync to poll with).
fn webhook_secret(args: &ServeArgs) -> anyhow::Result<Option<&str>> {
    if args.polling && args.resync_secs == 0 {
        anyhow::bail!("--polling reads GitHub at each resync: set --resync-secs above 0");
    }
    let given = args.webhook_secret.as_deref().filter(|s| !s.is_empty());
    match (given, args.polling) {
        (None, true) => Ok(None),
        _ => required(
            args.webhook_secret.as_deref(),
            "--webhook-secret",
            "PREVIEWD_WEBHOOK_SECRET",
        )
        .map(Some),
    }
}

/// A token, or a GitHub App's id and private key: exactly one of them.
fn github_credentials(args: &ServeArgs) -> anyhow::Result<Credentials> {
    match (
        args.github_token
            .as_deref()
            .filter(|token| !token.is_empty()),
        args.github_app_id,
        args.github_app_private_key_file.as_ref(),
    ) {
        (Some(token), None, None) => Ok(Credentials::Token(token.to_owned())),
        (None, Some(app_id), Some(file)) => {
            let pem = std::fs::read(file).map_err(|e| {
                anyhow::anyhow!(
                    "cannot read the GitHub App's private key {}: {e}",
                    file.display()
                )
            })?;
            Ok(Credentials::App(Box::new(
                AppKey::from_pem(app_id, &pem).map_err(anyhow::Error::msg)?,
            )))
        }
        (None, None, None) => anyhow::bail!(
            "no GitHub credentials: set --github-token (PREVIEWD_GITHUB_TOKEN), or \
             --github-app-id and --github-app-private-key-file (PREVIEWD_GITHUB_APP_ID, \
             PREVIEWD_GITHUB_APP_PRIVATE_KEY_FILE)"
        ),
        (Some(_), _, _) => anyhow::bail!(
            "both a GitHub token and a GitHub App are set: previewd acts as one of them"
        ),
        (None, _, _) => anyhow::bail!(
            "a GitHub App needs both --github-app-id and --github-app-private-key-file"
        ),
    }
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let secret = webhook_secret(&args)?;
    let credentials = github_credentials(&args)?;
    let config = serve_config(&args)?;
    let templates = templates::load(&args.templates.templates_dir).map_err(anyhow::Error::msg)?;
    check_templates(&templates, &args.templates.preview_host, &config);
    let client = kube_client(args.kubeconfig.as_ref()).await?;
    let github = GitHub::new(
        &args.github_api_url,
        credentials,
        Identity {
            login: args.github_login.clone(),
            previous_logins: args.github_previous_logins.clone(),
        },
        Duration::from_secs(args.github_timeout_secs),
    )?;
    let accepting = Arc::new(AtomicBool::new(true));
    let records = Records::watch(
        client.clone(),
        &args.templates.instance,
        records::lag_for(args.failpoint.as_deref()),
    );
    let allowlist = Arc::new(Allowlist::unresolved(config.repositories.len()));
    let state = AppState {
        secret: secret.map(|s| s.as_bytes().into()),
        client: client.clone(),
        records: records.clone(),
        instance: args.templates.instance.as_str().into(),
        config: Arc::new(config.clone()),
        allowlist: allowlist.clone(),
        accepting: accepting.clone(),
        body_limits: BodyLimits::within_githubs_wait(args.max_body_bytes as usize),
        in_flight: Arc::new(Semaphore::new(args.max_deliveries_in_flight.into())),
    };
    let namespace = args
        .namespace
        .clone()
        .unwrap_or_else(|| client.default_namespace().to_owned());
    let identity = args
        .election
        .identity
        .clone()
        .unwrap_or_else(default_identity);
    let ctx_instance = args.templates.instance.clone();
    let read_binding = read_binding(args.preview_role, args.service_account, &namespace);
    let (queue, woken) = Slots::new();
    let woken: controller::Woken = Arc::new(tokio::sync::Mutex::new(woken));
    let dashboard_config = config.clone();
    let renderers = args.templates.renderers.renderers();
    previewd::sandbox::scratch::sweep(&renderers.scratch_root);
    let ctx = Arc::new(Ctx {
        client: client.clone(),
        github,
        kinds: Kinds::new(client.clone()),
        permissions: Permissions::default(),
        events: Recorder::new(client.clone(), &namespace, &identity),
        applied: Default::default(),
        own_writes: Default::default(),
        records: records.clone(),
        checks: Default::default(),
        definitions: Default::default(),
        branches: Default::default(),
        queue,
        settings: Settings {
            instance: args.templates.instance,
            templates,
            host_pattern: args.templates.preview_host,
            renderers,
            ready_timeout: Duration::from_secs(args.ready_timeout_secs),
            checks_recheck: Duration::from_secs(args.checks_recheck_secs),
            terminate_timeout: Duration::from_secs(args.terminate_timeout_secs),
            config,
            allowlist,
            concurrency: args.concurrency,
            failpoint: args.failpoint.clone(),
            read_binding,
        },
    });
    let resync_every = Duration::from_secs(args.resync_secs);
    let polling = args.polling;
    tokio::spawn(allowlist::resolve_until_done(ctx.clone(), resync_every));
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("listen on {}", args.listen))?;
    tracing::info!(address = %listener.local_addr()?, "serving webhooks");
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|stop| *stop).await;
    };
    let server =
        axum::serve(listener, router(state)).with_graceful_shutdown(stopped(stop_rx.clone()));
    if let Some(address) = args.dashboard_listen {
        let listener = tokio::net::TcpListener::bind(address)
            .await
            .with_context(|| format!("dashboard: listen on {address}"))?;
        tracing::info!(address = %listener.local_addr()?, "serving the dashboard");
        let dashboard = Dashboard::new(records, client.clone(), &namespace, dashboard_config);
        let serving = axum::serve(listener, dashboard::router(dashboard))
            .with_graceful_shutdown(stopped(stop_rx.clone()));
        tokio::spawn(async move {
            if let Err(error) = serving.await {
                tracing::error!(%error, "the dashboard stopped");
            }
        });
    }
    let term_stop = stop_rx.clone();
    // The controller, the resync, the publisher and the watch of copied sources: what only one
    // replica at a time does.
    let term = move || {
        let (ctx, woken, stop) = (ctx.clone(), woken.clone(), term_stop.clone());
        async move {
            let resync = async {
                if !resync_every.is_zero() {
                    resync::run(ctx.clone(), resync_every, polling, stopped(stop.clone())).await;
                }
            };
            let publisher = async {
                tokio::select! {
                    () = controller::publisher::run(ctx.clone()) => {}
                    () = stopped(stop.clone()) => {}
                }
            };
            let copies = async {
                tokio::select! {
                    () = controller::copies::watch(ctx.clone()) => {}
                    () = stopped(stop.clone()) => {}
                }
            };
            tokio::join!(
                controller::run(ctx.clone(), woken, stopped(stop.clone())),
                resync,
                publisher,
                copies
            );
        }
    };
    let controller = if args.election.leader_election {
        let election = Election {
            namespace,
            lease: leader::lease_name(&ctx_instance),
            identity,
            duration: Duration::from_secs(args.election.lease_duration_secs),
            grace: Duration::from_secs(args.election.lease_grace_secs),
        };
        tokio::spawn(leader::lead(client, election, stop_rx, term))
    } else {
        tokio::spawn(async move {
            term().await;
            Ok(())
        })
    };
    let signal = tokio::spawn(async move {
        shutdown_signal().await;
        tracing::info!("shutting down: no new webhooks, finishing in-flight work");
        accepting.store(false, Ordering::Relaxed);
        let _ = stop_tx.send(true);
    });
    server.await?;
    controller.await??;
    signal.abort();
    Ok(())
}

/// The host name (the pod name in a cluster) and the process id.
fn default_identity() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "previewd".to_owned());
    format!("{host}-{}", std::process::id())
}

async fn shutdown_signal() {
    let terminate = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate => {}
    }
}
