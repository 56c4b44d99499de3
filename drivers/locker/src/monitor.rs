//! What the bank's doors and boards are doing, from every sensor reading the driver makes,
//! and the staff alerts that follow: a door opened without a command, a door left open too
//! long, a board that stops answering. Pure: the device task feeds it observations with the
//! time they were made.

use std::time::{Duration, Instant};

use kiosk_link::Backoff;
use serde::Serialize;

use crate::bank::{Bank, CompartmentId};
use crate::driver::{BankStatus, BoardStatus, DoorStatus, OpenOutcome};
use crate::protocol::{Door, StatusBits};

/// How the background monitor watches the bank.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MonitorConfig {
    /// Each board is read (one query-all) this often. Default 1 s.
    pub interval: Duration,
    /// A door open longer than this raises [`LockerEvent::DoorLeftOpen`] (once per opening).
    /// Default 120 s.
    pub left_open_after: Duration,
    /// A board is offline after this many failed transactions in a row. Default 2.
    pub offline_after: u32,
    /// An offline board is retried with back-off from `interval` up to this, so a dead
    /// board does not hold the bus (each try costs a reply timeout). Default 30 s.
    pub offline_retry_max: Duration,
}

impl Default for MonitorConfig {
    fn default() -> Self {
        MonitorConfig {
            interval: Duration::from_secs(1),
            left_open_after: Duration::from_mins(2),
            offline_after: 2,
            offline_retry_max: Duration::from_secs(30),
        }
    }
}

/// Something staff or the journeys should know about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum LockerEvent {
    /// A door opened after an unlock the kiosk sent.
    DoorOpened { compartment: CompartmentId },
    /// A door was seen open with no unlock sent for it (forced, a latch that let go, a
    /// sensor stuck open, or found open when the kiosk started): a staff alert.
    UncommandedOpen { compartment: CompartmentId },
    /// A door has been open longer than the configured time: a staff alert.
    DoorLeftOpen {
        compartment: CompartmentId,
        open_for_secs: u64,
    },
    /// A door that was open is now closed.
    DoorClosed { compartment: CompartmentId },
    /// A board stopped answering: its compartments are unavailable.
    BoardOffline { board: u8 },
    /// A board that was offline answers again.
    BoardOnline { board: u8 },
    /// An open attempt finished (for the audit trail: jams included).
    OpenFinished {
        compartment: CompartmentId,
        outcome: OpenOutcome,
    },
}

#[derive(Debug, Clone, Default)]
struct DoorTrack {
    door: Option<Door>,
    open_since: Option<Instant>,
    left_open_reported: bool,
    commanded_until: Option<Instant>,
}

#[derive(Debug, Clone)]
struct BoardTrack {
    address: u8,
    online: Option<bool>,
    failures: u32,
    next_poll: Instant,
    backoff: Backoff,
}

/// The door and board tracker.
#[derive(Debug, Clone)]
pub struct Tracker {
    bank: Bank,
    config: MonitorConfig,
    doors: Vec<DoorTrack>,
    boards: Vec<BoardTrack>,
}

impl Tracker {
    pub fn new(bank: Bank, config: MonitorConfig, now: Instant) -> Tracker {
        let doors = vec![DoorTrack::default(); bank.compartments().len()];
        let boards = bank
            .boards()
            .iter()
            .map(|b| BoardTrack {
                address: b.address,
                online: None,
                failures: 0,
                next_poll: now,
                backoff: Backoff::new(config.interval, config.offline_retry_max),
            })
            .collect();
        Tracker {
            bank,
            config,
            doors,
            boards,
        }
    }

    pub fn bank(&self) -> &Bank {
        &self.bank
    }

    pub fn config(&self) -> &MonitorConfig {
        &self.config
    }

    fn index(&self, id: &CompartmentId) -> Option<usize> {
        self.bank.compartments().iter().position(|c| &c.id == id)
    }

    /// An unlock was sent for `id`: a door opening before `until` is the kiosk's doing.
    pub fn commanded(&mut self, id: &CompartmentId, until: Instant) {
        if let Some(track) = self.index(id).and_then(|i| self.doors.get_mut(i)) {
            track.commanded_until = Some(until);
        }
    }

    /// The last door state seen for `id`.
    pub fn door(&self, id: &CompartmentId) -> Option<Door> {
        self.index(id)
            .and_then(|i| self.doors.get(i))
            .and_then(|t| t.door)
    }

