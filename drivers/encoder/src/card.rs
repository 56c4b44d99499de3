//! A virtual social security chip card: one card model served three ways: over vpcd's
//! socket to a real pcscd ([`crate::vpcd`]), in the dispenser simulator's IC slot
//! ([`CardStock`] makes one per card dispensed), and in memory ([`CardTransport`]).
//!
//! The model: MF 3F00 ⊃ SSSE (selected by DF name) ⊃ EF05 (issuer data) and EF06 (holder
//! basics), record files with TLV records. EF05 record 1 holds the card identification code
//! and record 3 the spec version from the factory; the rest is blank. UPDATE RECORD into a
//! file needs an EXTERNAL AUTHENTICATE with that file's key since the last GET CHALLENGE,
//! checked with the stand-in scheme of [`crate::standin`]. Wrong cryptograms count down a
//! try counter (63Cx, then 6983).
//!
//! Scripted chip errors: no answer, a given status word (6A82, 6982, 6581, …) for the next
//! APDU or the next with a given INS, card removed, wrong key; and a T=0 mode that answers
//! with 61xx so GET RESPONSE is exercised.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use kiosk_dispenser::driver::ChipProtocol;

use crate::apdu::{Apdu, Response, Sw};
use crate::ssse::{EF05, EF06, MF, SSSE_AID, tags};
use crate::standin;
use crate::transport::{ApduTransport, TransportError};

/// A scripted chip error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChipFault {
    /// The chip stays silent.
    NoAnswer,
    /// Answer with this status word instead of carrying the command out.
    Status(u16),
    /// The card is pulled out (from then on it is gone).
    Removed,
}

/// How a virtual card starts.
#[derive(Debug, Clone)]
pub struct CardProfile {
    /// Card identification code (EF05 record 1), 16 bytes.
    pub card_id: [u8; 16],
    /// Historical bytes of the ATR.
    pub historical: Vec<u8>,
    /// Answer with 61xx and wait for GET RESPONSE (as T=0 cards do).
    pub t0_get_response: bool,
    /// EXTERNAL AUTHENTICATE tries before the key blocks.
    pub auth_tries: u8,
}

impl Default for CardProfile {
    fn default() -> Self {
        CardProfile {
            // The Z390 example: 330300 D156000005 99110145 FFFFFFFF.
            card_id: [
                0x33, 0x03, 0x00, 0xD1, 0x56, 0x00, 0x00, 0x05, 0x99, 0x11, 0x01, 0x45, 0xFF, 0xFF,
                0xFF, 0xFF,
            ],
            historical: b"SSSE".to_vec(),
            t0_get_response: false,
            auth_tries: 3,
        }
    }
}

impl CardProfile {
    /// A profile whose card id ends in `serial` (distinct cards from one stock).
    pub fn with_serial(serial: u32) -> Self {
        let mut p = CardProfile::default();
        p.card_id[12..16].copy_from_slice(&serial.to_be_bytes());
        p
    }
}

/// Builds an ATR offering T=1 with these historical bytes (TS 3B, T0, TD1 80, TD2 01, TCK).
pub fn atr_t1(historical: &[u8]) -> Vec<u8> {
    let k = u8::try_from(historical.len().min(15)).unwrap_or(15);
    let mut atr = vec![0x3B, 0x80 | k, 0x80, 0x01];
    atr.extend_from_slice(historical.get(..usize::from(k)).unwrap_or_default());
    let tck = atr.iter().skip(1).fold(0, |a, b| a ^ b);
    atr.push(tck);
    atr
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Df {
    Mf,
    Ssse,
}

struct FaultRule {
    fault: ChipFault,
    ins: Option<u8>,
}

struct State {
    profile: CardProfile,
    atr: Vec<u8>,
    files: BTreeMap<u16, BTreeMap<u8, Vec<u8>>>,
    powered: bool,
    removed: bool,
    df: Df,
    ef: Option<u16>,
    challenge: Option<Vec<u8>>,
    authenticated: Vec<u8>,
    tries: BTreeMap<u8, u8>,
    keys: BTreeMap<u8, Vec<u8>>,
    pending: Vec<u8>,
    faults: VecDeque<FaultRule>,
    apdus: usize,
}

/// A virtual chip card. Clones share one card, so a test keeps a clone to script faults
/// and to look at what was written.
#[derive(Clone)]
pub struct VirtualCard {
    state: Arc<Mutex<State>>,
}

impl std::fmt::Debug for VirtualCard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "VirtualCard")
    }
}

