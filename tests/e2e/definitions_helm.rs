//! Previews defined by the application's own Helm chart (`source: helm` in `.preview/`): the
//! chart of the base branch rendered by the pinned upstream `helm` with the preview's values,
//! without hooks or tests; a chart reaching outside itself gets nothing; a chart past its time
//! or memory bound is stopped; what helm or the checks refuse names the chart's file.

use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{ConfigMap, Pod};
use kube::Api;
use previewd::model::crd::Phase;
use previewd_testkit::chart_repository::ChartRepository;
use previewd_testkit::cluster::wait_for;
use previewd_testkit::github::GitFile;
use previewd_testkit::metrics::{Scrape, scrape};
use previewd_testkit::scenario::{Opened, Scenario};
use previewd_testkit::templates::{ROLE, web_deployment};

const READY: Duration = Duration::from_secs(90);
/// The base branch of the `pr-opened` payload.
const BASE: &str = "master";

async fn charting(prefix: &str, env: &[(&str, &str)]) -> Scenario {
    Scenario::start(prefix, |o| {
        o.repository_settings = serde_json::json!({"definedInRepository": true});
        o.env
            .extend(env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
    })
    .await
}

const CHART_YAML: &str = "apiVersion: v2\nname: shop\nversion: 0.1.0\n";

fn deployment() -> String {
    web_deployment(
        "{{ .Release.Name }}-web",
        "{{ .Values.replicas }}",
        "{{ .Values.image }}:{{ .Values.preview.sha }}",
    )
}

/// A chart named `shop` in `.preview/chart` with `templates` (name, source) besides its
/// Chart.yaml and values.yaml.
fn chart(templates: &[(&str, &str)]) -> Vec<GitFile> {
    let mut files = vec![
        GitFile::new(
            ".preview/preview.yaml",
            "source: helm\nchart: chart\nrelease: shop\nvalues: {replicas: 1}\n",
        ),
        GitFile::new(".preview/chart/Chart.yaml", CHART_YAML),
        GitFile::new(
            ".preview/chart/values.yaml",
            "image: registry.test/shop\nreplicas: 3\n",
        ),
    ];
    files.extend(
        templates.iter().map(|(name, source)| {
            GitFile::new(&format!(".preview/chart/templates/{name}"), source)
        }),
    );
    files
}

async fn config_map(s: &Scenario, number: u64, name: &str) -> Option<ConfigMap> {
    Api::<ConfigMap>::namespaced(s.kube.clone(), &s.preview_name(number))
        .get_opt(name)
        .await
        .expect("read the ConfigMap")
}

async fn failed_message(s: &Scenario, number: u64) -> String {
    let failed = s.wait_phase(number, Phase::Failed, None, READY).await;
    failed.status.unwrap().message.unwrap_or_default()
}

#[tokio::test]
async fn the_base_branch_chart_is_rendered_with_the_preview_values_and_no_hooks_or_tests() {
    let s = charting("helm", &[]).await;
    let settings = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata:\n  PUBLIC_URL: {{ .Values.preview.url | quote }}\n  NUMBER: {{ .Values.preview.number | quote }}\n  NAMESPACE: {{ .Release.Namespace | quote }}\n  DRAWN: {{ randAlphaNum 16 | quote }}\n";
    let hook = "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: migrate\n  annotations: {helm.sh/hook: pre-install}\nspec:\n  template:\n    spec:\n      restartPolicy: Never\n      containers: [{name: m, image: x}]\n";
    let test = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: smoke\n  annotations: {helm.sh/hook: test}\nspec:\n  containers: [{name: s, image: x}]\n";
    let files = chart(&[
        ("web.yaml", &deployment()),
        ("settings.yaml", settings),
        ("migrate.yaml", hook),
        ("tests/smoke.yaml", test),
    ]);
    s.github
        .set_branch_files(&s.owner, &s.repo, BASE, files.clone());
    let Opened {
        namespace,
        sha,
        url,
    } = s.open_ready(1, READY).await;
    let web = Api::<Deployment>::namespaced(s.kube.clone(), &namespace)
        .get("shop-web")
        .await
        .expect("the chart's Deployment, named after the release");
    let spec = web.spec.unwrap();
    assert_eq!(
        spec.replicas,
        Some(1),
        "preview.yaml's values win over values.yaml"
    );
    let image = spec.template.spec.unwrap().containers[0].image.clone();
    assert_eq!(
        image.as_deref(),
        Some(format!("registry.test/app:{sha}").as_str()),
        "the operator's values for the repository win over values.yaml"
    );
    let labels = web.metadata.labels.unwrap_or_default();
    assert_eq!(labels.get("previewd.dev/preview"), Some(&namespace));
    let data = config_map(&s, 1, "settings").await.unwrap().data.unwrap();
    assert_eq!(data["PUBLIC_URL"], url);
    assert_eq!(data["NUMBER"], "1");
    assert_eq!(data["NAMESPACE"], namespace);
    let hooks = Api::<Job>::namespaced(s.kube.clone(), &namespace);
    assert!(
        hooks.get_opt("migrate").await.unwrap().is_none(),
        "a hook ran"
    );
    let pods = Api::<Pod>::namespaced(s.kube.clone(), &namespace);
    assert!(
        pods.get_opt("smoke").await.unwrap().is_none(),
        "a chart test ran"
    );
    scratch_emptied(&s).await;

    // Applied again with the same inputs (a push to the base that changes nothing here): the
    // output kept from the first render is applied, so what the chart drew at random stays.
    let drawn = data["DRAWN"].clone();
    let renders = |m: &Scrape| {
        m.value(
            "previewd_step_duration_seconds_count",
            &[("step", "render")],
        )
    };
    let before = renders(&scrape(&s.previewd.url).await);
    let mut files_again = files;
    files_again.push(GitFile::new("CHANGELOG.md", "outside the definition"));
    s.push_files(BASE, files_again).await;
    let rendered_again = || async { renders(&scrape(&s.previewd.url).await) > before };
    wait_for(
        "the push to render the preview again",
        READY,
        rendered_again,
    )
    .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let again = config_map(&s, 1, "settings").await.unwrap().data.unwrap();
    assert_eq!(again["DRAWN"], drawn, "helm rendered the same inputs again");
}

/// Waits until no render's scratch directory is left (one may be under way).
async fn scratch_emptied(s: &Scenario) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let left: Vec<_> = std::fs::read_dir(s.previewd.scratch_dir())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .filter(|name| name != "planted.txt")
            .collect();
        if left.is_empty() {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "scratch directories left: {left:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_chart_reaching_outside_itself_gets_nothing() {
    let s = charting("helm-reach", &[]).await;
    let planted = s.previewd.scratch_dir().join("planted.txt");
    std::fs::write(&planted, "planted-secret").unwrap();
    let config = s.previewd.config_file();
    let reach = format!(
        r#"apiVersion: v1
kind: ConfigMap
metadata: {{name: reach}}
data:
  token: {{{{ .Files.Get "/var/run/secrets/kubernetes.io/serviceaccount/token" | quote }}}}
  config: {{{{ .Files.Get "{config}" | quote }}}}
  planted: {{{{ .Files.Get "../../planted.txt" | quote }}}}
  through-tpl: {{{{ tpl "{{{{ .Files.Get \"{planted}\" }}}}" . | quote }}}}
  globbed: {{{{ $list := list }}}}{{{{ range $path, $_ := .Files.Glob "**" }}}}{{{{ $list = append $list $path }}}}{{{{ end }}}}{{{{ $list | sortAlpha | join "," | quote }}}}
  looked-up: {{{{ lookup "v1" "Namespace" "" "default" | toJson | quote }}}}
"#,
        config = config.display(),
        planted = planted.display(),
    );
    let mut files = chart(&[("reach.yaml", &reach)]);
    files.push(GitFile::new(".preview/chart/files/motd", "hello"));
    s.github
        .set_branch_files(&s.owner, &s.repo, BASE, files.clone());
    s.deliver(&s.payload("pr-opened", 1)).await;
    s.wait_phase(1, Phase::Ready, None, READY).await;
    let data = config_map(&s, 1, "reach").await.unwrap().data.unwrap();
    for key in ["token", "config", "planted", "through-tpl"] {
        assert_eq!(data[key], "", "{key} read something: {data:?}");
    }
    assert_eq!(data["globbed"], "files/motd", "only the chart's own files");
    assert_eq!(data["looked-up"], "{}", "no cluster access");
    scratch_emptied(&s).await;

    // A link in the chart is refused before helm runs.
    let mut linked = files;
    linked.push(GitFile::link(
        ".preview/chart/files/token",
        "/var/run/secrets/kubernetes.io/serviceaccount/token",
    ));
    s.push_files(BASE, linked).await;
    assert_eq!(
        failed_message(&s, 1).await,
        ".preview/chart/files/token: a symbolic link is refused"
    );
}

#[tokio::test]
async fn a_chart_past_its_memory_or_time_bound_is_stopped() {
    let s = charting("helm-bounds", &[("PREVIEWD_RENDER_TIMEOUT_SECS", "2")]).await;
    // 16 bytes doubled 28 times: 4 GiB.
    let hog = "{{- $s := \"xxxxxxxxxxxxxxxx\" }}{{- range until 28 }}{{- $s = print $s $s }}{{- end }}\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: hog}\ndata: {size: \"{{ len $s }}\"}\n";
    s.github
        .set_branch_files(&s.owner, &s.repo, BASE, chart(&[("hog.yaml", hog)]));
    let started = std::time::Instant::now();
    s.deliver(&s.payload("pr-opened", 1)).await;
    assert_eq!(
        failed_message(&s, 1).await,
        "helm template: ran out of its memory bound (256 MiB)"
    );
    assert!(s.namespace(1).await.is_none(), "nothing was applied");
    // 10^9 empty iterations: minutes.
    let slow = "{{- range until 1000 }}{{- range until 1000 }}{{- range until 1000 }}{{- end }}{{- end }}{{- end }}\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: slow}\n";
    s.push_files(BASE, chart(&[("slow.yaml", slow)])).await;
    s.wait_message(1, READY, |m| {
        m == "helm template: stopped after 2 s, its time bound"
    })
    .await;
    assert!(started.elapsed() < Duration::from_secs(60));
    scratch_emptied(&s).await;
}

#[tokio::test]
async fn what_helm_or_the_checks_refuse_names_the_chart_file() {
    let s = charting("helm-refused", &[]).await;
    let broken = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: broken}\ndata:\n  x: {{ .Values.missing.field }}\n";
    s.github
        .set_branch_files(&s.owner, &s.repo, BASE, chart(&[("broken.yaml", broken)]));
    s.deliver(&s.payload("pr-opened", 1)).await;
    let message = failed_message(&s, 1).await;
    assert!(
        message.starts_with("helm template: .preview/chart/templates/broken.yaml:5:15; executing"),
        "{message}"
    );
    s.wait_comment(1, ".preview/chart/templates/broken.yaml:5")
        .await;

    s.push_files(
        BASE,
        chart(&[("web.yaml", &deployment()), ("role.yaml", ROLE)]),
    )
    .await;
    let message = s
        .wait_message(1, READY, |m| {
            m.starts_with(".preview/chart/templates/role.yaml")
        })
        .await;
    assert!(message.contains("templateKinds"), "{message}");
    assert!(s.namespace(1).await.is_none(), "nothing was applied");
}