    /// Whether `board` is answering (`None`: not asked yet).
    pub fn board_online(&self, board: u8) -> Option<bool> {
        self.boards
            .iter()
            .find(|b| b.address == board)
            .and_then(|b| b.online)
    }

    /// A door reading of compartment `id` at `now`.
    pub fn observe(&mut self, id: &CompartmentId, door: Door, now: Instant) -> Vec<LockerEvent> {
        let Some(index) = self.index(id) else {
            return Vec::new();
        };
        let left_open_after = self.config.left_open_after;
        let Some(track) = self.doors.get_mut(index) else {
            return Vec::new();
        };
        let compartment = id.clone();
        let mut events = Vec::new();
        match (track.door, door) {
            (None | Some(Door::Closed), Door::Open) => {
                let commanded = track.commanded_until.is_some_and(|t| now <= t);
                track.commanded_until = None;
                track.open_since = Some(now);
                track.left_open_reported = false;
                events.push(if commanded {
                    LockerEvent::DoorOpened { compartment }
                } else {
                    LockerEvent::UncommandedOpen { compartment }
                });
            }
            (Some(Door::Open), Door::Closed) => {
                track.open_since = None;
                track.left_open_reported = false;
                events.push(LockerEvent::DoorClosed { compartment });
            }
            (Some(Door::Open), Door::Open) => {
                if let Some(since) = track.open_since {
                    let open_for = now.saturating_duration_since(since);
                    if !track.left_open_reported && open_for >= left_open_after {
                        track.left_open_reported = true;
                        events.push(LockerEvent::DoorLeftOpen {
                            compartment,
                            open_for_secs: open_for.as_secs(),
                        });
                    }
                }
            }
            (None | Some(Door::Closed), Door::Closed) => {}
        }
        track.door = Some(door);
        events
    }

    /// A reading of one lock (by wiring); ignored when no compartment is wired there.
    pub fn observe_lock(
        &mut self,
        board: u8,
        lock: u8,
        door: Door,
        now: Instant,
    ) -> Vec<LockerEvent> {
        match self.bank.at(board, lock).map(|c| c.id.clone()) {
            Some(id) => self.observe(&id, door, now),
            None => Vec::new(),
        }
    }

    /// A query-all reading of a board.
    pub fn observe_all(
        &mut self,
        board: u8,
        status: &StatusBits,
        now: Instant,
    ) -> Vec<LockerEvent> {
        let readings: Vec<(CompartmentId, Door)> = self
            .bank
            .on_board(board)
            .filter_map(|c| {
                status
                    .switch(c.lock)
                    .map(|s| (c.id.clone(), c.polarity.door(s)))
            })
            .collect();
        readings
            .into_iter()
            .flat_map(|(id, door)| self.observe(&id, door, now))
            .collect()
    }

    /// A transaction with `board` succeeded (`answered`) or got no valid reply.
    pub fn board_result(&mut self, board: u8, answered: bool) -> Vec<LockerEvent> {
        let offline_after = self.config.offline_after;
        let Some(track) = self.boards.iter_mut().find(|b| b.address == board) else {
            return Vec::new();
        };
        let mut events = Vec::new();
        if answered {
            track.failures = 0;
            track.backoff.reset();
            if track.online == Some(false) {
                events.push(LockerEvent::BoardOnline { board });
            }
            track.online = Some(true);
        } else {
            track.failures = track.failures.saturating_add(1);
            if track.failures >= offline_after.max(1) && track.online != Some(false) {
                track.online = Some(false);
                events.push(LockerEvent::BoardOffline { board });
            }
        }
        events
    }

    /// The board whose monitor poll is due first, and when.
    pub fn next_poll(&self) -> Option<(u8, Instant)> {
        self.boards
            .iter()
            .min_by_key(|b| b.next_poll)
            .map(|b| (b.address, b.next_poll))
    }

    /// Schedules `board`'s next monitor poll after one made at `now`.
    pub fn polled(&mut self, board: u8, now: Instant) {
        let interval = self.config.interval;
        if let Some(track) = self.boards.iter_mut().find(|b| b.address == board) {
            track.next_poll = if track.online == Some(false) {
                now + track.backoff.next_delay()
            } else {
                now + interval
            };
        }
    }

