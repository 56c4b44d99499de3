//! A simulated ESC/POS receipt printer: the device side of the same wire protocol, on the
//! other end of any [`Link`] (memory pair, pseudo-terminal, TCP socket).
//!
//! Like a real printer it has a receive buffer and a print engine. Real-time commands
//! (`DLE EOT n`, `DLE ENQ n`, `DLE DC4 fn=8`) are taken out of the byte stream on reception,
//! wherever they appear, and answered at once with the Epson bit layouts; everything else
//! goes to the receive buffer, which the engine works through. When paper runs out (or the
//! cover opens, or the printer goes offline) the engine stops and the rest stays in the
//! buffer: loading paper **prints the backlog** unless the host cleared it. `GS r` is
//! answered in order by the engine, so it is not answered while stopped.
//!
//! Every cut produces a [`SlipRecord`]: a PNG drawn with the CJK font (QR codes drawn from
//! their stored payload with the `qrcode` crate), a text dump, and the decoded QR payloads.
//! A slip cut short by paper out is recorded too, marked incomplete.

pub mod decoder;
pub mod render;

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use image::GrayImage;
use kiosk_link::pty::PtyGuard;
use kiosk_link::tcp::TcpLink;
use kiosk_link::{Link, LinkError};
use serde::Serialize;

use crate::font::{CjkFont, FontError, FontSource};
use crate::profile::PaperWidth;
use crate::protocol::{
    CLEAR_RESPONSE, DLE_DC4_CLEAR, GSR_NEAR_END, RT1_OFFLINE, RT2_COVER_OPEN, RT2_ERROR,
    RT2_PAPER_END_STOP, RT3_AUTOCUTTER, RT3_UNRECOVERABLE, RT4_NEAR_END, RT4_PAPER_END,
};
use decoder::{CutKind, Decoded, decode};
use render::{Engine, FinishedSlip};

/// Whether `DLE ENQ 2` clears the buffers on this model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EnqClear {
    /// Ignored.
    Never,
    /// Only after a recoverable error such as an autocutter error (Epson, Citizen).
    #[default]
    OnRecoverableError,
    /// Always (Custom P80C).
    Always,
}

/// How the simulated printer behaves.
#[allow(clippy::struct_excessive_bools)] // one switch per modelled behaviour
#[derive(Debug, Clone)]
pub struct SimConfig {
    pub paper: PaperWidth,
    pub font: FontSource,
    /// Where PNG and text dumps of each slip go (none: kept in memory only).
    pub out_dir: Option<PathBuf>,
    /// Answers `DLE DC4 fn=8` with `37 25 00` and clears its buffers.
    pub supports_clear: bool,
    pub enq_clear: EnqClear,
    /// Powers on with Chinese mode on (many Chinese printers do). Off by default, so a
    /// missing `FS &` shows up as junk.
    pub chinese_at_power_on: bool,
    /// Powers on with Automatic Status Back enabled (sends 4-byte ASB messages unasked).
    pub asb_at_power_on: bool,
    /// Answers `GS r`.
    pub answers_gs_r: bool,
    /// Slips kept in memory.
    pub keep_slips: usize,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            paper: PaperWidth::Mm80,
            font: FontSource::default(),
            out_dir: None,
            supports_clear: true,
            enq_clear: EnqClear::OnRecoverableError,
            chinese_at_power_on: false,
            asb_at_power_on: false,
            answers_gs_r: true,
            keep_slips: 64,
        }
    }
}

/// One slip that came out of the simulated printer.
#[derive(Debug, Clone, Serialize)]
pub struct SlipRecord {
    pub index: usize,
    /// Text dump, one printed line per line.
    pub text: String,
    /// The PNG, when the simulator has an output directory.
    pub png: Option<PathBuf>,
    pub qr_payloads: Vec<String>,
    /// False when paper ran out before the cut (the part printed on the old roll).
    pub complete: bool,
    pub partial_cut: bool,
    /// Characters printed as junk (four-byte GB18030, text outside Chinese mode).
    pub junk_chars: usize,
    /// Lines the printer had to wrap itself (wider than the paper).
    pub overflowed_lines: usize,
    pub raster_images: usize,
    pub warnings: Vec<String>,
    #[serde(skip)]
    pub image: Arc<GrayImage>,
}

#[allow(clippy::struct_excessive_bools)] // one flag per scripted fault
#[derive(Debug, Default, Clone, Copy)]
struct Faults {
    paper_out: bool,
    near_end: bool,
    cover_open: bool,
    offline: bool,
    cutter_error: bool,
    unrecoverable: bool,
    paper_out_after_lines: Option<u32>,
    mute: bool,
}

