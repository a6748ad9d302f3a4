//! What the container image packages, checked without building an image (there is no container
//! engine here): the binary `scripts/build-static.sh` builds — the Dockerfile's builder stage
//! runs that script — is a static x86_64 musl executable, and started the way the image's
//! container runs it (the Dockerfile's entrypoint and environment under the `args` and `env` of
//! `helm template`, as the chart's user, with the chart's RBAC) it answers the chart's liveness
//! and readiness probes and writes nothing to disk; a preview its repository defines with a Helm
//! chart is rendered by the pinned helm as that user, in the scratch volume, which is left empty.
//! `tests/testkit/src/container.rs` lists where that process differs from the pod.
//!
//! The binary's path comes from `PREVIEWD_STATIC_BIN`, which `scripts/test.sh` sets after
//! building it. Without it the tests fail rather than build it themselves: a cold release build
//! takes minutes on two cores and would compete with the other tests for them.
//!
//! Run: `scripts/test.sh --test e2e container_image::`, or
//! `eval "$(scripts/cluster.sh env)" && PREVIEWD_STATIC_BIN="$(scripts/build-static.sh)" cargo test --test e2e container_image::`

use std::path::PathBuf;
use std::process::Command;

use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::Api;
use kube::api::{DeleteParams, PostParams};
use previewd::model::crd::PreviewEnvironment;
use previewd::model::names::preview_name;
use previewd::model::pull::Repository;

use previewd_testkit::cluster::{TestNamespace, unique_name};
use previewd_testkit::container::{Container, Running, WEBHOOK_SECRET, chart_values};
use previewd_testkit::dockerfile::{self, Instruction};
use previewd_testkit::elf::{EM_X86_64, Elf, inspect};
use previewd_testkit::github::{GitFile, GitHub, Pull};
use previewd_testkit::helm::{objects, template};
use previewd_testkit::kubeconfig::{admin, service_account_token, with_token};
use previewd_testkit::previewd::ensure_crd;
use previewd_testkit::rbac::ChartRbac;
use previewd_testkit::webhooks::{Delivery, variant};

fn static_binary() -> PathBuf {
    let how = "build it and name it: PREVIEWD_STATIC_BIN=\"$(scripts/build-static.sh)\" cargo test \
               --test e2e container_image:: (scripts/test.sh does both)";
    match std::env::var_os("PREVIEWD_STATIC_BIN") {
        Some(path) if !path.is_empty() => {
            let path = PathBuf::from(path);
            assert!(
                path.is_file(),
                "PREVIEWD_STATIC_BIN={} is no file: {how}",
                path.display()
            );
            path
        }
        _ => panic!("PREVIEWD_STATIC_BIN is not set: {how}"),
    }
}

fn read_elf(path: &str) -> (Vec<u8>, Elf) {
    let data = std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"));
    let elf = inspect(&data).unwrap_or_else(|e| panic!("{path}: {e}"));
    (data, elf)
}

#[test]
fn the_static_binary_is_an_x86_64_musl_executable_that_loads_nothing() {
    let binary = static_binary();
    let (_, elf) = read_elf(binary.to_str().expect("UTF-8 path"));
    let expected = Elf {
        machine: EM_X86_64,
        interpreter: None,
        needed: Vec::new(),
        gnu_abi_tag: false,
    };
    assert_eq!(elf, expected, "{}", binary.display());

    // It runs with nothing around it: no environment, no library path.
    let out = Command::new(&binary)
        .arg("--version")
        .env_clear()
        .output()
        .expect("run the static binary");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let version = format!("previewd {}\n", env!("CARGO_PKG_VERSION"));
    assert_eq!(String::from_utf8_lossy(&out.stdout), version);
}

#[test]
fn the_elf_reader_sees_what_an_ordinary_build_loads_and_refuses_what_is_no_elf() {
    let (data, elf) = read_elf(env!("CARGO_BIN_EXE_previewd"));
    assert_eq!(elf.machine, EM_X86_64);
    let interpreter = elf.interpreter.as_deref().unwrap_or_default();
    assert!(interpreter.contains("ld-linux-x86-64"), "{elf:?}");
    assert!(
        elf.needed.iter().any(|n| n.starts_with("libc.so")),
        "{elf:?}"
    );
    assert!(elf.gnu_abi_tag, "{elf:?}");

    let bad: [&[u8]; 4] = [b"", b"\x7fELF", b"#!/bin/sh\necho hi\n", &data[..100]];
    for input in bad {
        assert!(inspect(input).is_err(), "{input:?} read as ELF");
    }
}

/// The stage `FROM ... AS name` starts, if named.
fn stage_name(instructions: &[Instruction], stage: usize) -> Option<String> {
    let from = instructions
        .iter()
        .find(|i| i.stage == stage && i.keyword == "FROM")?;
    let words: Vec<&str> = from.args.split_whitespace().collect();
    match words.as_slice() {
        [_, as_, name] if as_.eq_ignore_ascii_case("as") => Some((*name).to_owned()),
        _ => None,
    }
}

