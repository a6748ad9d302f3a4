//! Chaos on the real control plane, seeded: every test prints its seed and the command that
//! replays it (`PREVIEWD_CHAOS_SEED=<seed>`), names it in every assertion, and is bounded in
//! events and time. The seed fixes every choice the test makes (which deliveries are lost,
//! where previewd is killed, which GitHub answers fail); what it cannot fix is the timing of two
//! processes, so a replay reproduces the script, not every interleaving.
//!
//! Each test prints one `chaos figures` line: GitHub calls, writes, and the time to converge.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Namespace;
use kube::api::ListParams;
use kube::{Api, ResourceExt};
use previewd::model::crd::{Desired, PreviewEnvironment};
use previewd::model::labels::instance_selector;
use previewd_testkit::chaos::{Dice, Seed, parse_seed};
use previewd_testkit::github::{Chaos, Fault, GitHub, Targeted};
use previewd_testkit::plan::{self, Odds, Step};
use previewd_testkit::play::deliver_to;
use previewd_testkit::previewd::{Options, Previewd, SECRET};
use previewd_testkit::scenario::Scenario;
use previewd_testkit::sentinel::Sentinel;
use previewd_testkit::webhooks::Delivery;

/// Bound for previews to converge after the chaos ends (deploys, teardowns, a GitHub retry).
const CONVERGE: Duration = Duration::from_secs(90);

/// The recorded spec's generation of PR `number`'s preview.
async fn generation(s: &Scenario, number: u64) -> i64 {
    s.preview(number)
        .await
        .and_then(|pe| pe.metadata.generation)
        .unwrap_or_default()
}

/// One line the session notes can quote.
fn figures(s: &Scenario, seed: &Seed, test: &str, converged: Duration, more: &str) {
    let requests = s.github.requests();
    let faulted = requests.iter().filter(|r| r.fault.is_some()).count();
    println!(
        "chaos figures {test}: seed {}, GitHub calls {} ({faulted} failed on purpose), writes {}, \
         converged in {:.1} s{more}",
        seed.run(),
        requests.len(),
        s.github_writes(),
        converged.as_secs_f64()
    );
}

/// The writes about PR `number`: its comment's creation and edits, as `METHOD` lines.
fn writes_on(s: &Scenario, number: u64) -> Vec<String> {
    let created = format!("/repos/{}/issues/{number}/comments", s.full_name());
    let edited_prefix = format!("/repos/{}/issues/comments/", s.full_name());
    let ids: BTreeSet<u64> = s.comments(number).iter().map(|c| c.id).collect();
    s.github
        .writes()
        .into_iter()
        .filter(|w| {
            w.path == created
                || w.path
                    .strip_prefix(&edited_prefix)
                    .and_then(|rest| rest.split('/').next()?.parse().ok())
                    .is_some_and(|id| ids.contains(&id))
        })
        .map(|w| w.method)
        .collect()
}

/// Burst sizes (1 to 12 copies at once) adding up to `total`.
fn bursts(dice: &mut Dice, total: u64) -> Vec<u64> {
    let mut sizes = Vec::new();
    let mut left = total;
    while left > 0 {
        let size = dice.between(1, 12).min(left);
        sizes.push(size);
        left -= size;
    }
    sizes
}

