//! Seeded scripts of pull request events (pure): which PRs open, get pushes and close, in what
//! interleaving (each PR's own events keep their order), which deliveries are lost and where
//! previewd is killed. The same dice give the same script, which is printed so a failure can be
//! read against it.

use std::time::Duration;

use super::chaos::Dice;

/// One change to a pull request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Opened.
    Open,
    /// A push; the number makes each push's SHA distinct.
    Push(u32),
    /// Closed, merged or not.
    Close {
        /// By a merge.
        merged: bool,
    },
}

/// The odds of a PR's story beyond its opening.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Odds {
    /// Of one push after the opening.
    pub push: f64,
    /// Of a close at the end.
    pub close: f64,
}

/// A PR event.
pub(crate) type Event = (u64, Step);

/// Each PR of `numbers` opens, maybe gets a push, maybe closes; the stories interleaved.
pub fn stories(dice: &mut Dice, numbers: &[u64], odds: Odds) -> Vec<Event> {
    let lists = numbers
        .iter()
        .map(|&number| {
            let mut story = vec![(number, Step::Open)];
            if dice.chance(odds.push) {
                story.push((number, Step::Push(1)));
            }
            if dice.chance(odds.close) {
                let merged = dice.chance(0.5);
                story.push((number, Step::Close { merged }));
            }
            story
        })
        .collect();
    interleave(dice, lists)
}

/// `lists` merged at random, each keeping its own order.
pub fn interleave<T>(dice: &mut Dice, lists: Vec<Vec<T>>) -> Vec<T> {
    let mut queues: Vec<std::collections::VecDeque<T>> =
        lists.into_iter().map(Into::into).collect();
    let mut merged = Vec::new();
    loop {
        queues.retain(|q| !q.is_empty());
        if queues.is_empty() {
            return merged;
        }
        let pick = dice.below(queues.len() as u64) as usize;
        merged.extend(queues[pick].pop_front());
    }
}

/// What a script does next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// The PR changes on GitHub; its webhook arrives or is lost.
    Event {
        /// PR number.
        number: u64,
        /// The change.
        step: Step,
        /// Whether previewd receives the delivery.
        delivered: bool,
    },
    /// Nothing happens for this long.
    Pause(Duration),
    /// previewd is killed with SIGKILL.
    Kill,
    /// previewd starts again.
    Restart,
}

/// Every event delivered, with a pause of `pause_ms` (low, high) after each.
pub fn delivered(dice: &mut Dice, events: &[Event], pause_ms: (u64, u64)) -> Vec<Action> {
    let all = vec![true; events.len()];
    paced(dice, events, &all, pause_ms)
}

/// Exactly `fraction` of the deliveries (rounded) lost, chosen at random; pauses as `delivered`.
pub fn losing(
    dice: &mut Dice,
    events: &[Event],
    fraction: f64,
    pause_ms: (u64, u64),
) -> Vec<Action> {
    let lost = (events.len() as f64 * fraction).round() as usize;
    let indices: Vec<usize> = (0..events.len()).collect();
    let lost = dice.choose(&indices, lost);
    let arrives: Vec<bool> = indices.iter().map(|i| !lost.contains(i)).collect();
    paced(dice, events, &arrives, pause_ms)
}

fn paced(dice: &mut Dice, events: &[Event], arrives: &[bool], pause_ms: (u64, u64)) -> Vec<Action> {
    events
        .iter()
        .zip(arrives)
        .flat_map(|(&(number, step), &delivered)| {
            [
                Action::Event {
                    number,
                    step,
                    delivered,
                },
                Action::Pause(dice.millis(pause_ms.0, pause_ms.1)),
            ]
        })
        .collect()
}

/// `events` delivered with pauses as `delivered`, and previewd killed `kills` times, each at a
/// random moment up to `kill_within_ms` after a random event; while it is down (for up to
/// `lost_at_most` further events) deliveries are lost; it ends running.
pub fn killing(
    dice: &mut Dice,
    events: &[Event],
    kills: usize,
    kill_within_ms: u64,
    lost_at_most: u64,
    pause_ms: (u64, u64),
) -> Vec<Action> {
    let positions: Vec<usize> = (0..events.len()).collect();
    let kill_after = dice.choose(&positions, kills);
    let mut script = Vec::new();
    let mut down_for = 0;
    for (i, &(number, step)) in events.iter().enumerate() {
        script.push(Action::Event {
            number,
            step,
            delivered: down_for == 0,
        });
        if down_for > 0 {
            down_for -= 1;
            if down_for == 0 {
                script.push(Action::Restart);
            }
        }
        if kill_after.contains(&i) && down_for == 0 {
            script.push(Action::Pause(dice.millis(0, kill_within_ms)));
            script.push(Action::Kill);
            down_for = dice.below(lost_at_most + 1);
            if down_for == 0 {
                script.push(Action::Restart);
            }
        }
        script.push(Action::Pause(dice.millis(pause_ms.0, pause_ms.1)));
    }
    if down_for > 0 {
        script.push(Action::Restart);
    }
    script
}

/// How many of `script`'s actions are kills, and how many deliveries it loses.
pub fn tally(script: &[Action]) -> (usize, usize) {
    let kills = script.iter().filter(|a| **a == Action::Kill).count();
    let lost = script
        .iter()
        .filter(|a| {
            matches!(
                a,
                Action::Event {
                    delivered: false,
                    ..
                }
            )
        })
        .count();
    (kills, lost)
}

/// `script` in a line: events, kills and restarts, pauses left out.
pub fn describe(script: &[Action]) -> String {
    let words: Vec<String> = script
        .iter()
        .filter_map(|action| match *action {
            Action::Event {
                number,
                step,
                delivered,
            } => {
                let what = match step {
                    Step::Open => "open".to_owned(),
                    Step::Push(n) => format!("push {n}"),
                    Step::Close { merged: true } => "merge".to_owned(),
                    Step::Close { merged: false } => "close".to_owned(),
                };
                let lost = if delivered { "" } else { " (lost)" };
                Some(format!("#{number} {what}{lost}"))
            }
            Action::Pause(_) => None,
            Action::Kill => Some("SIGKILL".to_owned()),
            Action::Restart => Some("restart".to_owned()),
        })
        .collect();
    words.join(", ")
}
