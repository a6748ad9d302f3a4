//! Proves the local control plane (`scripts/cluster.sh up`) is a real cluster: controllers,
//! scheduler, kwok, RBAC and the pinned version all work, and the readiness stages behave.
//!
//! Run: `eval "$(scripts/cluster.sh env)" && cargo test --test e2e cluster_smoke::`

use std::time::{Duration, Instant};

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::authentication::v1::TokenRequest;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Pod, Secret, ServiceAccount};
use k8s_openapi::api::rbac::v1::{Role, RoleBinding};
use kube::Api;
use kube::api::{DeleteParams, ListParams, PostParams};
use previewd_testkit::cluster::{self, TestNamespace, is_status, wait_for, wait_for_some};
use serde_json::json;

fn from_json<T: serde::de::DeserializeOwned>(v: serde_json::Value) -> T {
    serde_json::from_value(v).expect("valid object")
}

fn pod_ready(pod: &Pod) -> bool {
    pod.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

fn pod_phase(pod: &Pod) -> &str {
    pod.status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .unwrap_or("")
}

/// A pod whose image does not exist: kwok never pulls or runs anything.
fn pod(name: &str, labels: serde_json::Value) -> Pod {
    from_json(json!({
        "metadata": { "name": name, "labels": labels },
        "spec": { "containers": [{ "name": "app", "image": "registry.invalid/nothing:0" }] }
    }))
}

fn deployment(name: &str, replicas: i32) -> Deployment {
    from_json(json!({
        "metadata": { "name": name },
        "spec": {
            "replicas": replicas,
            "selector": { "matchLabels": { "app": name } },
            "template": {
                "metadata": { "labels": { "app": name } },
                "spec": {
                    "containers": [{
                        "name": "web",
                        "image": "registry.invalid/nothing:0",
                        "ports": [{ "containerPort": 8080 }],
                        "readinessProbe": { "httpGet": { "path": "/healthz", "port": 8080 } }
                    }]
                }
            }
        }
    }))
}

async fn wait_deployment_available(deployments: &Api<Deployment>, name: &str, replicas: i32) {
    wait_for(
        &format!("Deployment {name} to have {replicas} available replicas"),
        Duration::from_secs(60),
        || async {
            let d = deployments.get(name).await.expect("get deployment");
            d.status.and_then(|s| s.available_replicas) == Some(replicas)
        },
    )
    .await;
}

#[tokio::test]
async fn deployment_pods_are_scheduled_on_the_kwok_node_and_become_ready() {
    let ns = TestNamespace::new("smoke-deploy").await;
    let deployments: Api<Deployment> = ns.api();
    deployments
        .create(&PostParams::default(), &deployment("web", 2))
        .await
        .expect("create deployment");

    // deployment controller -> ReplicaSet -> pods; scheduler -> node; kwok -> Running + Ready.
    let pods: Api<Pod> = ns.api();
    let ready = wait_for_some(
        "2 Ready pods of Deployment web",
        Duration::from_secs(60),
        || async {
            let list = pods
                .list(&ListParams::default().labels("app=web"))
                .await
                .expect("list pods");
            let ready: Vec<Pod> = list.items.into_iter().filter(pod_ready).collect();
            (ready.len() == 2).then_some(ready)
        },
    )
    .await;
    for p in &ready {
        let spec = p.spec.as_ref().expect("pod spec");
        assert_eq!(
            spec.node_name.as_deref(),
            Some(cluster::NODE),
            "pod scheduled on the kwok node"
        );
        assert_eq!(pod_phase(p), "Running");
        assert!(
            p.status.as_ref().and_then(|s| s.pod_ip.as_ref()).is_some(),
            "kwok assigns a pod IP"
        );
    }
    wait_deployment_available(&deployments, "web", 2).await;

    ns.delete().await;
}

#[tokio::test]
async fn deleted_namespace_is_terminating_then_gone() {
    let ns = TestNamespace::new("smoke-nsdel").await;
    let name = ns.name.clone();
    // Content the namespace controller must remove first, including pods (removed by kwok's
    // pod-delete stage, as no kubelet confirms their termination).
    let deployments: Api<Deployment> = ns.api();
    deployments
        .create(&PostParams::default(), &deployment("web", 1))
        .await
        .expect("create deployment");
    wait_deployment_available(&deployments, "web", 1).await;
    let configmaps: Api<ConfigMap> = ns.api();
    configmaps
        .create(
            &PostParams::default(),
            &from_json(json!({ "metadata": { "name": "data" }, "data": { "k": "v" } })),
        )
        .await
        .expect("create configmap");

    let namespaces: Api<Namespace> = Api::all(ns.client.clone());
    namespaces
        .delete(&name, &DeleteParams::default())
        .await
        .expect("delete namespace");
    let terminating = namespaces
        .get(&name)
        .await
        .expect("namespace still exists right after delete");
    assert!(
        terminating.metadata.deletion_timestamp.is_some(),
        "deletionTimestamp set"
    );
    assert_eq!(
        terminating.status.and_then(|s| s.phase).as_deref(),
        Some("Terminating")
    );
    // Only the namespace controller removes this finalizer, after emptying the namespace.
    let finalizers = terminating
        .spec
        .and_then(|s| s.finalizers)
        .unwrap_or_default();
    assert!(
        finalizers.iter().any(|f| f == "kubernetes"),
        "finalizers: {finalizers:?}"
    );

    let start = Instant::now();
    wait_for(
        &format!("namespace {name} to be gone (404)"),
        Duration::from_secs(90),
        || async {
            match namespaces.get(&name).await {
                Err(e) if is_status(&e, 404) => true,
                Err(e) => panic!("get namespace: {e}"),
                Ok(_) => false,
            }
        },
    )
    .await;
    eprintln!("namespace {name} gone {:?} after deletion", start.elapsed());
    // Nothing of it is left behind either.
    let pods: Api<Pod> = Api::namespaced(ns.client.clone(), &name);
    assert!(
        pods.list(&ListParams::default())
            .await
            .expect("list pods")
            .items
            .is_empty()
    );
    ns.delete().await; // already gone: returns at once
}

#[tokio::test]
async fn service_account_token_without_roles_is_forbidden() {
    let ns = TestNamespace::new("smoke-rbac").await;
    let sas: Api<ServiceAccount> = ns.api();
    sas.create(
        &PostParams::default(),
        &from_json(json!({ "metadata": { "name": "nobody" } })),
    )
    .await
    .expect("create service account");
    let request: TokenRequest =
        from_json(json!({ "spec": { "audiences": [], "expirationSeconds": 600 } }));
    let token = sas
        .create_token_request("nobody", &PostParams::default(), &request)
        .await
        .expect("TokenRequest")
        .status
        .expect("token status")
        .token
        .expect("token in TokenRequest status");

    let as_nobody = cluster::client_with_token(&token).await;
    let user = format!("system:serviceaccount:{}:nobody", ns.name);
    let pods: Api<Pod> = Api::namespaced(as_nobody.clone(), &ns.name);
    let secrets: Api<Secret> = Api::namespaced(as_nobody.clone(), &ns.name);
    for err in [
        pods.list(&ListParams::default())
            .await
            .expect_err("listing pods must be denied"),
        secrets
            .list(&ListParams::default())
            .await
            .expect_err("listing secrets must be denied"),
    ] {
        assert!(is_status(&err, 403), "expected 403 Forbidden, got {err}");
        // 403, not 401: the token authenticated and RBAC denied it.
        assert!(
            err.to_string().contains(&user),
            "the denial names {user}: {err}"
        );
    }

    // RBAC, not a blanket denial: a Role + RoleBinding lets the same token list pods.
    let roles: Api<Role> = ns.api();
    roles
        .create(
            &PostParams::default(),
            &from_json(json!({
                "metadata": { "name": "pod-reader" },
                "rules": [{ "apiGroups": [""], "resources": ["pods"], "verbs": ["list"] }]
            })),
        )
        .await
        .expect("create role");
    let bindings: Api<RoleBinding> = ns.api();
    bindings
        .create(
            &PostParams::default(),
            &from_json(json!({
                "metadata": { "name": "nobody-reads-pods" },
                "roleRef": { "apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "pod-reader" },
                "subjects": [{ "kind": "ServiceAccount", "name": "nobody", "namespace": ns.name }]
            })),
        )
        .await
        .expect("create rolebinding");
    wait_for(
        "the RoleBinding to take effect",
        Duration::from_secs(20),
        || async { pods.list(&ListParams::default()).await.is_ok() },
    )
    .await;
    let err = secrets
        .list(&ListParams::default())
        .await
        .expect_err("secrets are still denied");
    assert!(is_status(&err, 403), "expected 403 Forbidden, got {err}");

    ns.delete().await;
}

#[tokio::test]
async fn server_version_is_the_pinned_one() {
    let out = cluster::kubectl_ok(&["version", "-o", "json"]);
    let v: serde_json::Value = serde_json::from_str(&out).expect("kubectl version json");
    assert_eq!(v["serverVersion"]["gitVersion"], "v1.36.3", "{out}");
    assert_eq!(v["clientVersion"]["gitVersion"], "v1.36.3", "{out}");
    let info = cluster::client()
        .await
        .apiserver_version()
        .await
        .expect("/version");
    assert_eq!(info.git_version, "v1.36.3");
}

#[tokio::test]
async fn readiness_is_shaped_by_the_test_labels() {
    let ns = TestNamespace::new("smoke-ready").await;
    let pods: Api<Pod> = ns.api();
    let pp = PostParams::default();
    let created = Instant::now();
    pods.create(&pp, &pod("plain", json!({})))
        .await
        .expect("create plain");
    pods.create(
        &pp,
        &pod("never", json!({ cluster::NEVER_READY_LABEL: "true" })),
    )
    .await
    .expect("create never");
    pods.create(
        &pp,
        &pod("delayed", json!({ cluster::READY_DELAY_LABEL: "6s" })),
    )
    .await
    .expect("create delayed");

    let get = |name: &'static str| {
        let pods = pods.clone();
        async move { pods.get(name).await.expect("get pod") }
    };

    // Control: an unlabelled pod is Ready at once.
    wait_for("pod plain Ready", Duration::from_secs(30), || async {
        pod_ready(&get("plain").await)
    })
    .await;

    // The other two are Running (containers started) but not Ready.
    for name in ["never", "delayed"] {
        wait_for(
            &format!("pod {name} Running"),
            Duration::from_secs(30),
            || async { pod_phase(&get(name).await) == "Running" },
        )
        .await;
    }
    let delayed_running = created.elapsed();
    let never = get("never").await;
    let statuses = never
        .status
        .as_ref()
        .and_then(|s| s.container_statuses.clone())
        .expect("container statuses");
    assert!(
        statuses
            .iter()
            .all(|c| !c.ready && c.state.as_ref().is_some_and(|s| s.running.is_some()))
    );

    // Sample for 3 s: neither turns Ready (the delay is 6 s from Running).
    let sample_until = Instant::now() + Duration::from_secs(3);
    while Instant::now() < sample_until {
        for name in ["never", "delayed"] {
            let p = get(name).await;
            assert_eq!(pod_phase(&p), "Running", "pod {name}");
            assert!(
                !pod_ready(&p),
                "pod {name} must not be Ready yet ({:?} after creation)",
                created.elapsed()
            );
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }

    // The delayed one becomes Ready about 6 s after it started running.
    wait_for("pod delayed Ready", Duration::from_secs(30), || async {
        pod_ready(&get("delayed").await)
    })
    .await;
    let ready_after = created.elapsed();
    assert!(
        ready_after >= delayed_running + Duration::from_secs(5),
        "delayed pod Ready {ready_after:?} after creation, Running at {delayed_running:?}: too early"
    );
    eprintln!("delayed pod Running after {delayed_running:?}, Ready after {ready_after:?}");

    // ... while the never-ready one is still not Ready.
    let never = get("never").await;
    assert_eq!(pod_phase(&never), "Running");
    assert!(!pod_ready(&never), "pod never must stay unready");

    ns.delete().await;
}
