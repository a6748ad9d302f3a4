//! Leader election over a coordination.k8s.io Lease: every replica serves webhooks, only the
//! holder of the Lease runs the controller (and the resync). A replica that loses the Lease
//! drops its controller at once; another takes over once the Lease expires. On shutdown the
//! Lease is released so the next replica need not wait for it to expire.

use std::future::Future;
use std::time::Duration;

use kube::Client;
use kube_lease_manager::LeaseManagerBuilder;
use tokio::sync::watch;

use crate::metrics;

use crate::timing::LEASE_RETRY;

/// How the Lease is held.
#[derive(Clone, Debug)]
pub struct Election {
    /// Namespace of the Lease (previewd's own).
    pub namespace: String,
    /// Name of the Lease (one per installation).
    pub lease: String,
    /// This replica's identity, written into the Lease.
    pub identity: String,
    /// How long a Lease stays held without renewal.
    pub duration: Duration,
    /// How long before expiry the holder renews it.
    pub grace: Duration,
}

/// The Lease name of the installation `instance` (a label value; Lease names are DNS names).
pub fn lease_name(instance: &str) -> String {
    let cleaned: String = instance
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let name = format!("previewd-{}", cleaned.trim_matches('-'));
    name.trim_end_matches('-').chars().take(253).collect()
}

/// Runs `term` whenever this replica holds the Lease, until `shutdown` turns true. `term` is
/// dropped (stopped at once) when the Lease is lost; a term that ends by itself ends the loop
/// only on shutdown.
pub async fn lead<F, T>(
    client: Client,
    election: Election,
    mut shutdown: watch::Receiver<bool>,
    mut term: F,
) -> anyhow::Result<()>
where
    F: FnMut() -> T,
    T: Future<Output = ()>,
{
    let manager = loop {
        let built = LeaseManagerBuilder::new(client.clone(), &election.lease)
            .with_namespace(&election.namespace)
            .with_identity(&election.identity)
            .with_duration(election.duration.as_secs().max(1))
            .with_grace(election.grace.as_secs().max(1))
            .build()
            .await;
        match built {
            Ok(manager) => break manager,
            Err(error) => {
                metrics::get().error("lease");
                tracing::error!(%error, lease = %election.lease, namespace = %election.namespace, "cannot read or create the Lease; the controller waits for it");
                tokio::select! {
                    _ = shutdown.wait_for(|stop| *stop) => return Ok(()),
                    () = tokio::time::sleep(LEASE_RETRY) => {}
                }
            }
        }
    };
    let (mut leading, manager) = manager.watch().await;
    loop {
        tokio::select! {
            _ = shutdown.wait_for(|stop| *stop) => break,
            held = leading.wait_for(|held| *held) => if held.is_err() { break },
        }
        tracing::info!(lease = %election.lease, identity = %election.identity, "leading: controller started");
        metrics::get().leader.set(1);
        let lost = tokio::select! {
            () = term() => false,
            _ = leading.wait_for(|held| !*held) => true,
        };
        metrics::get().leader.set(0);
        if lost {
            tracing::warn!(lease = %election.lease, "lost the lease: controller stopped");
        }
        if *shutdown.borrow() {
            break;
        }
    }
    // Closing the channel makes the manager release the Lease and end.
    drop(leading);
    match manager.await {
        Ok(Ok(_)) => tracing::info!(lease = %election.lease, "lease released"),
        Ok(Err(error)) => tracing::warn!(%error, "could not release the lease"),
        Err(error) => tracing::warn!(%error, "lease manager ended abnormally"),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lease_name_is_a_dns_name() {
        assert_eq!(lease_name("default"), "previewd-default");
        assert_eq!(lease_name("Team_A.prod"), "previewd-team-a-prod");
        assert_eq!(lease_name("x-"), "previewd-x");
    }
}
