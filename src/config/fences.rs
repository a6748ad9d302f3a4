//! Settings of the fences every preview namespace gets, so that one preview can neither starve
//! the cluster nor reach another preview: a ResourceQuota, a LimitRange, a NetworkPolicy and the
//! Pod Security Admission level. Every fence is on by default; a map given here replaces the
//! default map as a whole.

use std::collections::BTreeMap;

use k8s_openapi::api::networking::v1::NetworkPolicyPeer;
use serde::{Deserialize, Deserializer};
use serde_json::Value;

use super::egress::EgressFence;
use super::network_peers::{first_invalid, peer_invalid};

/// Resource name → Kubernetes quantity (`2`, `500m`, `4Gi`).
pub(crate) type Quantities = BTreeMap<String, String>;

/// All fences.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct FencesConfig {
    /// What all of a preview's objects may use together.
    pub resource_quota: QuotaFence,
    /// Requests and limits of containers that set none.
    pub limit_range: LimitRangeFence,
    /// Who may connect to a preview's pods, and where they may connect.
    pub network_policy: NetworkPolicyFence,
    /// The Pod Security Admission level enforced in the namespace.
    pub pod_security: PodSecurityFence,
}

/// The namespace's ResourceQuota.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct QuotaFence {
    /// Whether the namespace gets one.
    pub enabled: bool,
    /// `spec.hard`.
    #[serde(deserialize_with = "quantities")]
    pub hard: Quantities,
}

/// The namespace's LimitRange (type `Container`).
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct LimitRangeFence {
    /// Whether the namespace gets one.
    pub enabled: bool,
    /// Requests of a container that sets none.
    #[serde(deserialize_with = "quantities")]
    pub default_request: Quantities,
    /// Limits of a container that sets none.
    #[serde(deserialize_with = "quantities")]
    pub default: Quantities,
}

/// The namespace's NetworkPolicy.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct NetworkPolicyFence {
    /// Whether the namespace gets one.
    pub enabled: bool,
    /// More peers allowed in, besides the namespace itself and every namespace that is not a
    /// preview (e.g. an `ipBlock` for an ingress controller on the host network).
    pub allow_from: Vec<NetworkPolicyPeer>,
    /// Where a preview's pods may connect.
    pub egress: EgressFence,
}

/// The `pod-security.kubernetes.io/enforce` label of the namespace.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct PodSecurityFence {
    /// Whether the namespace carries the label.
    pub enabled: bool,
    /// The level enforced.
    pub enforce: PodSecurityLevel,
}

/// A Pod Security Standard.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum PodSecurityLevel {
    /// Unrestricted.
    Privileged,
    /// Prevents known privilege escalations.
    #[default]
    Baseline,
    /// Hardened.
    Restricted,
}

impl PodSecurityLevel {
    /// The label value.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            PodSecurityLevel::Privileged => "privileged",
            PodSecurityLevel::Baseline => "baseline",
            PodSecurityLevel::Restricted => "restricted",
        }
    }
}

