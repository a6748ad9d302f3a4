//! The NetworkPolicy fence as the API server stores it for a preview, judged connection by
//! connection with the testkit's evaluator, since the local control plane has no CNI to enforce
//! it: who may reach a preview's pods, and what they may reach, with the default settings and
//! with a shared service and node-local DNS allowed.

use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::api::networking::v1::NetworkPolicy;
use kube::api::ListParams;
use kube::{Api, Client, ResourceExt};
use previewd::model::crd::Phase;
use previewd_testkit::network_policy::{Labels, Peer, Pod, Port, allows_egress, allows_ingress};
use previewd_testkit::scenario::Scenario;
use previewd_testkit::templates;
use serde_json::json;
use std::time::Duration;

const BOUND: Duration = Duration::from_secs(90);

/// One connection and whether the fence should let it through.
struct Expected {
    what: &'static str,
    peer: Peer,
    port: Port,
    allowed: bool,
}

impl Expected {
    fn describe(&self) -> String {
        format!(
            "{} on {}/{}",
            self.what, self.port.number, self.port.protocol
        )
    }
}

async fn namespace_labels(kube: &Client, name: &str) -> Labels {
    let namespace = Api::<Namespace>::all(kube.clone()).get(name).await;
    namespace.unwrap().labels().clone()
}

fn allowed(what: &'static str, peer: Peer, port: Port) -> Expected {
    Expected {
        what,
        peer,
        port,
        allowed: true,
    }
}

fn refused(what: &'static str, peer: Peer, port: Port) -> Expected {
    Expected {
        allowed: false,
        ..allowed(what, peer, port)
    }
}

/// A preview namespace's NetworkPolicies and labels as the API server has them, and the
/// kube-system namespace's labels, for the pods to judge connections of.
pub(crate) struct Stored {
    policies: Vec<NetworkPolicy>,
    preview: String,
    preview_labels: Labels,
    kube_system_labels: Labels,
}

impl Stored {
    /// Reads them for the preview namespace `preview`.
    pub(crate) async fn read(kube: &Client, preview: &str) -> Stored {
        let policies = Api::<NetworkPolicy>::namespaced(kube.clone(), preview)
            .list(&ListParams::default())
            .await
            .unwrap()
            .items;
        Stored {
            policies,
            preview: preview.to_owned(),
            preview_labels: namespace_labels(kube, preview).await,
            kube_system_labels: namespace_labels(kube, "kube-system").await,
        }
    }

    /// A pod of the preview.
    fn preview_pod(&self, ip: &str) -> Pod {
        Pod::new(&self.preview, &self.preview_labels, &[("app", "web")], ip)
    }

    /// A pod of another preview: a namespace labelled like this one, for another pull request.
    fn other_preview_pod(&self) -> Pod {
        let mut labels = self.preview_labels.clone();
        labels.insert("previewd.dev/preview".into(), "other-preview".into());
        Pod::new("other-preview", &labels, &[("app", "web")], "10.244.2.20")
    }

    fn kube_dns_pod(&self) -> Pod {
        let labels = &self.kube_system_labels;
        Pod::new(
            "kube-system",
            labels,
            &[("k8s-app", "kube-dns")],
            "10.244.0.2",
        )
    }

    /// What the default fence lets a preview's pod connect to, and what it refuses.
    fn default_egress(&self) -> Vec<Expected> {
        let pod = |p: Pod| Peer::Pod(p);
        let address = Peer::address;
        vec![
            allowed(
                "a pod of the same namespace",
                pod(self.preview_pod("10.244.1.11")),
                Port::tcp(8080),
            ),
            allowed("kube-dns over UDP", pod(self.kube_dns_pod()), Port::udp(53)),
            allowed("kube-dns over TCP", pod(self.kube_dns_pod()), Port::tcp(53)),
            refused(
                "kube-dns on another port",
                pod(self.kube_dns_pod()),
                Port::tcp(80),
            ),
            refused(
                "the cloud metadata address",
                address("169.254.169.254"),
                Port::tcp(80),
            ),
            refused(
                "AWS's IPv6 metadata address",
                address("fd00:ec2::254"),
                Port::tcp(80),
            ),
            refused(
                "the API server's ClusterIP",
                address("10.96.0.1"),
                Port::tcp(443),
            ),
            refused("a node's API server", address("10.0.0.5"), Port::tcp(6443)),
            refused(
                "a kubelet on a node",
                address("192.168.1.5"),
                Port::tcp(10250),
            ),
            refused(
                "a pod of another preview",
                pod(self.other_preview_pod()),
                Port::tcp(8080),
            ),
            allowed("the internet over IPv4", address("8.8.8.8"), Port::tcp(443)),
            allowed(
                "the internet over IPv6",
                address("2606:4700::1111"),
                Port::tcp(443),
            ),
        ]
    }

