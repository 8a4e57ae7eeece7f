//! Time, injected so that TTL and generation tests need no sleeping.

use std::time::{Duration, SystemTime};

use parking_lot::Mutex;

/// A source of the current time for stores.
pub trait Clock: Send + Sync + std::fmt::Debug + 'static {
    /// The current time.
    fn now(&self) -> SystemTime;
}

/// The operating system's wall clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// The wall clock moved forward by an offset that only grows: time passes as usual, and a
/// test jumps it ahead (`edgeshim test`'s `scenario.advanceClock`) to see TTLs and cache
/// windows end without waiting.
#[derive(Debug, Default)]
pub struct OffsetClock {
    offset: Mutex<Duration>,
}

impl OffsetClock {
    /// Moves the clock forward by `by` (a step past what `SystemTime` can hold is ignored).
    pub fn advance(&self, by: Duration) {
        let mut offset = self.offset.lock();
        if let Some(next) = offset.checked_add(by) {
            if SystemTime::now().checked_add(next).is_some() {
                *offset = next;
            }
        }
    }
}

impl Clock for OffsetClock {
    fn now(&self) -> SystemTime {
        let now = SystemTime::now();
        now.checked_add(*self.offset.lock()).unwrap_or(now)
    }
}

/// A clock that moves only when told to; for tests.
#[derive(Debug)]
pub struct ManualClock {
    now: Mutex<SystemTime>,
}

impl ManualClock {
    /// A clock showing `start`.
    #[must_use]
    pub fn new(start: SystemTime) -> Self {
        Self {
            now: Mutex::new(start),
        }
    }

    /// Moves the clock forward by `by`; a step past what `SystemTime` can hold is ignored
    /// rather than panicking.
    pub fn advance(&self, by: Duration) {
        let mut now = self.now.lock();
        *now = now.checked_add(by).unwrap_or(*now);
    }

    /// Sets the clock to `to`, which may be earlier than its current time.
    pub fn set(&self, to: SystemTime) {
        *self.now.lock() = to;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> SystemTime {
        *self.now.lock()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_offset_clock_runs_with_the_wall_clock_and_jumps_ahead() {
        let clock = OffsetClock::default();
        let before = SystemTime::now();
        let unmoved = clock.now();
        assert!(unmoved >= before && unmoved <= SystemTime::now());
        clock.advance(Duration::from_secs(3600));
        let moved = clock.now();
        assert!(moved >= before + Duration::from_secs(3600), "{moved:?}");
        assert!(moved <= SystemTime::now() + Duration::from_secs(3600));
        // Far past what SystemTime holds: ignored, not a panic.
        clock.advance(Duration::MAX);
        assert!(clock.now() <= SystemTime::now() + Duration::from_secs(3600));
    }
}