fn map(pairs: &[(&str, &str)]) -> Quantities {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

impl Default for QuotaFence {
    /// Room for a web app with a few replicas, a worker and a database; no cloud load balancers
    /// or node ports, which would expose a preview outside its ingress.
    fn default() -> Self {
        QuotaFence {
            enabled: true,
            hard: map(&[
                ("requests.cpu", "2"),
                ("requests.memory", "4Gi"),
                ("limits.memory", "8Gi"),
                ("pods", "20"),
                ("services", "10"),
                ("services.loadbalancers", "0"),
                ("services.nodeports", "0"),
                ("persistentvolumeclaims", "5"),
                ("requests.storage", "20Gi"),
            ]),
        }
    }
}

impl Default for LimitRangeFence {
    /// Requests for every resource the default quota counts, so a container without resources
    /// still fits it; no CPU limit, which would only throttle.
    fn default() -> Self {
        LimitRangeFence {
            enabled: true,
            default_request: map(&[("cpu", "100m"), ("memory", "128Mi")]),
            default: map(&[("memory", "512Mi")]),
        }
    }
}

impl Default for NetworkPolicyFence {
    fn default() -> Self {
        NetworkPolicyFence {
            enabled: true,
            allow_from: Vec::new(),
            egress: EgressFence::default(),
        }
    }
}

impl Default for PodSecurityFence {
    fn default() -> Self {
        PodSecurityFence {
            enabled: true,
            enforce: PodSecurityLevel::default(),
        }
    }
}

/// Quantities written as strings or as plain numbers (`pods: 10`).
fn quantities<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Quantities, D::Error> {
    BTreeMap::<String, Value>::deserialize(deserializer)?
        .into_iter()
        .map(|(name, value)| match value {
            Value::String(text) => Ok((name, text)),
            Value::Number(number) => Ok((name, number.to_string())),
            other => Err(serde::de::Error::custom(format!(
                "{name}: {other} is not a quantity"
            ))),
        })
        .collect()
}

impl FencesConfig {
    /// The first invalid setting, as `(setting, what is wrong)`, with the setting's path below
    /// `fences`.
    pub(crate) fn invalid(&self) -> Option<(String, String)> {
        if self.resource_quota.enabled && self.resource_quota.hard.is_empty() {
            return Some((
                "resourceQuota.hard".into(),
                "must not be empty (enabled: false turns the quota off)".into(),
            ));
        }
        let maps = [
            ("resourceQuota.hard", &self.resource_quota.hard),
            (
                "limitRange.defaultRequest",
                &self.limit_range.default_request,
            ),
            ("limitRange.default", &self.limit_range.default),
        ];
        for (setting, quantities) in maps {
            for (name, value) in quantities {
                if !is_quantity(value) {
                    return Some((
                        format!("{setting}.{name}"),
                        format!("{value:?} is not a Kubernetes quantity (e.g. 2, 500m, 4Gi)"),
                    ));
                }
            }
        }
        let network = &self.network_policy;
        first_invalid("networkPolicy.allowFrom", &network.allow_from, peer_invalid).or_else(|| {
            let (at, why) = network.egress.invalid()?;
            Some((format!("networkPolicy.egress.{at}"), why))
        })
    }
}

/// Whether `text` is a Kubernetes quantity: a decimal number with an optional binary (`Ki` …
/// `Ei`), decimal (`n u m k M G T P E`) or exponent (`e3`) suffix.
pub(crate) fn is_quantity(text: &str) -> bool {
    let unsigned = text.strip_prefix(['+', '-']).unwrap_or(text);
    let number_end = unsigned
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(unsigned.len());
    let (number, suffix) = unsigned.split_at(number_end);
    let number_ok = number.chars().filter(|c| *c == '.').count() <= 1
        && number.chars().any(|c| c.is_ascii_digit());
    let exponent_ok = |rest: &str| {
        let digits = rest.strip_prefix(['+', '-']).unwrap_or(rest);
        !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit())
    };
    let suffix_ok = matches!(
        suffix,
        "" | "Ki"
            | "Mi"
            | "Gi"
            | "Ti"
            | "Pi"
            | "Ei"
            | "n"
            | "u"
            | "m"
            | "k"
            | "M"
            | "G"
            | "T"
            | "P"
            | "E"
    ) || suffix.strip_prefix(['e', 'E']).is_some_and(exponent_ok);
    number_ok && suffix_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(yaml: &str) -> Result<FencesConfig, serde_yaml_ng::Error> {
        serde_yaml_ng::from_str(yaml)
    }

    #[test]
    fn every_fence_is_on_by_default_and_the_limits_cover_the_quota() {
        let fences = parse("{}").unwrap();
        assert_eq!(fences, FencesConfig::default());
        assert!(fences.resource_quota.enabled && fences.limit_range.enabled);
        assert!(fences.network_policy.enabled && fences.pod_security.enabled);
        assert_eq!(fences.pod_security.enforce, PodSecurityLevel::Baseline);
        // A container without resources must still be admitted under the quota: every compute
        // resource the quota counts has a default.
        let limits = &fences.limit_range;
        for counted in fences.resource_quota.hard.keys() {
            let covered = match counted.split_once('.') {
                Some(("requests", resource @ ("cpu" | "memory"))) => {
                    limits.default_request.contains_key(resource)
                }
                Some(("limits", resource)) => limits.default.contains_key(resource),
                _ => true,
            };
            assert!(covered, "{counted} has no default in the LimitRange");
        }
        assert_eq!(fences.invalid(), None);
    }

    #[test]
    fn a_given_map_replaces_the_default_and_numbers_are_quantities() {
        let fences = parse(
            "resourceQuota: {hard: {pods: 5, requests.cpu: 500m}}\n\
             limitRange: {enabled: false}\n\
             networkPolicy: {allowFrom: [{ipBlock: {cidr: 10.0.0.0/8}}]}\n\
             podSecurity: {enforce: restricted}\n",
        )
        .unwrap();
        assert_eq!(
            fences.resource_quota.hard,
            map(&[("pods", "5"), ("requests.cpu", "500m")])
        );
        assert!(!fences.limit_range.enabled);
        assert_eq!(
            fences.limit_range.default,
            LimitRangeFence::default().default
        );
        assert_eq!(fences.network_policy.allow_from.len(), 1);
        assert_eq!(fences.pod_security.enforce, PodSecurityLevel::Restricted);
        assert_eq!(fences.invalid(), None);
    }

    #[test]
    fn bad_settings_are_refused_naming_them() {
        assert!(parse("podSecurity: {enforce: strict}").is_err());
        assert!(parse("resourceQuota: {hard: {pods: [1]}}").is_err());
        assert!(parse("resourceQuota: {hardd: {}}").is_err());
        let fences = parse("limitRange: {default: {memory: lots}}").unwrap();
        let (setting, message) = fences.invalid().unwrap();
        assert_eq!(setting, "limitRange.default.memory");
        assert!(message.contains("\"lots\""), "{message}");
        let fences = parse("resourceQuota: {hard: {}}").unwrap();
        assert_eq!(fences.invalid().unwrap().0, "resourceQuota.hard");
        let fences = parse("resourceQuota: {enabled: false, hard: {}}").unwrap();
        assert_eq!(fences.invalid(), None);
        let fences = parse("networkPolicy: {allowFrom: [{}]}").unwrap();
        assert_eq!(fences.invalid().unwrap().0, "networkPolicy.allowFrom[0]");
        let fences = parse("networkPolicy: {allowFrom: [{ipBlock: {cidr: 10.0.0.0}}]}").unwrap();
        assert_eq!(
            fences.invalid().unwrap().0,
            "networkPolicy.allowFrom[0].ipBlock.cidr"
        );
        let fences = parse("networkPolicy: {egress: {refusedRanges: [10.0.0.0/33]}}").unwrap();
        let (setting, message) = fences.invalid().unwrap();
        assert_eq!(setting, "networkPolicy.egress.refusedRanges[0]");
        assert!(message.contains("0 to 32"), "{message}");
        assert!(parse("networkPolicy: {egress: {allowto: []}}").is_err());
    }

    #[test]
    fn quantities_follow_kubernetes() {
        for good in [
            "0", "2", "500m", "0.5", ".5", "4Gi", "128Mi", "1e3", "1E-2", "+1k", "1.5G",
        ] {
            assert!(is_quantity(good), "{good}");
        }
        for bad in ["", "m", "4GB", "1..2", "1e", "lots", "4 Gi", "Gi4", "1ee3"] {
            assert!(!is_quantity(bad), "{bad}");
        }
    }
}
