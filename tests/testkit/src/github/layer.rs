//! The layer around every API request: record it, count it against the rate limit, inject
//! the planned fault, authenticate the token, run the handler, add an ETag (answering 304 to a
//! matching `If-None-Match`) and GitHub's common headers.

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State as AxumState};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use serde_json::Value;

use super::GitHub;
use super::apps::{Authenticated, Denied};
use super::faults::Fault;
use super::objects;
use super::recorded::Recorded;
use super::routes::{Caller, InstallationCaller};
use super::state::{self, State};

/// Wraps every API request: record, rate limit, fault, authenticate, handle, ETag, headers.
pub(super) async fn layer(
    AxumState(gh): AxumState<GitHub>,
    request: Request,
    next: Next,
) -> Response {
    let (mut parts, body) = request.into_parts();
    let bytes = to_bytes(body, 16 << 20).await.unwrap_or_default();
    let method = parts.method.to_string();
    let path = parts.uri.path().to_owned();

    let (seq, request_id, fault, exhausted, caller, moved) = gh.with(|s| {
        let seq = s.requests.len() as u64;
        let request_id = format!(
            "{:04X}:{:04X}:{:06X}:{:07X}:{:08X}",
            gh.addr.port(),
            seq,
            seq * 7919,
            seq * 104_729,
            seq
        );
        let fault = s.faults.pick(&method, &path);
        let exhausted = s.rate.remaining == 0;
        s.rate.remaining = s.rate.remaining.saturating_sub(1);
        let caller = token(&parts.headers).map(|t| s.authenticate(&t, &path, state::now()));
        s.requests.push(Recorded {
            seq,
            method: method.clone(),
            path: path.clone(),
            query: parts.uri.query().map(str::to_owned),
            headers: header_map(&parts.headers),
            body: parse_body(&bytes),
            status: None,
            fault: fault.clone(),
            request_id: request_id.clone(),
            received: std::time::Instant::now(),
        });
        let moved = s.moved_to(&path);
        (seq, request_id, fault, exhausted, caller, moved)
    });

    let mut response = match (&fault, exhausted, caller) {
        (_, true, _) => primary_limit_exceeded(),
        (Some(Fault::Hang(duration)), ..) => {
            tokio::time::sleep(*duration).await;
            Fault::Hang(*duration).response(&request_id)
        }
        (Some(f), ..) if !f.applies_request() => f.response(&request_id),
        (_, _, None) => requires_authentication(),
        (_, _, Some(Err(Denied(status, message)))) => denied(status, message),
        (_, _, Some(Ok(_))) if moved.is_some() => moved_permanently(&gh, &parts, moved),
        (_, _, Some(Ok(Authenticated::Installation(id, _))))
            if !gh.with(|s| s.installation_reaches(id, &path)) =>
        {
            denied(404, "Not Found")
        }
        (_, _, Some(Ok(authenticated))) => {
            match authenticated {
                Authenticated::User(user) => {
                    parts.extensions.insert(Caller(user));
                }
                Authenticated::Installation(id, user) => {
                    parts.extensions.insert(Caller(user));
                    parts.extensions.insert(InstallationCaller(id));
                }
                Authenticated::App => {}
            }
            let response = next
                .run(Request::from_parts(parts.clone(), Body::from(bytes)))
                .await;
            match &fault {
                Some(Fault::Slow(duration)) => {
                    tokio::time::sleep(*duration).await;
                    response
                }
                Some(Fault::Truncated) => truncate(response).await,
                _ => response,
            }
        }
    };

    if parts.method == Method::GET && response.status() == StatusCode::OK && fault.is_none() {
        response = with_etag(response, &parts.headers).await;
    }
    let not_modified = response.status() == StatusCode::NOT_MODIFIED;
    gh.with(|s| {
        if not_modified {
            // GitHub: a 304 does not count against the primary rate limit.
            s.rate.remaining = (s.rate.remaining + 1).min(s.rate.limit);
        }
        add_common_headers(response.headers_mut(), s, &request_id);
        if let Some(recorded) = s.requests.get_mut(seq as usize) {
            recorded.status = Some(response.status().as_u16());
        }
    });
    response
}

fn token(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    ["bearer", "token"]
        .contains(&scheme.to_ascii_lowercase().as_str())
        .then(|| token.trim().to_owned())
}

