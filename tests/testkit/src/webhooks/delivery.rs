//! Sending a payload the way GitHub does: its headers, HMAC signatures and delivery GUIDs.

use std::time::Duration;

use hmac::{Hmac, Mac};
use serde_json::Value;

use super::Payload;

/// How a delivery is signed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signing {
    /// `X-Hub-Signature-256` and `X-Hub-Signature` (sha1), as GitHub sends with a secret.
    Both,
    /// Only `X-Hub-Signature-256`.
    Sha256Only,
    /// Only the legacy `X-Hub-Signature` (sha1).
    Sha1Only,
    /// No signature headers, as from a hook without a secret.
    Unsigned,
    /// Both headers, computed with another secret.
    WrongSecret,
}

/// What the receiver answered.
#[derive(Clone, Debug)]
pub struct Sent {
    /// HTTP status.
    pub status: u16,
    /// Body as text.
    pub body: String,
    /// The `X-GitHub-Delivery` used.
    pub delivery_id: String,
}

/// Sends payloads to a webhook endpoint the way GitHub does.
#[derive(Clone, Debug)]
pub struct Delivery {
    url: String,
    secret: Vec<u8>,
    id: Option<String>,
    hook_id: u64,
    signing: Signing,
    client: reqwest::Client,
}

impl Delivery {
    /// Deliveries to `url` (the full endpoint address) signed with `secret`.
    pub fn new(url: &str, secret: &[u8]) -> Self {
        let client = reqwest::Client::builder()
            // GitHub gives up after 10 s.
            .timeout(Duration::from_secs(10))
            .build()
            .expect("an HTTP client");
        Delivery {
            url: url.to_owned(),
            secret: secret.to_vec(),
            id: None,
            hook_id: 461_178_903,
            signing: Signing::Both,
            client,
        }
    }

    /// Uses this `X-GitHub-Delivery` (a redelivery repeats the GUID); default: a new one per send.
    pub fn id(mut self, guid: &str) -> Self {
        self.id = Some(guid.to_owned());
        self
    }

    /// Signs this way.
    pub fn signing(mut self, signing: Signing) -> Self {
        self.signing = signing;
        self
    }

    /// The headers a delivery of `body` for `event` carries, in GitHub's order.
    pub(crate) fn headers(
        &self,
        event: &str,
        body: &[u8],
        target_id: u64,
        delivery_id: &str,
    ) -> Vec<(String, String)> {
        let mut headers = vec![
            ("Accept".to_owned(), "*/*".to_owned()),
            ("Content-Type".to_owned(), "application/json".to_owned()),
            (
                "User-Agent".to_owned(),
                "GitHub-Hookshot/6b02022".to_owned(),
            ),
            ("X-GitHub-Delivery".to_owned(), delivery_id.to_owned()),
            ("X-GitHub-Event".to_owned(), event.to_owned()),
            ("X-GitHub-Hook-ID".to_owned(), self.hook_id.to_string()),
            (
                "X-GitHub-Hook-Installation-Target-ID".to_owned(),
                target_id.to_string(),
            ),
            (
                "X-GitHub-Hook-Installation-Target-Type".to_owned(),
                "repository".to_owned(),
            ),
        ];
        let wrong = b"not the secret".to_vec();
        let secret = if self.signing == Signing::WrongSecret {
            &wrong
        } else {
            &self.secret
        };
        if matches!(
            self.signing,
            Signing::Both | Signing::Sha1Only | Signing::WrongSecret
        ) {
            headers.push(("X-Hub-Signature".to_owned(), sha1_signature(secret, body)));
        }
        if matches!(
            self.signing,
            Signing::Both | Signing::Sha256Only | Signing::WrongSecret
        ) {
            headers.push((
                "X-Hub-Signature-256".to_owned(),
                previewd::github::webhook::signature_header(secret, body),
            ));
        }
        headers
    }

    /// Sends a payload; the hook target is its repository.
    pub async fn send(&self, payload: &Payload) -> Sent {
        let target = payload
            .get("/repository/id")
            .and_then(Value::as_u64)
            .unwrap_or(0);
        self.send_raw(&payload.event, &payload.bytes_sent_now(), target)
            .await
    }

    /// Sends raw bytes as `event` (for malformed bodies).
    pub async fn send_raw(&self, event: &str, body: &[u8], target_id: u64) -> Sent {
        let delivery_id = self
            .id
            .clone()
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        let mut request = self.client.post(&self.url).body(body.to_vec());
        for (name, value) in self.headers(event, body, target_id, &delivery_id) {
            request = request.header(name, value);
        }
        let response = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("delivery to {} failed: {e}", self.url));
        let status = response.status().as_u16();
        let body = response.text().await.unwrap_or_default();
        Sent {
            status,
            body,
            delivery_id,
        }
    }
}

/// The legacy `X-Hub-Signature` value: `sha1=<hex>`.
pub fn sha1_signature(secret: &[u8], body: &[u8]) -> String {
    let mut mac =
        Hmac::<sha1::Sha1>::new_from_slice(secret).expect("HMAC accepts keys of any length");
    mac.update(body);
    format!("sha1={}", hex::encode(mac.finalize().into_bytes()))
}
