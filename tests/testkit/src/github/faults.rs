//! Failure injection: what the stand-in answers instead of (or on top of) the real answer.
//!
//! Two sources, consulted in this order for every API request:
//! 1. rules (`Fault::X.times(n)`), first matching rule with uses left wins, FIFO;
//! 2. chaos plans, in the order added: each matching plan picks one of its faults with
//!    probability `p` from a seeded xorshift RNG (the first that picks wins), so a failing chaos
//!    run replays exactly with the same seed and request order.

use std::time::Duration;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::objects;

/// One way for a request to go wrong.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum Fault {
    /// Answer this status (500, 502, 503...) with GitHub's JSON error body; nothing is applied.
    Status(u16),
    /// Sleep this long (longer than the client's timeout), then answer 504; nothing is applied.
    Hang(Duration),
    /// Apply the request, then hold the answer this long: a client that gave up meanwhile
    /// never learns that its write landed.
    Slow(Duration),
    /// An HTML page (GitHub's "unicorn") with this status instead of JSON; nothing is applied.
    Html(u16),
    /// 401 Bad credentials, as for a revoked token; nothing is applied.
    BadCredentials,
    /// 403 secondary rate limit with `retry-after: <secs>`; nothing is applied.
    SecondaryRateLimit {
        /// The `retry-after` header, in seconds.
        retry_after: u64,
    },
    /// 200 with `[]` and no `Link` header, as a list endpoint answers during an incident.
    EmptyList,
    /// Apply the request, answer its real status and headers with the body cut in half.
    Truncated,
}

impl Fault {
    /// A rule that fires on the next `n` requests.
    pub fn times(self, n: usize) -> FaultRule {
        FaultRule {
            fault: self,
            remaining: n,
            target: Target::default(),
        }
    }

    /// A rule that fires on the next request.
    pub fn once(self) -> FaultRule {
        self.times(1)
    }

    /// Whether the request reaches the handler (and so takes effect) under this fault.
    pub(super) fn applies_request(&self) -> bool {
        matches!(self, Fault::Slow(_) | Fault::Truncated)
    }

    /// The answer given instead of the handler's, for faults that short-circuit.
    pub(super) fn response(&self, request_id: &str) -> Response {
        match self {
            Fault::Status(code) => {
                let status = status(*code);
                let message = status.canonical_reason().unwrap_or("Server Error");
                objects::json_response(
                    status,
                    &objects::error(message, "https://docs.github.com/rest", *code),
                )
            }
            Fault::Hang(_) => {
                let body = objects::error("Gateway Timeout", "https://docs.github.com/rest", 504);
                objects::json_response(StatusCode::GATEWAY_TIMEOUT, &body)
            }
            Fault::Html(code) => {
                let mut response =
                    (status(*code), objects::unicorn_page(request_id)).into_response();
                response.headers_mut().insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/html; charset=utf-8"),
                );
                response
            }
            Fault::BadCredentials => objects::bad_credentials().into_response(),
            Fault::SecondaryRateLimit { retry_after } => {
                let message = format!(
                    "You have exceeded a secondary rate limit. Please wait a few minutes before you try \
                     again. If you reach out to GitHub Support for help, please include the request ID \
                     {request_id}."
                );
                let body = objects::error(
                    &message,
                    "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits",
                    403,
                );
                let mut response = objects::json_response(StatusCode::FORBIDDEN, &body);
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(*retry_after));
                response
            }
            Fault::EmptyList => objects::json_response(StatusCode::OK, &serde_json::json!([])),
            Fault::Slow(_) | Fault::Truncated => {
                unreachable!("{self:?} answers with the handler's response")
            }
        }
    }
}

fn status(code: u16) -> StatusCode {
    StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// Which requests a fault applies to: all, or those with a method and/or path prefix.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Target {
    method: Option<String>,
    path_prefix: Option<String>,
    /// The path must equal the prefix (a list, not its items).
    exact: bool,
}

impl Target {
    fn matches(&self, method: &str, path: &str) -> bool {
        self.method.as_deref().is_none_or(|m| m == method)
            && self
                .path_prefix
                .as_deref()
                .is_none_or(|p| match self.exact {
                    true => path == p,
                    false => path.starts_with(p),
                })
    }
}

/// Narrowing a fault to some requests.
pub trait Targeted: Sized {
    /// The requests it applies to.
    fn target(&mut self) -> &mut Target;

