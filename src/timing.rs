//! Every wait, retry and pace of previewd, named in one place: how often the controller looks
//! again at a preview in each situation, how it backs off, and how it paces GitHub. No other
//! module of previewd writes a duration as a number.

use std::time::Duration;

const fn seconds(n: u64) -> Duration {
    Duration::from_secs(n)
}

const fn millis(n: u64) -> Duration {
    Duration::from_millis(n)
}

// --- When the controller looks at a preview again ---

/// A Ready preview: drift in kinds that are not watched is put back at the latest this late.
pub(crate) const READY_RECHECK: Duration = seconds(600);
/// A Failed preview is tried again.
pub(crate) const FAILED_RETRY: Duration = seconds(300);
/// A namespace of the preview's name that is not its own: asked again now and then.
pub(crate) const FOREIGN_NAMESPACE_RECHECK: Duration = seconds(300);
/// An object the API server refused (admission, quota, validation).
pub(crate) const REFUSED_RETRY: Duration = seconds(60);
/// A held preview (paused, or a fork push waiting for approval) keeps what runs.
pub(crate) const HOLD_RECHECK: Duration = seconds(60);
/// previewd is paused and the preview has nothing running.
pub(crate) const PAUSED_RECHECK: Duration = seconds(10);
/// A queued preview is woken when a slot frees; this is the backstop.
pub(crate) const QUEUE_BACKSTOP: Duration = seconds(30);
/// The previous namespace of the same name is still terminating.
pub(crate) const PREVIOUS_NAMESPACE_POLL: Duration = seconds(2);
/// The preview's own namespace is terminating (the namespace watch wakes the controller sooner).
pub(crate) const TERMINATING_POLL: Duration = seconds(10);
/// Waiting for workloads: looked at again at least this often (their watches wake it sooner).
pub(crate) const DEPLOYING_POLL: Duration = seconds(30);
/// The quota controller has not counted the preview's ResourceQuota yet.
pub(crate) const QUOTA_POLL: Duration = seconds(2);
/// How long one reconcile waits for the quota to be counted before it requeues.
pub(crate) const QUOTA_WAIT: Duration = seconds(10);
/// First and longest pause between two looks at a replaced Job that is still being deleted.
pub(crate) const REPLACE_LOOK_FIRST: Duration = millis(50);
/// See `REPLACE_LOOK_FIRST`.
pub(crate) const REPLACE_LOOK_MAX: Duration = seconds(1);
/// How long one reconcile waits for a replaced Job (and its pods) to be gone.
pub(crate) const REPLACE_WAIT: Duration = seconds(10);
/// A delivery for a preview whose record is being removed looks again this often.
pub(crate) const REMOVED_RECORD_POLL: Duration = millis(100);
/// Never requeue sooner than this (no hot loop, also when an expiry is due).
pub(crate) const MIN_REQUEUE: Duration = seconds(1);
/// A preview found Ready by reading its workloads again is applied in full this soon after.
pub(crate) const CONFIRM_REREAD: Duration = seconds(1);
/// A delivery changed the spec while commands ran: run again on what it wrote.
pub(crate) const COMMANDS_RERUN: Duration = millis(200);

// --- After a failed reconcile ---

/// The namespace is still terminating while the finalizer waits for it.
pub(crate) const STILL_TERMINATING_RETRY: Duration = seconds(5);
/// A GitHub error GitHub gave no time for: GitHub is slow to forgive.
pub(crate) const GITHUB_RETRY: Duration = seconds(30);
/// A GitHub refusal that asking again cannot fix (a permission, say): reported, retried rarely.
pub(crate) const GITHUB_PERMANENT_RETRY: Duration = seconds(300);
/// Never sooner than this after a GitHub rate limit, whatever GitHub said.
pub(crate) const GITHUB_MIN_RETRY: Duration = seconds(1);
/// A GitHub App's JWT is dated this far in the past, against clocks a little ahead of GitHub's.
pub(crate) const APP_JWT_BACKDATE: Duration = seconds(60);
/// A GitHub App's JWT expires this long after it is made (GitHub allows 10 minutes; the margin
/// covers a clock a little behind GitHub's).
pub(crate) const APP_JWT_LIFETIME: Duration = seconds(540);
/// An installation token with less than this left is replaced before it is used.
pub(crate) const INSTALLATION_TOKEN_REFRESH: Duration = seconds(300);
/// A suspended or missing installation is not asked about again for this long (each call in
/// the meantime fails at once with the same answer).
pub(crate) const INSTALLATION_REFUSAL_MEMO: Duration = seconds(60);
/// Any other failure (the API server, mostly).
pub(crate) const ERROR_RETRY: Duration = seconds(10);
/// A record being deleted waits for the publisher to send its last comment.
pub(crate) const COMMENT_PENDING_RETRY: Duration = seconds(1);

