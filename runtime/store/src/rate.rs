//! Edge rate limiting that counts: the rate counters and penalty boxes behind
//! `fastly:edge-rate-limiter`, one set per simulated edge location, on an injected clock.
//!
//! A counter keeps, per entry, one bucket per second for the last 60 seconds: `lookupCount`
//! sums the buckets of the last 10…60 seconds, `lookupRate` is the count of the last 1, 10 or
//! 60 seconds divided by the window (requests per second). A penalty box holds an entry for a
//! number of whole minutes. `checkRate` is the two together, as Fastly documents it
//! (<https://www.fastly.com/documentation/reference/compute/ecp-edge-rate-limiting/>):
//! count the request, and answer `true` when the entry is in the penalty box or its rate over
//! the window is past the limit (which puts it in the box).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use parking_lot::Mutex;
use serde::{Deserialize, Serialize};

use crate::clock::Clock;

/// Seconds of history a counter keeps.
const HISTORY: usize = 60;

/// One operation on an edge location's counters and penalty boxes (already checked by the
/// JS side: windows 1, 10 or 60; durations 10…60 by tens; TTLs 1…60 minutes).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum RateOp {
    Increment {
        counter: String,
        entry: String,
        delta: u32,
    },
    LookupRate {
        counter: String,
        entry: String,
        window: u32,
    },
    LookupCount {
        counter: String,
        entry: String,
        duration: u32,
    },
    PenaltyAdd {
        penalty_box: String,
        entry: String,
        minutes: u32,
    },
    PenaltyHas {
        penalty_box: String,
        entry: String,
    },
    CheckRate {
        counter: String,
        penalty_box: String,
        entry: String,
        delta: u32,
        window: u32,
        limit: u32,
        minutes: u32,
    },
}

/// What a [`RateOp`] answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum RateReply {
    Done,
    Rate(f64),
    Count(u64),
    Yes(bool),
}

struct Buckets {
    /// `(second, count)` per slot, the slot being `second % HISTORY`.
    slots: [(u64, u64); HISTORY],
}

impl Default for Buckets {
    fn default() -> Self {
        Self {
            slots: [(0, 0); HISTORY],
        }
    }
}

impl Buckets {
    fn add(&mut self, second: u64, delta: u64) {
        let slot = &mut self.slots[(second % HISTORY as u64) as usize];
        if slot.0 != second {
            *slot = (second, 0);
        }
        slot.1 = slot.1.saturating_add(delta);
    }

    /// The count of the `seconds` seconds up to and including `now`.
    fn count(&self, now: u64, seconds: u64) -> u64 {
        self.slots
            .iter()
            .filter(|(second, _)| *second <= now && now - second < seconds)
            .map(|(_, count)| count)
            .sum()
    }

    fn idle(&self, now: u64) -> bool {
        self.count(now, HISTORY as u64) == 0
    }
}

type Key = (String, String);

/// One edge location's rate counters and penalty boxes.
pub struct RateLimits {
    state: Mutex<State>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for RateLimits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimits").finish_non_exhaustive()
    }
}

#[derive(Default)]
struct State {
    counters: HashMap<Key, Buckets>,
    boxes: HashMap<Key, SystemTime>,
    /// How many entries there were after the last clean-up: the next one waits until
    /// there are twice as many, so cleaning costs O(1) per new entry overall.
    cleaned_at: usize,
}

/// Entries below this many are never cleaned up.
const CLEAN_FROM: usize = 4096;

/// Why a rate call failed: only an unreachable host (a snapshot copy that lost its server).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum RateError {
    #[error("rate limiting could not be reached: {0}")]
    Unreachable(String),
}

impl State {
    fn increment(&mut self, key: Key, now: u64, delta: u32, at: SystemTime) {
        // Entries idle for a minute count nothing, boxes past their time hold nothing: drop
        // them now and then, so that a long-running server's state stays as small as its
        // recent traffic.
        let size = self.counters.len() + self.boxes.len();
        if size >= CLEAN_FROM.max(self.cleaned_at * 2) && !self.counters.contains_key(&key) {
            self.counters.retain(|_, buckets| !buckets.idle(now));
            self.boxes.retain(|_, until| *until > at);
            self.cleaned_at = self.counters.len() + self.boxes.len();
        }
        self.counters
            .entry(key)
            .or_default()
            .add(now, u64::from(delta));
    }

    fn count(&self, key: &Key, now: u64, seconds: u32) -> u64 {
        self.counters
            .get(key)
            .map_or(0, |buckets| buckets.count(now, u64::from(seconds)))
    }

    fn penalized(&mut self, key: &Key, now: SystemTime) -> bool {
        match self.boxes.get(key) {
            Some(until) if *until > now => true,
            Some(_) => {
                self.boxes.remove(key);
                false
            }
            None => false,
        }
    }

    fn penalize(&mut self, key: Key, now: SystemTime, minutes: u32) {
        self.boxes
            .insert(key, now + Duration::from_secs(60 * u64::from(minutes)));
    }
}

