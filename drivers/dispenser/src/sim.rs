//! The device side of the CRT-591 "F2" protocol, for tests, `kiosk sim dispenser` and
//! `kiosk run --simulate`. It runs on the other end of any [`Link`] (an in-memory pair or a
//! pty master) and keeps a small model of the machine: the hopper with its low threshold,
//! the reject bin with its capacity and counter, where the card is, and a chip in the IC
//! position that answers CM 51 APDUs. Faults are scripted at run time through the cloneable
//! [`SimControl`].

use std::collections::VecDeque;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use kiosk_link::pty::PtyGuard;
use kiosk_link::{Link, LinkError};

use crate::driver::ChipProtocol;
use crate::protocol::{
    ACK, CardPosition, Command, CommandKind, DecodeError, Decoder, EMT_N, ErrorCode, HopperLevel,
    InitMode, MoveTarget, NAK, RejectBin, Reply, Status, Token, cm, cpu_pm, frame, three_digits,
};

/// A chip card as the dispenser's contact reader sees it. The chip encoder crate's virtual
/// card implements this, so CM 51 APDUs work in simulation.
pub trait Chip: Send {
    /// Cold reset: the protocol and ATR, or `None` when the chip does not answer.
    fn power_on(&mut self) -> Option<(ChipProtocol, Vec<u8>)>;
    fn power_off(&mut self);
    /// One C-APDU; the R-APDU with its status word, or `None` when the chip stays silent.
    fn transmit(&mut self, apdu: &[u8]) -> Option<Vec<u8>>;
}

/// Makes the chip of each card taken from the hopper.
pub type ChipFactory = Box<dyn FnMut() -> Box<dyn Chip> + Send>;

/// A one-shot fault for the next command (or the next one matching a CM/PM).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Swallow the command: no ACK, no reply, nothing done.
    NoAck,
    /// Answer NAK: the command is not carried out.
    Nak,
    /// Carry the command out but send no ACK (the reply still follows).
    LoseAck,
    /// ACK and carry the command out, but never send the reply.
    NoReply,
    /// Carry the command out but send neither ACK nor reply (both lost on the line).
    ExecuteSilently,
    /// Send the reply with a wrong checksum, also when the host asks again with NAK.
    BadBcc,
    /// Send the reply with a wrong checksum once; a NAK from the host gets a good copy.
    BadBccOnce,
    /// Send garbage bytes before the reply.
    Noise,
    /// Answer with this error code instead of carrying the command out.
    Error(ErrorCode),
}

/// Initial state of a simulated dispenser.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// DIP-switch address (0x00–0x0F); frames for other addresses are ignored.
    pub address: u8,
    /// Cards in the hopper.
    pub hopper: u32,
    /// At or below this many cards the hopper reports "few cards" (st1 = '1').
    pub hopper_low: u32,
    /// Cards the reject bin holds before it reports full.
    pub reject_capacity: u32,
    /// Cards already in the reject bin (and the A5 counter's start value).
    pub reject_count: u32,
    /// Firmware string returned by initialize.
    pub firmware: String,
    /// Time between ACK and the response to a query.
    pub reply_delay: Duration,
    /// Time a card move takes (between ACK and the response).
    pub move_delay: Duration,
    /// Start jammed: every move fails with "10" until cleared.
    pub jam: bool,
    /// Start already initialised (a real device refuses moves with "B0" after power-on).
    pub initialized: bool,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            address: 0,
            hopper: 100,
            hopper_low: 10,
            reject_capacity: 50,
            reject_count: 0,
            firmware: "CRT-591-M001".into(),
            reply_delay: Duration::ZERO,
            move_delay: Duration::ZERO,
            jam: false,
            initialized: false,
        }
    }
}

/// Where the simulated card is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SimCardPlace {
    None,
    Gate,
    IcContact,
    Rf,
}

struct FaultRule {
    fault: Fault,
    on: Option<(u8, Option<u8>)>,
}

