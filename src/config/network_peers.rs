//! Checks of the NetworkPolicy peers and ports the configuration gives (`allowFrom`, the egress
//! `dns` and `allowTo`), so that a mistake stops startup naming the setting instead of failing
//! every preview at the API server. Each check returns `(where below the entry, what is wrong)`.

use k8s_openapi::api::networking::v1::{IPBlock, NetworkPolicyPeer, NetworkPolicyPort};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::cidr::Cidr;

/// The first of `items` (the setting `name`) that `check` refuses, as `(name[i]<where>, why)`.
pub(crate) fn first_invalid<T>(
    name: &str,
    items: &[T],
    check: impl Fn(&T) -> Option<(String, String)>,
) -> Option<(String, String)> {
    items.iter().enumerate().find_map(|(i, item)| {
        let (at, why) = check(item)?;
        Some((format!("{name}[{i}]{at}"), why))
    })
}

/// What is wrong with `peer`, if anything.
pub(crate) fn peer_invalid(peer: &NetworkPolicyPeer) -> Option<(String, String)> {
    if peer.pod_selector.is_none() && peer.namespace_selector.is_none() && peer.ip_block.is_none() {
        return Some((
            String::new(),
            "needs podSelector, namespaceSelector or ipBlock".into(),
        ));
    }
    if peer.ip_block.is_some() && (peer.pod_selector.is_some() || peer.namespace_selector.is_some())
    {
        return Some((
            String::new(),
            "an ipBlock cannot be given with a selector in the same peer".into(),
        ));
    }
    let selectors = [
        (".podSelector", &peer.pod_selector),
        (".namespaceSelector", &peer.namespace_selector),
    ];
    selectors
        .into_iter()
        .find_map(|(field, selector)| {
            let (at, why) = selector_invalid(selector.as_ref()?)?;
            Some((format!("{field}{at}"), why))
        })
        .or_else(|| {
            let (at, why) = ip_block_invalid(peer.ip_block.as_ref()?)?;
            Some((format!(".ipBlock{at}"), why))
        })
}

/// What is wrong with `port`, if anything.
pub(crate) fn port_invalid(port: &NetworkPolicyPort) -> Option<(String, String)> {
    if let Some(protocol) = &port.protocol
        && !matches!(protocol.as_str(), "TCP" | "UDP" | "SCTP")
    {
        return Some((
            ".protocol".into(),
            format!("{protocol:?} is not TCP, UDP or SCTP"),
        ));
    }
    let number = match &port.port {
        Some(IntOrString::Int(number)) => Some(*number),
        Some(IntOrString::String(name)) if name.is_empty() => {
            return Some((".port".into(), "must not be empty".into()));
        }
        _ => None,
    };
    let in_range = |n: i32| (1..=65535).contains(&n);
    if let Some(number) = number.filter(|n| !in_range(*n)) {
        return Some((".port".into(), format!("{number} is not 1 to 65535")));
    }
    match (number, port.end_port) {
        (_, None) => None,
        (None, Some(_)) => Some((".endPort".into(), "needs a numeric port".into())),
        (Some(first), Some(last)) if !in_range(last) || last < first => {
            Some((".endPort".into(), format!("{last} is not {first} to 65535")))
        }
        _ => None,
    }
}

fn selector_invalid(selector: &LabelSelector) -> Option<(String, String)> {
    let expressions = selector.match_expressions.iter().flatten().enumerate();
    for (i, expression) in expressions {
        let values = expression.values.as_deref().unwrap_or_default();
        let why = match expression.operator.as_str() {
            "In" | "NotIn" if values.is_empty() => "In and NotIn need values",
            "Exists" | "DoesNotExist" if !values.is_empty() => {
                "Exists and DoesNotExist take no values"
            }
            "In" | "NotIn" | "Exists" | "DoesNotExist" => continue,
            _ => "the operator must be In, NotIn, Exists or DoesNotExist",
        };
        return Some((format!(".matchExpressions[{i}]"), why.into()));
    }
    None
}

fn ip_block_invalid(block: &IPBlock) -> Option<(String, String)> {
    let range = match Cidr::parse(&block.cidr) {
        Ok(range) => range,
        Err(why) => return Some((".cidr".into(), why)),
    };
    for (i, except) in block.except.iter().flatten().enumerate() {
        let at = format!(".except[{i}]");
        match Cidr::parse(except) {
            Err(why) => return Some((at, why)),
            Ok(narrower) if !range.strictly_contains(&narrower) => {
                return Some((at, format!("{except} is not inside {}", block.cidr)));
            }
            Ok(_) => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn peer(value: serde_json::Value) -> Option<(String, String)> {
        peer_invalid(&serde_json::from_value(value).unwrap())
    }

    fn port(value: serde_json::Value) -> Option<(String, String)> {
        port_invalid(&serde_json::from_value(value).unwrap())
    }

    fn at(found: Option<(String, String)>) -> String {
        found.expect("should be refused").0
    }

    #[test]
    fn peers_are_checked_down_to_the_field() {
        assert_eq!(
            peer(json!({"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.1.0.0/16"]}})),
            None
        );
        assert_eq!(
            peer(json!({"namespaceSelector": {"matchExpressions": [
                {"key": "team", "operator": "In", "values": ["data"]},
                {"key": "preview", "operator": "DoesNotExist"}]},
                "podSelector": {"matchLabels": {"app": "db"}}})),
            None
        );
        assert_eq!(at(peer(json!({}))), "");
        assert_eq!(
            at(peer(
                json!({"ipBlock": {"cidr": "10.0.0.0/8"}, "podSelector": {}})
            )),
            ""
        );
        assert_eq!(
            at(peer(json!({"ipBlock": {"cidr": "10.0.0.1/8"}}))),
            ".ipBlock.cidr"
        );
        assert_eq!(
            at(peer(
                json!({"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.0.0.0/16", "11.0.0.0/16"]}})
            )),
            ".ipBlock.except[1]"
        );
        assert_eq!(
            at(peer(json!({"podSelector": {"matchExpressions": [
                {"key": "app", "operator": "Equals", "values": ["db"]}]}}))),
            ".podSelector.matchExpressions[0]"
        );
        assert_eq!(
            at(peer(json!({"namespaceSelector": {"matchExpressions": [
                {"key": "app", "operator": "In"}]}}))),
            ".namespaceSelector.matchExpressions[0]"
        );
    }

    #[test]
    fn ports_are_checked_down_to_the_field() {
        for good in [
            json!({"port": 5432}),
            json!({"port": 53, "protocol": "UDP"}),
            json!({"port": "postgres"}),
            json!({"protocol": "SCTP"}),
            json!({"port": 8000, "endPort": 8080}),
        ] {
            assert_eq!(port(good.clone()), None, "{good}");
        }
        assert_eq!(
            at(port(json!({"port": 53, "protocol": "udp"}))),
            ".protocol"
        );
        assert_eq!(at(port(json!({"port": 0}))), ".port");
        assert_eq!(at(port(json!({"port": 70000}))), ".port");
        assert_eq!(at(port(json!({"port": ""}))), ".port");
        assert_eq!(at(port(json!({"port": 8080, "endPort": 8000}))), ".endPort");
        assert_eq!(
            at(port(json!({"port": "http", "endPort": 8000}))),
            ".endPort"
        );
    }
}
