//! Whether previewd has caught up with GitHub's truth (the stand-in): every open PR Ready at its
//! head and its comment saying so, every closed PR's namespace gone and its comment, if any,
//! saying destroyed; and what must hold at any time: at most one previewd comment per PR, and
//! no namespace of the installation whose PreviewEnvironment is gone.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Namespace;
use kube::api::ListParams;
use kube::{Api, ResourceExt};
use previewd::model::crd::{Desired, Phase, PreviewEnvironment};
use previewd::model::labels::{INSTANCE, OWNER_UID, instance_selector};

use super::chaos::Seed;
use super::github::GitHub;
use super::scenario::Scenario;

/// Log lines shown with a failure (the whole log of a chaos run is long).
const LOG_TAIL: usize = 150;

impl Scenario {
    /// What PR `number` still lacks to match the truth; `None` once it does.
    pub(crate) async fn behind(&self, number: u64) -> Option<String> {
        let truth = self.truth(number);
        let pe = self.preview(number).await;
        let ns = self.namespace(number).await;
        if !truth.open {
            if let Some(ns) = ns {
                let state = match ns.metadata.deletion_timestamp {
                    Some(_) => "terminating",
                    None => "not being deleted",
                };
                return Some(format!("closed, namespace still there ({state})"));
            }
            return match pe {
                Some(pe) if pe.spec.desired == Desired::Deployed => {
                    Some("closed, preview still wanted deployed".to_owned())
                }
                Some(pe) if !is_current(&pe, Phase::Destroyed) => Some(format!(
                    "closed, preview not Destroyed yet: {}",
                    describe(&pe)
                )),
                _ => None,
            };
        }
        let Some(pe) = pe else {
            return Some("open, no PreviewEnvironment".to_owned());
        };
        if pe.labels().get(INSTANCE).map(String::as_str) != Some(self.previewd.instance()) {
            return Some("open, recorded by another installation".to_owned());
        }
        let at_head = pe.status.as_ref().and_then(|s| s.deployed_sha.as_deref())
            == Some(truth.head_sha.as_str());
        if !is_current(&pe, Phase::Ready) || !at_head {
            return Some(format!(
                "open at {}, preview {}",
                &truth.head_sha[..7],
                describe(&pe)
            ));
        }
        match ns {
            None => Some("open, Ready but no namespace".to_owned()),
            Some(ns) if ns.metadata.deletion_timestamp.is_some() => {
                Some("open, Ready but its namespace is terminating".to_owned())
            }
            Some(ns) if ns.annotations().get(OWNER_UID) != pe.metadata.uid.as_ref() => {
                Some("open, its namespace names another owner".to_owned())
            }
            Some(_) => None,
        }
    }

