//! A headless Chromium (Debian's `chromium`, installed by `scripts/setup.sh`) driven over the
//! DevTools protocol: open a page, size its viewport like a phone, run script in it, take a
//! screenshot, run axe-core (from `fixtures/node_modules`), and collect what the page's console
//! would show as errors: uncaught exceptions, `console.error`, and Content-Security-Policy
//! violations.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use base64::Engine;
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// How long one DevTools command may take.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(30);

/// A running headless Chromium, stopped on drop.
pub struct Browser {
    child: Child,
    profile: PathBuf,
    port: u16,
}

/// The Chromium binary: `PREVIEWD_CHROMIUM`, else `chromium` on the `PATH`.
fn chromium() -> String {
    std::env::var("PREVIEWD_CHROMIUM").unwrap_or_else(|_| "chromium".to_owned())
}

impl Browser {
    /// Starts Chromium headless with a throwaway profile, its DevTools endpoint on loopback.
    pub async fn start() -> Browser {
        let port = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
            listener.local_addr().expect("its address").port()
        };
        let profile = std::env::temp_dir().join(format!(
            "previewd-chromium-{}",
            uuid::Uuid::new_v4().simple()
        ));
        let child = Command::new(chromium())
            .args([
                "--headless=new",
                // Root in a container has no user namespace sandbox.
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-extensions",
                "--remote-debugging-address=127.0.0.1",
                &format!("--remote-debugging-port={port}"),
                &format!("--user-data-dir={}", profile.display()),
                "about:blank",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start {} ({e}): install Debian's chromium (scripts/setup.sh does)",
                    chromium()
                )
            });
        let browser = Browser {
            child,
            profile,
            port,
        };
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        while reqwest::get(browser.endpoint("/json/version"))
            .await
            .is_err()
        {
            assert!(
                tokio::time::Instant::now() < deadline,
                "chromium's DevTools endpoint never answered"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        browser
    }

    fn endpoint(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// A new tab, with the runtime, the log and page events reported.
    pub async fn page(&self) -> Page {
        let target: Value = reqwest::Client::new()
            .put(self.endpoint("/json/new?about:blank"))
            .send()
            .await
            .expect("a new tab")
            .json()
            .await
            .expect("the tab as JSON");
        let url = target["webSocketDebuggerUrl"]
            .as_str()
            .expect("the tab's DevTools address");
        let (socket, _) = tokio_tungstenite::connect_async(url)
            .await
            .expect("connect to the tab");
        let mut page = Page {
            socket,
            next_id: 0,
            errors: Vec::new(),
        };
        for domain in ["Runtime.enable", "Log.enable", "Page.enable"] {
            page.call(domain, json!({})).await;
        }
        page
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// One tab.
pub struct Page {
    socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
    next_id: u64,
    errors: Vec<String>,
}

/// An axe-core violation: its rule, impact and how many elements break it.
#[derive(Clone, Debug, PartialEq, serde::Deserialize)]
pub struct Violation {
    /// Rule id (`color-contrast`, `label`, ...).
    pub id: String,
    /// `minor`, `moderate`, `serious` or `critical`.
    pub impact: Option<String>,
    /// What the rule asks.
    pub help: String,
    /// The offending elements' selectors.
    pub targets: Vec<String>,
}

impl Page {
    /// Sends a DevTools command and returns its result; events read meanwhile are kept (errors).
    pub async fn call(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let command = json!({"id": id, "method": method, "params": params});
        self.socket
            .send(Message::Text(command.to_string().into()))
            .await
            .expect("send a DevTools command");
        let answer = tokio::time::timeout(COMMAND_TIMEOUT, async {
            loop {
                let message = self
                    .socket
                    .next()
                    .await
                    .expect("the tab is open")
                    .expect("a DevTools message");
                let Message::Text(text) = message else {
                    continue;
                };
                let value: Value = serde_json::from_str(&text).expect("DevTools JSON");
                if value["id"] == id {
                    return value;
                }
                self.note(&value);
            }
        })
        .await
        .unwrap_or_else(|_| panic!("{method} took longer than {COMMAND_TIMEOUT:?}"));
        if let Some(error) = answer.get("error") {
            panic!("{method}: {error}");
        }
        answer["result"].clone()
    }

    /// Keeps what the console would show as an error.
    fn note(&mut self, event: &Value) {
        let params = &event["params"];
        match event["method"].as_str() {
            Some("Runtime.exceptionThrown") => {
                let details = &params["exceptionDetails"];
                self.errors.push(format!(
                    "uncaught: {} {}",
                    details["text"].as_str().unwrap_or_default(),
                    details["exception"]["description"]
                        .as_str()
                        .unwrap_or_default()
                ));
            }
            Some("Runtime.consoleAPICalled") if params["type"] == "error" => {
                let args: Vec<String> = params["args"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|a| a["value"].to_string())
                    .collect();
                self.errors
                    .push(format!("console.error: {}", args.join(" ")));
            }
            Some("Log.entryAdded") if params["entry"]["level"] == "error" => {
                let entry = &params["entry"];
                self.errors.push(format!(
                    "log: {} {}",
                    entry["text"].as_str().unwrap_or_default(),
                    entry["url"].as_str().unwrap_or_default()
                ));
            }
            _ => {}
        }
    }

    /// Runs `expression` in the page (promises awaited) and returns its value.
    pub async fn eval(&mut self, expression: &str) -> Value {
        let result = self
            .call(
                "Runtime.evaluate",
                json!({"expression": expression, "awaitPromise": true, "returnByValue": true}),
            )
            .await;
        if let Some(details) = result.get("exceptionDetails") {
            panic!("{expression}: {details}");
        }
        result["result"]["value"].clone()
    }

    /// Opens `url` and waits until it has loaded.
    pub async fn goto(&mut self, url: &str) {
        self.call("Page.navigate", json!({"url": url})).await;
        self.wait_for(
            "document.readyState === 'complete' && location.href !== 'about:blank'",
            Duration::from_secs(20),
        )
        .await;
    }

    /// Waits until `expression` is truthy in the page; returns its value.
    pub async fn wait_for(&mut self, expression: &str, timeout: Duration) -> Value {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let value = self.eval(expression).await;
            let truthy = !matches!(value, Value::Null | Value::Bool(false))
                && value != json!(0)
                && value != json!("");
            if truthy {
                return value;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "`{expression}` never held in {timeout:?}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Lays the page out as a phone (`mobile`) or a desktop of this size would.
    pub async fn viewport(&mut self, width: u32, height: u32, mobile: bool) {
        self.call(
            "Emulation.setDeviceMetricsOverride",
            json!({"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile}),
        )
        .await;
    }

    /// A PNG of the whole page.
    pub async fn screenshot(&mut self) -> Vec<u8> {
        let shot = self
            .call(
                "Page.captureScreenshot",
                json!({"format": "png", "captureBeyondViewport": true}),
            )
            .await;
        base64::engine::general_purpose::STANDARD
            .decode(shot["data"].as_str().expect("image data"))
            .expect("base64 PNG")
    }

    /// axe-core's violations on the page as it is now.
    pub async fn axe(&mut self) -> Vec<Violation> {
        let path = crate::repo_root().join("fixtures/node_modules/axe-core/axe.min.js");
        let source = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "cannot read {}: {e}; run `cd fixtures && npm ci`",
                path.display()
            )
        });
        self.eval(&source).await;
        let found = self
            .eval(
                "axe.run(document, {resultTypes: ['violations']}).then(r => JSON.stringify(\
                 r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help, \
                 targets: v.nodes.map(n => n.target.join(' '))}))))",
            )
            .await;
        serde_json::from_str(found.as_str().expect("violations as JSON")).expect("violations")
    }

    /// What the console showed as errors so far.
    pub async fn errors(&mut self) -> Vec<String> {
        // A round trip reads the events that arrived meanwhile.
        self.eval("0").await;
        self.errors.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::Router;
    use axum::response::IntoResponse;
    use axum::routing::get;

    /// A page whose Content-Security-Policy refuses its own inline script, and which logs an error.
    async fn serve() -> String {
        let page = || async {
            (
                [
                    ("content-type", "text/html; charset=utf-8"),
                    ("content-security-policy", "default-src 'none'; script-src 'self'"),
                ],
                "<!doctype html><html lang=\"en\"><head><title>t</title></head><body>\
                 <main><h1>Hi</h1><img src=\"/x.png\"></main>\
                 <script>window.inline = 1;</script><script src=\"/app.js\"></script></body></html>",
            )
                .into_response()
        };
        let script = || async {
            (
                [("content-type", "text/javascript")],
                "console.error('broken', 42);",
            )
                .into_response()
        };
        let app = Router::new()
            .route("/", get(page))
            .route("/app.js", get(script));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        format!("http://{address}/")
    }

    #[tokio::test]
    async fn console_errors_csp_violations_and_axe_findings_are_reported() {
        let url = serve().await;
        let browser = Browser::start().await;
        let mut page = browser.page().await;
        page.viewport(375, 700, true).await;
        page.goto(&url).await;
        assert_eq!(page.eval("typeof window.inline").await, "undefined");
        assert_eq!(page.eval("1 + 1").await, 2);
        let errors = page.errors().await;
        assert!(
            errors.iter().any(|e| e.contains("broken")),
            "console.error: {errors:#?}"
        );
        assert!(
            errors.iter().any(|e| e.contains("Content Security Policy")),
            "the CSP violation: {errors:#?}"
        );
        let violations = page.axe().await;
        assert!(
            violations.iter().any(|v| v.id == "image-alt"),
            "an image without alt text: {violations:#?}"
        );
        assert!(page.screenshot().await.starts_with(b"\x89PNG"));
    }
}