// The flags are independent switches of the device model (jam, power, mute, stop, chip).
#[allow(clippy::struct_excessive_bools)]
struct State {
    address: u8,
    hopper: u32,
    hopper_low: u32,
    reject_capacity: u32,
    reject_count: u32,
    reject_counter: u32,
    firmware: String,
    reply_delay: Duration,
    move_delay: Duration,
    jammed: bool,
    initialized: bool,
    mute: bool,
    stop: bool,
    unplug: bool,
    place: SimCardPlace,
    chip: Option<Box<dyn Chip>>,
    chip_powered: bool,
    chip_factory: Option<ChipFactory>,
    faults: VecDeque<FaultRule>,
    log: Vec<(u8, u8)>,
    dispensed: u32,
    taken: u32,
    ejected: u32,
}

/// Run-time control of a simulated dispenser; clone it freely.
#[derive(Clone)]
pub struct SimControl {
    state: Arc<Mutex<State>>,
}

impl SimControl {
    fn lock(&self) -> MutexGuard<'_, State> {
        // Only a panicking test thread can poison this; the state is plain data.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn hopper(&self) -> u32 {
        self.lock().hopper
    }

    /// Staff refilled (or emptied) the hopper.
    pub fn set_hopper(&self, cards: u32) {
        self.lock().hopper = cards;
    }

    pub fn reject_count(&self) -> u32 {
        self.lock().reject_count
    }

    /// Cards in the reject bin (staff emptied it: 0); also sets the device counter.
    pub fn set_reject_count(&self, cards: u32) {
        let mut s = self.lock();
        s.reject_count = cards;
        s.reject_counter = cards;
    }

    pub fn set_reject_capacity(&self, cards: u32) {
        self.lock().reject_capacity = cards;
    }

    /// Where the card is now.
    pub fn card_place(&self) -> SimCardPlace {
        self.lock().place
    }

    /// The status characters the device would report now.
    pub fn status(&self) -> Status {
        self.lock().status()
    }

    /// The resident takes the card held at the gate. Returns false when no card was there.
    pub fn take_card(&self) -> bool {
        let mut s = self.lock();
        if s.place == SimCardPlace::Gate {
            s.place = SimCardPlace::None;
            s.chip = None;
            s.taken += 1;
            true
        } else {
            false
        }
    }

    /// Jam (or clear the jam): while jammed every move fails with error "10".
    pub fn set_jam(&self, jammed: bool) {
        self.lock().jammed = jammed;
    }

    /// The device stops answering altogether (power or cable), or starts again.
    pub fn set_mute(&self, mute: bool) {
        self.lock().mute = mute;
    }

    /// The device loses power and comes back: it needs initialising again ("B0").
    pub fn power_cycle(&self) {
        let mut s = self.lock();
        s.initialized = false;
        s.chip_powered = false;
    }

    /// A fault for the next command of any kind.
    pub fn fail_next(&self, fault: Fault) {
        self.lock().faults.push_back(FaultRule { fault, on: None });
    }

    /// A fault for the next command with this CM (and PM, when given).
    pub fn fail_next_on(&self, cm: u8, pm: Option<u8>, fault: Fault) {
        self.lock().faults.push_back(FaultRule {
            fault,
            on: Some((cm, pm)),
        });
    }

    /// Drops faults scripted but not yet used.
    pub fn clear_faults(&self) {
        self.lock().faults.clear();
    }

    /// Sets how the chip of each card taken from the hopper is made.
    pub fn set_chip_factory(&self, factory: ChipFactory) {
        self.lock().chip_factory = Some(factory);
    }

    /// Puts a given chip on the card in the IC position now (for tests that hold the chip's
    /// own control handle). Returns false when no card is inside.
    pub fn replace_chip(&self, chip: Box<dyn Chip>) -> bool {
        let mut s = self.lock();
        if matches!(s.place, SimCardPlace::IcContact | SimCardPlace::Rf) {
            s.chip = Some(chip);
            s.chip_powered = false;
            true
        } else {
            false
        }
    }

    /// Every (CM, PM) received, in order.
    pub fn command_log(&self) -> Vec<(u8, u8)> {
        self.lock().log.clone()
    }

    /// Cards taken from the hopper so far.
    pub fn dispensed(&self) -> u32 {
        self.lock().dispensed
    }

    /// Cards the resident took from the gate so far.
    pub fn taken(&self) -> u32 {
        self.lock().taken
    }

    /// Cards moved out of the gate with eject so far.
    pub fn ejected(&self) -> u32 {
        self.lock().ejected
    }

    /// Asks a running simulator loop to return (for good).
    pub fn stop(&self) {
        self.lock().stop = true;
    }

    /// Pulls the cable: the running loop returns and drops its link end, so the driver sees
    /// a disconnect. The simulator can be run again on a new link (replug).
    pub fn unplug(&self) {
        self.lock().unplug = true;
    }

    /// True when the loop should return; an unplug request is used up by this.
    fn should_leave(&self) -> bool {
        let mut s = self.lock();
        let leave = s.stop || s.unplug;
        s.unplug = false;
        leave
    }
}