#[tokio::test]
async fn a_chart_from_an_allowed_chart_repository_is_fetched_checked_and_rendered() {
    let repository = ChartRepository::start().await;
    let settings = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata:\n  SHA: {{ .Values.preview.sha | quote }}\n  CHART: {{ .Chart.Version | quote }}\n";
    repository.publish(
        "shop",
        "1.2.3",
        &[("templates/settings.yaml", settings)],
        None,
    );
    repository.publish(
        "shop",
        "1.2.4",
        &[("templates/settings.yaml", settings)],
        Some(&"0".repeat(64)),
    );
    let url = repository.url.clone();
    let s = Scenario::start("helm-repo", |o| {
        o.repository_settings = serde_json::json!({
            "definedInRepository": true,
            "chartRepositories": [url],
        });
    })
    .await;
    let definition = |repository: &str, version: &str| {
        vec![GitFile::new(
            ".preview/preview.yaml",
            &format!(
                "source: helm\nchart: {{repository: \"{repository}\", name: shop, version: \"{version}\"}}\n"
            ),
        )]
    };
    s.github.set_branch_files(
        &s.owner,
        &s.repo,
        BASE,
        definition(&repository.url, "1.2.3"),
    );
    let Opened { sha, .. } = s.open_ready(1, READY).await;
    let data = config_map(&s, 1, "settings").await.unwrap().data.unwrap();
    assert_eq!(data["SHA"], sha);
    assert_eq!(data["CHART"], "1.2.3");

    // An archive that does not match the index's digest is refused.
    s.push_files(BASE, definition(&repository.url, "1.2.4"))
        .await;
    let message = s
        .wait_message(1, READY, |m| m.contains("the index says"))
        .await;
    assert!(message.contains("chart shop 1.2.4"), "{message}");
    // A repository the operator did not allow is never asked.
    s.push_files(BASE, definition("http://127.0.0.1:9/charts", "1.2.3"))
        .await;
    let message = s
        .wait_message(1, READY, |m| m.contains("chartRepositories"))
        .await;
    assert!(
        message
            .starts_with(".preview/preview.yaml: chart: the repository http://127.0.0.1:9/charts"),
        "{message}"
    );
}
