//! The baseline: a minimal client that makes only the calls a preview needs and nothing else.
//! Open: create the namespace, apply the same fences and watch until the quota is counted,
//! server-side apply the rendered objects, watch the Deployment until it is available, POST one
//! comment. Push: apply the objects at the new SHA, watch the rollout, PATCH the comment. Close:
//! delete the namespace, watch until it is gone, PATCH the comment. Its clock runs from its
//! first call to the moment it sends its comment.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Namespace, ResourceQuota};
use kube::api::{ApiResource, DeleteParams, DynamicObject, Patch, PatchParams};
use kube::core::GroupVersionKind;
use kube::discovery::pinned_kind;
use kube::runtime::wait::{await_condition, conditions};
use kube::{Api, Client, ResourceExt};
use previewd::build::fence_objects;
use previewd::build::render::{Context, RenderedObject, Template, render};
use previewd::config::FencesConfig;
use previewd::model::pull::{PullFacts, Repository};
use previewd::rules::readiness::{Readiness, readiness};
use serde_json::{Value, json};

use crate::LIMIT;

/// The minimal client, with what a real one would know beforehand (the templates, the kinds).
pub struct Minimal {
    kube: Client,
    http: reqwest::Client,
    comments: String,
    token: String,
    templates: Vec<Template>,
    kinds: HashMap<String, ApiResource>,
    comment_ids: std::sync::Mutex<HashMap<u64, u64>>,
}

const MANAGER: &str = "bench-minimal";

fn kind_key(object: &Value) -> String {
    format!("{}/{}", object["apiVersion"], object["kind"])
}

impl Minimal {
    /// A client commenting on `owner/repo` of the GitHub at `github_url`.
    pub async fn new(
        templates: Vec<Template>,
        github_url: &str,
        token: &str,
        full_name: &str,
    ) -> Self {
        let kube = Client::try_default().await.expect("kube client");
        let mut minimal = Minimal {
            kube,
            http: reqwest::Client::new(),
            comments: format!("{github_url}/repos/{full_name}/issues"),
            token: token.to_owned(),
            templates,
            kinds: HashMap::new(),
            comment_ids: Default::default(),
        };
        // Discovery once, before any clock runs.
        let (_, objects) = minimal.render(1, "0".repeat(40).as_str());
        for object in objects.iter().chain(&minimal.fences("discovery")) {
            let api_version = object.object["apiVersion"].as_str().unwrap_or_default();
            let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
            let kind = object.object["kind"].as_str().unwrap_or_default();
            let (resource, _) =
                pinned_kind(&minimal.kube, &GroupVersionKind::gvk(group, version, kind))
                    .await
                    .expect("discovery");
            minimal.kinds.insert(kind_key(&object.object), resource);
        }
        minimal
    }

    fn name(number: u64) -> String {
        format!("minimal-bench-pr{number}")
    }

    fn render(&self, number: u64, sha: &str) -> (String, Vec<RenderedObject>) {
        let name = Self::name(number);
        let pull = PullFacts {
            repository: Repository {
                id: 1,
                full_name: "bench/minimal".into(),
            },
            number,
            head_sha: sha.into(),
            ..Default::default()
        };
        let values = json!({"image": "registry.test/app", "replicas": 1, "port": 8080});
        let context =
            Context::new(&pull, &name, "{{namespace}}.preview.test", values).expect("context");
        let objects = render(&self.templates, &context, &Default::default()).expect("render");
        (name, objects)
    }

    fn fences(&self, namespace: &str) -> Vec<RenderedObject> {
        fence_objects::objects(&FencesConfig::default(), namespace, &Default::default())
    }

    async fn apply(&self, namespace: &str, objects: &[RenderedObject]) -> Vec<DynamicObject> {
        let params = PatchParams::apply(MANAGER).force();
        let mut applied = Vec::new();
        for object in objects {
            let resource = &self.kinds[&kind_key(&object.object)];
            let api = Api::<DynamicObject>::namespaced_with(self.kube.clone(), namespace, resource);
            let name = object.object["metadata"]["name"]
                .as_str()
                .unwrap_or_default();
            applied.push(
                api.patch(name, &params, &Patch::Apply(&object.object))
                    .await
                    .expect("apply"),
            );
        }
        applied
    }

