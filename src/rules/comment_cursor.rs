//! Where the polling mode is in a repository's comments (pure). GitHub gives times to the
//! second and filters on when a comment was last *updated*; the cursor keeps the newest creation
//! second seen and the ids seen at that second, so the next answer's comments are told apart
//! exactly: new ones are created later, or in that same second under another id.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};

/// The newest comment creation second seen in a repository, and the ids created in it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct CommentCursor {
    /// Asked as `since`: every comment created from then on is in the answer.
    pub since: DateTime<Utc>,
    /// Comments created in the second `since` names that were seen already.
    pub seen_at_since: BTreeSet<u64>,
}

impl CommentCursor {
    /// A cursor that sees comments created from `start` on.
    pub(crate) fn from(start: DateTime<Utc>) -> Self {
        CommentCursor {
            since: start,
            seen_at_since: BTreeSet::new(),
        }
    }

    /// Whether the comment `id`, created at `created`, is new to this cursor.
    pub(crate) fn is_new(&self, id: u64, created: DateTime<Utc>) -> bool {
        created > self.since || (created == self.since && !self.seen_at_since.contains(&id))
    }

    /// The cursor once the comments `seen` (id, creation) are handled as well.
    pub(crate) fn after(&self, seen: impl IntoIterator<Item = (u64, DateTime<Utc>)>) -> Self {
        let mut next = self.clone();
        for (id, created) in seen {
            if created > next.since {
                next = CommentCursor::from(created);
            }
            if created == next.since {
                next.seen_at_since.insert(id);
            }
        }
        next
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn at(second: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + second, 0).expect("a time")
    }

    #[test]
    fn comments_of_the_cursors_second_are_new_unless_seen() {
        let cursor = CommentCursor::from(at(0)).after([(7, at(5)), (8, at(5)), (6, at(4))]);
        assert_eq!(cursor.since, at(5));
        assert!(!cursor.is_new(7, at(5)) && !cursor.is_new(8, at(5)));
        assert!(cursor.is_new(9, at(5)));
        assert!(cursor.is_new(10, at(6)));
        assert!(!cursor.is_new(6, at(4)), "an older comment edited since");
    }

    proptest! {
        /// Comments arrive in rounds (each answer holds every comment created from `since` on,
        /// plus old ones edited since); every comment is handled exactly once, whatever the
        /// order within an answer and however many share a second.
        #[test]
        fn every_comment_is_new_exactly_once(
            seconds in proptest::collection::vec(0i64..6, 0..40),
            cuts in proptest::collection::vec(0usize..40, 0..6),
            edited in proptest::collection::vec(0usize..40, 0..6),
        ) {
            // Comment i is created at seconds[i], in creation order (ids increase).
            let mut created: Vec<(u64, DateTime<Utc>)> = Vec::new();
            let mut second = 0;
            for (i, step) in seconds.iter().enumerate() {
                second += step;
                created.push((i as u64 + 1, at(second)));
            }
            let mut rounds: Vec<usize> = cuts.iter().map(|c| c % (created.len() + 1)).collect();
            rounds.push(created.len());
            rounds.sort_unstable();
            let mut cursor = CommentCursor::from(at(0));
            let mut handled = Vec::new();
            for written in rounds {
                let mut answer: Vec<(u64, DateTime<Utc>)> = created[..written]
                    .iter()
                    .copied()
                    .filter(|(_, c)| *c >= cursor.since)
                    .collect();
                for e in &edited {
                    if let Some(old) = created[..written].get(e % written.max(1)) {
                        answer.push(*old);
                    }
                }
                answer.reverse();
                let new: Vec<_> = answer
                    .iter()
                    .copied()
                    .filter(|(id, c)| cursor.is_new(*id, *c))
                    .collect::<std::collections::BTreeMap<_, _>>()
                    .into_iter()
                    .collect();
                handled.extend(new.iter().map(|(id, _)| *id));
                cursor = cursor.after(new);
            }
            let expected: Vec<u64> = created.iter().map(|(id, _)| *id).collect();
            handled.sort_unstable();
            prop_assert_eq!(handled, expected);
        }
    }
}
