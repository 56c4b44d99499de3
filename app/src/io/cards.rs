//! Card issuing effects (placeholder while the flow is written).
use super::KioskIo;
use crate::flows::issue_card::CardEffect;

pub fn run(_io: &KioskIo, _effect: CardEffect) {}
