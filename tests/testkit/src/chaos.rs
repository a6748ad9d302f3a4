//! Seeded chaos: one seed per run, taken from `PREVIEWD_CHAOS_SEED` or else from the clock, and
//! always printed with the command that replays it; dice derived from it, one stream per test
//! and purpose, so every seeded choice of a run comes back with the same seed.

use std::fmt;
use std::time::Duration;

use super::github::XorShift64;

/// The variable that fixes the run's seed.
pub(crate) const SEED_VAR: &str = "PREVIEWD_CHAOS_SEED";

/// A test's seed: the run's seed and the test's name.
#[derive(Clone, Copy, Debug)]
pub struct Seed {
    run: u64,
    test: &'static str,
}

impl Seed {
    /// The run's seed for `test` (the test function's name), printed with how to replay it.
    pub fn for_test(test: &'static str) -> Seed {
        let run = match std::env::var(SEED_VAR) {
            Ok(text) => parse_seed(&text)
                .unwrap_or_else(|| panic!("{SEED_VAR}={text:?} is not a decimal u64")),
            Err(_) => clock_seed(),
        };
        let seed = Seed::new(run, test);
        println!("chaos {seed}");
        seed
    }

    /// A seed fixed by the caller (for checks of the planning itself).
    pub fn new(run: u64, test: &'static str) -> Seed {
        Seed { run, test }
    }

    /// The run's seed.
    pub fn run(&self) -> u64 {
        self.run
    }

    /// A number derived from the seed for `purpose` (e.g. the stand-in's chaos plan's seed).
    pub fn derive(&self, purpose: &str) -> u64 {
        mix(mix(self.run, self.test), purpose)
    }

    /// Dice for `purpose`: the same seed, test and purpose throw the same values.
    pub fn dice(&self, purpose: &str) -> Dice {
        Dice(XorShift64::new(self.derive(purpose)))
    }
}

impl fmt::Display for Seed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "seed {run} (replay: {SEED_VAR}={run} cargo test --test e2e chaos::{test})",
            run = self.run,
            test = self.test
        )
    }
}

/// A decimal seed, surrounding blanks allowed.
pub fn parse_seed(text: &str) -> Option<u64> {
    text.trim().parse().ok()
}

fn clock_seed() -> u64 {
    let since_epoch = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    // Two tests started in the same instant share it, which is harmless: each mixes in its name.
    since_epoch.as_nanos() as u64 ^ u64::from(std::process::id())
}

/// FNV-1a of `text` folded into `seed`, then splitmix64's finaliser: distinct purposes give
/// unrelated streams.
fn mix(seed: u64, text: &str) -> u64 {
    let mut hash = 0xcbf2_9ce4_8422_2325_u64 ^ seed;
    for byte in text.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    let mut z = hash.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Seeded random choices.
#[derive(Clone, Debug)]
pub struct Dice(XorShift64);

impl Dice {
    /// Uniform in `0..n` (0 when `n` is 0).
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        match n {
            0 => 0,
            n => self.0.next_u64() % n,
        }
    }

    /// Uniform in `low..=high`.
    pub fn between(&mut self, low: u64, high: u64) -> u64 {
        low + self.below(high.saturating_sub(low) + 1)
    }

    /// True with probability `p`.
    pub(crate) fn chance(&mut self, p: f64) -> bool {
        self.0.next_f64() < p
    }

    /// A pause of `low_ms..=high_ms` milliseconds.
    pub(crate) fn millis(&mut self, low_ms: u64, high_ms: u64) -> Duration {
        Duration::from_millis(self.between(low_ms, high_ms))
    }

    /// Shuffles `items` (Fisher–Yates).
    pub(crate) fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            items.swap(i, j);
        }
    }

    /// `count` of `items` (all of them if fewer), in their original order.
    pub fn choose<T: Clone>(&mut self, items: &[T], count: usize) -> Vec<T> {
        let mut indices: Vec<usize> = (0..items.len()).collect();
        self.shuffle(&mut indices);
        indices.truncate(count);
        indices.sort_unstable();
        indices.into_iter().map(|i| items[i].clone()).collect()
    }
}
