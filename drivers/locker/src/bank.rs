//! A locker bank as configured: lock boards on one RS485 bus and the compartments wired to
//! them. [`BankConfig`] is what a configuration file holds (serde); [`Bank`] is the checked
//! form the driver works with.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::protocol::{MAX_CHANNELS, Polarity};

/// Lock boards come with 8, 12, 16, 24 or 32 channels; DP2 defaults to 8 but most kiosk
/// banks use 24-channel boards.
pub const DEFAULT_CHANNELS: u8 = 24;

/// A compartment's size, used to assign a free compartment that fits the item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Size {
    #[serde(alias = "s", alias = "small")]
    S,
    #[serde(alias = "m", alias = "medium")]
    M,
    #[serde(alias = "l", alias = "large")]
    L,
}

/// A compartment's stable id (e.g. `A01`), used in records and by the app.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CompartmentId(pub String);

impl CompartmentId {
    pub fn new(id: impl Into<String>) -> Self {
        CompartmentId(id.into())
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CompartmentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for CompartmentId {
    fn from(s: &str) -> Self {
        CompartmentId(s.to_owned())
    }
}

/// One lock board on the bus.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BoardConfig {
    /// The address set on the board's DIP switch (1..=254).
    pub address: u8,
    /// How many locks the board drives.
    #[serde(default = "default_channels")]
    pub channels: u8,
    /// The feedback switch polarity of this board's locks, if not the bank's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub polarity: Option<Polarity>,
}

fn default_channels() -> u8 {
    DEFAULT_CHANNELS
}

/// One compartment (one door, one lock).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompartmentConfig {
    pub id: CompartmentId,
    /// What is painted on the door, if not the id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    pub board: u8,
    pub lock: u8,
    pub size: Size,
    /// The feedback switch polarity of this lock, if not its board's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub polarity: Option<Polarity>,
}

/// A locker bank as written in configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BankConfig {
    /// The polarity of every lock unless a board or compartment says otherwise.
    #[serde(default)]
    pub polarity: Polarity,
    pub boards: Vec<BoardConfig>,
    pub compartments: Vec<CompartmentConfig>,
}

/// What is wrong with a bank configuration (every problem is listed).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid locker bank: {}", .problems.join("; "))]
pub struct BankError {
    pub problems: Vec<String>,
}

/// A checked compartment: where it is wired and how its sensor reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Compartment {
    pub id: CompartmentId,
    pub label: String,
    pub board: u8,
    pub lock: u8,
    pub size: Size,
    pub polarity: Polarity,
}

/// A checked board.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Board {
    pub address: u8,
    pub channels: u8,
    pub polarity: Polarity,
}

/// A checked bank: board addresses unique, every compartment on a configured board, on a
/// lock within that board's channels, and no two compartments on one lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bank {
    polarity: Polarity,
    boards: Vec<Board>,
    compartments: Vec<Compartment>,
    by_id: BTreeMap<CompartmentId, usize>,
    by_lock: BTreeMap<(u8, u8), usize>,
}

impl BankConfig {
    /// `boards` boards (addresses 1..=boards) with `channels` locks each and one medium
    /// compartment per lock, named `B<board>-<lock>` (e.g. `B1-05`). For technicians and the
    /// simulator; a real kiosk lists its compartments in configuration.
    pub fn uniform(boards: u8, channels: u8, polarity: Polarity) -> BankConfig {
        let boards: Vec<BoardConfig> = (1..=boards)
            .map(|address| BoardConfig {
                address,
                channels,
                polarity: None,
            })
            .collect();
        let compartments = boards
            .iter()
            .flat_map(|b| {
                (1..=b.channels).map(move |lock| CompartmentConfig {
                    id: CompartmentId(format!("B{}-{lock:02}", b.address)),
                    label: None,
                    board: b.address,
                    lock,
                    size: Size::M,
                    polarity: None,
                })
            })
            .collect();
        BankConfig {
            polarity,
            boards,
            compartments,
        }
    }