    /// Waits until every PR in `numbers` matches the truth; returns how long that took.
    pub async fn wait_converged(
        &self,
        seed: &Seed,
        numbers: &[u64],
        timeout: Duration,
    ) -> Duration {
        let started = Instant::now();
        loop {
            let mut lagging = BTreeMap::new();
            for &number in numbers {
                if let Some(what) = self.behind(number).await {
                    lagging.insert(number, what);
                }
            }
            if lagging.is_empty() {
                return started.elapsed();
            }
            assert!(
                started.elapsed() < timeout,
                "{seed}: not converged after {timeout:?}: {lagging:#?}\n{}",
                self.log_tail()
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// Waits until each PR's previewd comment shows the truth: an open PR's says Ready at its
    /// head, a closed PR's (if it has one) says Destroyed; returns how long that took.
    pub async fn wait_comments_converged(
        &self,
        seed: &Seed,
        numbers: &[u64],
        timeout: Duration,
    ) -> Duration {
        let started = Instant::now();
        loop {
            let lagging: BTreeMap<u64, String> = numbers
                .iter()
                .filter_map(|&n| self.comment_behind(n).map(|what| (n, what)))
                .collect();
            if lagging.is_empty() {
                return started.elapsed();
            }
            if started.elapsed() >= timeout {
                let mut stories = Vec::new();
                for &number in lagging.keys() {
                    stories.push(self.comment_story(number).await);
                }
                panic!(
                    "{seed}: comments not converged after {timeout:?}: {lagging:#?}\n{}\n{}",
                    stories.join("\n"),
                    self.log_tail()
                );
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// What happened to PR `number`'s comment: the requests about it the stand-in received
    /// (with the phase each write said) and what the preview's status believes.
    async fn comment_story(&self, number: u64) -> String {
        let created = format!("/repos/{}/issues/{number}/comments", self.full_name());
        let ids: Vec<String> = self
            .comments(number)
            .iter()
            .map(|c| format!("/repos/{}/issues/comments/{}", self.full_name(), c.id))
            .collect();
        let requests = self.github.requests();
        let first = requests.first().map(|r| r.received);
        let lines: Vec<String> = requests
            .iter()
            .filter(|r| r.path == created || ids.contains(&r.path))
            .map(|r| {
                let at = first.map(|f| r.received - f).unwrap_or_default();
                let phase = r
                    .body
                    .as_ref()
                    .and_then(|b| b["body"].as_str())
                    .and_then(|b| b.lines().find(|l| l.starts_with("| Phase")))
                    .unwrap_or("");
                format!(
                    "  {:>6.2} s {} {} -> {:?} {phase}",
                    at.as_secs_f64(),
                    r.method,
                    r.path,
                    r.status
                )
            })
            .collect();
        let status = self.preview(number).await.and_then(|pe| pe.status);
        format!(
            "PR {number}: requests about its comment:\n{}\n  status: comment {:?}, commented {:?}, conditions {:?}",
            lines.join("\n"),
            status.as_ref().and_then(|s| s.comment_id),
            status.as_ref().and_then(|s| s.commented.clone()),
            status.as_ref().map(|s| &s.conditions)
        )
    }

    fn comment_behind(&self, number: u64) -> Option<String> {
        let truth = self.truth(number);
        let mine = self.previewd_comments(number);
        let body = match (mine.as_slice(), truth.open) {
            ([], true) => return Some("open, no comment".to_owned()),
            ([], false) => return None,
            ([body], _) => body,
            (more, _) => return Some(format!("{} previewd comments", more.len())),
        };
        let (phase, sha) = match truth.open {
            true => ("| Phase | Ready |", Some(&truth.head_sha[..7])),
            false => ("| Phase | Destroyed |", None),
        };
        let shows_sha = sha.is_none_or(|sha| body.contains(&format!("`{sha}`")));
        match body.contains(phase) && shows_sha {
            true => None,
            false => Some(format!("comment does not show {phase:?} {sha:?}: {body}")),
        }
    }

    /// Bodies of previewd's comments on PR `number`.
    pub fn previewd_comments(&self, number: u64) -> Vec<String> {
        self.comments(number)
            .into_iter()
            .filter(|c| c.author == GitHub::LOGIN)
            .map(|c| c.body)
            .collect()
    }

    /// Panics unless every PR of the repository has at most one previewd comment and every
    /// namespace labelled with this installation's instance belongs to a PreviewEnvironment
    /// that exists (its uid is the namespace's owner annotation).
    pub async fn assert_invariants(&self, seed: &Seed) {
        let mut per_pr: BTreeMap<u64, usize> = BTreeMap::new();
        for comment in self.github.all_comments() {
            if comment.owner == self.owner
                && comment.repo == self.repo
                && comment.author == GitHub::LOGIN
            {
                *per_pr.entry(comment.number).or_default() += 1;
            }
        }
        let doubled: Vec<_> = per_pr.iter().filter(|(_, n)| **n > 1).collect();
        assert!(
            doubled.is_empty(),
            "{seed}: PRs with more than one previewd comment (PR, count): {doubled:?}\n{}",
            self.log_tail()
        );
        let orphans = self.orphan_namespaces().await;
        assert!(
            orphans.is_empty(),
            "{seed}: namespaces of instance {} without their PreviewEnvironment: {orphans:?}\n{}",
            self.previewd.instance(),
            self.log_tail()
        );
    }

    /// Namespaces labelled with this installation's instance whose owner uid no existing
    /// PreviewEnvironment has.
    pub(crate) async fn orphan_namespaces(&self) -> Vec<String> {
        let selector = instance_selector(self.previewd.instance());
        let namespaces = Api::<Namespace>::all(self.kube.clone())
            .list(&ListParams::default().labels(&selector))
            .await
            .expect("list the installation's namespaces");
        let previews = Api::<PreviewEnvironment>::all(self.kube.clone());
        let mut orphans = Vec::new();
        for ns in namespaces {
            let preview = previews
                .get_opt(&ns.name_any())
                .await
                .expect("read a PreviewEnvironment");
            let owner = preview.and_then(|pe| pe.metadata.uid);
            if owner.is_none() || ns.annotations().get(OWNER_UID) != owner.as_ref() {
                orphans.push(ns.name_any());
            }
        }
        orphans
    }

    /// The end of previewd's log, for failure messages.
    pub fn log_tail(&self) -> String {
        let log = strip_colours(&self.previewd.logs());
        let lines: Vec<&str> = log.lines().collect();
        let from = lines.len().saturating_sub(LOG_TAIL);
        format!(
            "previewd log (last {} lines):\n{}",
            lines.len() - from,
            lines[from..].join("\n")
        )
    }
}

/// `text` without terminal colour codes (`ESC [ ... m`).
fn strip_colours(text: &str) -> String {
    let mut plain = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            chars.by_ref().find(|&c| c == 'm');
        } else {
            plain.push(c);
        }
    }
    plain
}

/// Whether `pe`'s status was written for its latest spec and shows `phase`.
fn is_current(pe: &PreviewEnvironment, phase: Phase) -> bool {
    pe.status.as_ref().is_some_and(|s| {
        s.observed_generation.is_some()
            && s.observed_generation == pe.metadata.generation
            && s.phase == phase
    })
}

fn describe(pe: &PreviewEnvironment) -> String {
    match &pe.status {
        None => format!("desired {:?}, no status", pe.spec.desired),
        Some(s) => format!(
            "desired {:?}, phase {:?} (generation {:?}, observed {:?}), deployed {:?}, message {:?}",
            pe.spec.desired,
            s.phase,
            pe.metadata.generation,
            s.observed_generation,
            s.deployed_sha
                .as_deref()
                .map(|sha| &sha[..sha.len().min(7)]),
            s.message
        ),
    }
}