/// Real-time commands taken from the stream on reception.
#[derive(Debug, Clone, PartialEq, Eq)]
enum RealTime {
    Eot(u8),
    Enq(u8),
    Dc4(Vec<u8>),
}

/// Splits real-time commands out of the incoming stream, across chunk boundaries.
#[derive(Debug, Default)]
struct RealTimeFilter {
    partial: Vec<u8>,
    after_command: bool,
    stray_nuls: usize,
}

impl RealTimeFilter {
    fn feed(&mut self, bytes: &[u8], pass: &mut Vec<u8>, cmds: &mut Vec<RealTime>) {
        for &b in bytes {
            if std::mem::take(&mut self.after_command) && b == 0 && self.partial.is_empty() {
                // `10 04 n 00`: the stray NUL the `escpos` crate appends
                self.stray_nuls += 1;
            }
            let before = cmds.len();
            self.step(b, pass, cmds);
            if cmds.len() > before {
                self.after_command = true;
            }
        }
    }

    fn step(&mut self, b: u8, pass: &mut Vec<u8>, cmds: &mut Vec<RealTime>) {
        if self.partial.is_empty() {
            if b == 0x10 {
                self.partial.push(b);
            } else {
                pass.push(b);
            }
            return;
        }
        self.partial.push(b);
        match self.partial.as_slice() {
            [0x10, 0x04 | 0x05 | 0x14] => {}
            [0x10, 0x04, n] => {
                cmds.push(RealTime::Eot(*n));
                self.partial.clear();
            }
            [0x10, 0x05, n] => {
                cmds.push(RealTime::Enq(*n));
                self.partial.clear();
            }
            [0x10, 0x14, rest @ ..] => {
                let want = if rest.first() == Some(&8) { 8 } else { 3 };
                if rest.len() >= want {
                    cmds.push(RealTime::Dc4(std::mem::take(&mut self.partial)));
                }
            }
            [0x10, other] => {
                // not a real-time command: both bytes are ordinary data
                pass.push(0x10);
                let other = *other;
                self.partial.clear();
                if other == 0x10 {
                    self.partial.push(other);
                } else {
                    pass.push(other);
                }
            }
            _ => {
                pass.extend_from_slice(&self.partial);
                self.partial.clear();
            }
        }
    }
}

struct SimState {
    cfg: SimConfig,
    faults: Faults,
    plugged: bool,
    generation: u64,
    filter: RealTimeFilter,
    rx: Vec<u8>,
    outgoing: Vec<u8>,
    asb_mask: u8,
    last_asb: Option<[u8; 4]>,
    engine: Engine,
    slips: Vec<SlipRecord>,
    slip_count: usize,
    lines_printed: u64,
    realtime_log: Vec<Vec<u8>>,
    nul_after_realtime: usize,
}

impl SimState {
    fn stopped(&self) -> bool {
        let f = &self.faults;
        f.paper_out || f.cover_open || f.offline || f.cutter_error || f.unrecoverable
    }

    fn realtime_status(&self, n: u8) -> Option<u8> {
        let f = &self.faults;
        let mut b = 0x12u8;
        match n {
            1 => {
                if self.stopped() {
                    b |= RT1_OFFLINE;
                }
            }
            2 => {
                if f.cover_open {
                    b |= RT2_COVER_OPEN;
                }
                if f.paper_out {
                    b |= RT2_PAPER_END_STOP;
                }
                if f.cutter_error || f.unrecoverable {
                    b |= RT2_ERROR;
                }
            }
            3 => {
                if f.cutter_error {
                    b |= RT3_AUTOCUTTER;
                }
                if f.unrecoverable {
                    b |= RT3_UNRECOVERABLE;
                }
            }
            4 => {
                if f.near_end || f.paper_out {
                    b |= RT4_NEAR_END;
                }
                if f.paper_out {
                    b |= RT4_PAPER_END;
                }
            }
            _ => return None,
        }
        Some(b)
    }

    fn asb_message(&self) -> [u8; 4] {
        let f = &self.faults;
        let mut b1 = 0x10u8;
        if self.stopped() {
            b1 |= 0x08;
        }
        if f.cover_open {
            b1 |= 0x20;
        }
        let mut b2 = 0u8;
        if f.cutter_error {
            b2 |= 0x08;
        }
        if f.unrecoverable {
            b2 |= 0x20;
        }
        let mut b3 = 0u8;
        if f.near_end || f.paper_out {
            b3 |= 0x03;
        }
        if f.paper_out {
            b3 |= 0x0C;
        }
        [b1, b2, b3, 0]
    }

