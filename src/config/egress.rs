//! Settings of the egress half of the NetworkPolicy fence: where a preview's pods may connect.
//! By default: their own namespace, the cluster DNS, and the internet without the private,
//! link-local and loopback ranges, which hold the cloud metadata address, the API server, the
//! nodes and every other pod (so every other preview).

use k8s_openapi::api::networking::v1::{NetworkPolicyEgressRule, NetworkPolicyPeer};
use serde::Deserialize;
use serde_json::json;

use super::cidr::Cidr;
use super::network_peers::{first_invalid, peer_invalid, port_invalid};

/// Ranges taken out of the internet by default. IPv4: the private ranges (RFC 1918), carrier-grade
/// NAT (RFC 6598), link-local (the metadata address 169.254.169.254) and loopback. IPv6: unique
/// local addresses (AWS's metadata address fd00:ec2::254 and GCP's fd20:ce::254 are in fc00::/7),
/// link-local and loopback.
pub(crate) const DEFAULT_REFUSED_RANGES: [&str; 9] = [
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "100.64.0.0/10",
    "169.254.0.0/16",
    "127.0.0.0/8",
    "fc00::/7",
    "fe80::/10",
    "::1/128",
];

/// The egress rules of the preview NetworkPolicy.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct EgressFence {
    /// Whether the policy limits egress at all (`false`: ingress only, egress open).
    pub enabled: bool,
    /// Where pods may resolve names: peers allowed on port 53, UDP and TCP. By selector, because
    /// the DNS Service's ClusterIP is in a refused range.
    pub dns: Vec<NetworkPolicyPeer>,
    /// CIDR ranges taken out of the internet (`0.0.0.0/0` and `::/0`), unless `dns` or `allowTo`
    /// allow a peer in them.
    pub refused_ranges: Vec<String>,
    /// More egress rules (peers, and ports if given) for shared services: a database namespace,
    /// an internal registry.
    pub allow_to: Vec<NetworkPolicyEgressRule>,
}

impl Default for EgressFence {
    fn default() -> Self {
        let kube_dns = json!({
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
            "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
        });
        EgressFence {
            enabled: true,
            dns: vec![serde_json::from_value(kube_dns).unwrap_or_default()],
            refused_ranges: DEFAULT_REFUSED_RANGES.map(str::to_owned).to_vec(),
            allow_to: Vec::new(),
        }
    }
}

impl EgressFence {
    /// The refused ranges, IPv4 first, each family in the order given. Only meaningful once
    /// [`EgressFence::invalid`] found nothing: a range that does not parse is left out.
    pub(crate) fn refused(&self) -> (Vec<Cidr>, Vec<Cidr>) {
        self.refused_ranges
            .iter()
            .filter_map(|range| Cidr::parse(range).ok())
            .partition(|range| range.address.is_ipv4())
    }

    /// The first invalid setting, as `(setting, what is wrong)` below `egress`.
    pub(crate) fn invalid(&self) -> Option<(String, String)> {
        if !self.enabled {
            return None;
        }
        if self.refused_ranges.is_empty() {
            return Some((
                "refusedRanges".into(),
                "must not be empty (enabled: false leaves egress open)".into(),
            ));
        }
        for (i, range) in self.refused_ranges.iter().enumerate() {
            let setting = format!("refusedRanges[{i}]");
            match Cidr::parse(range) {
                Err(why) => return Some((setting, why)),
                Ok(cidr) if cidr.prefix == 0 => {
                    return Some((setting, format!("{range} would refuse the whole internet")));
                }
                Ok(_) => {}
            }
        }
        first_invalid("dns", &self.dns, peer_invalid)
            .or_else(|| first_invalid("allowTo", &self.allow_to, rule_invalid))
    }
}

/// What is wrong with an `allowTo` rule. A rule without peers would let out to every address,
/// other previews included, so it needs `to`.
fn rule_invalid(rule: &NetworkPolicyEgressRule) -> Option<(String, String)> {
    let peers = rule.to.as_deref().unwrap_or_default();
    if peers.is_empty() {
        return Some((
            ".to".into(),
            "needs at least one peer (a rule without peers lets out to every address, other previews included)"
                .into(),
        ));
    }
    first_invalid(".to", peers, peer_invalid).or_else(|| {
        let ports = rule.ports.as_deref().unwrap_or_default();
        first_invalid(".ports", ports, port_invalid)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(yaml: &str) -> EgressFence {
        serde_yaml_ng::from_str(yaml).unwrap()
    }

    fn setting(yaml: &str) -> String {
        parse(yaml).invalid().expect("should be refused").0
    }

    #[test]
    fn the_default_refuses_private_link_local_and_loopback_ranges_of_both_families() {
        let egress = EgressFence::default();
        assert!(egress.enabled && egress.allow_to.is_empty());
        assert_eq!(egress.invalid(), None);
        let (v4, v6) = egress.refused();
        let refused = |address: &str| {
            let address = address.parse().unwrap();
            v4.iter().chain(&v6).any(|range| range.contains(address))
        };
        for inside in [
            "169.254.169.254",
            "10.96.0.1",
            "10.0.0.5",
            "172.20.0.1",
            "192.168.1.1",
            "100.100.100.200",
            "127.0.0.1",
            "fd00:ec2::254",
            "fd20:ce::254",
            "fe80::1",
            "::1",
        ] {
            assert!(refused(inside), "{inside}");
        }
        for outside in [
            "8.8.8.8",
            "1.1.1.1",
            "2606:4700::1111",
            "2001:4860:4860::8888",
        ] {
            assert!(!refused(outside), "{outside}");
        }
        assert_eq!(
            serde_json::to_value(&egress.dns).unwrap(),
            json!([{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
                    "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}])
        );
    }

    #[test]
    fn given_lists_replace_the_defaults() {
        let egress = parse(
            "dns: [{ipBlock: {cidr: 169.254.20.10/32}}]\n\
             refusedRanges: [10.0.0.0/8, fd00::/8]\n\
             allowTo: [{to: [{namespaceSelector: {matchLabels: {team: data}}}], ports: [{port: 5432}]}]\n",
        );
        assert_eq!(egress.invalid(), None);
        assert_eq!(egress.dns.len(), 1);
        let (v4, v6) = egress.refused();
        assert_eq!((v4.len(), v6.len()), (1, 1));
        assert_eq!(egress.allow_to.len(), 1);
    }

    #[test]
    fn bad_settings_are_refused_naming_them() {
        assert!(serde_yaml_ng::from_str::<EgressFence>("refusedRange: []").is_err());
        assert_eq!(setting("refusedRanges: []"), "refusedRanges");
        assert_eq!(
            setting("refusedRanges: [10.0.0.0/8, 10.0.0.1/8]"),
            "refusedRanges[1]"
        );
        assert_eq!(setting("refusedRanges: ['::/0']"), "refusedRanges[0]");
        assert_eq!(setting("dns: [{}]"), "dns[0]");
        assert_eq!(
            setting("allowTo: [{ports: [{port: 5432}]}]"),
            "allowTo[0].to"
        );
        assert_eq!(setting("allowTo: [{to: []}]"), "allowTo[0].to");
        assert_eq!(
            setting("allowTo: [{to: [{ipBlock: {cidr: 10.1.2.3/16}}]}]"),
            "allowTo[0].to[0].ipBlock.cidr"
        );
        assert_eq!(
            setting("allowTo: [{to: [{podSelector: {}}], ports: [{port: 99999}]}]"),
            "allowTo[0].ports[0].port"
        );
        let off = parse("enabled: false\nrefusedRanges: []");
        assert_eq!(off.invalid(), None);
    }
}
