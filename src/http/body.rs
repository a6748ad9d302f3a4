//! Reading a webhook body within its bounds: at most `max_bytes`, and within `deadline` of the
//! request's start. A body declared larger than the limit is refused before a byte is read; one
//! that grows past it is dropped the moment it does, so a delivery never holds more than the
//! limit in memory.

use std::time::Duration;

use axum::body::{Body, Bytes};
use futures::StreamExt;

/// How much of a body previewd reads, and for how long.
#[derive(Clone, Copy, Debug)]
pub struct BodyLimits {
    /// Largest body accepted.
    pub max_bytes: usize,
    /// The whole body must have arrived within this long.
    pub deadline: Duration,
}

impl BodyLimits {
    /// At most `max_bytes`, all there before GitHub stops waiting for the answer.
    pub fn within_githubs_wait(max_bytes: usize) -> Self {
        BodyLimits {
            max_bytes,
            deadline: crate::timing::WEBHOOK_BODY_DEADLINE,
        }
    }
}

/// Why a body was not read.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum BodyError {
    /// Larger than the limit (declared or sent).
    TooLarge,
    /// Not all there before the deadline.
    TooSlow,
    /// The connection broke while it was sent.
    Broken,
}

/// Reads `body`, whose `Content-Length` was `declared`, within `limits`.
pub(crate) async fn read(
    body: Body,
    declared: Option<u64>,
    limits: BodyLimits,
) -> Result<Bytes, BodyError> {
    if declared.is_some_and(|length| length > limits.max_bytes as u64) {
        return Err(BodyError::TooLarge);
    }
    // Only the declared length is reserved up front: a lying Content-Length is caught below.
    let reserved = declared.map_or(0, |length| length as usize);
    let gather = async {
        let mut gathered = Vec::with_capacity(reserved);
        let mut chunks = body.into_data_stream();
        while let Some(chunk) = chunks.next().await {
            let chunk = chunk.map_err(|_| BodyError::Broken)?;
            if gathered.len() + chunk.len() > limits.max_bytes {
                return Err(BodyError::TooLarge);
            }
            gathered.extend_from_slice(&chunk);
        }
        Ok(Bytes::from(gathered))
    };
    tokio::time::timeout(limits.deadline, gather)
        .await
        .unwrap_or(Err(BodyError::TooSlow))
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: BodyLimits = BodyLimits {
        max_bytes: 8,
        deadline: Duration::from_millis(200),
    };

    fn streamed(chunks: Vec<&'static [u8]>, pause: Duration) -> Body {
        let stream = futures::stream::iter(chunks).then(move |chunk| async move {
            tokio::time::sleep(pause).await;
            Ok::<_, std::io::Error>(Bytes::from_static(chunk))
        });
        Body::from_stream(stream)
    }

    #[tokio::test]
    async fn a_body_within_the_limit_is_read_whole() {
        let body = streamed(vec![b"1234", b"5678"], Duration::ZERO);
        assert_eq!(read(body, None, LIMITS).await.unwrap(), &b"12345678"[..]);
    }

    #[tokio::test]
    async fn a_declared_length_over_the_limit_is_refused_unread() {
        let body = streamed(vec![b"1"], Duration::from_secs(3600));
        assert_eq!(read(body, Some(9), LIMITS).await, Err(BodyError::TooLarge));
    }

    #[tokio::test]
    async fn a_body_growing_past_the_limit_is_refused() {
        let body = streamed(vec![b"12345", b"6789"], Duration::ZERO);
        assert_eq!(read(body, None, LIMITS).await, Err(BodyError::TooLarge));
    }

    #[tokio::test(start_paused = true)]
    async fn a_body_slower_than_the_deadline_is_refused() {
        let body = streamed(vec![b"1", b"2", b"3"], Duration::from_millis(100));
        assert_eq!(read(body, None, LIMITS).await, Err(BodyError::TooSlow));
    }
}
