//! A templated Job (a migration, a seed) runs again for each new head and on `/preview
//! redeploy`: its pod template cannot be updated, so previewd replaces it.

use std::time::Duration;

use k8s_openapi::api::batch::v1::Job;
use kube::Api;
use previewd::model::crd::Phase;
use previewd_testkit::scenario::Scenario;
use previewd_testkit::templates;

const READY: Duration = Duration::from_secs(90);
const QUICK: Duration = Duration::from_secs(30);
const OLD_SHA: &str = "ec26c3e57ca3a959ca5aad62de7213c562f8c821";
const NEW_SHA: &str = "d6fde92930d4715a2b49857d24b940956b26d2d3";

const MIGRATION: &str = r#"apiVersion: batch/v1
kind: Job
metadata:
  name: migrate
spec:
  backoffLimit: 0
  template:
    metadata:
      labels: {app: migrate}
    spec:
      restartPolicy: Never
      containers:
        - name: migrate
          image: "registry.test/app:{{sha}}"
"#;

async fn migration(s: &Scenario, number: u64) -> Job {
    Api::<Job>::namespaced(s.kube.clone(), &s.preview_name(number))
        .get("migrate")
        .await
        .expect("the migration Job")
}

fn image(job: &Job) -> String {
    let pod = job.spec.as_ref().and_then(|s| s.template.spec.as_ref());
    pod.and_then(|p| p.containers[0].image.clone())
        .unwrap_or_default()
}

#[tokio::test]
async fn a_job_runs_again_for_a_new_head_and_on_redeploy() {
    let s = Scenario::start("jobs", |options| {
        options.templates = Some(vec![
            templates::deployment(1, "", ""),
            ("migrate.yaml".into(), MIGRATION.into()),
        ]);
    })
    .await;
    s.deliver(&s.payload("pr-opened", 1)).await;
    s.wait_phase(1, Phase::Ready, Some(OLD_SHA), READY).await;
    let first = migration(&s, 1).await;
    assert_eq!(image(&first), format!("registry.test/app:{OLD_SHA}"));

    s.deliver(&s.payload("pr-synchronize-new-sha", 1)).await;
    s.wait_phase(1, Phase::Ready, Some(NEW_SHA), READY).await;
    let second = migration(&s, 1).await;
    assert_ne!(
        second.metadata.uid, first.metadata.uid,
        "replaced, not updated"
    );
    assert_eq!(image(&second), format!("registry.test/app:{NEW_SHA}"));

    // A reconcile that changes nothing in the Job leaves it alone.
    let pin = s.maintainer_says(1, "/preview pin").await;
    s.wait_reaction(pin, "rocket", QUICK).await;
    s.wait_phase(1, Phase::Ready, Some(NEW_SHA), QUICK).await;
    assert_eq!(migration(&s, 1).await.metadata.uid, second.metadata.uid);

    let redeploy = s.maintainer_says(1, "/preview redeploy").await;
    s.wait_reaction(redeploy, "rocket", READY).await;
    let third = migration(&s, 1).await;
    assert_ne!(third.metadata.uid, second.metadata.uid, "ran again");
    s.wait_phase(1, Phase::Ready, Some(NEW_SHA), QUICK).await;
}
