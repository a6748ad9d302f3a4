//! Previews as GitHub deployments (repository setting `deployments`): one deployment per SHA
//! of environment `preview/pr-<n>`, `success` with the preview's address and the comment as
//! its log, the previous SHA's made `inactive` on a push and the last one at teardown; found
//! again after a restart, never created twice; nothing of it without the setting.

use std::time::Duration;

use previewd::model::crd::Phase;
use previewd_testkit::github::{Deployment, GitHub};
use previewd_testkit::scenario::Scenario;

const READY: Duration = Duration::from_secs(90);
const OLD_SHA: &str = "ec26c3e57ca3a959ca5aad62de7213c562f8c821";
const NEW_SHA: &str = "d6fde92930d4715a2b49857d24b940956b26d2d3";

async fn with_deployments(prefix: &str, failpoint: Option<&str>) -> Scenario {
    Scenario::start(prefix, |o| {
        o.repository_settings = serde_json::json!({"deployments": true});
        o.failpoint = failpoint.map(str::to_owned);
    })
    .await
}

fn states(github: &GitHub, deployment: &Deployment) -> Vec<String> {
    github
        .deployment_statuses(deployment.id)
        .into_iter()
        .map(|s| s.state)
        .collect()
}

/// Waits until the deployments of the scenario's repository satisfy `done`; returns them.
async fn wait_deployments(
    s: &Scenario,
    what: &str,
    done: impl Fn(&GitHub, &[Deployment]) -> bool,
) -> Vec<Deployment> {
    let (owner, repo) = (s.owner.clone(), s.repo.clone());
    s.github
        .wait_for(what, READY, move |g| {
            let all = g.deployments(&owner, &repo);
            done(g, &all).then_some(all)
        })
        .await
}

/// `/repos/{owner}/{repo}/deployments` of the scenario's repository.
fn deployments_path(s: &Scenario) -> String {
    format!("/repos/{}/deployments", s.full_name())
}

fn deployment_writes(s: &Scenario) -> Vec<String> {
    s.github
        .writes()
        .into_iter()
        .filter(|w| w.path.starts_with(&deployments_path(s)))
        .map(|w| format!("{} {}", w.method, w.path))
        .collect()
}

#[tokio::test]
async fn each_deployed_sha_is_a_deployment_and_each_ends_inactive() {
    let s = with_deployments("deployments", None).await;
    s.deliver(&s.payload("pr-opened", 1)).await;
    let ready = s.wait_phase(1, Phase::Ready, Some(OLD_SHA), READY).await;
    let first = wait_deployments(&s, "the first deployment", |g, all| {
        all.len() == 1 && states(g, &all[0]) == ["success"]
    })
    .await;
    let deployment = &first[0];
    assert_eq!(deployment.sha, OLD_SHA);
    assert_eq!(deployment.environment, "preview/pr-1");
    assert!(deployment.transient && !deployment.production);
    let success = &s.github.deployment_statuses(deployment.id)[0];
    assert_eq!(
        Some(success.environment_url.as_str()),
        ready.status.as_ref().unwrap().url.as_deref()
    );
    let comment = s.sticky_comment(1);
    assert!(
        success
            .log_url
            .ends_with(&format!("#issuecomment-{}", comment.id)),
        "{}",
        success.log_url
    );

    s.deliver(&s.payload("pr-synchronize-new-sha", 1)).await;
    s.wait_phase(1, Phase::Ready, Some(NEW_SHA), READY).await;
    let both = wait_deployments(&s, "the push's deployment, the first inactive", |g, all| {
        all.len() == 2
            && states(g, &all[1]) == ["success"]
            && states(g, &all[0]) == ["success", "inactive"]
    })
    .await;
    assert_eq!(both[1].sha, NEW_SHA);

    s.deliver(&s.payload("pr-closed-unmerged", 1)).await;
    s.wait_phase(1, Phase::Destroyed, None, READY).await;
    wait_deployments(&s, "the last deployment inactive", |g, all| {
        all.len() == 2 && states(g, &all[1]) == ["success", "inactive"]
    })
    .await;
    // Per deployed SHA: create, success, and inactive once superseded or torn down.
    let writes = deployment_writes(&s);
    assert_eq!(writes.len(), 6, "{writes:#?}");
    assert!(
        s.github.deployments(&s.owner, &s.repo).len() == 2,
        "never a second deployment of a SHA"
    );
}

#[tokio::test]
async fn a_restart_right_after_the_deployment_is_created_finds_it_again() {
    let mut s = with_deployments("deployments-crash", Some("after-deployment-create")).await;
    s.deliver(&s.payload("pr-opened", 2)).await;
    assert!(
        s.previewd.wait_exit(Duration::from_secs(60)).await,
        "the failpoint did not fire:\n{}",
        s.previewd.logs()
    );
    assert_eq!(s.github.deployments(&s.owner, &s.repo).len(), 1);
    s.previewd.restart(None).await;
    s.wait_phase(2, Phase::Ready, None, READY).await;
    wait_deployments(&s, "the deployment reported on", |g, all| {
        all.len() == 1 && states(g, &all[0]) == ["success"]
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        s.github.deployments(&s.owner, &s.repo).len(),
        1,
        "created twice"
    );
}

#[tokio::test]
async fn without_the_setting_nothing_is_deployed_on_github() {
    let s = Scenario::start("deployments-off", |_| {}).await;
    s.deliver(&s.payload("pr-opened", 3)).await;
    s.wait_phase(3, Phase::Ready, None, READY).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let asked = s
        .github
        .requests()
        .into_iter()
        .filter(|r| r.path.starts_with(&deployments_path(&s)))
        .count();
    assert_eq!(asked, 0);
}