/// Records 1 to `MAX_RECORDS` exist in each file.
const MAX_RECORDS: u8 = 15;
/// Longest record body a file holds.
const MAX_RECORD_LEN: usize = 64;

impl VirtualCard {
    pub fn new(profile: CardProfile) -> Self {
        let atr = atr_t1(&profile.historical);
        let mut ef05 = BTreeMap::new();
        let mut id = vec![tags::CARD_ID.1, 16];
        id.extend_from_slice(&profile.card_id);
        ef05.insert(tags::CARD_ID.0, id);
        ef05.insert(
            tags::SPEC_VERSION.0,
            vec![tags::SPEC_VERSION.1, 4, b'3', b'.', b'0', b'0'],
        );
        let mut files = BTreeMap::new();
        files.insert(EF05, ef05);
        files.insert(EF06, BTreeMap::new());
        let keys = [standin::KEY_EF05, standin::KEY_EF06]
            .into_iter()
            .map(|id| (id, standin::test_key(id).to_vec()))
            .collect();
        let state = State {
            atr,
            files,
            powered: false,
            removed: false,
            df: Df::Mf,
            ef: None,
            challenge: None,
            authenticated: Vec::new(),
            tries: BTreeMap::new(),
            keys,
            pending: Vec::new(),
            faults: VecDeque::new(),
            apdus: 0,
            profile,
        };
        VirtualCard {
            state: Arc::new(Mutex::new(state)),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Poisoned only by a panicking test thread; the card state is plain data.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn atr(&self) -> Vec<u8> {
        self.lock().atr.clone()
    }

    pub fn card_id(&self) -> [u8; 16] {
        self.lock().profile.card_id
    }

    /// Power on (or warm reset): the session state is cleared. `None` when removed.
    pub fn power_on(&self) -> Option<Vec<u8>> {
        let mut s = self.lock();
        if s.removed {
            return None;
        }
        s.powered = true;
        s.reset_session();
        Some(s.atr.clone())
    }

    pub fn power_off(&self) {
        let mut s = self.lock();
        s.powered = false;
        s.reset_session();
    }

    /// True once the card has been pulled out.
    pub fn is_removed(&self) -> bool {
        self.lock().removed
    }

    /// Pull the card out now.
    pub fn remove(&self) {
        self.lock().removed = true;
    }

    /// Put it back (powered off).
    pub fn reinsert(&self) {
        let mut s = self.lock();
        s.removed = false;
        s.powered = false;
    }

    /// A fault for the next APDU.
    pub fn fail_next(&self, fault: ChipFault) {
        self.lock().faults.push_back(FaultRule { fault, ins: None });
    }

    /// A fault for the next APDU with this instruction byte (e.g. 0xDC for UPDATE RECORD).
    pub fn fail_next_ins(&self, ins: u8, fault: ChipFault) {
        self.lock().faults.push_back(FaultRule {
            fault,
            ins: Some(ins),
        });
    }

    /// Replaces the key the card checks cryptograms with (e.g. to make the bureau "wrong").
    pub fn set_key(&self, key_id: u8, key: &[u8]) {
        self.lock().keys.insert(key_id, key.to_vec());
    }

    /// A record as stored (tag, length, value), for tests.
    pub fn record(&self, ef: u16, record: u8) -> Option<Vec<u8>> {
        self.lock().files.get(&ef)?.get(&record).cloned()
    }

    /// APDUs processed so far.
    pub fn apdu_count(&self) -> usize {
        self.lock().apdus
    }

    /// Processes one C-APDU. `None` means no answer (silent chip or card removed).
    pub fn process(&self, bytes: &[u8]) -> Option<Vec<u8>> {
        let mut s = self.lock();
        if s.removed {
            return None;
        }
        s.apdus += 1;
        let ins = bytes.get(1).copied();
        let fault_at = s
            .faults
            .iter()
            .position(|r| r.ins.is_none() || r.ins == ins);
        if let Some(i) = fault_at
            && let Some(rule) = s.faults.remove(i)
        {
            match rule.fault {
                ChipFault::NoAnswer => return None,
                ChipFault::Removed => {
                    s.removed = true;
                    return None;
                }
                ChipFault::Status(sw) => return Some(sw.to_be_bytes().to_vec()),
            }
        }
        if !s.powered {
            return None;
        }
        let response = match Apdu::parse(bytes) {
            Ok(apdu) => s.execute(&apdu),
            Err(_) => status(0x6700),
        };
        if ins == Some(0xC0) {
            return Some(response.to_bytes());
        }
        Some(s.t0_wrap(response).to_bytes())
    }
}

fn status(sw: u16) -> Response {
    Response {
        data: Vec::new(),
        sw: Sw(sw),
    }
}

fn data(bytes: Vec<u8>) -> Response {
    Response {
        data: bytes,
        sw: Sw::OK,
    }
}

impl State {
    fn reset_session(&mut self) {
        self.df = Df::Mf;
        self.ef = None;
        self.challenge = None;
        self.authenticated.clear();
        self.pending.clear();
    }

    /// In T=0 mode, data is held back behind 61xx for GET RESPONSE.
    fn t0_wrap(&mut self, r: Response) -> Response {
        if self.profile.t0_get_response && !r.data.is_empty() && r.sw.is_ok() {
            let len = u16::try_from(r.data.len().min(256) & 0xFF).unwrap_or(0);
            self.pending = r.data;
            return status(0x6100 | len);
        }
        r
    }

    fn execute(&mut self, apdu: &Apdu) -> Response {
        if apdu.cla != 0x00 {
            return status(0x6E00);
        }
        // Anything but GET RESPONSE drops data held back for it.
        if apdu.ins != 0xC0 {
            self.pending.clear();
        }
        match apdu.ins {
            0xA4 => self.select(apdu),
            0xB2 => self.read_record(apdu),
            0xDC => self.update_record(apdu),
            0x84 => self.get_challenge(apdu),
            0x82 => self.external_authenticate(apdu),
            0xC0 => {
                if self.pending.is_empty() {
                    return status(0x6985);
                }
                let pending = std::mem::take(&mut self.pending);
                match apdu.expected_len() {
                    Some(n) if n != pending.len() => {
                        let len = u16::try_from(pending.len() & 0xFF).unwrap_or(0);
                        self.pending = pending;
                        status(0x6C00 | len)
                    }
                    _ => data(pending),
                }
            }
            _ => status(0x6D00),
        }
    }

    fn select(&mut self, apdu: &Apdu) -> Response {
        match (apdu.p1, apdu.data.as_slice()) {
            (0x04, name) if name == SSSE_AID => {
                self.df = Df::Ssse;
                self.ef = None;
                self.authenticated.clear();
                status(0x9000)
            }
            (0x04, _) => status(0x6A82),
            (0x00 | 0x02, [hi, lo]) => {
                let fid = u16::from_be_bytes([*hi, *lo]);
                if fid == MF {
                    self.df = Df::Mf;
                    self.ef = None;
                    self.authenticated.clear();
                    status(0x9000)
                } else if self.df == Df::Ssse && self.files.contains_key(&fid) {
                    self.ef = Some(fid);
                    status(0x9000)
                } else {
                    status(0x6A82)
                }
            }
            _ => status(0x6A86),
        }
    }

    fn read_record(&mut self, apdu: &Apdu) -> Response {
        if apdu.p2 != 0x04 {
            return status(0x6A86);
        }
        let Some(ef) = self.ef else {
            return status(0x6986);
        };
        let Some(body) = self.files.get(&ef).and_then(|f| f.get(&apdu.p1)) else {
            return status(0x6A83);
        };
        match apdu.expected_len() {
            Some(n) if n != 256 && n != body.len() => {
                status(0x6C00 | u16::try_from(body.len() & 0xFF).unwrap_or(0))
            }
            _ => data(body.clone()),
        }
    }

    fn update_record(&mut self, apdu: &Apdu) -> Response {
        if apdu.p2 != 0x04 {
            return status(0x6A86);
        }
        let Some(ef) = self.ef else {
            return status(0x6986);
        };
        if !self.authenticated.contains(&standin::key_for_ef(ef)) {
            return status(0x6982);
        }
        if apdu.p1 == 0 || apdu.p1 > MAX_RECORDS {
            return status(0x6A83);
        }
        if apdu.data.len() > MAX_RECORD_LEN {
            return status(0x6A84);
        }
        match apdu.data.as_slice() {
            [_, len, value @ ..] if usize::from(*len) == value.len() => {}
            _ => return status(0x6A80),
        }
        if let Some(file) = self.files.get_mut(&ef) {
            file.insert(apdu.p1, apdu.data.clone());
        }
        status(0x9000)
    }

    fn get_challenge(&mut self, apdu: &Apdu) -> Response {
        let len = match apdu.expected_len() {
            Some(n @ (4 | 8)) => n,
            Some(256) => 8,
            _ => return status(0x6700),
        };
        let random: [u8; 8] = rand::random();
        let challenge = random.get(..len).unwrap_or_default().to_vec();
        self.challenge = Some(challenge.clone());
        data(challenge)
    }

    fn external_authenticate(&mut self, apdu: &Apdu) -> Response {
        let Some(challenge) = self.challenge.take() else {
            return status(0x6985);
        };
        let key_id = apdu.p2;
        let Some(key) = self.keys.get(&key_id) else {
            return status(0x6A88);
        };
        let max = self.profile.auth_tries;
        let tries = *self.tries.entry(key_id).or_insert(max);
        if tries == 0 {
            return status(0x6983);
        }
        let expected = standin::cryptogram(key, &self.profile.card_id, &challenge);
        if apdu.data == expected {
            self.tries.insert(key_id, max);
            if !self.authenticated.contains(&key_id) {
                self.authenticated.push(key_id);
            }
            status(0x9000)
        } else {
            let left = tries - 1;
            self.tries.insert(key_id, left);
            status(0x63C0 | u16::from(left))
        }
    }
}

/// The virtual card in memory as an [`ApduTransport`] (benchmarks, unit tests).
#[derive(Debug, Clone)]
pub struct CardTransport {
    pub card: VirtualCard,
}

impl ApduTransport for CardTransport {
    fn connect(&mut self) -> Result<Vec<u8>, TransportError> {
        self.card.power_on().ok_or(TransportError::NoCard)
    }

    fn transmit(&mut self, apdu: &[u8]) -> Result<Vec<u8>, TransportError> {
        match self.card.process(apdu) {
            Some(r) => Ok(r),
            None if self.card.is_removed() => Err(TransportError::CardRemoved),
            None => Err(TransportError::NoAnswer),
        }
    }

    fn disconnect(&mut self) -> Result<(), TransportError> {
        self.card.power_off();
        Ok(())
    }

    fn describe(&self) -> String {
        "virtual card (memory)".into()
    }
}

/// The virtual card as the dispenser simulator's chip.
impl kiosk_dispenser::Chip for VirtualCard {
    fn power_on(&mut self) -> Option<(ChipProtocol, Vec<u8>)> {
        VirtualCard::power_on(self).map(|atr| (ChipProtocol::T1, atr))
    }

    fn power_off(&mut self) {
        VirtualCard::power_off(self);
    }

    fn transmit(&mut self, apdu: &[u8]) -> Option<Vec<u8>> {
        self.process(apdu)
    }
}

/// Blank cards for the dispenser simulator's hopper: each card dispensed gets a new virtual
/// chip with its own card id; the stock keeps a clone of each so tests can script the chip
/// of the card now in the machine and check what was written.
#[derive(Clone, Default)]
pub struct CardStock {
    made: Arc<Mutex<Vec<VirtualCard>>>,
    template: Arc<Mutex<CardProfile>>,
}

impl CardStock {
    pub fn new(template: CardProfile) -> Self {
        CardStock {
            made: Arc::default(),
            template: Arc::new(Mutex::new(template)),
        }
    }

    /// The factory to give the dispenser simulator
    /// ([`kiosk_dispenser::SimControl::set_chip_factory`]).
    pub fn factory(&self) -> kiosk_dispenser::sim::ChipFactory {
        let stock = self.clone();
        Box::new(move || Box::new(stock.make()))
    }

    fn make(&self) -> VirtualCard {
        let mut made = self
            .made
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut profile = self
            .template
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        let serial = u32::try_from(made.len() + 1).unwrap_or(u32::MAX);
        profile.card_id[12..16].copy_from_slice(&serial.to_be_bytes());
        let card = VirtualCard::new(profile);
        made.push(card.clone());
        card
    }

    /// The card dispensed last.
    pub fn last(&self) -> Option<VirtualCard> {
        self.made
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .last()
            .cloned()
    }

    /// How many cards were dispensed.
    pub fn count(&self) -> usize {
        self.made
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atr_has_a_correct_check_byte() {
        assert_eq!(atr_t1(&[]), vec![0x3B, 0x80, 0x80, 0x01, 0x01]);
        let atr = atr_t1(b"SSSE");
        assert_eq!(atr.iter().skip(1).fold(0, |a, b| a ^ b), 0);
    }

    #[test]
    fn select_read_and_errors() {
        let card = VirtualCard::new(CardProfile::default());
        assert!(
            card.process(&[0, 0xA4, 4, 0]).is_none(),
            "unpowered: silent"
        );
        card.power_on().unwrap();
        let sel = |c: &VirtualCard, b: &[u8]| Response::from_bytes(&c.process(b).unwrap()).unwrap();
        assert_eq!(
            sel(&card, &[0, 0xA4, 0, 0, 2, 0xEF, 0x05]).sw,
            Sw(0x6A82),
            "not in SSSE yet"
        );
        let mut select_ssse = vec![0, 0xA4, 4, 0, 15];
        select_ssse.extend_from_slice(&SSSE_AID);
        assert!(sel(&card, &select_ssse).sw.is_ok());
        assert_eq!(sel(&card, &[0, 0xB2, 1, 4, 0]).sw, Sw(0x6986));
        assert!(sel(&card, &[0, 0xA4, 0, 0, 2, 0xEF, 0x05]).sw.is_ok());
        let r = sel(&card, &[0, 0xB2, 1, 4, 0]);
        assert_eq!(&r.data[..2], &[0x01, 0x10]);
        assert_eq!(sel(&card, &[0, 0xB2, 1, 4, 5]).sw, Sw(0x6C12));
        assert_eq!(sel(&card, &[0, 0xB2, 9, 4, 0]).sw, Sw(0x6A83));
        assert_eq!(sel(&card, &[0, 0xDC, 5, 4, 3, 5, 1, 0]).sw, Sw(0x6982));
        assert_eq!(
            sel(&card, &[0, 0x82, 0, 0x0A, 1, 0]).sw,
            Sw(0x6985),
            "no challenge"
        );
        let c = sel(&card, &[0, 0x84, 0, 0, 8]);
        assert_eq!(c.data.len(), 8);
        assert_eq!(sel(&card, &[0, 0x82, 0, 0x0A, 1, 0]).sw, Sw(0x63C2));
        assert_eq!(sel(&card, &[0x80, 0xA4, 0, 0]).sw, Sw(0x6E00));
        assert_eq!(sel(&card, &[0, 0x20, 0, 0]).sw, Sw(0x6D00));
        card.fail_next_ins(0xB2, ChipFault::Status(0x6581));
        assert_eq!(sel(&card, &[0, 0xA4, 0, 0, 2, 0xEF, 0x06]).sw, Sw::OK);
        assert_eq!(sel(&card, &[0, 0xB2, 1, 4, 0]).sw, Sw(0x6581));
        card.fail_next(ChipFault::Removed);
        assert!(card.process(&[0, 0x84, 0, 0, 8]).is_none());
        assert!(card.is_removed());
        assert!(card.power_on().is_none());
    }

    #[test]
    fn never_panics_on_odd_apdus() {
        let card = VirtualCard::new(CardProfile {
            t0_get_response: true,
            ..CardProfile::default()
        });
        card.power_on().unwrap();
        for len in 0..12 {
            for fill in [0x00, 0x04, 0xFF, 0xA4, 0xC0] {
                let mut bytes = vec![fill; len];
                if len > 1 {
                    bytes[0] = 0;
                }
                let _ = card.process(&bytes);
            }
        }
    }
}