    async fn rolled_out(&self, namespace: &str, generation: i64) {
        let deployments = Api::<Deployment>::namespaced(self.kube.clone(), namespace);
        let ready = move |d: Option<&Deployment>| {
            d.is_some_and(|d| {
                d.status
                    .as_ref()
                    .and_then(|s| s.observed_generation)
                    .is_some_and(|g| g >= generation)
                    && readiness("Deployment", &serde_json::to_value(d).unwrap_or_default())
                        == Readiness::Ready
            })
        };
        tokio::time::timeout(LIMIT, await_condition(deployments, "web", ready))
            .await
            .expect("ready in time")
            .expect("watch");
    }

    async fn comment(&self, number: u64, body: &str) {
        let known = self.ids().get(&number).copied();
        let request = match known {
            Some(id) => self.http.patch(format!("{}/comments/{id}", self.comments)),
            None => self
                .http
                .post(format!("{}/{number}/comments", self.comments)),
        };
        let answer: Value = request
            .bearer_auth(&self.token)
            .header("user-agent", "bench-minimal")
            .json(&json!({"body": body}))
            .send()
            .await
            .expect("comment")
            .json()
            .await
            .expect("comment JSON");
        if let Some(id) = answer["id"].as_u64() {
            self.ids().insert(number, id);
        }
    }

    fn ids(&self) -> std::sync::MutexGuard<'_, HashMap<u64, u64>> {
        self.comment_ids.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Opens PR `number` at `sha`: first call → comment sent.
    pub async fn open(&self, number: u64, sha: &str) -> Duration {
        let start = Instant::now();
        let (name, objects) = self.render(number, sha);
        let namespaces = Api::<Namespace>::all(self.kube.clone());
        let namespace =
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}});
        namespaces
            .patch(
                &name,
                &PatchParams::apply(MANAGER).force(),
                &Patch::Apply(&namespace),
            )
            .await
            .expect("apply namespace");
        self.apply(&name, &self.fences(&name)).await;
        let quotas = Api::<ResourceQuota>::namespaced(self.kube.clone(), &name);
        let counted = |q: Option<&ResourceQuota>| {
            q.is_some_and(|q| {
                fence_objects::quota_counted(&serde_json::to_value(q).unwrap_or_default())
            })
        };
        tokio::time::timeout(LIMIT, await_condition(quotas, "previewd", counted))
            .await
            .expect("quota counted in time")
            .expect("watch");
        let applied = self.apply(&name, &objects).await;
        self.rolled_out(&name, generation_of_web(&applied)).await;
        let took = start.elapsed();
        self.comment(number, "Preview ready").await;
        took
    }

    /// Pushes `sha` to PR `number`: first call → comment sent.
    pub async fn push(&self, number: u64, sha: &str) -> Duration {
        let start = Instant::now();
        let (name, objects) = self.render(number, sha);
        let applied = self.apply(&name, &objects).await;
        self.rolled_out(&name, generation_of_web(&applied)).await;
        let took = start.elapsed();
        self.comment(number, &format!("Preview ready at {sha}"))
            .await;
        took
    }

    /// Closes PR `number`: deletes its namespace, watches until it is gone, says so on the PR.
    /// First call → comment sent.
    pub async fn close(&self, number: u64) -> Duration {
        let start = Instant::now();
        let name = Self::name(number);
        let namespaces = Api::<Namespace>::all(self.kube.clone());
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
            await_condition(namespaces, &name, conditions::is_deleted(&uid)),
        )
        .await
        .expect("gone in time")
        .expect("watch");
        let took = start.elapsed();
        self.comment(number, "Preview destroyed").await;
        took
    }
}

fn generation_of_web(applied: &[DynamicObject]) -> i64 {
    applied
        .iter()
        .find(|o| o.types.as_ref().is_some_and(|t| t.kind == "Deployment"))
        .and_then(|o| o.metadata.generation)
        .unwrap_or(1)
}
