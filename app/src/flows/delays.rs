//! Every timeout a journey uses, named, in one place.

use std::time::Duration;

use crate::config::kiosk::Idle;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delays {
    /// Without a touch for this long, the idle warning appears.
    pub idle_warning: Duration,
    /// After the warning, this long until everything is cleared.
    pub idle_reset: Duration,
    /// Elder mode gives more time (MIIT 2021: leave enough time).
    pub elder_idle_warning: Duration,
    pub elder_idle_reset: Duration,
    /// The countdown on the idle warning moves in these steps.
    pub countdown_tick: Duration,
    /// A card held at the gate and not taken within this is captured into the reject bin.
    pub card_take: Duration,
    pub elder_card_take: Duration,
}

impl Delays {
    pub fn from_config(idle: &Idle) -> Delays {
        Delays {
            idle_warning: idle.warning_after,
            idle_reset: idle.reset_after_warning,
            elder_idle_warning: idle.elder_warning_after,
            elder_idle_reset: idle.elder_reset_after_warning,
            countdown_tick: Duration::from_secs(1),
            card_take: CARD_TAKE,
            elder_card_take: ELDER_CARD_TAKE,
        }
    }

    /// How long a card waits at the gate.
    pub fn card_take(&self, elder: bool) -> Duration {
        if elder {
            self.elder_card_take
        } else {
            self.card_take
        }
    }

    pub fn warning(&self, elder: bool) -> Duration {
        if elder {
            self.elder_idle_warning
        } else {
            self.idle_warning
        }
    }

    pub fn reset(&self, elder: bool) -> Duration {
        if elder {
            self.elder_idle_reset
        } else {
            self.idle_reset
        }
    }
}

impl Default for Delays {
    /// The defaults of the shipped configuration.
    fn default() -> Self {
        Delays {
            idle_warning: Duration::from_secs(90),
            idle_reset: Duration::from_secs(30),
            elder_idle_warning: Duration::from_mins(3),
            elder_idle_reset: Duration::from_mins(1),
            countdown_tick: Duration::from_secs(1),
            card_take: CARD_TAKE,
            elder_card_take: ELDER_CARD_TAKE,
        }
    }
}

/// A card waits this long at the gate (a resident needs a moment to notice and reach it).
const CARD_TAKE: Duration = Duration::from_secs(30);
const ELDER_CARD_TAKE: Duration = Duration::from_mins(1);