    /// Queues an ASB message if enabled and the status changed.
    fn maybe_asb(&mut self, force: bool) {
        if self.asb_mask == 0 {
            return;
        }
        let msg = self.asb_message();
        if force || self.last_asb != Some(msg) {
            self.outgoing.extend_from_slice(&msg);
            self.last_asb = Some(msg);
        }
    }

    fn clear_buffers(&mut self) {
        self.rx.clear();
        self.engine.clear_print_buffer();
    }

    fn receive(&mut self, bytes: &[u8]) {
        let mut pass = Vec::with_capacity(bytes.len());
        let mut cmds = Vec::new();
        self.filter.feed(bytes, &mut pass, &mut cmds);
        self.nul_after_realtime += std::mem::take(&mut self.filter.stray_nuls);
        self.rx.extend_from_slice(&pass);
        for cmd in cmds {
            self.realtime(cmd);
        }
    }

    fn realtime(&mut self, cmd: RealTime) {
        match cmd {
            RealTime::Eot(n) => {
                self.realtime_log.push(vec![0x10, 0x04, n]);
                if self.faults.mute {
                    return;
                }
                if let Some(b) = self.realtime_status(n) {
                    self.outgoing.push(b);
                }
            }
            RealTime::Enq(n) => {
                self.realtime_log.push(vec![0x10, 0x05, n]);
                let recoverable = self.faults.cutter_error;
                let clears = match self.cfg.enq_clear {
                    EnqClear::Never => false,
                    EnqClear::OnRecoverableError => recoverable,
                    EnqClear::Always => true,
                };
                if (n == 1 || n == 2) && recoverable && self.cfg.enq_clear != EnqClear::Never {
                    self.faults.cutter_error = false;
                }
                if n == 2 && clears {
                    self.clear_buffers();
                }
            }
            RealTime::Dc4(bytes) => {
                let is_clear = bytes == DLE_DC4_CLEAR;
                self.realtime_log.push(bytes);
                if is_clear && self.cfg.supports_clear {
                    self.clear_buffers();
                    self.outgoing.extend_from_slice(&CLEAR_RESPONSE);
                }
            }
        }
    }

    fn record(&mut self, slip: FinishedSlip) {
        self.slip_count += 1;
        let index = self.slip_count;
        let png = self.cfg.out_dir.as_ref().and_then(|dir| {
            let png = dir.join(format!("slip-{index:04}.png"));
            let txt = dir.join(format!("slip-{index:04}.txt"));
            let ok = slip.image.save(&png).is_ok() && std::fs::write(&txt, &slip.text).is_ok();
            if !ok {
                tracing::warn!(dir = %dir.display(), "printer simulator cannot write its slip files");
            }
            ok.then_some(png)
        });
        self.slips.push(SlipRecord {
            index,
            text: slip.text,
            png,
            qr_payloads: slip.qr_payloads,
            complete: slip.cut.is_some(),
            partial_cut: slip.cut == Some(CutKind::Partial),
            junk_chars: slip.junk_chars,
            overflowed_lines: slip.overflowed_lines,
            raster_images: slip.raster_images,
            warnings: slip.warnings,
            image: slip.image,
        });
        let keep = self.cfg.keep_slips.max(1);
        if self.slips.len() > keep {
            let extra = self.slips.len() - keep;
            self.slips.drain(..extra);
        }
    }

    /// Runs the print engine over the receive buffer until it is empty, incomplete, or the
    /// printer stops.
    fn pump(&mut self) {
        let mut consumed = 0usize;
        loop {
            if self.stopped() {
                break;
            }
            let rest = self.rx.get(consumed..).unwrap_or(&[]);
            let (op, n) = match decode(rest, self.engine.chinese()) {
                Decoded::NeedMore => break,
                Decoded::Op(op, n) => (op, n),
            };
            let (effect, slip) = self.engine.apply(&op);
            consumed += n;
            if let Some(slip) = slip {
                self.record(slip);
            }
            if let Some(n) = effect.status_request
                && self.cfg.answers_gs_r
                && (n == 1 || n == 49)
            {
                self.outgoing.push(if self.faults.near_end {
                    GSR_NEAR_END
                } else {
                    0
                });
            }
            if let Some(mask) = effect.asb {
                self.asb_mask = mask;
                self.last_asb = None;
                self.maybe_asb(true);
            }
            if effect.printed > 0 {
                self.lines_printed += u64::from(effect.printed);
                if let Some(left) = self.faults.paper_out_after_lines {
                    let left = left.saturating_sub(effect.printed);
                    if left == 0 {
                        self.faults.paper_out_after_lines = None;
                        self.faults.paper_out = true;
                        // what was printed so far hangs out of the printer, uncut
                        let torn = self.engine.take_slip(None);
                        self.record(torn);
                        self.maybe_asb(false);
                    } else {
                        self.faults.paper_out_after_lines = Some(left);
                    }
                }
            }
        }
        self.rx.drain(..consumed.min(self.rx.len()));
    }
}