impl State {
    fn status(&self) -> Status {
        Status {
            card: match self.place {
                SimCardPlace::None => CardPosition::None,
                SimCardPlace::Gate => CardPosition::AtGate,
                SimCardPlace::IcContact | SimCardPlace::Rf => CardPosition::Inside,
            },
            hopper: if self.hopper == 0 {
                HopperLevel::Empty
            } else if self.hopper <= self.hopper_low {
                HopperLevel::Low
            } else {
                HopperLevel::Ok
            },
            reject_bin: if self.reject_count >= self.reject_capacity {
                RejectBin::Full
            } else {
                RejectBin::Ok
            },
        }
    }

    fn take_fault(&mut self, cmd: &Command) -> Option<Fault> {
        let idx = self.faults.iter().position(|r| match r.on {
            None => true,
            Some((c, p)) => c == cmd.cm && p.is_none_or(|p| p == cmd.pm),
        })?;
        self.faults.remove(idx).map(|r| r.fault)
    }

    fn card_inside(&self) -> bool {
        matches!(self.place, SimCardPlace::IcContact | SimCardPlace::Rf)
    }

    fn capture(&mut self) -> Result<(), ErrorCode> {
        if self.place == SimCardPlace::None {
            return Ok(());
        }
        if self.reject_count >= self.reject_capacity {
            return Err(ErrorCode::RejectBinFull);
        }
        self.reject_count += 1;
        self.reject_counter = self.reject_counter.saturating_add(1);
        self.place = SimCardPlace::None;
        self.chip = None;
        self.chip_powered = false;
        Ok(())
    }

    /// Carries a command out; returns the reply (positive data, or an error code).
    fn execute(&mut self, cmd: &Command) -> Result<Vec<u8>, ErrorCode> {
        let needs_init = matches!(cmd.cm, cm::MOVE | cm::CPU_CARD | cm::GATE_ENTRY);
        if needs_init && !self.initialized {
            return Err(ErrorCode::NotInitialized);
        }
        match cmd.cm {
            cm::INITIALIZE => self.initialize(cmd.pm),
            cm::STATUS => match cmd.pm {
                0x30 => Ok(Vec::new()),
                0x31 => Ok(self.sensors()),
                _ => Err(ErrorCode::ParameterError),
            },
            cm::MOVE => {
                let target = MoveTarget::from_pm(cmd.pm).ok_or(ErrorCode::ParameterError)?;
                self.move_card(target).map(|()| Vec::new())
            }
            cm::GATE_ENTRY => match cmd.pm {
                0x30 | 0x31 => Ok(Vec::new()),
                _ => Err(ErrorCode::ParameterError),
            },
            cm::CPU_CARD => self.cpu(cmd),
            cm::REJECT_COUNTER => match cmd.pm {
                0x30 => {
                    let v = u16::try_from(self.reject_counter.min(999)).unwrap_or(999);
                    Ok(three_digits(v).map(|d| d.to_vec()).unwrap_or_default())
                }
                0x31 => {
                    let value = crate::protocol::parse_three_digits(&cmd.data)
                        .ok_or(ErrorCode::DataError)?;
                    self.reject_counter = u32::from(value);
                    Ok(Vec::new())
                }
                _ => Err(ErrorCode::ParameterError),
            },
            _ => Err(ErrorCode::UndefinedCommand),
        }
    }

