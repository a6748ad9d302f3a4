//! A NetworkPolicy evaluator: whether the policies of a namespace let one connection through, as
//! a CNI that enforces them decides. The local control plane has no CNI, so the tests judge the
//! policies the API server stores with this.
//!
//! It follows the NetworkPolicy API: a pod no policy selects for a direction is open in that
//! direction; a selected pod lets through what any rule of any selecting policy allows. Peers are
//! pod and namespace selectors (`matchLabels` and `matchExpressions`) and `ipBlock`s with
//! `except`, IPv4 and IPv6; ports are numbers, ranges (`endPort`) and protocols. An `ipBlock` is
//! matched against pod addresses too, as most CNIs do. Named ports are not evaluated: a policy
//! with one panics rather than guess.

use std::collections::BTreeMap;
use std::net::IpAddr;

use k8s_openapi::api::networking::v1::{
    IPBlock, NetworkPolicy, NetworkPolicyPeer, NetworkPolicyPort, NetworkPolicySpec,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use previewd::config::Cidr;

/// Labels of a pod or a namespace.
pub type Labels = BTreeMap<String, String>;

/// The label the API server gives every namespace: its name.
const NAMESPACE_NAME: &str = "kubernetes.io/metadata.name";

/// A pod as policies see it.
#[derive(Clone, Debug)]
pub struct Pod {
    /// Its namespace's name.
    pub namespace: String,
    /// Its namespace's labels.
    pub namespace_labels: Labels,
    /// Its own labels.
    pub labels: Labels,
    /// Its address.
    pub ip: IpAddr,
}

impl Pod {
    /// A pod with `labels` at `ip`, in `namespace` labelled `namespace_labels` and, as the API
    /// server labels every namespace, `kubernetes.io/metadata.name`.
    pub fn new(
        namespace: &str,
        namespace_labels: &Labels,
        labels: &[(&str, &str)],
        ip: &str,
    ) -> Pod {
        let mut namespace_labels = namespace_labels.clone();
        namespace_labels.insert(NAMESPACE_NAME.to_owned(), namespace.to_owned());
        Pod {
            namespace: namespace.to_owned(),
            namespace_labels,
            labels: labels
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            ip: parse_ip(ip),
        }
    }
}

/// The other end of a connection.
#[derive(Clone, Debug)]
pub enum Peer {
    /// A pod.
    Pod(Pod),
    /// An address that is no pod's: a node, a Service's ClusterIP, the metadata address, the
    /// internet.
    Address(IpAddr),
}

impl Peer {
    /// An address that is no pod's.
    pub fn address(ip: &str) -> Peer {
        Peer::Address(parse_ip(ip))
    }

    fn ip(&self) -> IpAddr {
        match self {
            Peer::Pod(pod) => pod.ip,
            Peer::Address(ip) => *ip,
        }
    }
}

/// A destination port and its protocol (`TCP`, `UDP`, `SCTP`).
#[derive(Clone, Copy, Debug)]
pub struct Port {
    /// The port number.
    pub number: u16,
    /// The protocol.
    pub protocol: &'static str,
}

impl Port {
    /// `number` over TCP.
    pub fn tcp(number: u16) -> Port {
        Port {
            number,
            protocol: "TCP",
        }
    }

    /// `number` over UDP.
    pub fn udp(number: u16) -> Port {
        Port {
            number,
            protocol: "UDP",
        }
    }
}

/// Whether `policies` let `from` connect out to `to` on `port`.
pub fn allows_egress(policies: &[NetworkPolicy], from: &Pod, to: &Peer, port: Port) -> bool {
    allows(policies, Direction::Egress, from, to, port)
}

/// Whether `policies` let `from` connect in to `to` on `port`.
pub fn allows_ingress(policies: &[NetworkPolicy], to: &Pod, from: &Peer, port: Port) -> bool {
    allows(policies, Direction::Ingress, to, from, port)
}

#[derive(Clone, Copy, PartialEq)]
enum Direction {
    Ingress,
    Egress,
}

/// Whether the policies selecting `pod` for `direction` (if any) let it talk with `other`.
fn allows(
    policies: &[NetworkPolicy],
    direction: Direction,
    pod: &Pod,
    other: &Peer,
    port: Port,
) -> bool {
    let mut selecting = policies
        .iter()
        .filter(|policy| policy.metadata.namespace.as_deref() == Some(pod.namespace.as_str()))
        .filter_map(|policy| policy.spec.as_ref())
        .filter(|spec| {
            affects(spec, direction)
                && spec
                    .pod_selector
                    .as_ref()
                    .is_none_or(|selector| selector_matches(selector, &pod.labels))
        })
        .peekable();
    if selecting.peek().is_none() {
        return true;
    }
    selecting.any(|spec| {
        rules(spec, direction).any(|(peers, ports)| {
            let peer_allowed = peers.is_empty()
                || peers
                    .iter()
                    .any(|peer| peer_matches(peer, &pod.namespace, other));
            let port_allowed = ports.is_empty() || ports.iter().any(|p| port_matches(p, port));
            peer_allowed && port_allowed
        })
    })
}

/// Whether `spec` limits `direction`; without `policyTypes`, ingress always and egress when it
/// has egress rules, as the API server defaults it.
fn affects(spec: &NetworkPolicySpec, direction: Direction) -> bool {
    let name = match direction {
        Direction::Ingress => "Ingress",
        Direction::Egress => "Egress",
    };
    match &spec.policy_types {
        Some(types) => types.iter().any(|t| t == name),
        None => {
            direction == Direction::Ingress || spec.egress.as_ref().is_some_and(|e| !e.is_empty())
        }
    }
}

/// The rules of `spec` for `direction`, each as its peers and ports (empty: any).
fn rules(
    spec: &NetworkPolicySpec,
    direction: Direction,
) -> Box<dyn Iterator<Item = (&[NetworkPolicyPeer], &[NetworkPolicyPort])> + '_> {
    match direction {
        Direction::Ingress => Box::new(spec.ingress.iter().flatten().map(|rule| {
            (
                rule.from.as_deref().unwrap_or_default(),
                rule.ports.as_deref().unwrap_or_default(),
            )
        })),
        Direction::Egress => Box::new(spec.egress.iter().flatten().map(|rule| {
            (
                rule.to.as_deref().unwrap_or_default(),
                rule.ports.as_deref().unwrap_or_default(),
            )
        })),
    }
}