fn header_map(headers: &HeaderMap) -> std::collections::BTreeMap<String, String> {
    let mut map = std::collections::BTreeMap::<String, String>::new();
    for (name, value) in headers {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        map.entry(name.as_str().to_owned())
            .and_modify(|v| *v = format!("{v}, {value}"))
            .or_insert(value);
    }
    map
}

fn parse_body(bytes: &[u8]) -> Option<Value> {
    if bytes.is_empty() {
        return None;
    }
    Some(
        serde_json::from_slice(bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(bytes).into_owned())),
    )
}

/// A request for a moved repository's old name: 301 to a read, 307 to anything else, pointing
/// at the same path under `/repositories/{id}`.
fn moved_permanently(
    gh: &GitHub,
    parts: &axum::http::request::Parts,
    moved: Option<(u64, String)>,
) -> Response {
    let (id, rest) = moved.unwrap_or_default();
    let query = parts
        .uri
        .query()
        .map(|q| format!("?{q}"))
        .unwrap_or_default();
    let location = format!("{}/repositories/{id}{rest}{query}", gh.url());
    let (status, message) = match parts.method {
        Method::GET | Method::HEAD => (StatusCode::MOVED_PERMANENTLY, "Moved Permanently"),
        _ => (StatusCode::TEMPORARY_REDIRECT, "Temporary Redirect"),
    };
    let body = serde_json::json!({
        "message": message,
        "url": location,
        "documentation_url": "https://docs.github.com/v3/#http-redirects",
    });
    let mut response = objects::json_response(status, &body);
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

/// A refused credential, answered with GitHub's message.
fn denied(status: u16, message: &str) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::UNAUTHORIZED);
    let body = objects::error(message, "https://docs.github.com/rest", status.as_u16());
    objects::json_response(status, &body)
}

fn requires_authentication() -> Response {
    let body = objects::error(
        "Requires authentication",
        "https://docs.github.com/rest",
        401,
    );
    objects::json_response(StatusCode::UNAUTHORIZED, &body)
}

fn primary_limit_exceeded() -> Response {
    let body = objects::error(
        "API rate limit exceeded for user. (But here's the good news: Authenticated requests get a higher \
         rate limit. Check out the documentation for more details.)",
        "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-the-primary-rate-limit",
        403,
    );
    objects::json_response(StatusCode::FORBIDDEN, &body)
}

async fn truncate(response: Response) -> Response {
    let (parts, body) = response.into_parts();
    let bytes = to_bytes(body, 16 << 20).await.unwrap_or_default();
    let mut response = Response::from_parts(parts, Body::from(bytes.slice(..bytes.len() / 2)));
    response.headers_mut().remove(header::CONTENT_LENGTH);
    response
}

/// A weak ETag over the body; `If-None-Match` with the same tag gets 304 and no body.
async fn with_etag(response: Response, request_headers: &HeaderMap) -> Response {
    let (mut parts, body) = response.into_parts();
    let bytes = to_bytes(body, 16 << 20).await.unwrap_or_default();
    let etag = format!(
        "W/\"{:016x}{:016x}\"",
        objects::fnv1a(&String::from_utf8_lossy(&bytes)),
        bytes.len()
    );
    let matches = request_headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|tag| tag.trim() == etag || tag.trim() == "*")
        });
    if let Ok(value) = HeaderValue::from_str(&etag) {
        parts.headers.insert(header::ETAG, value);
    }
    if matches {
        parts.status = StatusCode::NOT_MODIFIED;
        parts.headers.remove(header::CONTENT_TYPE);
        parts.headers.remove(header::LINK);
        return Response::from_parts(parts, Body::empty());
    }
    parts.headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=60, s-maxage=60"),
    );
    parts.headers.insert(
        header::VARY,
        HeaderValue::from_static("Accept, Authorization, Cookie, X-GitHub-OTP"),
    );
    Response::from_parts(parts, Body::from(bytes))
}

fn add_common_headers(headers: &mut HeaderMap, s: &State, request_id: &str) {
    let mut set = |name: &'static str, value: String| {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    };
    set("x-ratelimit-limit", s.rate.limit.to_string());
    set("x-ratelimit-remaining", s.rate.remaining.to_string());
    set("x-ratelimit-reset", s.rate.reset.to_string());
    set("x-ratelimit-used", s.rate.used().to_string());
    set("x-ratelimit-resource", "core".to_owned());
    set("x-github-request-id", request_id.to_owned());
    set("x-github-api-version-selected", "2022-11-28".to_owned());
    set("x-github-media-type", "github.v3; format=json".to_owned());
    set("server", "github.com".to_owned());
}