    fn initialize(&mut self, pm: u8) -> Result<Vec<u8>, ErrorCode> {
        let (mode, counting) = InitMode::from_pm(pm).ok_or(ErrorCode::ParameterError)?;
        self.initialized = true;
        self.chip_powered = false;
        if self.card_inside() || self.place == SimCardPlace::Gate {
            match mode {
                InitMode::HoldAtGate => self.place = SimCardPlace::Gate,
                InitMode::Capture => {
                    let before = self.reject_counter;
                    self.capture()?;
                    if !counting {
                        self.reject_counter = before;
                    }
                }
                InitMode::LeaveInPlace => {}
            }
        }
        Ok(self.firmware.as_bytes().to_vec())
    }

    fn sensors(&self) -> Vec<u8> {
        let s = |on: bool| if on { b'1' } else { b'0' };
        let gate = self.place == SimCardPlace::Gate;
        let ic = self.place == SimCardPlace::IcContact;
        let rf = self.place == SimCardPlace::Rf;
        vec![
            s(gate),
            s(gate || rf),
            s(rf || ic),
            s(ic),
            s(self.hopper > 0),
            s(self.hopper > self.hopper_low),
            s(self.reject_count >= self.reject_capacity),
            b'0',
        ]
    }

    fn move_card(&mut self, target: MoveTarget) -> Result<(), ErrorCode> {
        if self.jammed {
            return Err(ErrorCode::CardJam);
        }
        self.chip_powered = false;
        match target {
            MoveTarget::IcContact | MoveTarget::Rf => {
                if self.place == SimCardPlace::None {
                    if target == MoveTarget::Rf {
                        return Err(ErrorCode::SequenceError);
                    }
                    if self.hopper == 0 {
                        return Err(ErrorCode::StackerEmpty);
                    }
                    self.hopper -= 1;
                    self.dispensed += 1;
                    self.chip = self.chip_factory.as_mut().map(|f| f());
                }
                self.place = if target == MoveTarget::Rf {
                    SimCardPlace::Rf
                } else {
                    SimCardPlace::IcContact
                };
                Ok(())
            }
            MoveTarget::Gate => {
                if self.place != SimCardPlace::None {
                    self.place = SimCardPlace::Gate;
                }
                Ok(())
            }
            MoveTarget::EjectOut => {
                if self.place != SimCardPlace::None {
                    self.place = SimCardPlace::None;
                    self.chip = None;
                    self.ejected += 1;
                }
                Ok(())
            }
            MoveTarget::Capture => self.capture(),
        }
    }

