//! Conditional reads: a GET asked again is sent with the ETag of its last answer, and GitHub's
//! `304 Not Modified` (which costs no rate limit) reuses what that answer said.

use std::collections::HashMap;
use std::sync::Mutex;

use http::header::{ETAG, HeaderMap, HeaderValue, IF_NONE_MATCH};
use serde::de::DeserializeOwned;

use super::client::{GitHub, GitHubError};
use super::transport::Call;

/// Page size GitHub allows at most.
pub(crate) const PER_PAGE: usize = 100;
/// Pages read at most in one listing (10,000 items).
const MAX_PAGES: u32 = 100;

/// What one listing cost.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Cost {
    /// Pages GitHub answered anew.
    pub fresh: usize,
    /// Pages answered `304 Not Modified`.
    pub unchanged: usize,
}

/// The last answer to each read, by a key the caller chooses, with its ETag.
pub(crate) struct Remembered<T> {
    answers: Mutex<HashMap<String, (String, T)>>,
    /// Answers kept at most (none: as many as there are keys).
    capacity: Option<usize>,
}

impl<T> Default for Remembered<T> {
    fn default() -> Self {
        Remembered {
            answers: Mutex::new(HashMap::new()),
            capacity: None,
        }
    }
}

impl<T> Remembered<T> {
    /// A memory of at most `capacity` answers, for reads whose keys keep coming (one per
    /// commit): past it, some answer is forgotten, and that read is answered anew next time.
    pub(crate) fn bounded(capacity: usize) -> Self {
        Remembered {
            answers: Mutex::new(HashMap::new()),
            capacity: Some(capacity.max(1)),
        }
    }
}

impl<T: Clone> Remembered<T> {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (String, T)>> {
        self.answers.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// What a conditional read answered.
pub(crate) struct Read<T> {
    /// The answer, new or remembered.
    pub value: T,
    /// Whether GitHub answered anew (`false`: `304`, the remembered answer).
    pub fresh: bool,
}

impl GitHub {
    /// Sends the GET `call` with the ETag remembered under `key`, and reads its answer as `T`;
    /// a `304` gives the remembered answer back.
    pub(crate) async fn read_remembered<T: DeserializeOwned + Clone>(
        &self,
        mut call: Call,
        key: String,
        memory: &Remembered<T>,
    ) -> Result<Read<T>, GitHubError> {
        let operation = call.operation;
        let known = memory.lock().get(&key).cloned();
        if let Some(value) = known
            .as_ref()
            .and_then(|(etag, _)| HeaderValue::from_str(etag).ok())
        {
            call.headers = Some(HeaderMap::from_iter([(IF_NONE_MATCH, value)]));
        }
        let answer = self.send(call).await?;
        if let (304, Some((_, value))) = (answer.status, known) {
            return Ok(Read {
                value,
                fresh: false,
            });
        }
        let value: T = answer.json(operation)?;
        if let Some(etag) = answer.headers.get(ETAG).and_then(|v| v.to_str().ok()) {
            let mut answers = memory.lock();
            let full = memory
                .capacity
                .is_some_and(|cap| answers.len() >= cap && !answers.contains_key(&key));
            if full && let Some(any) = answers.keys().next().cloned() {
                answers.remove(&any);
            }
            answers.insert(key, (etag.to_owned(), value.clone()));
        }
        Ok(Read { value, fresh: true })
    }
}

impl GitHub {
    /// Every item of a paginated list, page by page (`page` makes the call of page `n` of
    /// `PER_PAGE` items, `items` takes them out of its answer) until one is not full; each page
    /// asked conditionally, remembered under `key` and its number.
    pub(crate) async fn read_all_pages<P: DeserializeOwned + Clone, T>(
        &self,
        page: impl Fn(u32) -> Call,
        items: impl Fn(P) -> Vec<T>,
        key: &str,
        memory: &Remembered<P>,
    ) -> Result<(Vec<T>, Cost), GitHubError> {
        let mut all = Vec::new();
        let mut cost = Cost::default();
        for number in 1..=MAX_PAGES {
            let read = self
                .read_remembered(page(number), format!("{key}#{number}"), memory)
                .await?;
            match read.fresh {
                true => cost.fresh += 1,
                false => cost.unchanged += 1,
            }
            let batch = items(read.value);
            let last = batch.len() < PER_PAGE;
            all.extend(batch);
            if last {
                break;
            }
        }
        Ok((all, cost))
    }
}