    /// Only requests with this method (`"GET"`, `"POST"`...) whose path starts with `prefix`.
    fn on(mut self, method: &str, prefix: &str) -> Self {
        self.target().method = Some(method.to_ascii_uppercase());
        self.target().path_prefix = Some(prefix.to_owned());
        self
    }

    /// Only requests with this method to exactly this path (`/repos/o/r/pulls`, the list, and
    /// not `/repos/o/r/pulls/7`).
    fn on_exactly(mut self, method: &str, path: &str) -> Self {
        self = self.on(method, path);
        self.target().exact = true;
        self
    }

    /// Only requests whose path starts with `prefix`, any method.
    fn on_path(mut self, prefix: &str) -> Self {
        self.target().path_prefix = Some(prefix.to_owned());
        self
    }
}

/// A fault for the next N requests, optionally only those matching a method and path prefix.
#[derive(Clone, Debug, Serialize)]
pub struct FaultRule {
    fault: Fault,
    remaining: usize,
    #[serde(flatten)]
    target: Target,
}

impl Targeted for FaultRule {
    fn target(&mut self) -> &mut Target {
        &mut self.target
    }
}

impl FaultRule {
    fn matches(&self, method: &str, path: &str) -> bool {
        self.target.matches(method, path)
    }
}

/// Fail a fraction `p` of the matching requests with one of `faults`, chosen by a seeded RNG.
#[derive(Clone, Debug)]
pub struct Chaos {
    p: f64,
    faults: Vec<Fault>,
    rng: XorShift64,
    target: Target,
}

impl Targeted for Chaos {
    fn target(&mut self) -> &mut Target {
        &mut self.target
    }
}

impl Chaos {
    /// `p` in [0, 1]; `faults` must not be empty; the same seed gives the same choices.
    pub fn new(p: f64, seed: u64, faults: Vec<Fault>) -> Self {
        assert!(
            (0.0..=1.0).contains(&p),
            "chaos probability {p} is not in [0, 1]"
        );
        assert!(
            !faults.is_empty(),
            "chaos needs at least one fault to pick from"
        );
        Chaos {
            p,
            faults,
            rng: XorShift64::new(seed),
            target: Target::default(),
        }
    }

    fn pick(&mut self, method: &str, path: &str) -> Option<Fault> {
        if !self.target.matches(method, path) || self.rng.next_f64() >= self.p {
            return None;
        }
        let index = (self.rng.next_u64() % self.faults.len() as u64) as usize;
        Some(self.faults[index].clone())
    }
}

/// The stand-in's fault plan.
#[derive(Debug, Default)]
pub(super) struct Faults {
    rules: Vec<FaultRule>,
    chaos: Vec<Chaos>,
}

impl Faults {
    pub(super) fn push(&mut self, rule: FaultRule) {
        self.rules.push(rule);
    }

    pub(super) fn set_chaos(&mut self, chaos: Option<Chaos>) {
        self.chaos = chaos.into_iter().collect();
    }

    pub(super) fn add_chaos(&mut self, chaos: Chaos) {
        self.chaos.push(chaos);
    }

    pub(super) fn clear(&mut self) {
        *self = Faults::default();
    }

    /// The fault for this request, if any; consumes one use of the rule that fired.
    pub(super) fn pick(&mut self, method: &str, path: &str) -> Option<Fault> {
        if let Some(index) = self
            .rules
            .iter()
            .position(|r| r.remaining > 0 && r.matches(method, path))
        {
            let rule = &mut self.rules[index];
            rule.remaining -= 1;
            let fault = rule.fault.clone();
            self.rules.retain(|r| r.remaining > 0);
            return Some(fault);
        }
        self.chaos.iter_mut().find_map(|c| c.pick(method, path))
    }

    /// Rule uses not yet consumed (chaos excluded).
    pub(super) fn pending(&self) -> usize {
        self.rules.iter().map(|r| r.remaining).sum()
    }
}

/// Marsaglia's xorshift64: tiny, seedable, and good enough to pick faults.
#[derive(Clone, Debug)]
pub(crate) struct XorShift64(u64);

impl XorShift64 {
    /// A generator; seed 0 (a fixed point of xorshift) is replaced by a constant.
    pub(crate) fn new(seed: u64) -> Self {
        XorShift64(if seed == 0 {
            0x9E37_79B9_7F4A_7C15
        } else {
            seed
        })
    }

    /// The next 64 random bits.
    pub(crate) fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// Uniform in [0, 1).
    pub(crate) fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}