/// The (stage, source) the final stage `last` copies to `target` from.
fn copied_to(instructions: &[Instruction], last: usize, target: &str) -> (String, String) {
    instructions
        .iter()
        .filter(|i| i.stage == last && i.keyword == "COPY")
        .find_map(|i| {
            let words: Vec<&str> = i.args.split_whitespace().collect();
            match words.as_slice() {
                [from, source, to] if to == &target => {
                    Some((from.strip_prefix("--from=")?.to_owned(), source.to_string()))
                }
                _ => None,
            }
        })
        .unwrap_or_else(|| panic!("no COPY --from=<stage> <file> {target}"))
}

/// The instructions of the stage named `name`.
fn stage<'a>(instructions: &'a [Instruction], name: &str) -> Vec<&'a Instruction> {
    instructions
        .iter()
        .filter(|i| stage_name(instructions, i.stage).as_deref() == Some(name))
        .collect()
}

#[test]
fn the_image_s_renderers_are_built_static_from_the_pins_the_tests_render_with() {
    let instructions = dockerfile::read();
    let image = dockerfile::image(&instructions).expect("the final stage");
    let last = instructions.iter().map(|i| i.stage).max().expect("stages");
    for (variable, pins, package) in [
        ("PREVIEWD_HELM", "cluster/helm/", "helm.sh/helm/v4/cmd/helm"),
        (
            "PREVIEWD_KUSTOMIZE",
            "cluster/kustomize/",
            "sigs.k8s.io/kustomize/kustomize/v5",
        ),
    ] {
        let path = image
            .var(variable)
            .unwrap_or_else(|| panic!("no ENV {variable}"));
        let (from, source) = copied_to(&instructions, last, path);
        let built = stage(&instructions, &from);
        assert!(
            built
                .iter()
                .any(|i| i.keyword == "COPY" && i.args.starts_with(pins)),
            "stage {from} does not build from {pins} (the pins scripts/cluster-build.sh uses)"
        );
        let run = built
            .iter()
            .find(|i| i.keyword == "RUN" && i.args.contains(package))
            .unwrap_or_else(|| panic!("stage {from} does not build {package}"));
        assert!(run.args.contains(&format!("-o {source}")), "{}", run.args);
        assert!(
            run.args.contains("CGO_ENABLED=0"),
            "the final stage is distroless static: {package} must be static"
        );
    }
}

#[test]
fn the_dockerfile_packages_that_binary_as_the_charts_user() {
    let instructions = dockerfile::read();
    let image = dockerfile::image(&instructions).expect("the final stage");
    let last = instructions.iter().map(|i| i.stage).max().expect("stages");

    // The final stage copies what a builder stage's run of scripts/build-static.sh installed,
    // to the path of the entrypoint.
    let entrypoint = image.entrypoint.first().expect("an ENTRYPOINT");
    let copy = copied_to(&instructions, last, entrypoint);
    let build = instructions
        .iter()
        .find(|i| {
            i.keyword == "RUN"
                && stage_name(&instructions, i.stage).as_deref() == Some(copy.0.as_str())
                && i.args.contains("scripts/build-static.sh")
        })
        .unwrap_or_else(|| panic!("stage {} does not RUN scripts/build-static.sh", copy.0));
    assert!(
        build.args.contains(&copy.1),
        "{} does not install {}",
        build.args,
        copy.1
    );

    let values = chart_values("https://api.github.com", "a-token");
    let rendered = objects(&template("image", "previewd-system", &[&values]));
    let container = Container::from_chart(&rendered, "previewd-system");
    let (uid, gid) = container.run_as;
    assert_eq!(
        image.user,
        format!("{uid}:{gid}"),
        "USER and the chart's runAsUser:runAsGroup"
    );
}

/// previewd started as the chart's container, in a namespace of its own with the chart's RBAC.
struct Started {
    ns: TestNamespace,
    container: Container,
    running: Running,
    /// Removes the RBAC when dropped.
    rbac: ChartRbac,
}

/// Starts previewd as the chart (rendered with `extra` `--set` values after the usual ones)
/// runs it, talking to `github`, in a new namespace named after `prefix`.
async fn start_as_the_chart(prefix: &str, github: &GitHub, extra: &str) -> Started {
    let binary = static_binary();
    let image = dockerfile::image(&dockerfile::read()).expect("the final stage");
    ensure_crd().await;
    let ns = TestNamespace::new(prefix).await;
    let values = chart_values(&github.url(), GitHub::TOKEN) + extra;
    let rendered = objects(&template(&unique_name("image"), &ns.name, &[&values]));
    let container = Container::from_chart(&rendered, &ns.name);
    let rbac = ChartRbac::apply(&rendered, &ns.name);
    let token = service_account_token(&ns.name, &container.service_account);
    let running = container
        .start(&binary, &image, &with_token(admin(), &token))
        .await;
    Started {
        ns,
        container,
        running,
        rbac,
    }
}