    /// Checks the configuration and builds the bank.
    pub fn validate(&self) -> Result<Bank, BankError> {
        let mut problems = Vec::new();
        if self.boards.is_empty() {
            problems.push("no boards".to_owned());
        }
        let mut boards: BTreeMap<u8, Board> = BTreeMap::new();
        for b in &self.boards {
            if b.address == 0 || b.address == 255 {
                problems.push(format!("board address {} is not 1..=254", b.address));
                continue;
            }
            if b.channels == 0 || b.channels > MAX_CHANNELS {
                problems.push(format!(
                    "board {} has {} channels (1..={MAX_CHANNELS})",
                    b.address, b.channels
                ));
                continue;
            }
            let board = Board {
                address: b.address,
                channels: b.channels,
                polarity: b.polarity.unwrap_or(self.polarity),
            };
            if boards.insert(b.address, board).is_some() {
                problems.push(format!("board {} is listed twice", b.address));
            }
        }
        let mut compartments = Vec::new();
        let mut by_id = BTreeMap::new();
        let mut by_lock = BTreeMap::new();
        for c in &self.compartments {
            if c.id.0.trim().is_empty() {
                problems.push("a compartment has an empty id".to_owned());
                continue;
            }
            let Some(board) = boards.get(&c.board) else {
                problems.push(format!(
                    "compartment {} is on unknown board {}",
                    c.id, c.board
                ));
                continue;
            };
            if c.lock == 0 || c.lock > board.channels {
                problems.push(format!(
                    "compartment {} is on lock {} but board {} has locks 1..={}",
                    c.id, c.lock, c.board, board.channels
                ));
                continue;
            }
            let index = compartments.len();
            if by_id.insert(c.id.clone(), index).is_some() {
                problems.push(format!("compartment id {} is used twice", c.id));
                continue;
            }
            if let Some(other) = by_lock.insert((c.board, c.lock), index) {
                let other: Option<&Compartment> = compartments.get(other);
                problems.push(format!(
                    "compartments {} and {} are both on board {} lock {}",
                    other.map_or("?", |o| o.id.as_str()),
                    c.id,
                    c.board,
                    c.lock
                ));
                continue;
            }
            compartments.push(Compartment {
                id: c.id.clone(),
                label: c.label.clone().unwrap_or_else(|| c.id.0.clone()),
                board: c.board,
                lock: c.lock,
                size: c.size,
                polarity: c.polarity.unwrap_or(board.polarity),
            });
        }
        if problems.is_empty() {
            Ok(Bank {
                polarity: self.polarity,
                boards: boards.into_values().collect(),
                compartments,
                by_id,
                by_lock,
            })
        } else {
            Err(BankError { problems })
        }
    }
}

impl Bank {
    /// The bank-wide sensor polarity (for locks not in the configuration).
    pub fn polarity(&self) -> Polarity {
        self.polarity
    }

    /// Boards in address order.
    pub fn boards(&self) -> &[Board] {
        &self.boards
    }

    pub fn board(&self, address: u8) -> Option<&Board> {
        self.boards.iter().find(|b| b.address == address)
    }

    /// Compartments in configuration order.
    pub fn compartments(&self) -> &[Compartment] {
        &self.compartments
    }

    pub fn compartment(&self, id: &CompartmentId) -> Option<&Compartment> {
        self.by_id.get(id).and_then(|i| self.compartments.get(*i))
    }

    /// The compartment wired to `board`/`lock`, if any.
    pub fn at(&self, board: u8, lock: u8) -> Option<&Compartment> {
        self.by_lock
            .get(&(board, lock))
            .and_then(|i| self.compartments.get(*i))
    }

    /// Compartments of one board, in lock order.
    pub fn on_board(&self, board: u8) -> impl Iterator<Item = &Compartment> {
        self.by_lock
            .range((board, 0)..=(board, u8::MAX))
            .filter_map(|(_, i)| self.compartments.get(*i))
    }