#[test]
fn a_seed_replays_the_same_script() {
    let script = |run| {
        let seed = Seed::new(run, "a_seed_replays_the_same_script");
        let mut dice = seed.dice("plan");
        let odds = Odds {
            push: 0.5,
            close: 0.5,
        };
        let events = plan::stories(&mut dice, &[1, 2, 3, 4, 5, 6], odds);
        plan::killing(&mut dice, &events, 3, 2500, 2, (0, 800))
    };
    assert_eq!(script(42), script(42));
    assert_ne!(script(42), script(43));
    assert_eq!(parse_seed(" 17 "), Some(17));
    assert_eq!(parse_seed("0x11"), None);
    // Each PR's events keep their order: opened first, closed last.
    let mut dice = Seed::new(7, "order").dice("plan");
    let odds = Odds {
        push: 1.0,
        close: 1.0,
    };
    let events = plan::stories(&mut dice, &[1, 2, 3], odds);
    for number in [1, 2, 3] {
        let story: Vec<Step> = events
            .iter()
            .filter(|(n, _)| *n == number)
            .map(|(_, s)| *s)
            .collect();
        assert_eq!(story.len(), 3, "{events:?}");
        assert_eq!(story[0], Step::Open, "{events:?}");
        assert!(matches!(story[2], Step::Close { .. }), "{events:?}");
    }
    let lost = plan::losing(&mut dice, &events, 0.3, (0, 0));
    assert_eq!(plan::tally(&lost), (0, 3), "{lost:?}");
}

/// The replay command a chaos test prints names this test binary and the test's path in it:
/// libtest names a test's thread after that path, and cargo names the binary's file after the
/// test target (`e2e-<hash>`).
#[test]
fn the_printed_replay_command_runs_this_test() {
    let test = "the_printed_replay_command_runs_this_test";
    let path = std::thread::current()
        .name()
        .expect("libtest names the test's thread")
        .to_owned();
    let exe = std::env::current_exe().expect("the test binary's path");
    let file = exe.file_name().expect("a file name").to_string_lossy();
    let target = file
        .rsplit_once('-')
        .map_or(&*file, |(target, _hash)| target);
    let said = Seed::new(1, test).to_string();
    let command = format!("PREVIEWD_CHAOS_SEED=1 cargo test --test {target} {path})");
    assert!(
        said.ends_with(&command),
        "{said:?} does not end with {command:?}"
    );
}

/// One delivery (one `X-GitHub-Delivery` id, one body) sent a hundred times, in bursts of
/// concurrent copies while the preview deploys and after it is Ready, costs GitHub exactly the
/// writes a single delivery of another PR costs, and leaves one preview and one comment.
#[tokio::test]
async fn a_delivery_sent_a_hundred_times_writes_as_one() {
    let seed = Seed::for_test("a_delivery_sent_a_hundred_times_writes_as_one");
    let mut dice = seed.dice("bursts");
    let s = Scenario::start("chaos-redeliver", |_| {}).await;
    let once = s.open_pr(1);
    let repeated = s.open_pr(2);
    let started = Instant::now();
    deliver_to(&s.previewd, &seed, &once).await;
    let copies = Delivery::new(&s.previewd.webhook_url(), SECRET.as_bytes())
        .id(&uuid::Uuid::new_v4().to_string());
    let sizes = bursts(&mut dice, 100);
    let mut sent = 0;
    let mut at_ready = None;
    let mut refused = Vec::new();
    for size in &sizes {
        if sent >= 50 && at_ready.is_none() {
            s.wait_converged(&seed, &[1, 2], CONVERGE).await;
            at_ready = Some((started.elapsed(), generation(&s, 2).await));
        }
        let burst = (0..*size).map(|_| copies.send(&repeated));
        for answer in futures::future::join_all(burst).await {
            if !(200..300).contains(&answer.status) {
                refused.push((answer.status, answer.body));
            }
        }
        sent += size;
    }
    assert!(refused.is_empty(), "{seed}: copies refused: {refused:?}");
    let (converged, ready_generation) = at_ready.expect("half the copies go before Ready");
    s.wait_converged(&seed, &[1, 2], CONVERGE).await;
    // Longer than an edit window: a stray edit or comment would have landed by now.
    tokio::time::sleep(Duration::from_secs(4)).await;

    let single = writes_on(&s, 1);
    let hundred = writes_on(&s, 2);
    assert_eq!(
        hundred, single,
        "{seed}: a hundred copies wrote {hundred:?}, one delivery {single:?}"
    );
    assert_eq!(
        s.github_writes(),
        single.len() + hundred.len(),
        "{seed}: writes about neither PR: {:?}",
        s.github_write_lines(0)
    );
    assert_eq!(
        generation(&s, 2).await,
        ready_generation,
        "{seed}: copies after Ready changed the recorded spec"
    );
    assert_eq!(
        ready_generation,
        generation(&s, 1).await,
        "{seed}: PR 2's spec was written more often than PR 1's"
    );
    let previews = Api::<PreviewEnvironment>::all(s.kube.clone())
        .list(&ListParams::default().labels(&instance_selector(s.previewd.instance())))
        .await
        .expect("list previews");
    assert_eq!(previews.items.len(), 2, "{seed}: one preview per PR");
    assert_eq!(
        s.previewd_comments(2).len(),
        1,
        "{seed}: {:?}",
        s.previewd_comments(2)
    );
    s.assert_invariants(&seed).await;
    figures(
        &s,
        &seed,
        "redelivery",
        converged,
        &format!(
            ", writes for 1 delivery {single:?}, for 100 copies {hundred:?}, in {} bursts",
            sizes.len()
        ),
    );
}

