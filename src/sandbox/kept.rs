//! A bounded memory of values by key, shared by its clones: at most `capacity` values; when
//! full, the older half is forgotten.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex};

/// Values kept by key.
#[derive(Debug)]
pub(crate) struct Kept<K, V> {
    inner: Arc<Mutex<Inner<K, V>>>,
    capacity: usize,
}

#[derive(Debug)]
struct Inner<K, V> {
    by_key: HashMap<K, V>,
    /// Keys in the order they were first kept.
    order: Vec<K>,
}

impl<K, V> Clone for Kept<K, V> {
    fn clone(&self) -> Self {
        Kept {
            inner: self.inner.clone(),
            capacity: self.capacity,
        }
    }
}

impl<K: Eq + Hash + Clone, V: Clone> Kept<K, V> {
    /// An empty memory of at most `capacity` values.
    pub(crate) fn new(capacity: usize) -> Self {
        Kept {
            inner: Arc::new(Mutex::new(Inner {
                by_key: HashMap::new(),
                order: Vec::new(),
            })),
            capacity: capacity.max(2),
        }
    }

    /// The value kept for `key`.
    pub(crate) fn get(&self, key: &K) -> Option<V> {
        self.lock().by_key.get(key).cloned()
    }

    /// Keeps `value` for `key`, forgetting the older half first when full.
    pub(crate) fn keep(&self, key: K, value: V) {
        let mut inner = self.lock();
        if inner.order.len() >= self.capacity {
            let forgotten: Vec<K> = inner.order.drain(..self.capacity / 2).collect();
            for old in forgotten {
                inner.by_key.remove(&old);
            }
        }
        if inner.by_key.insert(key.clone(), value).is_none() {
            inner.order.push(key);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner<K, V>> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_older_half_goes_when_full() {
        let kept = Kept::new(4);
        for n in 0..4 {
            kept.keep(n, n * 10);
        }
        kept.keep(4, 40);
        assert_eq!(kept.get(&0), None);
        assert_eq!(kept.get(&1), None);
        assert_eq!(kept.get(&2), Some(20));
        assert_eq!(kept.get(&4), Some(40));
        kept.clone().keep(2, 21);
        assert_eq!(kept.get(&2), Some(21), "clones share the memory");
    }
}