#[tokio::test]
async fn run_as_the_chart_runs_it_it_answers_both_probes_and_writes_nothing() {
    let github = GitHub::start().await;
    // Every part bound: the namespace and the RBAC last as long as the test.
    let Started {
        ns: _ns,
        container,
        running,
        rbac: _rbac,
    } = start_as_the_chart("image", &github, "").await;
    let ready = running
        .wait_answer(&container.readiness, |status, _| status == 200)
        .await;
    assert_eq!(ready, "ok");
    let live = running.get(&container.liveness).await.expect("liveness");
    assert_eq!(live, (200, "ok".to_owned()));
    if let Some(uid) = running.as_user {
        assert_eq!(running.uid(), uid, "previewd runs as the chart's user");
    }
    assert_eq!(
        running.written(),
        Vec::<PathBuf>::new(),
        "files previewd wrote"
    );
    // Renders write only to the scratch volume, an emptyDir (the root filesystem is read-only).
    let scratch = container
        .var("PREVIEWD_SCRATCH_DIR")
        .expect("PREVIEWD_SCRATCH_DIR");
    assert!(
        container.empty_dirs.iter().any(|mount| mount == scratch),
        "PREVIEWD_SCRATCH_DIR={scratch} is no emptyDir mount: {:?}",
        container.empty_dirs
    );
    // The chart asks for JSON logs.
    let logs = running.logs();
    assert!(logs.contains("serving webhooks"), "{logs}");
    for line in logs.lines() {
        let parsed = serde_json::from_str::<serde_json::Value>(line);
        assert!(parsed.is_ok(), "a log line that is not JSON: {line}");
    }
}

/// A chart the base branch of `octo-org/web` defines its previews with: one ConfigMap holding
/// the head commit's short SHA, as helm renders it.
fn defining_chart() -> Vec<GitFile> {
    let config_map = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: rendered}\ndata:\n  sha: {{ .Values.preview.shortSha | quote }}\n  user: {{ .Values.who | quote }}\n";
    vec![
        GitFile::new(
            ".preview/preview.yaml",
            "source: helm\nvalues: {who: chart}\n",
        ),
        GitFile::new(
            ".preview/chart/Chart.yaml",
            "apiVersion: v2\nname: web\nversion: 0.1.0\n",
        ),
        GitFile::new(".preview/chart/templates/rendered.yaml", config_map),
    ]
}

#[tokio::test]
async fn run_as_the_chart_runs_it_helm_renders_in_the_scratch_volume_and_leaves_nothing() {
    let github = GitHub::start().await;
    github.set_branch_files("octo-org", "web", "master", defining_chart());
    let defining = ",config.repositories[0].definedInRepository=true";
    let Started {
        ns,
        container,
        running,
        rbac: _rbac,
    } = start_as_the_chart("image-render", &github, defining).await;
    running
        .wait_answer(&container.readiness, |status, _| status == 200)
        .await;

    let repository = Repository {
        id: github.repository_id("octo-org", "web"),
        full_name: "octo-org/web".to_owned(),
    };
    github.set_pull(Pull::new("octo-org", "web", 1));
    let opened = variant("pr-opened")
        .repo("octo-org", "web")
        .repository_id(repository.id)
        .number(1);
    let head = opened.str("/pull_request/head/sha").expect("a head SHA");
    let sent = Delivery::new(&running.webhook_url(), WEBHOOK_SECRET.as_bytes())
        .send(&opened)
        .await;
    assert_eq!(sent.status / 100, 2, "{sent:?}");

    // helm ran as the chart's user, with the chart's environment, and its output was applied.
    let preview = preview_name(&repository, 1);
    let config_maps = Api::<ConfigMap>::namespaced(ns.client.clone(), &preview);
    let mut applied = None;
    for _ in 0..300 {
        applied = config_maps.get_opt("rendered").await.ok().flatten();
        if applied.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let data = applied
        .unwrap_or_else(|| {
            panic!(
                "the chart's ConfigMap was never applied:\n{}",
                running.logs()
            )
        })
        .data
        .unwrap_or_default();
    assert_eq!(data.get("sha"), Some(&head[..7].to_owned()));
    assert_eq!(data.get("user").map(String::as_str), Some("chart"));
    // The render's scratch directory (helm's homes, the chart) is gone; nothing else was
    // written anywhere.
    assert_eq!(
        running.written(),
        Vec::<PathBuf>::new(),
        "files previewd or helm left"
    );

    drop(running);
    remove_preview(&ns, &preview).await;
}

/// Deletes the preview `name` and its namespace, which the test's previewd made.
async fn remove_preview(ns: &TestNamespace, name: &str) {
    let records = Api::<PreviewEnvironment>::all(ns.client.clone());
    if let Ok(mut record) = records.get(name).await {
        record.metadata.finalizers = None;
        let _ = records.replace(name, &PostParams::default(), &record).await;
        let _ = records.delete(name, &DeleteParams::default()).await;
    }
    let _ = Api::<Namespace>::all(ns.client.clone())
        .delete(name, &DeleteParams::default())
        .await;
}