    /// Poll every board at `now` (after a reconnect).
    pub fn poll_all_now(&mut self, now: Instant) {
        for b in &mut self.boards {
            b.next_poll = now;
        }
    }

    /// The bank as last seen. `link_up` false marks every board offline.
    pub fn snapshot(&self, link_up: bool) -> BankStatus {
        let boards = self
            .boards
            .iter()
            .map(|b| {
                let online = link_up && b.online == Some(true);
                BoardStatus {
                    board: b.address,
                    online,
                    error: match (link_up, b.online) {
                        (false, _) => Some("bus offline".to_owned()),
                        (true, Some(false)) => Some("board not answering".to_owned()),
                        (true, None) => Some("not read yet".to_owned()),
                        (true, Some(true)) => None,
                    },
                    doors: self
                        .bank
                        .on_board(b.address)
                        .map(|c| DoorStatus {
                            lock: c.lock,
                            compartment: Some(c.id.clone()),
                            door: if online {
                                self.index(&c.id)
                                    .and_then(|i| self.doors.get(i))
                                    .and_then(|t| t.door)
                            } else {
                                None
                            },
                        })
                        .collect(),
                }
            })
            .collect();
        BankStatus { boards }
    }

    /// Boards that are not answering.
    pub fn offline_boards(&self) -> Vec<u8> {
        self.boards
            .iter()
            .filter(|b| b.online == Some(false))
            .map(|b| b.address)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bank::BankConfig;
    use crate::protocol::Polarity;

    fn tracker() -> (Tracker, Instant) {
        let bank = BankConfig::uniform(2, 8, Polarity::DoorClosing)
            .validate()
            .unwrap();
        let now = Instant::now();
        let cfg = MonitorConfig {
            left_open_after: Duration::from_mins(1),
            ..MonitorConfig::default()
        };
        (Tracker::new(bank, cfg, now), now)
    }

    #[test]
    fn commanded_and_uncommanded_opens() {
        let (mut t, t0) = tracker();
        let id = CompartmentId::from("B1-03");
        assert!(t.observe(&id, Door::Closed, t0).is_empty());
        t.commanded(&id, t0 + Duration::from_secs(10));
        assert_eq!(
            t.observe(&id, Door::Open, t0 + Duration::from_secs(1)),
            vec![LockerEvent::DoorOpened {
                compartment: id.clone()
            }]
        );
        assert_eq!(
            t.observe(&id, Door::Closed, t0 + Duration::from_secs(5)),
            vec![LockerEvent::DoorClosed {
                compartment: id.clone()
            }]
        );
        // The command was used up by the first opening.
        assert_eq!(
            t.observe(&id, Door::Open, t0 + Duration::from_secs(6)),
            vec![LockerEvent::UncommandedOpen {
                compartment: id.clone()
            }]
        );
    }

    #[test]
    fn door_left_open_is_reported_once() {
        let (mut t, t0) = tracker();
        let id = CompartmentId::from("B2-01");
        assert_eq!(
            t.observe(&id, Door::Open, t0),
            vec![LockerEvent::UncommandedOpen {
                compartment: id.clone()
            }]
        );
        assert!(
            t.observe(&id, Door::Open, t0 + Duration::from_secs(59))
                .is_empty()
        );
        assert_eq!(
            t.observe(&id, Door::Open, t0 + Duration::from_secs(61)),
            vec![LockerEvent::DoorLeftOpen {
                compartment: id.clone(),
                open_for_secs: 61
            }]
        );
        assert!(
            t.observe(&id, Door::Open, t0 + Duration::from_secs(200))
                .is_empty()
        );
    }

    #[test]
    fn boards_go_offline_and_back() {
        let (mut t, _) = tracker();
        assert!(t.board_result(2, true).is_empty());
        assert!(t.board_result(2, false).is_empty());
        assert_eq!(
            t.board_result(2, false),
            vec![LockerEvent::BoardOffline { board: 2 }]
        );
        assert!(t.board_result(2, false).is_empty());
        assert_eq!(t.offline_boards(), vec![2]);
        let snap = t.snapshot(true);
        assert!(snap.boards[1].doors.iter().all(|d| d.door.is_none()));
        assert_eq!(
            t.board_result(2, true),
            vec![LockerEvent::BoardOnline { board: 2 }]
        );
    }
}