/// A series of PRs opened, pushed and closed with three in ten webhooks lost: the first resync
/// round that lists GitHub's final state records every missed change, and then every open PR
/// is Ready at its head and every closed PR's namespace is gone.
#[tokio::test]
async fn with_three_webhooks_in_ten_lost_one_resync_converges() {
    let seed = Seed::for_test("with_three_webhooks_in_ten_lost_one_resync_converges");
    let mut dice = seed.dice("plan");
    let numbers: Vec<u64> = (1..=8).collect();
    let odds = Odds {
        push: 0.4,
        close: 0.5,
    };
    let events = plan::stories(&mut dice, &numbers, odds);
    let script = plan::losing(&mut dice, &events, 0.3, (0, 300));
    println!("script: {}", plan::describe(&script));
    let mut s = Scenario::start("chaos-lost", |o| o.resync_secs = 3).await;
    s.play(&seed, &script).await;
    let last_event = Instant::now();
    let mark = s.github.requests().len();

    // The round that starts after the last change has ended when the next one starts.
    let list = format!("/repos/{}/pulls", s.full_name());
    let rounds = |g: &GitHub| {
        g.requests()
            .into_iter()
            .skip(mark)
            .filter(|r| r.method == "GET" && r.path == list)
            .count()
    };
    s.github
        .wait_for("two resync rounds", Duration::from_secs(15), |g| {
            (rounds(g) >= 2).then_some(())
        })
        .await;
    let mut missed = Vec::new();
    for &number in &numbers {
        let truth = s.truth(number);
        let pe = s.preview(number).await;
        let recorded = match (&pe, truth.open) {
            (Some(pe), true) => {
                pe.spec.desired == Desired::Deployed && pe.spec.pull.head_sha == truth.head_sha
            }
            (Some(pe), false) => pe.spec.desired != Desired::Deployed,
            (None, open) => !open,
        };
        if !recorded {
            missed.push((number, truth.open, pe.map(|pe| pe.spec)));
        }
    }
    assert!(
        missed.is_empty(),
        "{seed}: after one resync round, not recorded as GitHub says: {missed:#?}\n{}",
        s.log_tail()
    );
    s.wait_converged(&seed, &numbers, CONVERGE).await;
    let converged = last_event.elapsed();
    s.wait_comments_converged(&seed, &numbers, CONVERGE).await;
    s.assert_invariants(&seed).await;
    let (_, lost) = plan::tally(&script);
    let closed = numbers.iter().filter(|&&n| !s.truth(n).open).count();
    figures(
        &s,
        &seed,
        "lost-webhooks",
        converged,
        &format!(
            ", {lost} of {} deliveries lost, {closed} of {} PRs closed, resync every 3 s",
            events.len(),
            numbers.len()
        ),
    );
}

