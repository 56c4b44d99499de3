//! Exponential back-off with jitter, for reconnecting to a device or a server.

use std::time::Duration;

/// Doubles the delay after every failure up to `max`, with up to 25 % random jitter so that
/// several kiosks (or several devices) do not retry in lockstep.
#[derive(Debug, Clone)]
pub struct Backoff {
    initial: Duration,
    max: Duration,
    current: Duration,
}

impl Backoff {
    pub fn new(initial: Duration, max: Duration) -> Self {
        Backoff {
            initial,
            max: max.max(initial),
            current: initial,
        }
    }

    /// The delay to wait before the next attempt; each call lengthens the following one.
    pub fn next_delay(&mut self) -> Duration {
        let base = self.current;
        self.current = (self.current * 2).min(self.max);
        let jitter_range = base / 4;
        if jitter_range.is_zero() {
            return base;
        }
        let nanos = u64::try_from(jitter_range.as_nanos()).unwrap_or(u64::MAX);
        let jitter = Duration::from_nanos(rand::random_range(0..=nanos));
        base.saturating_sub(jitter_range / 2) + jitter
    }

    /// Start again from the initial delay (after a success).
    pub fn reset(&mut self) {
        self.current = self.initial;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_to_the_cap_and_resets() {
        let mut b = Backoff::new(Duration::from_millis(100), Duration::from_millis(800));
        let delays: Vec<_> = (0..6).map(|_| b.next_delay()).collect();
        for (d, base) in delays.iter().zip([100u64, 200, 400, 800, 800, 800]) {
            let base = Duration::from_millis(base);
            assert!(
                *d + base / 8 >= base && *d <= base + base / 8,
                "{d:?} around {base:?}"
            );
        }
        b.reset();
        assert!(b.next_delay() <= Duration::from_millis(113));
    }
}