    /// Who the default fence lets connect to a preview's pod, and who it refuses.
    fn default_ingress(&self) -> Vec<Expected> {
        let ingress_controller = Pod::new(
            "ingress-nginx",
            &Labels::new(),
            &[("app", "ingress-nginx")],
            "10.244.3.3",
        );
        vec![
            allowed(
                "a pod of the same namespace",
                Peer::Pod(self.preview_pod("10.244.1.11")),
                Port::tcp(8080),
            ),
            allowed(
                "the ingress controller",
                Peer::Pod(ingress_controller),
                Port::tcp(8080),
            ),
            refused(
                "a pod of another preview",
                Peer::Pod(self.other_preview_pod()),
                Port::tcp(8080),
            ),
        ]
    }

    /// Panics listing every connection of `egress` and `ingress` that the stored policies decide
    /// otherwise, for a pod of the preview.
    fn assert_decides(&self, egress: &[Expected], ingress: &[Expected]) {
        let web = self.preview_pod("10.244.1.10");
        let wrong_egress = egress
            .iter()
            .filter(|e| allows_egress(&self.policies, &web, &e.peer, e.port) != e.allowed);
        let wrong_ingress = ingress
            .iter()
            .filter(|e| allows_ingress(&self.policies, &web, &e.peer, e.port) != e.allowed);
        let wrong: Vec<_> = wrong_egress
            .map(|e| format!("out to {}: allowed should be {}", e.describe(), e.allowed))
            .chain(
                wrong_ingress
                    .map(|e| format!("in from {}: allowed should be {}", e.describe(), e.allowed)),
            )
            .collect();
        assert!(
            wrong.is_empty(),
            "the stored NetworkPolicy decides wrongly:\n{}\npolicies: {}",
            wrong.join("\n"),
            serde_json::to_string_pretty(&self.policies).unwrap()
        );
    }

    /// Asserts that the stored policies are previewd's fence with the default settings.
    pub(crate) fn assert_default_fence(&self) {
        let fence = self.policies.iter().find(|p| p.name_any() == "previewd");
        let types = fence.and_then(|p| p.spec.as_ref()?.policy_types.clone());
        assert_eq!(types, Some(vec!["Ingress".into(), "Egress".into()]));
        self.assert_decides(&self.default_egress(), &self.default_ingress());
    }
}

#[tokio::test]
async fn a_shared_service_and_node_local_dns_are_let_out_once_listed() {
    let s = Scenario::start("egress", |o| {
        o.templates = Some(vec![templates::deployment(1, "", "")]);
        o.settings = json!({"fences": {"networkPolicy": {"egress": {
            "dns": [
                {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
                 "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}},
                {"ipBlock": {"cidr": "169.254.20.10/32"}},
            ],
            "allowTo": [{
                "to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "shared-db"}},
                        "podSelector": {"matchLabels": {"app": "postgres"}}}],
                "ports": [{"port": 5432}],
            }],
        }}}});
    })
    .await;
    s.deliver(&s.payload("pr-opened", 45)).await;
    s.wait_phase(45, Phase::Ready, None, BOUND).await;
    let stored = Stored::read(&s.kube, &s.preview_name(45)).await;

    let postgres = |labels: &[(&str, &str)]| {
        Peer::Pod(Pod::new("shared-db", &Labels::new(), labels, "10.244.5.5"))
    };
    let node_local_dns = Peer::address("169.254.20.10");
    let mut egress = stored.default_egress();
    egress.extend([
        allowed(
            "the shared database",
            postgres(&[("app", "postgres")]),
            Port::tcp(5432),
        ),
        refused(
            "the shared database on another port",
            postgres(&[("app", "postgres")]),
            Port::tcp(22),
        ),
        refused(
            "another pod of the shared namespace",
            postgres(&[("app", "admin")]),
            Port::tcp(5432),
        ),
        allowed("node-local DNS", node_local_dns.clone(), Port::udp(53)),
        refused(
            "node-local DNS on another port",
            node_local_dns,
            Port::tcp(80),
        ),
    ]);
    stored.assert_decides(&egress, &stored.default_ingress());
}