/// The control handle of one simulated printer: cloneable, thread-safe. Tests and a
/// developer panel use it to script faults and read the slips.
#[derive(Clone)]
pub struct SimPrinter {
    state: Arc<Mutex<SimState>>,
}

impl std::fmt::Debug for SimPrinter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimPrinter").finish_non_exhaustive()
    }
}

/// How often a serving thread polls its link (and picks up control changes).
const POLL: Duration = Duration::from_millis(5);

impl SimPrinter {
    /// A printer with paper, cover closed, online.
    pub fn new(cfg: SimConfig) -> Result<Self, FontError> {
        let font = CjkFont::load(&cfg.font)?;
        Ok(Self::with_font(cfg, font))
    }

    pub fn with_font(cfg: SimConfig, font: Arc<CjkFont>) -> Self {
        let engine = Engine::new(font, cfg.paper.dots(), cfg.chinese_at_power_on);
        let asb_mask = if cfg.asb_at_power_on { 0x0F } else { 0 };
        SimPrinter {
            state: Arc::new(Mutex::new(SimState {
                cfg,
                faults: Faults::default(),
                plugged: true,
                generation: 0,
                filter: RealTimeFilter::default(),
                rx: Vec::new(),
                outgoing: Vec::new(),
                asb_mask,
                last_asb: None,
                engine,
                slips: Vec::new(),
                slip_count: 0,
                lines_printed: 0,
                realtime_log: Vec::new(),
                nul_after_realtime: 0,
            })),
        }
    }

