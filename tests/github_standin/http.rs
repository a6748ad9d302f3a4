//! Talking to the stand-in: requests with the default token, answers whose JSON is checked
//! against GitHub's schema on the way, `Link` headers.

use std::collections::HashMap;
use std::time::Duration;

use reqwest::header::HeaderMap;
use serde_json::Value;

use previewd_testkit::github::openapi::{self, assert_matches};
use previewd_testkit::github::{GitHub, Pull};

/// An answer, read whole.
pub struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub text: String,
}

impl Answer {
    /// Validates a 2xx JSON body of the API (not the admin routes) against the schema of the
    /// operation GitHub serves at `method path`. Bodies that are not JSON (HTML and truncation
    /// faults) are left to the tests that provoke them.
    #[track_caller]
    pub fn check_schema(&self, method: &str, path: &str) {
        let Ok(body) = serde_json::from_str::<Value>(&self.text) else {
            return;
        };
        // GitHub serves `/repositories/{id}` (where it redirects moved repositories) but leaves
        // it out of its description.
        let undocumented = path.starts_with("/_standin/") || path.starts_with("/repositories/");
        if !(200..300).contains(&self.status) || undocumented {
            return;
        }
        // GitHub takes POST where it documents PATCH (octocrab's `update_comment` relies on it).
        let operation = openapi::operation_id(method, path)
            .or_else(|| match method {
                "POST" => openapi::operation_id("PATCH", path),
                _ => None,
            })
            .unwrap_or_else(|| panic!("GitHub's OpenAPI description has no {method} {path}"));
        assert_matches(operation, self.status, &body);
    }

    /// The body as JSON; panics (showing it) if it is not.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.text))
    }

    /// A header's value, if present and text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The `Link` header: rel → URL.
    pub fn links(&self) -> HashMap<String, String> {
        parse_links(self.header("link").unwrap_or(""))
    }
}

/// RFC 5988 `Link` header → rel → URL.
pub fn parse_links(header: &str) -> HashMap<String, String> {
    header
        .split(',')
        .filter_map(|part| {
            let (url, rel) = part.split_once(';')?;
            let url = url.trim().strip_prefix('<')?.strip_suffix('>')?;
            let rel = rel.trim().strip_prefix("rel=\"")?.strip_suffix('"')?;
            Some((rel.to_owned(), url.to_owned()))
        })
        .collect()
}

/// A client with a timeout, so a hung stand-in fails the test instead of stalling it; it shows
/// redirects rather than following them, as previewd's client does.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Sends a request; a successful JSON answer of the API is checked against its operation's
/// response schema in GitHub's OpenAPI description, so every test checks every shape.
pub async fn send(request: reqwest::RequestBuilder) -> Answer {
    let (client, request) = request.build_split();
    let request = request.expect("a well-formed request");
    let (method, path) = (
        request.method().to_string(),
        request.url().path().to_owned(),
    );
    let response = client.execute(request).await.expect("the stand-in answers");
    let answer = Answer {
        status: response.status().as_u16(),
        headers: response.headers().clone(),
        text: response.text().await.expect("a body"),
    };
    answer.check_schema(&method, &path);
    answer
}

/// Adds the default token and the headers previewd sends.
pub fn authed(request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
    request
        .header("authorization", format!("Bearer {}", GitHub::TOKEN))
        .header("accept", "application/vnd.github+json")
        .header("user-agent", "previewd-tests")
}

/// `GET` a path of the stand-in with the default token.
pub async fn get(gh: &GitHub, path: &str) -> Answer {
    send(authed(client().get(format!("{}{path}", gh.url())))).await
}

/// `GET` a full URL (a `Link` target) with the default token.
pub async fn get_url(url: &str) -> Answer {
    send(authed(client().get(url))).await
}

/// `POST` JSON to a path of the stand-in with the default token.
pub async fn post(gh: &GitHub, path: &str, body: Value) -> Answer {
    send(authed(client().post(format!("{}{path}", gh.url()))).json(&body)).await
}

/// `PATCH` JSON to a path of the stand-in with the default token.
pub async fn patch(gh: &GitHub, path: &str, body: Value) -> Answer {
    send(authed(client().patch(format!("{}{path}", gh.url()))).json(&body)).await
}

/// A stand-in holding PR acme/shop#7, "Add a cart".
pub async fn started_with_pull() -> GitHub {
    let gh = GitHub::start().await;
    gh.set_pull(Pull::new("acme", "shop", 7).title("Add a cart"));
    gh
}
