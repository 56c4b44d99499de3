//! The production clock and id source.

use std::sync::{Arc, Mutex};

use jiff::civil::Date;

use super::{Clock, FreshSource};
use crate::flows::Fresh;

/// China Standard Time: UTC+8 all year (no daylight saving), so a fixed offset needs no
/// time-zone database on the kiosk.
pub fn centre_time_zone() -> jiff::tz::TimeZone {
    jiff::tz::TimeZone::fixed(jiff::tz::offset(8))
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> jiff::Zoned {
        jiff::Timestamp::now().to_zoned(centre_time_zone())
    }
}

/// The kiosk's daily application sequence: peeked by each step, advanced only when an
/// application is stored, started again at 1 each day.
#[derive(Debug, Default)]
pub struct DailySequence {
    state: Mutex<(Option<Date>, u32)>,
}

impl DailySequence {
    /// Starts from the highest sequence already used today.
    pub fn starting_after(date: Date, used: u32) -> Arc<DailySequence> {
        Arc::new(DailySequence {
            state: Mutex::new((Some(date), used)),
        })
    }

    pub fn peek(&self, today: Date) -> u32 {
        let state = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if state.0 == Some(today) {
            state.1 + 1
        } else {
            1
        }
    }

    /// Marks `sequence` of `day` as used.
    pub fn used(&self, day: Date, sequence: u32) {
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if state.0 != Some(day) || state.1 < sequence {
            *state = (Some(day), sequence);
        }
    }
}

/// Random ids and codes.
pub struct RandomFresh {
    pub sequence: Arc<DailySequence>,
}

impl FreshSource for RandomFresh {
    fn fresh(&self, now: &jiff::Zoned) -> Fresh {
        Fresh {
            application_id: uuid::Uuid::now_v7(),
            query_code: format!("{:06}", rand::random_range(0..1_000_000u32)),
            sequence: self.sequence.peek(now.date()),
            evaluation_id: uuid::Uuid::now_v7(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sequence_restarts_each_day_and_only_advances_when_used() {
        let d1 = jiff::civil::date(2026, 11, 20);
        let d2 = jiff::civil::date(2026, 11, 21);
        let s = DailySequence::starting_after(d1, 6);
        assert_eq!(s.peek(d1), 7);
        assert_eq!(s.peek(d1), 7);
        s.used(d1, 7);
        assert_eq!(s.peek(d1), 8);
        assert_eq!(s.peek(d2), 1);
        s.used(d2, 1);
        assert_eq!(s.peek(d2), 2);
    }
}