/// PR lifecycles (open, push, close) while previewd is killed with SIGKILL at seeded moments
/// and deliveries sent while it is down are lost: afterwards every open PR is Ready, every
/// closed PR's namespace is gone, no PR has two previewd comments and no namespace of the
/// installation outlived its preview.
#[tokio::test]
async fn killed_at_random_moments_previewd_leaves_no_trace() {
    let seed = Seed::for_test("killed_at_random_moments_previewd_leaves_no_trace");
    let mut dice = seed.dice("plan");
    let numbers: Vec<u64> = (1..=6).collect();
    let odds = Odds {
        push: 0.5,
        close: 0.5,
    };
    let events = plan::stories(&mut dice, &numbers, odds);
    let script = plan::killing(&mut dice, &events, 4, 2500, 2, (0, 800));
    println!("script: {}", plan::describe(&script));
    let mut s = Scenario::start("chaos-kill", |o| o.resync_secs = 2).await;
    s.play(&seed, &script).await;
    let last_event = Instant::now();
    s.wait_converged(&seed, &numbers, CONVERGE).await;
    let converged = last_event.elapsed();
    s.wait_comments_converged(&seed, &numbers, CONVERGE).await;
    s.assert_invariants(&seed).await;
    let (kills, lost) = plan::tally(&script);
    figures(
        &s,
        &seed,
        "sigkill",
        converged,
        &format!(
            ", {kills} SIGKILLs, {lost} of {} deliveries lost while down",
            events.len()
        ),
    );
}

/// Half of the stand-in's answers fail (5xx, a short hang, a slow answer, HTML), a quarter of
/// the comments created are answered only after previewd's timeout, and its open-PR lists are
/// empty (the first two, then half of them), during a storm of opens, closes and a push: no PR
/// that stayed open loses its preview or namespace, not even for a moment, and once GitHub
/// answers again everything converges.
#[tokio::test]
async fn a_github_failing_half_its_answers_deletes_nothing_wrongly() {
    let seed = Seed::for_test("a_github_failing_half_its_answers_deletes_nothing_wrongly");
    let mut dice = seed.dice("plan");
    let mut s = Scenario::start("chaos-flaky", |o| o.resync_secs = 2).await;
    let first: Vec<u64> = (1..=5).collect();
    let opens: Vec<_> = first.iter().map(|&n| (n, Step::Open)).collect();
    s.play(&seed, &plan::delivered(&mut dice, &opens, (0, 0)))
        .await;
    s.wait_converged(&seed, &first, CONVERGE).await;

    let closing = dice.choose(&first, 2);
    let staying: Vec<u64> = first
        .iter()
        .copied()
        .filter(|n| !closing.contains(n))
        .collect();
    let newcomers: Vec<u64> = (6..=9).collect();
    let closing_new = dice.choose(&newcomers, 2);
    let pushed = *dice.choose(&staying, 1).first().expect("a PR stays open");
    let mut stories: Vec<Vec<_>> = closing
        .iter()
        .map(|&n| vec![(n, Step::Close { merged: false })])
        .collect();
    stories.extend(newcomers.iter().map(|&n| {
        let mut story = vec![(n, Step::Open)];
        if closing_new.contains(&n) {
            story.push((n, Step::Close { merged: true }));
        }
        story
    }));
    stories.push(vec![(pushed, Step::Push(1))]);
    let storm = plan::interleave(&mut dice, stories);
    let script = plan::delivered(&mut dice, &storm, (0, 400));
    println!("storm: {}", plan::describe(&script));

    let kept = s.keep(&staying).await;
    let sentinel = Sentinel::start(s.kube.clone(), s.previewd.instance(), kept.clone());
    let mark = s.github.requests().len();
    let list = format!("/repos/{}/pulls", s.full_name());
    let failures = vec![
        Fault::Status(500),
        Fault::Status(502),
        Fault::Status(503),
        Fault::Hang(Duration::from_secs(1)),
        Fault::Slow(Duration::from_secs(1)),
        Fault::Html(502),
    ];
    // The next two lists are empty for sure, later ones half the time; a quarter of the comments
    // created are answered after previewd gave up (6 s, its timeout is 5 s); and half of all
    // answers fail.
    s.github
        .inject(Fault::EmptyList.times(2).on_exactly("GET", &list));
    s.github.chaos(
        Chaos::new(0.5, seed.derive("empty lists"), vec![Fault::EmptyList])
            .on_exactly("GET", &list),
    );
    let late = vec![Fault::Slow(Duration::from_secs(6))];
    s.github
        .add_chaos(Chaos::new(0.25, seed.derive("late"), late).on("POST", "/repos/"));
    s.github
        .add_chaos(Chaos::new(0.5, seed.derive("failures"), failures));
    s.play(&seed, &script).await;
    // A few more resync rounds under chaos.
    tokio::time::sleep(Duration::from_secs(8)).await;
    s.github.clear_faults();
    let lifted = Instant::now();
    let during: Vec<_> = s.github.requests().into_iter().skip(mark).collect();
    let mut faults: BTreeMap<String, usize> = BTreeMap::new();
    for fault in during.iter().filter_map(|r| r.fault.as_ref()) {
        *faults.entry(format!("{fault:?}")).or_default() += 1;
    }
    let lists = during.iter().filter(|r| r.path == list).count();

    let all: Vec<u64> = first.iter().chain(&newcomers).copied().collect();
    s.wait_converged(&seed, &all, CONVERGE).await;
    let states = lifted.elapsed();
    s.wait_comments_converged(&seed, &all, CONVERGE).await;
    let comments = lifted.elapsed();
    let seen = sentinel.stop().await;
    assert!(
        seen.is_empty(),
        "{seed}: PRs that stayed open lost their preview: {seen:#?}\n{}",
        s.log_tail()
    );
    s.assert_still(&seed, &kept).await;
    s.assert_invariants(&seed).await;
    figures(
        &s,
        &seed,
        "flaky-github",
        states,
        &format!(
            " (comments {:.1} s) after the chaos ended; under chaos {} calls ({lists} lists), \
             failed {faults:?}",
            comments.as_secs_f64(),
            during.len()
        ),
    );
}

