//! Playing a script against a scenario: each event changes the stand-in and its delivery is
//! sent (or lost), pauses pass, and previewd is killed and restarted where the script says.

use super::chaos::Seed;
use super::plan::Action;
use super::previewd::Previewd;
use super::scenario::Scenario;
use super::webhooks::{Payload, Sent};

impl Scenario {
    /// Plays `script` to its end.
    pub async fn play(&mut self, seed: &Seed, script: &[Action]) {
        for action in script {
            match *action {
                Action::Event {
                    number,
                    step,
                    delivered,
                } => {
                    let payload = self.tell(number, step);
                    if delivered {
                        deliver_to(&self.previewd, seed, &payload).await;
                    }
                }
                Action::Pause(pause) => tokio::time::sleep(pause).await,
                Action::Kill => self.previewd.kill(),
                Action::Restart => self.previewd.restart(None).await,
            }
        }
    }
}

/// Sends `payload` to `previewd` as GitHub does and asserts it was taken; a failure names `seed`.
pub async fn deliver_to(previewd: &Previewd, seed: &Seed, payload: &Payload) -> Sent {
    super::scenario::deliver_to(previewd, payload, &seed.to_string()).await
}