/// Whether `peer` of a policy in `policy_namespace` is `other`.
fn peer_matches(peer: &NetworkPolicyPeer, policy_namespace: &str, other: &Peer) -> bool {
    if let Some(block) = &peer.ip_block {
        return ip_block_matches(block, other.ip());
    }
    let Peer::Pod(pod) = other else {
        return false;
    };
    if peer.pod_selector.is_none() && peer.namespace_selector.is_none() {
        panic!("a peer with neither selector nor ipBlock is invalid: {peer:?}");
    }
    let namespace_matches = match &peer.namespace_selector {
        Some(selector) => selector_matches(selector, &pod.namespace_labels),
        None => pod.namespace == policy_namespace,
    };
    let pod_matches = peer
        .pod_selector
        .as_ref()
        .is_none_or(|selector| selector_matches(selector, &pod.labels));
    namespace_matches && pod_matches
}

fn ip_block_matches(block: &IPBlock, ip: IpAddr) -> bool {
    let range = |text: &str| Cidr::parse(text).unwrap_or_else(|why| panic!("ipBlock: {why}"));
    range(&block.cidr).contains(ip)
        && !block
            .except
            .iter()
            .flatten()
            .any(|except| range(except).contains(ip))
}

fn port_matches(allowed: &NetworkPolicyPort, port: Port) -> bool {
    let protocol = allowed.protocol.as_deref().unwrap_or("TCP");
    let number = i32::from(port.number);
    protocol == port.protocol
        && match &allowed.port {
            None => true,
            Some(IntOrString::Int(first)) => {
                (*first..=allowed.end_port.unwrap_or(*first)).contains(&number)
            }
            Some(IntOrString::String(name)) => {
                panic!("named port {name:?}: the evaluator knows no container ports")
            }
        }
}

