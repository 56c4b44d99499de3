//! Journey tests: the real catalogue, configuration and calendar, cards from the simulator's
//! sample files, and a fake clock. Each test drives a session with events and checks the
//! state and the effects.

mod apply_tests;
mod card_tests;
mod session_tests;

use std::path::{Path, PathBuf};

use kiosk_idcard::identity::Identity;
use kiosk_idcard::sim::card::SimCard;

use super::event::{Completion, Event, JourneyKind, UserAction};
use super::{Ctx, Delays, Effect, Fresh, Session, SessionId};
use crate::check::{Loaded, load_all};

pub struct Harness {
    pub loaded: Loaded,
    pub delays: Delays,
    pub session: Session,
    pub now: jiff::Zoned,
    pub counter: u32,
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A card from `resources/sim/idcard/`, decoded as the reader driver decodes it.
pub fn card(file: &str) -> Box<Identity> {
    let sim = SimCard::from_file(&repo().join("resources/sim/idcard").join(file)).unwrap();
    Box::new(Identity::decode(&sim.text, &sim.photo, &[]).unwrap())
}

pub const FATHER: &str = "resident_han.json";

impl Harness {
    pub fn new() -> Harness {
        let loaded = load_all(&repo().join("config/kiosk.toml")).unwrap();
        let delays = Delays::from_config(&loaded.config.idle);
        // Friday 2026-11-20, 10:00 in the centre's time zone (UTC+8, no daylight saving).
        let now = jiff::civil::date(2026, 11, 20)
            .at(10, 0, 0, 0)
            .to_zoned(jiff::tz::TimeZone::fixed(jiff::tz::offset(8)))
            .unwrap();
        Harness {
            loaded,
            delays,
            session: Session::new(false),
            now,
            counter: 0,
        }
    }

    pub fn send(&mut self, event: Event) -> Vec<Effect> {
        self.counter += 1;
        let ctx = ctx_of(&self.loaded, &self.delays, &self.now, self.counter);
        self.session.step(event, &ctx)
    }

    /// The context of the next step.
    pub fn ctx(&self) -> Ctx<'_> {
        ctx_of(&self.loaded, &self.delays, &self.now, self.counter)
    }

    pub fn user(&mut self, action: UserAction) -> Vec<Effect> {
        self.send(Event::User(action))
    }

    pub fn done(&mut self, completion: Completion) -> Vec<Effect> {
        let session = self.session.id;
        self.send(Event::Done {
            session,
            completion,
        })
    }

    pub fn done_for(&mut self, session: SessionId, completion: Completion) -> Vec<Effect> {
        self.send(Event::Done {
            session,
            completion,
        })
    }

    pub fn start(&mut self, kind: JourneyKind) -> Vec<Effect> {
        self.user(UserAction::Start(kind))
    }
}

fn ctx_of<'a>(loaded: &'a Loaded, delays: &'a Delays, now: &jiff::Zoned, counter: u32) -> Ctx<'a> {
    Ctx {
        catalogue: &loaded.catalogue,
        calendar: &loaded.calendar,
        centre: &loaded.config.centre,
        kiosk_id: &loaded.config.kiosk_id,
        delays,
        now: now.clone(),
        fresh: Fresh {
            application_id: uuid::Uuid::from_u128(
                0x0190_0000_0000_7000_8000_0000_0000_0000 + u128::from(counter),
            ),
            query_code: format!("{:06}", 424_242 + counter),
            sequence: 7,
            evaluation_id: uuid::Uuid::from_u128(u128::from(counter)),
        },
    }
}
