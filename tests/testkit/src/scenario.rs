//! One test's world: a GitHub stand-in, a previewd of its own instance, one repository of its
//! own, and helpers to send PR events and watch what previewd did.

use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Namespace;
use kube::api::{DeleteParams, Patch, PatchParams};
use kube::{Api, Client};
use previewd::model::crd::{Phase, PreviewEnvironment};
use previewd::model::names::preview_name;
use previewd::model::pull::Repository;

use super::github::{Comment, GitHub, Pull, repo_id};
use super::previewd::{Options, Previewd, SECRET};
use super::webhooks::{Delivery, Payload, Sent, variant};

/// A running scenario.
pub struct Scenario {
    /// The GitHub stand-in.
    pub github: GitHub,
    /// The previewd under test.
    pub previewd: Previewd,
    /// Kubernetes client of the test.
    pub kube: Client,
    /// Repository owner.
    pub owner: String,
    /// Repository name (unique to the test).
    pub repo: String,
    /// `owner/repo` when the scenario started (before any `move_repository`).
    started_as: String,
}

/// A preview that reached Ready.
pub struct Opened {
    /// Its namespace.
    pub namespace: String,
    /// The head SHA it deployed.
    pub sha: String,
    /// Its URL.
    pub url: String,
}

impl Scenario {
    /// Starts a stand-in and a previewd serving `owner/<prefix>-<random>`; `adjust` may change
    /// previewd's options (templates, timeouts, failpoints).
    pub async fn start(prefix: &str, adjust: impl FnOnce(&mut Options)) -> Self {
        Scenario::start_on(GitHub::start().await, prefix, adjust).await
    }

    /// Like `start`, with previewd acting as the stand-in's test App, installed on the
    /// scenario's repository alone (`GitHub::installation_on` finds the installation).
    pub async fn start_as_app(prefix: &str, adjust: impl FnOnce(&mut Options)) -> Self {
        let github = GitHub::start().await;
        github.register_app();
        Scenario::start_on(github, prefix, |options| {
            options.github_app = true;
            adjust(options);
        })
        .await
    }

    /// Like `start`, on a stand-in already started (`GitHub::start_enterprise`, say); with
    /// `github_app` set, the App (registered by the caller) is installed on the repository.
    pub async fn start_on(github: GitHub, prefix: &str, adjust: impl FnOnce(&mut Options)) -> Self {
        let owner = "codertocat".to_owned();
        let repo = format!(
            "{prefix}-{}",
            &uuid::Uuid::new_v4().simple().to_string()[..8]
        );
        let mut options = Options::new(&github.url(), &format!("{owner}/{repo}"));
        adjust(&mut options);
        if options.github_app {
            github.install_app(&owner, &[&format!("{owner}/{repo}")]);
        }
        let previewd = Previewd::start(options).await;
        let kube = super::cluster::client().await;
        Scenario::serving(github, previewd, kube, &owner, &repo)
    }

    /// A scenario of a previewd already started, serving `owner/repo`.
    pub fn serving(
        github: GitHub,
        previewd: Previewd,
        kube: Client,
        owner: &str,
        repo: &str,
    ) -> Self {
        Scenario {
            github,
            previewd,
            kube,
            owner: owner.to_owned(),
            repo: repo.to_owned(),
            started_as: format!("{owner}/{repo}"),
        }
    }

    /// Renames or transfers the repository on the stand-in (it keeps its id); later payloads
    /// and comments are under the new name.
    pub fn move_repository(&mut self, owner: &str, repo: &str) {
        self.github
            .move_repository(&self.full_name(), &format!("{owner}/{repo}"));
        self.owner = owner.to_owned();
        self.repo = repo.to_owned();
    }

    /// `owner/repo`.
    pub fn full_name(&self) -> String {
        format!("{}/{}", self.owner, self.repo)
    }

    /// A variant payload moved to this scenario's repository and PR `number`; the stand-in
    /// learns the PR too, so previewd can comment on it.
    pub fn payload(&self, variant_name: &str, number: u64) -> Payload {
        let payload = variant(variant_name)
            .repo(&self.owner, &self.repo)
            .repository_id(self.github.repository_id(&self.owner, &self.repo))
            .number(number);
        if self.github.pull(&self.owner, &self.repo, number).is_none() {
            self.github
                .set_pull(Pull::new(&self.owner, &self.repo, number));
        }
        payload
    }