    fn lock(&self) -> MutexGuard<'_, SimState> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn change(&self, f: impl FnOnce(&mut Faults)) {
        let mut s = self.lock();
        f(&mut s.faults);
        s.maybe_asb(false);
        s.pump();
    }

    /// Paper out (`true`) or a new roll loaded (`false`). Loading paper restarts the engine:
    /// whatever is still in the receive buffer prints now.
    pub fn set_paper_out(&self, out: bool) {
        self.change(|f| {
            f.paper_out = out;
            if !out {
                f.near_end = false;
            }
        });
    }

    /// Loads a new roll (clears paper out and near end).
    pub fn load_paper(&self) {
        self.set_paper_out(false);
    }

    pub fn set_near_end(&self, near: bool) {
        self.change(|f| f.near_end = near);
    }

    pub fn set_cover_open(&self, open: bool) {
        self.change(|f| f.cover_open = open);
    }

    pub fn set_offline(&self, offline: bool) {
        self.change(|f| f.offline = offline);
    }

    pub fn set_cutter_error(&self, error: bool) {
        self.change(|f| f.cutter_error = error);
    }

    pub fn set_unrecoverable_error(&self, error: bool) {
        self.change(|f| f.unrecoverable = error);
    }

    /// Paper runs out after `lines` more printed lines (the middle of the next job).
    pub fn paper_out_after_lines(&self, lines: Option<u32>) {
        self.change(|f| f.paper_out_after_lines = lines);
    }

    /// Stops answering real-time status (a hung printer or a dead interface board).
    pub fn set_mute(&self, mute: bool) {
        self.change(|f| f.mute = mute);
    }

    /// Unplugs the cable: serving threads drop their links (the driver sees a disconnect)
    /// and the printer refuses new connections until plugged in again.
    pub fn unplug(&self) {
        let mut s = self.lock();
        s.plugged = false;
        s.generation += 1;
    }

    pub fn plug(&self) {
        self.lock().plugged = true;
    }

    pub fn is_plugged(&self) -> bool {
        self.lock().plugged
    }

    /// Queues bytes to send as if the printer had sent them (stale answers, noise).
    pub fn inject_output(&self, bytes: &[u8]) {
        self.lock().outgoing.extend_from_slice(bytes);
    }

    /// The slips printed so far (oldest first).
    pub fn slips(&self) -> Vec<SlipRecord> {
        self.lock().slips.clone()
    }

    /// Bytes received and not yet printed.
    pub fn pending_bytes(&self) -> usize {
        self.lock().rx.len()
    }

    /// Lines (and images) put on paper since power-on.
    pub fn lines_printed(&self) -> u64 {
        self.lock().lines_printed
    }

    /// Every real-time command received, as bytes.
    pub fn realtime_log(&self) -> Vec<Vec<u8>> {
        self.lock().realtime_log.clone()
    }

    /// NUL bytes seen right after a real-time command (`10 04 n 00` from a sloppy host).
    pub fn stray_nuls_after_realtime(&self) -> usize {
        self.lock().nul_after_realtime
    }

    /// Puts bytes straight into the receive path, as if they had arrived on a link, and
    /// runs the engine (for rendering slips without a driver). Replies are discarded.
    pub fn feed_bytes(&self, bytes: &[u8]) {
        let mut s = self.lock();
        s.receive(bytes);
        s.pump();
        s.outgoing.clear();
    }

    /// Serves one connection until the link closes or the printer is unplugged. Blocks.
    pub fn serve(&self, mut link: Box<dyn Link>) -> Result<(), LinkError> {
        let generation = {
            let mut s = self.lock();
            if !s.plugged {
                return Err(LinkError::Disconnected("printer unplugged".into()));
            }
            s.outgoing.clear();
            s.filter = RealTimeFilter::default();
            s.maybe_asb(true);
            s.generation
        };
        let mut buf = [0u8; 4096];
        loop {
            let out = {
                let mut s = self.lock();
                if !s.plugged || s.generation != generation {
                    return Ok(());
                }
                std::mem::take(&mut s.outgoing)
            };
            if !out.is_empty() {
                link.send(&out)?;
            }
            let n = link.recv(&mut buf, POLL)?;
            let mut s = self.lock();
            if n > 0 {
                s.receive(buf.get(..n).unwrap_or(&[]));
            }
            s.pump();
        }
    }

    /// Serves `link` on a new thread.
    pub fn spawn(&self, link: Box<dyn Link>) -> JoinHandle<()> {
        let sim = self.clone();
        std::thread::Builder::new()
            .name("printer-sim".into())
            .spawn(move || {
                if let Err(e) = sim.serve(link) {
                    tracing::debug!(error = %e, "printer simulator connection ended");
                }
            })
            .unwrap_or_else(|_| std::thread::spawn(|| {}))
    }

    /// Listens on TCP (like a printer on port 9100) and serves one connection at a time,
    /// on a background thread. Returns the bound address.
    pub fn listen_tcp(&self, addr: &str) -> std::io::Result<(SocketAddr, JoinHandle<()>)> {
        let listener = TcpListener::bind(addr)?;
        let local = listener.local_addr()?;
        let sim = self.clone();
        let handle = std::thread::Builder::new()
            .name("printer-sim-tcp".into())
            .spawn(move || {
                for stream in listener.incoming() {
                    let Ok(stream) = stream else { continue };
                    if !sim.is_plugged() {
                        continue; // refuse: drop the connection
                    }
                    let _ = stream.set_nodelay(true);
                    if let Err(e) = sim.serve(Box::new(TcpLink::from_stream(stream))) {
                        tracing::debug!(error = %e, "printer simulator TCP connection ended");
                    }
                }
            })?;
        Ok((local, handle))
    }

    /// Serves on a pseudo-terminal whose slave is symlinked at `path` (a driver opens it as
    /// a serial port). Keep the guard alive as long as the printer should exist.
    pub fn serve_pty(&self, path: Option<&Path>) -> Result<(PtyGuard, JoinHandle<()>), LinkError> {
        let (master, guard) = kiosk_link::pty::open_pair(path)?;
        let handle = self.spawn(Box::new(master));
        Ok((guard, handle))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn realtime_filter_takes_commands_out_across_chunks() {
        let mut f = RealTimeFilter::default();
        let mut pass = Vec::new();
        let mut cmds = Vec::new();
        f.feed(&[b'a', 0x10], &mut pass, &mut cmds);
        f.feed(
            &[0x04, 0x01, b'b', 0x10, 0x41, 0x10, 0x10, 0x05, 0x02],
            &mut pass,
            &mut cmds,
        );
        f.feed(&DLE_DC4_CLEAR, &mut pass, &mut cmds);
        assert_eq!(pass, vec![b'a', b'b', 0x10, 0x41, 0x10]);
        assert_eq!(
            cmds,
            vec![
                RealTime::Eot(1),
                RealTime::Enq(2),
                RealTime::Dc4(DLE_DC4_CLEAR.to_vec())
            ]
        );
    }
}