    fn cpu(&mut self, cmd: &Command) -> Result<Vec<u8>, ErrorCode> {
        match cmd.pm {
            cpu_pm::COLD_RESET | cpu_pm::WARM_RESET => {
                if cmd.pm == cpu_pm::COLD_RESET
                    && !matches!(cmd.data.as_slice(), [0x30 | 0x33 | 0x35])
                {
                    return Err(ErrorCode::ParameterError);
                }
                if self.place != SimCardPlace::IcContact {
                    return Err(ErrorCode::IcActivationFailed);
                }
                let chip = self.chip.as_mut().ok_or(ErrorCode::IcActivationFailed)?;
                let (protocol, atr) = chip.power_on().ok_or(ErrorCode::IcActivationFailed)?;
                self.chip_powered = true;
                let mut out = vec![match protocol {
                    ChipProtocol::T0 => 0x30,
                    ChipProtocol::T1 => 0x31,
                }];
                out.extend_from_slice(&atr);
                Ok(out)
            }
            cpu_pm::POWER_OFF => {
                if let Some(chip) = self.chip.as_mut() {
                    chip.power_off();
                }
                self.chip_powered = false;
                Ok(Vec::new())
            }
            cpu_pm::STATUS => Ok(vec![if self.chip_powered { 0x31 } else { 0x30 }]),
            cpu_pm::APDU_T0 | cpu_pm::APDU_T1 | cpu_pm::APDU_AUTO => {
                if !(4..=261).contains(&cmd.data.len()) {
                    return Err(ErrorCode::DataError);
                }
                if !self.chip_powered || self.place != SimCardPlace::IcContact {
                    return Err(ErrorCode::IcCardNotActivated);
                }
                let chip = self.chip.as_mut().ok_or(ErrorCode::IcCardNotActivated)?;
                chip.transmit(&cmd.data)
                    .ok_or(ErrorCode::IcTransmissionTimeout)
            }
            _ => Err(ErrorCode::ParameterError),
        }
    }
}

/// A simulated dispenser. Create it, keep a [`SimControl`], and run it on a link. Clones
/// share one machine (so it can be run again on a new link after an unplug).
#[derive(Clone)]
pub struct Simulator {
    control: SimControl,
}

impl Simulator {
    pub fn new(config: SimConfig) -> Self {
        let state = State {
            address: config.address,
            hopper: config.hopper,
            hopper_low: config.hopper_low,
            reject_capacity: config.reject_capacity,
            reject_count: config.reject_count,
            reject_counter: config.reject_count,
            firmware: config.firmware,
            reply_delay: config.reply_delay,
            move_delay: config.move_delay,
            jammed: config.jam,
            initialized: config.initialized,
            mute: false,
            stop: false,
            unplug: false,
            place: SimCardPlace::None,
            chip: None,
            chip_powered: false,
            chip_factory: None,
            faults: VecDeque::new(),
            log: Vec::new(),
            dispensed: 0,
            taken: 0,
            ejected: 0,
        };
        Simulator {
            control: SimControl {
                state: Arc::new(Mutex::new(state)),
            },
        }
    }

    pub fn control(&self) -> SimControl {
        self.control.clone()
    }

    /// Serves the device side on `link` until the link fails or [`SimControl::stop`].
    pub fn run(&self, link: &mut dyn Link) -> Result<(), LinkError> {
        let mut decoder = Decoder::new();
        let mut buf = [0u8; 512];
        // The last reply and whether resends of it are corrupted too.
        let mut last_reply: Option<(Vec<u8>, bool)> = None;
        loop {
            if self.control.should_leave() {
                return Ok(());
            }
            let n = link.recv(&mut buf, Duration::from_millis(20))?;
            decoder.push(buf.get(..n).unwrap_or_default());
            while let Some(token) = decoder.next_token() {
                match token {
                    Ok(Token::Frame(f)) => {
                        last_reply = self.on_frame(link, &f)?;
                    }
                    Ok(Token::Nak) => {
                        if let Some((bytes, corrupt)) = &last_reply {
                            let mut bytes = bytes.clone();
                            if *corrupt && let Some(b) = bytes.last_mut() {
                                *b ^= 0x5A;
                            }
                            link.send(&bytes)?;
                        }
                    }
                    Ok(Token::Ack) => last_reply = None,
                    Ok(Token::Eot) | Err(DecodeError::Noise(_) | DecodeError::NoEtx(_)) => {}
                    Err(DecodeError::BadBcc { .. } | DecodeError::BadLength(_)) => {
                        if !self.control.lock().mute {
                            link.send(&[NAK])?;
                        }
                    }
                }
            }
        }
    }