    /// The sizes present, for the app's "right size" choice.
    pub fn sizes(&self) -> BTreeSet<Size> {
        self.compartments.iter().map(|c| c.size).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOML: &str = r#"
polarity = "door_closing"

[[boards]]
address = 1
channels = 8

[[boards]]
address = 2
channels = 16
polarity = "door_opening"

[[compartments]]
id = "A01"
label = "A-01"
board = 1
lock = 1
size = "S"

[[compartments]]
id = "A02"
board = 2
lock = 16
size = "L"

[[compartments]]
id = "A03"
board = 2
lock = 3
size = "M"
polarity = "door_closing"
"#;

    #[test]
    fn parses_and_resolves_polarity() {
        let cfg: BankConfig = toml::from_str(TOML).unwrap();
        let bank = cfg.validate().unwrap();
        let a1 = bank.compartment(&"A01".into()).unwrap();
        assert_eq!(
            (a1.label.as_str(), a1.polarity),
            ("A-01", Polarity::DoorClosing)
        );
        let a2 = bank.compartment(&"A02".into()).unwrap();
        assert_eq!(
            (a2.label.as_str(), a2.polarity),
            ("A02", Polarity::DoorOpening)
        );
        assert_eq!(
            bank.compartment(&"A03".into()).unwrap().polarity,
            Polarity::DoorClosing
        );
        assert_eq!(bank.at(2, 16).unwrap().id.as_str(), "A02");
        let on2: Vec<_> = bank.on_board(2).map(|c| c.id.as_str()).collect();
        assert_eq!(on2, vec!["A03", "A02"]);
        assert_eq!(bank.sizes().len(), 3);
    }

    #[test]
    fn rejects_every_problem() {
        let mut cfg: BankConfig = toml::from_str(TOML).unwrap();
        cfg.compartments.push(CompartmentConfig {
            id: "A04".into(),
            label: None,
            board: 1,
            lock: 1,
            size: Size::S,
            polarity: None,
        });
        cfg.compartments.push(CompartmentConfig {
            id: "A05".into(),
            label: None,
            board: 1,
            lock: 9,
            size: Size::S,
            polarity: None,
        });
        cfg.compartments.push(CompartmentConfig {
            id: "A06".into(),
            label: None,
            board: 7,
            lock: 1,
            size: Size::S,
            polarity: None,
        });
        cfg.compartments.push(CompartmentConfig {
            id: "A01".into(),
            label: None,
            board: 1,
            lock: 2,
            size: Size::S,
            polarity: None,
        });
        cfg.boards.push(BoardConfig {
            address: 2,
            channels: 8,
            polarity: None,
        });
        cfg.boards.push(BoardConfig {
            address: 3,
            channels: 40,
            polarity: None,
        });
        let err = cfg.validate().unwrap_err();
        let text = err.to_string();
        for needle in [
            "A01 and A04 are both on board 1 lock 1",
            "A05 is on lock 9 but board 1 has locks 1..=8",
            "A06 is on unknown board 7",
            "id A01 is used twice",
            "board 2 is listed twice",
            "board 3 has 40 channels",
        ] {
            assert!(text.contains(needle), "{needle:?} missing from {text}");
        }
    }

    #[test]
    fn uniform_bank_is_valid() {
        let bank = BankConfig::uniform(3, 24, Polarity::DoorOpening)
            .validate()
            .unwrap();
        assert_eq!(bank.compartments().len(), 72);
        assert_eq!(bank.at(3, 5).unwrap().id.as_str(), "B3-05");
        let json =
            serde_json::to_string(&BankConfig::uniform(1, 2, Polarity::DoorClosing)).unwrap();
        let parsed: BankConfig = serde_json::from_str(&json).unwrap();
        assert_eq!(parsed, BankConfig::uniform(1, 2, Polarity::DoorClosing));
    }
}