    /// Sends `payload` signed as GitHub does, with a fresh delivery id.
    pub async fn send(&self, payload: &Payload) -> Sent {
        Delivery::new(&self.previewd.webhook_url(), SECRET.as_bytes())
            .send(payload)
            .await
    }

    /// Sends and asserts previewd accepted it (2xx).
    pub async fn deliver(&self, payload: &Payload) -> Sent {
        deliver_to(&self.previewd, payload, "").await
    }

    /// The name of PR `number`'s preview and namespace, as recorded while the repository had
    /// the name the scenario started with (a preview keeps its name when the repository moves).
    pub fn preview_name(&self, number: u64) -> String {
        let repository = Repository {
            id: repo_id(&self.started_as),
            full_name: self.started_as.clone(),
        };
        preview_name(&repository, number)
    }

    /// The PreviewEnvironment of PR `number`, if recorded.
    pub async fn preview(&self, number: u64) -> Option<PreviewEnvironment> {
        Api::<PreviewEnvironment>::all(self.kube.clone())
            .get_opt(&self.preview_name(number))
            .await
            .expect("read PreviewEnvironment")
    }

    /// Waits until PR `number`'s preview reports `phase` (and, if given, `sha` deployed) in a
    /// status written for its latest spec (`status.observedGeneration == metadata.generation`),
    /// so a status from before the last spec change never matches, and its outbox is sent (the
    /// comment says so on GitHub, or GitHub refused it).
    pub async fn wait_phase(
        &self,
        number: u64,
        phase: Phase,
        sha: Option<&str>,
        timeout: Duration,
    ) -> PreviewEnvironment {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut last = None;
        while tokio::time::Instant::now() < deadline {
            if let Some(pe) = self.preview(number).await
                && let Some(status) = pe.status.clone()
            {
                let current = status.observed_generation.is_some()
                    && status.observed_generation == pe.metadata.generation;
                if current
                    && status.published()
                    && status.phase == phase
                    && sha.is_none_or(|s| status.deployed_sha.as_deref() == Some(s))
                {
                    return pe;
                }
                last = Some((pe.metadata.generation, status));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "PR {number} did not reach {phase:?} (sha {sha:?}) in {timeout:?}; last (generation, status) {last:#?}\nprevewd log:\n{}",
            self.previewd.logs()
        );
    }

    /// Opens PR `number` (the `pr-opened` delivery) and waits until its preview is Ready.
    pub async fn open_ready(&self, number: u64, timeout: Duration) -> Opened {
        self.deliver(&self.payload("pr-opened", number)).await;
        let ready = self.wait_phase(number, Phase::Ready, None, timeout).await;
        Opened {
            namespace: self.preview_name(number),
            sha: ready.spec.pull.head_sha.clone(),
            url: ready.status.and_then(|s| s.url).unwrap_or_default(),
        }
    }

    /// Waits until PR `number`'s status message is one `wanted` accepts; returns it.
    pub async fn wait_message(
        &self,
        number: u64,
        timeout: Duration,
        wanted: impl Fn(&str) -> bool,
    ) -> String {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let message = self
                .preview(number)
                .await
                .and_then(|pe| pe.status)
                .and_then(|status| status.message)
                .unwrap_or_default();
            if wanted(&message) {
                return message;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "PR {number}: the status message is still {message:?} after {timeout:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until PR `number`'s namespace is gone (404).
    pub async fn wait_namespace_gone(&self, number: u64, timeout: Duration) {
        let name = self.preview_name(number);
        let api = Api::<Namespace>::all(self.kube.clone());
        let deadline = tokio::time::Instant::now() + timeout;
        while tokio::time::Instant::now() < deadline {
            if api.get_opt(&name).await.expect("read namespace").is_none() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "namespace {name} still exists after {timeout:?}\nprevewd log:\n{}",
            self.previewd.logs()
        );
    }

    /// PR `number`'s namespace, if the API server has it (terminating or not).
    pub async fn namespace(&self, number: u64) -> Option<Namespace> {
        Api::<Namespace>::all(self.kube.clone())
            .get_opt(&self.preview_name(number))
            .await
            .expect("read namespace")
    }

    /// Waits until PR `number`'s PreviewEnvironment is gone (404).
    pub async fn wait_preview_gone(&self, number: u64, timeout: Duration) {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut last = None;
        while tokio::time::Instant::now() < deadline {
            match self.preview(number).await {
                None => return,
                Some(pe) => last = Some(pe),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "PreviewEnvironment {} still exists after {timeout:?}: {last:#?}\nprevewd log:\n{}",
            self.preview_name(number),
            self.previewd.logs()
        );
    }

    /// The image of the `web` Deployment of PR `number`'s preview.
    pub async fn web_image(&self, number: u64) -> String {
        let deployment = self.deployment(number).await;
        let pod = deployment.spec.and_then(|s| s.template.spec);
        pod.and_then(|p| p.containers.into_iter().next())
            .and_then(|c| c.image)
            .unwrap_or_default()
    }

    /// The `web` Deployment of PR `number`'s preview.
    pub async fn deployment(&self, number: u64) -> Deployment {
        Api::<Deployment>::namespaced(self.kube.clone(), &self.preview_name(number))
            .get("web")
            .await
            .expect("read the preview's Deployment")
    }

    /// Waits until PR `number`'s `CommentUpToDate` condition has `status` (`True`, `False`);
    /// returns its message.
    pub async fn wait_comment_condition(&self, number: u64, status: &str) -> String {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
        loop {
            let condition = self.preview(number).await.and_then(|pe| {
                pe.status?
                    .conditions
                    .into_iter()
                    .find(|c| c.type_ == "CommentUpToDate")
            });
            if let Some(condition) = condition.filter(|c| c.status == status) {
                return condition.message;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "CommentUpToDate of PR {number} never {status}\n{}",
                self.previewd.logs()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Deletes PR `number`'s PreviewEnvironment while its previewd is down, lifting the
    /// finalizer as an operator would: its namespace is left an orphan.
    pub async fn orphan(&self, number: u64) {
        let api = Api::<PreviewEnvironment>::all(self.kube.clone());
        let name = self.preview_name(number);
        let lift = serde_json::json!({"metadata": {"finalizers": null}});
        api.patch(&name, &PatchParams::default(), &Patch::Merge(&lift))
            .await
            .expect("lift the finalizer");
        api.delete(&name, &DeleteParams::default())
            .await
            .expect("delete the preview");
    }

    /// Comments on PR `number`.
    pub fn comments(&self, number: u64) -> Vec<Comment> {
        self.github.comments(&self.owner, &self.repo, number)
    }

    /// The one comment previewd wrote on PR `number` (fails if there are more or none).
    pub fn sticky_comment(&self, number: u64) -> Comment {
        let mine: Vec<_> = self
            .comments(number)
            .into_iter()
            .filter(|c| c.author == GitHub::LOGIN)
            .collect();
        assert_eq!(
            mine.len(),
            1,
            "expected exactly one previewd comment, got {mine:#?}"
        );
        mine.into_iter().next().expect("one comment")
    }

    /// Requests previewd sent that change something on GitHub.
    pub fn github_writes(&self) -> usize {
        self.github.writes().len()
    }

    /// The writes as `METHOD path` lines, from the `skip`-th on.
    pub fn github_write_lines(&self, skip: usize) -> Vec<String> {
        self.github
            .writes()
            .iter()
            .skip(skip)
            .map(|r| format!("{} {}", r.method, r.path))
            .collect()
    }
}

impl Drop for Scenario {
    /// Leaves the shared cluster as the test found it: the scenario's namespaces and
    /// PreviewEnvironments go (their finalizer is lifted, since their previewd is gone).
    fn drop(&mut self) {
        // Stop previewd first, so it does not recreate what is being cleaned up.
        self.previewd.kill();
        let selector = format!("previewd.dev/instance={}", self.previewd.instance());
        let _ = super::cluster::kubectl(&["delete", "namespaces", "-l", &selector, "--wait=false"]);
        let names =
            super::cluster::kubectl(&["get", "previewenvironments", "-l", &selector, "-o", "name"]);
        for name in String::from_utf8_lossy(&names.stdout).lines() {
            let lift = r#"{"metadata":{"finalizers":null}}"#;
            let _ = super::cluster::kubectl(&["patch", name, "--type=merge", "-p", lift]);
            let _ = super::cluster::kubectl(&["delete", name, "--wait=false"]);
        }
    }
}

/// Sends `payload` to `previewd` signed as GitHub does, with a fresh delivery id, and asserts it
/// was taken (2xx); `context` (a seed, a replica) starts the failure message.
pub async fn deliver_to(previewd: &Previewd, payload: &Payload, context: &str) -> Sent {
    let sent = Delivery::new(&previewd.webhook_url(), SECRET.as_bytes())
        .send(payload)
        .await;
    assert!(
        (200..300).contains(&sent.status),
        "{context}: delivery refused: {} {}",
        sent.status,
        sent.body
    );
    sent
}