    /// Handles one frame; returns the reply sent (good bytes, and whether NAK resends of it
    /// stay corrupted).
    fn on_frame(
        &self,
        link: &mut dyn Link,
        f: &crate::protocol::RawFrame,
    ) -> Result<Option<(Vec<u8>, bool)>, LinkError> {
        let (address, mute) = {
            let s = self.control.lock();
            (s.address, s.mute)
        };
        if f.addr != address || mute {
            return Ok(None);
        }
        let Ok(cmd) = f.parse_command() else {
            link.send(&[NAK])?;
            return Ok(None);
        };
        let (fault, delay) = {
            let mut s = self.control.lock();
            s.log.push((cmd.cm, cmd.pm));
            let fault = s.take_fault(&cmd);
            let delay = match cmd.kind() {
                CommandKind::Motion | CommandKind::Capture => s.move_delay,
                CommandKind::Query | CommandKind::Chip => s.reply_delay,
            };
            (fault, delay)
        };
        match fault {
            Some(Fault::NoAck) => return Ok(None),
            Some(Fault::Nak) => {
                link.send(&[NAK])?;
                return Ok(None);
            }
            Some(Fault::LoseAck | Fault::ExecuteSilently) => {}
            _ => link.send(&[ACK])?,
        }
        let (result, status) = {
            let mut s = self.control.lock();
            let result = match fault {
                Some(Fault::Error(code)) => Err(code),
                _ => s.execute(&cmd),
            };
            (result, s.status())
        };
        if !delay.is_zero() {
            std::thread::sleep(delay);
        }
        let reply = match result {
            Ok(data) => Reply::Positive {
                cm: cmd.cm,
                pm: cmd.pm,
                status,
                data,
            },
            Err(error) => Reply::Negative {
                cm: cmd.cm,
                pm: cmd.pm,
                error,
                marker: EMT_N,
                data: Vec::new(),
            },
        };
        let good = frame(address, &reply.to_text());
        match fault {
            Some(Fault::NoReply | Fault::ExecuteSilently) => Ok(None),
            Some(Fault::BadBcc | Fault::BadBccOnce) => {
                let mut bad = good.clone();
                if let Some(b) = bad.last_mut() {
                    *b ^= 0x5A;
                }
                link.send(&bad)?;
                Ok(Some((good, fault == Some(Fault::BadBcc))))
            }
            Some(Fault::Noise) => {
                link.send(&[0x00, 0x31, 0xFF, 0x7E])?;
                link.send(&good)?;
                Ok(Some((good, false)))
            }
            _ => {
                link.send(&good)?;
                Ok(Some((good, false)))
            }
        }
    }

    /// Runs the simulator on its own thread over `link`.
    pub fn spawn(self, mut link: Box<dyn Link>) -> JoinHandle<Result<(), LinkError>> {
        std::thread::spawn(move || self.run(&mut link))
    }

    /// An opener for [`crate::Handle::spawn`] that plugs a fresh in-memory link into this
    /// simulated machine each time (for `kiosk run --simulate` and tests; the machine keeps
    /// its state across an unplug and replug).
    pub fn opener(&self) -> crate::handle::Opener {
        let sim = self.clone();
        Box::new(move || {
            let (driver_end, device_end) = kiosk_link::memory::pair();
            sim.clone().spawn(Box::new(device_end));
            Ok(Box::new(driver_end) as Box<dyn Link>)
        })
    }

    /// Runs the simulator on a new pty whose slave is reachable at `path` (a symlink).
    /// Drop the guard to remove the symlink.
    pub fn spawn_on_pty(
        self,
        path: &Path,
    ) -> Result<(PtyGuard, JoinHandle<Result<(), LinkError>>), LinkError> {
        let (master, guard) = kiosk_link::pty::open_pair(Some(path))?;
        Ok((guard, self.spawn(Box::new(master))))
    }
}