impl RateLimits {
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        Self {
            state: Mutex::new(State::default()),
            clock,
        }
    }

    pub fn run(&self, op: RateOp) -> RateReply {
        let now = self.clock.now();
        let second = now
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        let mut state = self.state.lock();
        match op {
            RateOp::Increment {
                counter,
                entry,
                delta,
            } => {
                state.increment((counter, entry), second, delta, now);
                RateReply::Done
            }
            RateOp::LookupRate {
                counter,
                entry,
                window,
            } => RateReply::Rate(rate(&state, &(counter, entry), second, window)),
            RateOp::LookupCount {
                counter,
                entry,
                duration,
            } => RateReply::Count(state.count(&(counter, entry), second, duration)),
            RateOp::PenaltyAdd {
                penalty_box,
                entry,
                minutes,
            } => {
                state.penalize((penalty_box, entry), now, minutes);
                RateReply::Done
            }
            RateOp::PenaltyHas { penalty_box, entry } => {
                RateReply::Yes(state.penalized(&(penalty_box, entry), now))
            }
            RateOp::CheckRate {
                counter,
                penalty_box,
                entry,
                delta,
                window,
                limit,
                minutes,
            } => {
                let counted = (counter, entry.clone());
                state.increment(counted.clone(), second, delta, now);
                let boxed = (penalty_box, entry);
                if state.penalized(&boxed, now) {
                    return RateReply::Yes(true);
                }
                let over = rate(&state, &counted, second, window) > f64::from(limit);
                if over {
                    state.penalize(boxed, now, minutes);
                }
                RateReply::Yes(over)
            }
        }
    }
}

/// Requests per second over the last `window` seconds.
fn rate(state: &State, key: &Key, now: u64, window: u32) -> f64 {
    #[allow(clippy::cast_precision_loss)]
    let count = state.count(key, now, window) as f64;
    count / f64::from(window.max(1))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::clock::ManualClock;

    fn limits() -> (Arc<ManualClock>, RateLimits) {
        let clock = Arc::new(ManualClock::new(
            SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000),
        ));
        let limits = RateLimits::new(clock.clone());
        (clock, limits)
    }

    fn increment(limits: &RateLimits, delta: u32) {
        limits.run(RateOp::Increment {
            counter: "rc".into(),
            entry: "client".into(),
            delta,
        });
    }

    fn count(limits: &RateLimits, duration: u32) -> RateReply {
        limits.run(RateOp::LookupCount {
            counter: "rc".into(),
            entry: "client".into(),
            duration,
        })
    }

    fn rate_of(limits: &RateLimits, window: u32) -> RateReply {
        limits.run(RateOp::LookupRate {
            counter: "rc".into(),
            entry: "client".into(),
            window,
        })
    }

    #[test]
    fn counts_and_rates_slide_with_their_windows() {
        let (clock, limits) = limits();
        increment(&limits, 5);
        clock.advance(Duration::from_secs(9));
        increment(&limits, 3);
        assert_eq!(count(&limits, 10), RateReply::Count(8));
        assert_eq!(rate_of(&limits, 1), RateReply::Rate(3.0));
        assert_eq!(rate_of(&limits, 10), RateReply::Rate(0.8));
        // One second on, the first 5 are out of the 10-second window, not of the 20.
        clock.advance(Duration::from_secs(1));
        assert_eq!(count(&limits, 10), RateReply::Count(3));
        assert_eq!(count(&limits, 20), RateReply::Count(8));
        assert_eq!(rate_of(&limits, 1), RateReply::Rate(0.0));
        clock.advance(Duration::from_secs(60));
        assert_eq!(count(&limits, 60), RateReply::Count(0));
        // Other entries and counters are their own.
        assert_eq!(
            limits.run(RateOp::LookupCount {
                counter: "other".into(),
                entry: "client".into(),
                duration: 60
            }),
            RateReply::Count(0)
        );
    }

    #[test]
    fn penalty_boxes_hold_entries_for_whole_minutes() {
        let (clock, limits) = limits();
        let has = || {
            limits.run(RateOp::PenaltyHas {
                penalty_box: "pb".into(),
                entry: "client".into(),
            })
        };
        assert_eq!(has(), RateReply::Yes(false));
        limits.run(RateOp::PenaltyAdd {
            penalty_box: "pb".into(),
            entry: "client".into(),
            minutes: 2,
        });
        clock.advance(Duration::from_secs(119));
        assert_eq!(has(), RateReply::Yes(true));
        clock.advance(Duration::from_secs(1));
        assert_eq!(has(), RateReply::Yes(false));
    }

    #[test]
    fn check_rate_boxes_an_entry_over_the_limit_until_its_ttl() {
        let (clock, limits) = limits();
        let check = || {
            limits.run(RateOp::CheckRate {
                counter: "rc".into(),
                penalty_box: "pb".into(),
                entry: "client".into(),
                delta: 1,
                window: 10,
                limit: 1,
                minutes: 1,
            })
        };
        // 10 requests in 10 s is 1 per second: at the limit, not over it.
        for _ in 0..10 {
            assert_eq!(check(), RateReply::Yes(false));
        }
        assert_eq!(check(), RateReply::Yes(true));
        // In the box for a minute, whatever the rate.
        clock.advance(Duration::from_secs(59));
        assert_eq!(check(), RateReply::Yes(true));
        clock.advance(Duration::from_secs(1));
        assert_eq!(check(), RateReply::Yes(false));
    }
}
