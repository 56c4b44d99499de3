//! The simulator's compressed clock. Simulated time is counted in milliseconds since the
//! epoch (the real time the simulator first started); every day is a working day of 24
//! simulated hours. It runs `DAY_MS / day_length` times faster than real time, or not at all
//! (frozen) when no day length is set, and `/sim/clock/advance` jumps it forward.

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

/// One simulated hour in milliseconds.
pub const HOUR_MS: u64 = 3_600_000;
/// One simulated working day in milliseconds.
pub const DAY_MS: u64 = 24 * HOUR_MS;

/// An instant: simulated milliseconds since the epoch, and the real time it was taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct At {
    pub ms: u64,
    pub real: Timestamp,
}

#[derive(Debug, Clone)]
pub struct Clock {
    epoch: Timestamp,
    /// Real length of one simulated working day; `None` = frozen.
    day_length: Option<Duration>,
    advanced_ms: u64,
    /// Never go back behind an instant already handed out (after a restart with another
    /// day length, or a wall-clock step back).
    floor_ms: u64,
}

impl Clock {
    pub fn new(epoch: Timestamp, day_length: Option<Duration>) -> Clock {
        Clock {
            epoch,
            day_length: day_length.filter(|d| !d.is_zero()),
            advanced_ms: 0,
            floor_ms: 0,
        }
    }

    pub fn epoch(&self) -> Timestamp {
        self.epoch
    }

    pub fn day_length(&self) -> Option<Duration> {
        self.day_length
    }

    /// The current instant (and raises the floor to it).
    pub fn now(&mut self) -> At {
        let real = Timestamp::now();
        let ms = self.peek_at(real);
        self.floor_ms = ms;
        At { ms, real }
    }

    /// The current simulated milliseconds without moving the floor.
    pub fn peek(&self) -> u64 {
        self.peek_at(Timestamp::now())
    }

    pub(crate) fn peek_at(&self, real: Timestamp) -> u64 {
        let running = match self.day_length {
            Some(day) => {
                let elapsed = real.duration_since(self.epoch).as_secs_f64().max(0.0);
                #[allow(clippy::cast_precision_loss)] // exact: DAY_MS < 2^53
                let scale = DAY_MS as f64 / day.as_secs_f64();
                // Saturating float → integer conversion; a simulator running for centuries
                // simply stops there.
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                let ms = (elapsed * scale) as u64;
                ms
            }
            None => 0,
        };
        running.saturating_add(self.advanced_ms).max(self.floor_ms)
    }

    /// Jumps forward.
    pub fn advance(&mut self, ms: u64) {
        self.advanced_ms = self.advanced_ms.saturating_add(ms);
    }

    /// Notes an instant replayed from the state file.
    pub fn observe(&mut self, at: At) {
        self.floor_ms = self.floor_ms.max(at.ms);
    }

    /// The simulated timestamp of an instant.
    pub fn timestamp(&self, ms: u64) -> Timestamp {
        let ms = i64::try_from(ms).unwrap_or(i64::MAX);
        self.epoch
            .checked_add(SignedDuration::from_millis(ms))
            .unwrap_or(Timestamp::MAX)
    }
}

/// Milliseconds for a number of working days and hours (negative and NaN count as 0).
#[allow(clippy::cast_precision_loss)] // exact: DAY_MS and HOUR_MS < 2^53
pub fn advance_ms(working_days: f64, hours: f64) -> u64 {
    let total = working_days.max(0.0) * DAY_MS as f64 + hours.max(0.0) * HOUR_MS as f64;
    if total.is_finite() {
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let ms = total.round() as u64;
        ms
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frozen_clock_moves_only_when_advanced() {
        let mut c = Clock::new(Timestamp::now(), None);
        assert_eq!(c.now().ms, 0);
        c.advance(advance_ms(1.0, 2.0));
        assert_eq!(c.now().ms, DAY_MS + 2 * HOUR_MS);
        assert_eq!(advance_ms(f64::NAN, -1.0), 0);
    }

    #[test]
    fn running_clock_is_scaled() {
        let epoch = Timestamp::now();
        let c = Clock::new(epoch, Some(Duration::from_secs(10)));
        // Five real seconds of a 10 s day: half a working day.
        let ms = c.peek_at(epoch + SignedDuration::from_secs(5));
        assert_eq!(ms, DAY_MS / 2);
        assert_eq!(c.peek_at(epoch - SignedDuration::from_secs(5)), 0);
    }
}