// --- The controller's machinery ---

/// First wait of a watch after an error; doubled up to `WATCH_BACKOFF_MAX`.
pub(crate) const WATCH_BACKOFF_FIRST: Duration = millis(250);
/// About one request a second while the API server is down.
pub(crate) const WATCH_BACKOFF_MAX: Duration = seconds(1);
/// How long the controller's cache may lag behind a status write (a slot freed, say).
pub(crate) const CACHE_CATCH_UP: Duration = seconds(1);
/// How long an admission counts before the cache shows the preview deploying.
pub(crate) const ADMITTED_FOR: Duration = seconds(60);
/// A replica that failed to take or renew the Lease tries again after this.
pub(crate) const LEASE_RETRY: Duration = seconds(5);
/// How long a dashboard page waits for the first list of previews before answering 503.
pub(crate) const DASHBOARD_LIST_WAIT: Duration = seconds(5);
/// How often an allowlist entry GitHub could not resolve is asked again, without a resync.
pub(crate) const ALLOWLIST_RETRY: Duration = seconds(60);

// --- What people may ask for ---

/// A command comment written longer ago than this does not run: longer than the resync
/// interval and clock skew, short enough that a replayed old comment finds nothing to do.
pub(crate) const COMMAND_MAX_AGE: Duration = seconds(60 * 60);
/// A user whose command was refused gets no other 👎 or line on that PR for this long.
pub(crate) const REFUSAL_QUIET: Duration = seconds(60 * 60);

/// The longest duration previewd takes from a person (a time to live, `/preview extend`);
/// longer is what `ttl: never` and `/preview pin` are for.
pub(crate) const LONGEST_ASKED: Duration = seconds(365 * 24 * 60 * 60);

/// How long a destroyed preview's record is kept when `keepDestroyedFor` is not set.
pub(crate) const DEFAULT_KEEP_DESTROYED: Duration = seconds(7 * 24 * 60 * 60);
/// An event about a pull request previewd has no record of, whose `updated_at` is older than
/// this, is confirmed with GitHub before anything deploys: the record may have been removed.
pub(crate) const FRESH_EVENT: Duration = seconds(60 * 60);

/// How long an idle preview lives when its repository sets no `ttl`.
pub(crate) const DEFAULT_TTL: Duration = seconds(72 * 60 * 60);
/// How long a commit waits for its CI checks when its repository sets no `checksTimeout`.
pub(crate) const DEFAULT_CHECKS_TIMEOUT: Duration = seconds(60 * 60);
/// Check answers remembered (with their ETags) at most, across commits.
pub(crate) const CHECKS_REMEMBERED: usize = 4096;
/// A deployment starting within this long of the push counts its time to live from the push.
pub(crate) const SAME_MOMENT: Duration = seconds(60);

// --- GitHub ---

/// A webhook body must have arrived within this long: GitHub gives up on the answer after 10 s.
pub(crate) const WEBHOOK_BODY_DEADLINE: Duration = seconds(10);

/// Content-creating calls (POSTs) go out one at a time, at least this far apart.
pub(crate) const CREATION_SPACING: Duration = seconds(1);
/// At most one edit of a comment per window.
pub(crate) const EDIT_WINDOW: Duration = seconds(3);
/// A deploy under way is said on the PR only once it has taken this long: a preview Ready
/// sooner gets one write saying Ready.
pub(crate) const DEPLOYING_QUIET: Duration = seconds(2);
/// The publisher writes what it sent into the status again after a failed write this late.
pub(crate) const PUBLISHER_WRITE_RETRY: Duration = seconds(1);
/// A collaborator permission GitHub reported is trusted this long.
pub(crate) const PERMISSION_FRESH_FOR: Duration = seconds(60);
/// First wait after a rate limit that names no time; doubled on each one in a row.
pub(crate) const RATE_LIMIT_FIRST_BACKOFF: Duration = seconds(60);
/// Longest wait previewd imposes on itself after a rate limit.
pub(crate) const RATE_LIMIT_MAX_BACKOFF: Duration = seconds(15 * 60);

/// How far behind the cache of records runs under the `records-lag` failpoint (tests of a
/// stale cache).
pub(crate) const RECORDS_LAG_FAILPOINT: Duration = seconds(3);

/// A render of a repository's chart still running after this long is killed (unless
/// `--render-timeout-secs` says otherwise).
pub(crate) const RENDER_TIMEOUT: Duration = seconds(30);

/// How long a changed copy source waits for the cache of records to have listed them before
/// the change is left to the next reconcile of each preview.
pub(crate) const RECORDS_LISTED_WAIT: Duration = seconds(30);

/// One request to an HTTP chart repository (its index, or an archive).
pub(crate) const CHART_FETCH_TIMEOUT: Duration = seconds(30);