/// A second installation (another instance label, its own GitHub) serving the same repository
/// name beside the scenario's.
async fn twin(a: &Scenario, adjust: impl FnOnce(&mut Options)) -> Scenario {
    let github = GitHub::start().await;
    let mut options = Options::new(&github.url(), &a.full_name());
    adjust(&mut options);
    let previewd = Previewd::start(options).await;
    Scenario::serving(github, previewd, a.kube.clone(), &a.owner, &a.repo)
}

/// Two installations with different instance labels serve the same repository name from two
/// GitHubs, both resyncing: a PR number one of them already previews is left to it by the
/// other (its opens and closes change nothing), and one installation's orphan sweep never
/// touches the other's namespaces, while its own orphan goes.
#[tokio::test]
async fn two_installations_never_touch_each_others_previews() {
    let seed = Seed::for_test("two_installations_never_touch_each_others_previews");
    let mut dice = seed.dice("plan");
    let mut a = Scenario::start("chaos-twins", |o| o.resync_secs = 2).await;
    let mut b = twin(&a, |o| o.resync_secs = 2).await;
    let (mine_a, mine_b) = ([1, 2, 3], [11, 12, 13]);
    let opens = |numbers: &[u64]| numbers.iter().map(|&n| (n, Step::Open)).collect::<Vec<_>>();
    let script_a = plan::delivered(&mut dice, &opens(&mine_a), (0, 300));
    let script_b = plan::delivered(&mut dice, &opens(&mine_b), (0, 300));
    tokio::join!(a.play(&seed, &script_a), b.play(&seed, &script_b));
    a.wait_converged(&seed, &mine_a, CONVERGE).await;
    b.wait_converged(&seed, &mine_b, CONVERGE).await;
    let kept_a = a.keep(&[1]).await;
    let kept_b = b.keep(&[11, 12]).await;
    let sentinel_a = Sentinel::start(a.kube.clone(), a.previewd.instance(), kept_a.clone());
    let sentinel_b = Sentinel::start(b.kube.clone(), b.previewd.instance(), kept_b.clone());

    // The other GitHub's PR of a number already previewed: opened and closed, to no effect.
    for (own, other, number) in [(&b, &a, 1), (&a, &b, 11)] {
        for step in [Step::Open, Step::Close { merged: false }] {
            let answer = deliver_to(&own.previewd, &seed, &own.tell(number, step)).await;
            assert!(
                answer.body.contains("another previewd installation"),
                "{seed}: PR {number} of {} taken by {}: {}",
                other.previewd.instance(),
                own.previewd.instance(),
                answer.body
            );
        }
    }
    // Each closes one of its own, A by webhook and B without one (its resync finds it).
    let closing = Instant::now();
    let close_a = a.close_pr(3, false);
    deliver_to(&a.previewd, &seed, &close_a).await;
    b.close_pr(13, true);
    a.wait_converged(&seed, &mine_a, CONVERGE).await;
    b.wait_converged(&seed, &mine_b, CONVERGE).await;
    let closed = closing.elapsed();

    // A is down and PR 2's preview deleted by hand: its namespace is A's orphan. B's sweeps
    // leave it alone; A's first sweep after it is back deletes it.
    a.previewd.kill();
    a.close_pr(2, false);
    a.orphan(2).await;
    let orphan_ns = a.preview_name(2);
    let namespaces = Api::<Namespace>::all(a.kube.clone());
    let lists = format!("/repos/{}/pulls", b.full_name());
    let mark = b.github.requests_to("GET", &lists).len();
    b.github
        .wait_for("two of B's resync rounds", Duration::from_secs(15), |g| {
            (g.requests_to("GET", &lists).len() >= mark + 2).then_some(())
        })
        .await;
    let ns = namespaces
        .get_opt(&orphan_ns)
        .await
        .expect("read namespace");
    assert!(
        ns.as_ref()
            .is_some_and(|ns| ns.metadata.deletion_timestamp.is_none()),
        "{seed}: B's sweep touched A's namespace {orphan_ns}: {:?}\n{}",
        ns.map(|ns| ns.metadata),
        b.log_tail()
    );
    let restarted = Instant::now();
    a.previewd.restart(None).await;
    a.wait_converged(&seed, &mine_a, CONVERGE).await;
    let swept = restarted.elapsed();

    for (s, sentinel, kept, foreign) in
        [(&a, sentinel_a, &kept_a, 11), (&b, sentinel_b, &kept_b, 1)]
    {
        let seen = sentinel.stop().await;
        assert!(
            seen.is_empty(),
            "{seed}: {}'s previews were touched: {seen:#?}\n{}",
            s.previewd.instance(),
            s.log_tail()
        );
        s.assert_still(&seed, kept).await;
        assert!(
            s.previewd_comments(foreign).is_empty(),
            "{seed}: {} commented on PR {foreign}, another installation's",
            s.previewd.instance()
        );
        s.assert_invariants(&seed).await;
    }
    let of_b = namespaces
        .list(&ListParams::default().labels(&instance_selector(b.previewd.instance())))
        .await
        .expect("list B's namespaces");
    let names: BTreeSet<String> = of_b.iter().map(|ns| ns.name_any()).collect();
    let expected: BTreeSet<String> = [11, 12].iter().map(|&n| b.preview_name(n)).collect();
    assert_eq!(names, expected, "{seed}: B's namespaces");
    figures(
        &a,
        &seed,
        "two-installations(A)",
        closed,
        &format!(
            " (both closes), A's orphan swept {:.1} s after A came back; B: GitHub calls {}, \
             writes {}",
            swept.as_secs_f64(),
            b.github.requests().len(),
            b.github_writes()
        ),
    );
}
