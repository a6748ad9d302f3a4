//! A raw, unsigned upload to the webhook endpoint at a chosen pace: what an outsider can send.
//! The answer is read while the body is still being written (a server that refuses early resets
//! a client that insists on finishing first).

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// An upload of `length` bytes of spaces, `chunk` bytes at a time with `pause` between chunks.
#[derive(Clone, Copy, Debug)]
pub struct Upload {
    /// Bytes in the body.
    pub length: usize,
    /// Sent with `Content-Length` (otherwise `Transfer-Encoding: chunked`).
    pub declared: bool,
    /// Bytes written at once.
    pub chunk: usize,
    /// Pause after each chunk.
    pub pause: Duration,
}

/// What the server answered, and when.
#[derive(Clone, Copy, Debug)]
pub struct Answered {
    /// The status line's code.
    pub status: u16,
    /// From the connection until the answer's first bytes.
    pub after: Duration,
}

impl Upload {
    /// As fast as the connection takes it, with its length declared.
    pub fn at_once(length: usize) -> Self {
        Upload {
            length,
            declared: true,
            chunk: 64 * 1024,
            pause: Duration::ZERO,
        }
    }

    /// Sends it to previewd at `base_url`; waits at most a minute for the answer.
    pub fn send(self, base_url: &str) -> impl Future<Output = Answered> + Send + 'static {
        let address = base_url.trim_start_matches("http://").to_owned();
        self.send_to(address)
    }

    async fn send_to(self, address: String) -> Answered {
        let started = Instant::now();
        let stream = tokio::net::TcpStream::connect(&address)
            .await
            .expect("connect to previewd");
        let (mut reader, mut writer) = stream.into_split();
        let framing = if self.declared {
            format!("Content-Length: {}", self.length)
        } else {
            "Transfer-Encoding: chunked".to_owned()
        };
        let head = format!(
            "POST /webhooks/github HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\n\
             X-GitHub-Event: pull_request\r\nX-Hub-Signature-256: sha256=00\r\n{framing}\r\n\r\n"
        );
        let writing = StopOnDrop(tokio::spawn(async move {
            writer.write_all(head.as_bytes()).await?;
            let chunk = vec![b' '; self.chunk];
            let mut sent = 0;
            while sent < self.length {
                let n = chunk.len().min(self.length - sent);
                if !self.declared {
                    writer.write_all(format!("{n:x}\r\n").as_bytes()).await?;
                }
                writer.write_all(&chunk[..n]).await?;
                if !self.declared {
                    writer.write_all(b"\r\n").await?;
                }
                sent += n;
                tokio::time::sleep(self.pause).await;
            }
            if !self.declared {
                writer.write_all(b"0\r\n\r\n").await?;
            }
            Ok::<_, std::io::Error>(())
        }));
        let mut answer = vec![0u8; 1024];
        let read = tokio::time::timeout(Duration::from_secs(60), reader.read(&mut answer))
            .await
            .expect("an answer within a minute")
            .expect("read the answer");
        let after = started.elapsed();
        drop(writing);
        let text = String::from_utf8_lossy(&answer[..read]);
        let status = text
            .split_whitespace()
            .nth(1)
            .and_then(|code| code.parse().ok())
            .unwrap_or_else(|| panic!("no status line in {text:?}"));
        Answered { status, after }
    }
}

/// Stops the writing when the upload is dropped (or aborted) before it finished.
struct StopOnDrop(tokio::task::JoinHandle<std::io::Result<()>>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
