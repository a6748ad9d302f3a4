//! Settings the chart's admission policy would refuse object by object, refused at startup
//! instead, with the reason: while the policy holds previewd's ServiceAccount to its lane, a
//! preview namespace must enforce Pod Security `baseline` or `restricted`, pods come only from
//! the workload kinds whose pod templates the policy checks, and every preview host ends with
//! the host suffix the policy requires.

use crate::config::FileConfig;
use crate::config::fences::PodSecurityLevel;

/// Kinds that carry pods the policy does not look into: a template of one of them could run
/// what a Deployment could not.
const UNCHECKED_POD_CARRIERS: [(&str, &str); 5] = [
    ("", "pods"),
    ("", "replicationcontrollers"),
    ("", "podtemplates"),
    ("apps", "replicasets"),
    ("apps", "daemonsets"),
];

/// Why previewd may not start under the admission policy with `config`, the preview host
/// pattern `host` and the host suffix `suffix`; `None` when it may.
pub fn refusal(config: &FileConfig, host: &str, suffix: Option<&str>) -> Option<String> {
    let pod_security = &config.fences.pod_security;
    if !pod_security.enabled {
        return Some(
            "fences.podSecurity.enabled is false, but the admission policy (admissionPolicy.enabled) \
             requires every preview namespace to enforce Pod Security baseline or restricted"
                .into(),
        );
    }
    if pod_security.enforce == PodSecurityLevel::Privileged {
        return Some(
            "fences.podSecurity.enforce is privileged, but the admission policy \
             (admissionPolicy.enabled) requires baseline or restricted"
                .into(),
        );
    }
    if let Some((group, resource)) = UNCHECKED_POD_CARRIERS
        .into_iter()
        .find(|(group, resource)| config.template_kinds.allows(group, resource))
    {
        let kind = if group.is_empty() {
            resource.to_owned()
        } else {
            format!("{group}/{resource}")
        };
        return Some(format!(
            "templateKinds lists {kind}, which carry pods the admission policy does not check; \
             templates run pods through deployments, statefulsets, jobs or cronjobs"
        ));
    }
    host_refusal(host, suffix)
}

/// Why `host` and `suffix` do not hold every preview host to the suffix.
fn host_refusal(host: &str, suffix: Option<&str>) -> Option<String> {
    let Some(suffix) = suffix.filter(|s| !s.is_empty()) else {
        return Some(
            "--preview-host-suffix (PREVIEWD_PREVIEW_HOST_SUFFIX; the chart's previewHostSuffix) \
             is required while the admission policy is on: every Ingress host must end with it"
                .into(),
        );
    };
    if !suffix.starts_with('.') || suffix.contains("{{") || suffix.len() < 2 {
        return Some(format!(
            "--preview-host-suffix {suffix:?} must be a literal domain starting with a dot, \
             like .preview.example.com"
        ));
    }
    if !host.ends_with(suffix) {
        return Some(format!(
            "--preview-host {host:?} does not end with --preview-host-suffix {suffix:?}: \
             the admission policy would refuse every preview's Ingress"
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::TemplateKinds;
    use crate::config::template_kinds::TemplateKind;

    const HOST: &str = "{{namespace}}.preview.example.com";
    const SUFFIX: Option<&str> = Some(".preview.example.com");

    #[test]
    fn the_defaults_start() {
        assert_eq!(refusal(&FileConfig::default(), HOST, SUFFIX), None);
        let mut restricted = FileConfig::default();
        restricted.fences.pod_security.enforce = PodSecurityLevel::Restricted;
        assert_eq!(refusal(&restricted, HOST, SUFFIX), None);
    }

    #[test]
    fn pod_security_off_or_privileged_is_refused_saying_why() {
        let mut off = FileConfig::default();
        off.fences.pod_security.enabled = false;
        let why = refusal(&off, HOST, SUFFIX).expect("refused");
        assert!(why.contains("fences.podSecurity.enabled"), "{why}");
        assert!(why.contains("baseline or restricted"), "{why}");
        let mut privileged = FileConfig::default();
        privileged.fences.pod_security.enforce = PodSecurityLevel::Privileged;
        let why = refusal(&privileged, HOST, SUFFIX).expect("refused");
        assert!(why.contains("enforce is privileged"), "{why}");
    }

    #[test]
    fn kinds_carrying_unchecked_pods_are_refused() {
        for (group, resource) in UNCHECKED_POD_CARRIERS {
            let config = FileConfig {
                template_kinds: TemplateKinds(vec![TemplateKind {
                    api_group: group.into(),
                    resources: vec!["services".into(), resource.into()],
                }]),
                ..FileConfig::default()
            };
            let why = refusal(&config, HOST, SUFFIX).expect("refused");
            assert!(why.contains(resource), "{why}");
        }
        let mut checked = FileConfig::default();
        checked.template_kinds.0.push(TemplateKind {
            api_group: "batch".into(),
            resources: vec!["cronjobs".into()],
        });
        assert_eq!(refusal(&checked, HOST, SUFFIX), None);
    }

    #[test]
    fn the_host_must_end_with_a_literal_dotted_suffix() {
        let config = FileConfig::default();
        for (host, suffix, says) in [
            (HOST, None, "is required"),
            (HOST, Some(""), "is required"),
            (HOST, Some("preview.example.com"), "starting with a dot"),
            (HOST, Some(".{{repo}}.example.com"), "starting with a dot"),
            (HOST, Some("."), "starting with a dot"),
            ("{{namespace}}.example.org", SUFFIX, "does not end with"),
            (
                "{{namespace}}-preview.example.com",
                SUFFIX,
                "does not end with",
            ),
        ] {
            let why = refusal(&config, host, suffix).expect("refused");
            assert!(why.contains(says), "{host} {suffix:?}: {why}");
        }
        assert_eq!(
            refusal(
                &config,
                "pr-{{number}}.apps.example.com",
                Some(".example.com")
            ),
            None
        );
    }
}
