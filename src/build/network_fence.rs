//! The spec of a preview namespace's NetworkPolicy fence, built from the configuration with no
//! I/O. Policies only ever allow: once a policy selects a pod for a direction, traffic in that
//! direction that no policy allows is dropped. So other previews are kept out by not being
//! allowed, and no "deny" rule is needed.

use serde::Serialize;
use serde_json::{Value, json};

use crate::config::Cidr;
use crate::config::egress::EgressFence;
use crate::config::fences::NetworkPolicyFence;

/// The port DNS answers on, over UDP and TCP.
const DNS_PORT: u16 = 53;

/// Every pod of the namespace, for ingress and (unless turned off) egress.
pub(crate) fn policy_spec(fence: &NetworkPolicyFence) -> Value {
    let mut spec = json!({
        "podSelector": {},
        "policyTypes": ["Ingress"],
        "ingress": [{"from": ingress_peers(fence)}],
    });
    if fence.egress.enabled {
        spec["policyTypes"] = json!(["Ingress", "Egress"]);
        spec["egress"] = Value::Array(egress_rules(&fence.egress));
    }
    spec
}

/// Its own pods, namespaces that are not previews (any previewd instance's), plus `allowFrom`.
fn ingress_peers(fence: &NetworkPolicyFence) -> Vec<Value> {
    let mut from = vec![
        json!({"podSelector": {}}),
        json!({"namespaceSelector": {"matchExpressions": [
            {"key": crate::model::labels::PREVIEW, "operator": "DoesNotExist"}
        ]}}),
    ];
    from.extend(fence.allow_from.iter().map(as_json));
    from
}

/// Its own pods, DNS, the internet without the refused ranges, plus `allowTo`. Other previews
/// are pods, whose addresses are in the refused private ranges.
fn egress_rules(egress: &EgressFence) -> Vec<Value> {
    let mut rules = vec![json!({"to": [{"podSelector": {}}]})];
    // A rule without peers would allow every destination on port 53: no DNS peers, no rule.
    if !egress.dns.is_empty() {
        rules.push(json!({
            "to": egress.dns.iter().map(as_json).collect::<Vec<_>>(),
            "ports": [
                {"port": DNS_PORT, "protocol": "UDP"},
                {"port": DNS_PORT, "protocol": "TCP"},
            ],
        }));
    }
    let internet = internet(egress);
    // As above: never a rule without peers.
    if !internet.is_empty() {
        rules.push(json!({"to": internet}));
    }
    rules.extend(egress.allow_to.iter().map(as_json));
    rules
}

/// `0.0.0.0/0` and `::/0`, each except the refused ranges of its family. A family none of
/// whose ranges is refused gets no internet at all: refusing only IPv4 ranges must not open
/// every IPv6 address (a dual-stack cluster's pods, the metadata address `fd00:ec2::254`).
fn internet(egress: &EgressFence) -> Vec<Value> {
    let (refused_v4, refused_v6) = egress.refused();
    [("0.0.0.0/0", refused_v4), ("::/0", refused_v6)]
        .into_iter()
        .filter(|(_, refused)| !refused.is_empty())
        .map(|(everything, refused)| {
            let except: Vec<_> = refused.iter().map(Cidr::to_string).collect();
            json!({"ipBlock": {"cidr": everything, "except": except}})
        })
        .collect()
}

fn as_json(item: &impl Serialize) -> Value {
    serde_json::to_value(item).unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fence(yaml: &str) -> NetworkPolicyFence {
        let fence: NetworkPolicyFence = serde_yaml_ng::from_str(yaml).unwrap();
        assert_eq!(fence.egress.invalid(), None);
        fence
    }

    fn default_ingress() -> Value {
        json!([{"from": [
            {"podSelector": {}},
            {"namespaceSelector": {"matchExpressions": [
                {"key": "previewd.dev/preview", "operator": "DoesNotExist"}]}},
        ]}])
    }

    #[test]
    fn ingress_from_its_own_namespace_non_previews_and_allow_from() {
        let spec = policy_spec(&fence("allowFrom: [{ipBlock: {cidr: 10.0.0.0/8}}]"));
        assert_eq!(spec["podSelector"], json!({}));
        let mut expected = default_ingress();
        expected[0]["from"]
            .as_array_mut()
            .unwrap()
            .push(json!({"ipBlock": {"cidr": "10.0.0.0/8"}}));
        assert_eq!(spec["ingress"], expected);
    }

    #[test]
    fn egress_by_default_to_its_namespace_kube_dns_and_the_internet_without_private_ranges() {
        let spec = policy_spec(&NetworkPolicyFence::default());
        assert_eq!(spec["policyTypes"], json!(["Ingress", "Egress"]));
        assert_eq!(spec["ingress"], default_ingress());
        assert_eq!(
            spec["egress"],
            json!([
                {"to": [{"podSelector": {}}]},
                {"to": [{
                    "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
                    "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
                 }],
                 "ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}]},
                {"to": [
                    {"ipBlock": {"cidr": "0.0.0.0/0", "except": [
                        "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10",
                        "169.254.0.0/16", "127.0.0.0/8"]}},
                    {"ipBlock": {"cidr": "::/0", "except": ["fc00::/7", "fe80::/10", "::1/128"]}},
                ]},
            ])
        );
    }

    #[test]
    fn allow_to_rules_are_added_and_given_lists_replace_the_defaults() {
        let spec = policy_spec(&fence(
            "egress:\n\
             \x20 dns: [{ipBlock: {cidr: 169.254.20.10/32}}]\n\
             \x20 refusedRanges: [10.0.0.0/8]\n\
             \x20 allowTo:\n\
             \x20 - to: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: shared-db}}}]\n\
             \x20   ports: [{port: 5432}]\n",
        ));
        let egress = spec["egress"].as_array().unwrap();
        assert_eq!(egress.len(), 4);
        assert_eq!(
            egress[1]["to"],
            json!([{"ipBlock": {"cidr": "169.254.20.10/32"}}])
        );
        assert_eq!(
            egress[2]["to"],
            // No IPv6 range refused: no IPv6 internet, rather than all of it.
            json!([{"ipBlock": {"cidr": "0.0.0.0/0", "except": ["10.0.0.0/8"]}}])
        );
        assert_eq!(
            egress[3],
            json!({"to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "shared-db"}}}],
                   "ports": [{"port": 5432}]})
        );
    }

    #[test]
    fn no_dns_peers_means_no_dns_rule_rather_than_port_53_everywhere() {
        let spec = policy_spec(&fence("egress: {dns: []}"));
        let egress = spec["egress"].as_array().unwrap();
        assert_eq!(egress.len(), 2);
        assert!(egress.iter().all(|rule| rule.get("ports").is_none()));
    }

    #[test]
    fn egress_turned_off_leaves_the_ingress_only_policy() {
        let spec = policy_spec(&fence("egress: {enabled: false}"));
        assert_eq!(
            spec,
            json!({"podSelector": {}, "policyTypes": ["Ingress"], "ingress": default_ingress()})
        );
    }
}