/// Whether `selector` matches `labels`; an empty selector matches everything.
fn selector_matches(selector: &LabelSelector, labels: &Labels) -> bool {
    let labels_match = selector
        .match_labels
        .iter()
        .flatten()
        .all(|(key, value)| labels.get(key) == Some(value));
    let expressions_match = selector
        .match_expressions
        .iter()
        .flatten()
        .all(|expression| {
            let value = labels.get(&expression.key);
            let listed = value.is_some_and(|v| expression.values.iter().flatten().any(|x| x == v));
            match expression.operator.as_str() {
                "In" => listed,
                "NotIn" => !listed,
                "Exists" => value.is_some(),
                "DoesNotExist" => value.is_none(),
                other => panic!("label selector operator {other:?} is invalid"),
            }
        });
    labels_match && expressions_match
}

fn parse_ip(text: &str) -> IpAddr {
    text.parse()
        .unwrap_or_else(|_| panic!("{text:?} is not an IP address"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn policy(namespace: &str, spec: Value) -> NetworkPolicy {
        serde_json::from_value(json!({
            "metadata": {"name": "p", "namespace": namespace},
            "spec": spec,
        }))
        .unwrap()
    }

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn web() -> Pod {
        Pod::new(
            "shop",
            &labels(&[("team", "web")]),
            &[("app", "web")],
            "10.244.1.10",
        )
    }

    #[test]
    fn a_pod_no_policy_selects_is_open_and_a_selected_one_only_to_what_a_rule_allows() {
        let db = Pod::new("shop", &labels(&[]), &[("app", "db")], "10.244.1.11");
        let policies = [policy(
            "shop",
            json!({"podSelector": {"matchLabels": {"app": "db"}},
                   "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "web"}}}]}]}),
        )];
        let anyone = Peer::address("8.8.8.8");
        assert!(
            allows_ingress(&policies, &web(), &anyone, Port::tcp(80)),
            "web is not selected"
        );
        assert!(allows_ingress(
            &policies,
            &db,
            &Peer::Pod(web()),
            Port::tcp(5432)
        ));
        assert!(!allows_ingress(&policies, &db, &anyone, Port::tcp(5432)));
        // Without policyTypes and egress rules, only ingress is limited.
        assert!(allows_egress(&policies, &db, &anyone, Port::tcp(443)));
        // A policy of another namespace selects none of its pods.
        let elsewhere = [policy(
            "other",
            json!({"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}),
        )];
        assert!(allows_egress(&elsewhere, &db, &anyone, Port::tcp(443)));
        // Selected with no rule: everything refused.
        let deny_all = [policy(
            "shop",
            json!({"podSelector": {}, "policyTypes": ["Egress"]}),
        )];
        assert!(!allows_egress(&deny_all, &db, &anyone, Port::tcp(443)));
        assert!(allows_ingress(&deny_all, &db, &anyone, Port::tcp(443)));
        // A rule without peers or ports allows everything.
        let allow_all = [policy("shop", json!({"podSelector": {}, "egress": [{}]}))];
        assert!(allows_egress(&allow_all, &db, &anyone, Port::udp(53)));
    }

    #[test]
    fn selectors_match_labels_and_expressions_of_pods_and_namespaces() {
        let peer = |selectors: Value| {
            [policy(
                "shop",
                json!({"podSelector": {}, "policyTypes": ["Egress"],
                                   "egress": [{"to": [selectors]}]}),
            )]
        };
        let pod =
            |namespace: &str, namespace_labels: &[(&str, &str)], pod_labels: &[(&str, &str)]| {
                Peer::Pod(Pod::new(
                    namespace,
                    &labels(namespace_labels),
                    pod_labels,
                    "10.244.9.9",
                ))
            };
        let allowed = |policies: &[NetworkPolicy], to: &Peer| {
            allows_egress(policies, &web(), to, Port::tcp(80))
        };

        let same_namespace_db = peer(json!({"podSelector": {"matchLabels": {"app": "db"}}}));
        assert!(allowed(
            &same_namespace_db,
            &pod("shop", &[], &[("app", "db")])
        ));
        assert!(!allowed(
            &same_namespace_db,
            &pod("other", &[], &[("app", "db")])
        ));
        assert!(!allowed(&same_namespace_db, &Peer::address("10.244.9.9")));

        let by_name = peer(json!({
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
            "podSelector": {"matchExpressions": [{"key": "k8s-app", "operator": "In", "values": ["kube-dns", "coredns"]}]},
        }));
        assert!(allowed(
            &by_name,
            &pod("kube-system", &[], &[("k8s-app", "coredns")])
        ));
        assert!(!allowed(
            &by_name,
            &pod("kube-system", &[], &[("k8s-app", "metrics")])
        ));
        assert!(!allowed(
            &by_name,
            &pod("kube-dns", &[], &[("k8s-app", "kube-dns")])
        ));

        let not_previews = peer(json!({"namespaceSelector": {"matchExpressions": [
            {"key": "preview", "operator": "DoesNotExist"},
            {"key": "tier", "operator": "NotIn", "values": ["secret"]},
            {"key": "team", "operator": "Exists"}]}}));
        assert!(allowed(
            &not_previews,
            &pod("ingress", &[("team", "edge")], &[])
        ));
        assert!(allowed(
            &not_previews,
            &pod("ingress", &[("team", "edge"), ("tier", "public")], &[])
        ));
        assert!(!allowed(
            &not_previews,
            &pod("vault", &[("team", "sec"), ("tier", "secret")], &[])
        ));
        assert!(!allowed(
            &not_previews,
            &pod("pr-1", &[("team", "web"), ("preview", "pr-1")], &[])
        ));
        assert!(!allowed(&not_previews, &pod("bare", &[], &[])));
    }

    #[test]
    fn ip_blocks_match_their_family_without_the_excepted_ranges() {
        let policies = [policy(
            "shop",
            json!({"podSelector": {}, "policyTypes": ["Egress"],
            "egress": [{"to": [
                {"ipBlock": {"cidr": "0.0.0.0/0", "except": ["10.0.0.0/8", "169.254.0.0/16"]}},
                {"ipBlock": {"cidr": "2000::/3", "except": ["2001:db8::/32"]}},
            ]}]}),
        )];
        let allowed =
            |ip: &str| allows_egress(&policies, &web(), &Peer::address(ip), Port::tcp(443));
        for (ip, expected) in [
            ("8.8.8.8", true),
            ("10.96.0.1", false),
            ("169.254.169.254", false),
            ("11.0.0.1", true),
            ("2606:4700::1111", true),
            ("2001:db8::1", false),
            ("fd00:ec2::254", false),
        ] {
            assert_eq!(allowed(ip), expected, "{ip}");
        }
        // Pods are matched by address too.
        let pod = Peer::Pod(Pod::new("other", &labels(&[]), &[], "10.244.2.2"));
        assert!(!allows_egress(&policies, &web(), &pod, Port::tcp(443)));
    }

    #[test]
    fn ports_match_by_protocol_number_and_range() {
        let policies = [policy(
            "shop",
            json!({"podSelector": {}, "policyTypes": ["Egress"],
            "egress": [{"ports": [
                {"port": 53, "protocol": "UDP"},
                {"port": 8000, "endPort": 8080},
                {"protocol": "SCTP"},
            ]}]}),
        )];
        let allowed =
            |port: Port| allows_egress(&policies, &web(), &Peer::address("8.8.8.8"), port);
        assert!(allowed(Port::udp(53)));
        assert!(!allowed(Port::tcp(53)), "the protocol is part of the port");
        assert!(allowed(Port::tcp(8000)) && allowed(Port::tcp(8080)) && allowed(Port::tcp(8042)));
        assert!(
            !allowed(Port::tcp(8081)) && !allowed(Port::udp(8042)),
            "TCP by default"
        );
        assert!(
            allowed(Port {
                number: 9999,
                protocol: "SCTP"
            }),
            "no port: every port"
        );
    }
}
