//! The real driver: blocking calls on a [`Link`] (USB bulk, serial, TCP 9100), each with its
//! own deadline.
//!
//! A job goes like this:
//! 1. the slip is built in memory (nothing is sent if that fails);
//! 2. status is read (`DLE EOT` 1–4, input drained before each query); a printer that is
//!    not ready gets nothing and the job fails with the reason;
//! 3. the owner is checked once more, then `GS a 0` + the slip + `GS r 1` are sent;
//! 4. the driver waits for the answer to `GS r 1`, which the printer gives only once it has
//!    processed everything before it, polling `DLE EOT` meanwhile. While a barrier answer
//!    is outstanding the input is not drained (that would throw the answer away); instead
//!    every byte goes through the [`ReplyDecoder`], which tells `DLE EOT`, `GS r`, ASB and
//!    clear replies apart by their fixed bits;
//! 5. if the printer stops (paper out, cover open…) or never confirms, the job fails and
//!    the printer's buffers are cleared (`DLE DC4 fn=8`, confirmed by `37 25 00`; else
//!    `DLE ENQ 2` and the printer is locked until staff check it), so nothing of the job
//!    prints when paper is loaded;
//! 6. status is read again and returned with the report.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use kiosk_link::{Link, LinkError, Port};

use crate::font::CjkFont;
use crate::job::{ClearOutcome, JobReport, PrintError, SessionId};
use crate::profile::{Completion, PrinterProfile};
use crate::protocol::{
    CLEAR_RESPONSE, Condition, DLE_DC4_CLEAR, DLE_ENQ_CLEAR, GS_ASB_OFF, GS_R_PAPER, PrinterStatus,
    RT1_OFFLINE, RawStatus, Reply, ReplyDecoder, StatusRequest,
};
use crate::slips::Document;

/// Default serial speed for receipt printers (most ship at 9600; say `serial:PATH@BAUD`).
pub const DEFAULT_BAUD: u32 = 9600;

/// Deadlines. Defaults suit real printers; tests use [`Timeouts::fast`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// Wait for one `DLE EOT` answer (real-time: printers answer in a few ms). 500 ms.
    pub status_reply: Duration,
    /// Longest a job may take to print before it is cancelled. 30 s.
    pub job: Duration,
    /// How often real-time status is polled while a job prints. 250 ms.
    pub poll: Duration,
    /// Wait for the clear response after `DLE DC4 fn=8`. 1 s.
    pub clear_reply: Duration,
    /// With [`Completion::StatusOnly`], how long the printer must stay ready after the job. 3 s.
    pub settle: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            status_reply: Duration::from_millis(500),
            job: Duration::from_secs(30),
            poll: Duration::from_millis(250),
            clear_reply: Duration::from_secs(1),
            settle: Duration::from_secs(3),
        }
    }
}

impl Timeouts {
    /// Short deadlines for tests against the simulator.
    pub fn fast() -> Self {
        Timeouts {
            status_reply: Duration::from_millis(400),
            job: Duration::from_secs(3),
            poll: Duration::from_millis(10),
            clear_reply: Duration::from_millis(300),
            settle: Duration::from_millis(50),
        }
    }
}

/// A receipt printer on a link.
pub struct PrinterDriver {
    link: Box<dyn Link>,
    profile: PrinterProfile,
    font: Arc<CjkFont>,
    timeouts: Timeouts,
    demux: ReplyDecoder,
    pending: VecDeque<Reply>,
    staff_check: bool,
    next_job: u64,
}

impl PrinterDriver {
    /// Wraps an open link and turns Automatic Status Back off (`GS a 0`) so that the read
    /// side only carries answers the driver asked for.
    pub fn connect(
        mut link: Box<dyn Link>,
        profile: PrinterProfile,
        font: Arc<CjkFont>,
        timeouts: Timeouts,
    ) -> Result<Self, PrintError> {
        link.send(&GS_ASB_OFF)?;
        Ok(PrinterDriver {
            link,
            profile,
            font,
            timeouts,
            demux: ReplyDecoder::new(),
            pending: VecDeque::new(),
            staff_check: false,
            next_job: 1,
        })
    }

    /// Opens `port` (USB bulk, serial, TCP) and connects.
    pub fn open(
        port: &Port,
        profile: PrinterProfile,
        font: Arc<CjkFont>,
        timeouts: Timeouts,
    ) -> Result<Self, PrintError> {
        let link = kiosk_link::open(port, DEFAULT_BAUD)?;
        Self::connect(link, profile, font, timeouts)
    }

    pub fn profile(&self) -> &PrinterProfile {
        &self.profile
    }

    pub fn describe(&self) -> String {
        self.link.describe()
    }

    /// True after a failed job whose remainder could not be cleared from the printer.
    pub fn needs_staff_check(&self) -> bool {
        self.staff_check
    }

    /// Staff have checked the printer (removed anything it printed late): jobs may run again.
    pub fn acknowledge_staff_check(&mut self) {
        self.staff_check = false;
    }

    fn drain(&mut self) -> Result<(), LinkError> {
        self.link.drain()?;
        self.demux.reset();
        self.pending.clear();
        Ok(())
    }

    /// Reads whatever arrives until `deadline` or until at least one message is complete.
    fn read_some(&mut self, deadline: Instant) -> Result<(), LinkError> {
        let mut buf = [0u8; 64];
        let mut out = Vec::new();
        loop {
            let now = Instant::now();
            if now >= deadline {
                return Ok(());
            }
            let n = self.link.recv(&mut buf, deadline - now)?;
            for &b in buf.get(..n).unwrap_or(&[]) {
                self.demux.push(b, &mut out);
            }
            if !out.is_empty() {
                for reply in out.drain(..) {
                    if let Reply::Asb(bytes) = reply {
                        tracing::debug!(?bytes, "printer sent automatic status back; ignored");
                    } else {
                        self.pending.push_back(reply);
                    }
                }
                return Ok(());
            }
            if n == 0 {
                return Ok(());
            }
        }
    }

    fn take_pending(&mut self, pred: impl Fn(&Reply) -> bool) -> Option<Reply> {
        let i = self.pending.iter().position(pred)?;
        self.pending.remove(i)
    }

    /// Sends one `DLE EOT n` and waits for its answer.
    fn query(&mut self, request: StatusRequest) -> Result<u8, PrintError> {
        // Only one real-time request is ever outstanding, so the next real-time reply is its
        // answer. Stale ones were drained (outside jobs) or consumed (inside).
        self.pending.retain(|r| !matches!(r, Reply::RealTime(_)));
        self.link.send(&request.command())?;
        let deadline = Instant::now() + self.timeouts.status_reply;
        loop {
            if let Some(Reply::RealTime(b)) = self.take_pending(|r| matches!(r, Reply::RealTime(_)))
            {
                return Ok(b);
            }
            if Instant::now() >= deadline {
                return Err(PrintError::NoAnswer(request as u8));
            }
            self.read_some(deadline)?;
        }
    }

    /// Reads all four real-time statuses, draining the input before each query (a USB
    /// printer may otherwise hand back the previous request's answer).
    pub fn status(&mut self) -> Result<PrinterStatus, PrintError> {
        let mut raw = RawStatus::default();
        for request in StatusRequest::ALL {
            self.drain()?;
            raw.set(request, self.query(request)?);
        }
        let status = PrinterStatus::from_raw(raw);
        tracing::debug!(ready = status.ready, conditions = ?status.conditions, "printer status");
        Ok(status)
    }

    /// Status while a job is in the printer: no draining (the barrier answer must not be
    /// lost); the demultiplexer keeps replies apart.
    fn status_in_job(&mut self) -> Result<PrinterStatus, PrintError> {
        let mut raw = RawStatus::default();
        for request in StatusRequest::ALL {
            raw.set(request, self.query(request)?);
        }
        Ok(PrinterStatus::from_raw(raw))
    }

    /// Prints `doc` for `owner`. See [`PrinterDriver::print_checked`].
    pub fn print(&mut self, owner: &SessionId, doc: &Document) -> Result<JobReport, PrintError> {
        self.print_checked(owner, doc, &|_| true)
    }

    /// Prints `doc` for `owner`, calling `still_current` just before the bytes are released
    /// to the printer: a job whose session has ended is never sent.
    pub fn print_checked(
        &mut self,
        owner: &SessionId,
        doc: &Document,
        still_current: &dyn Fn(&SessionId) -> bool,
    ) -> Result<JobReport, PrintError> {
        if self.staff_check {
            return Err(PrintError::StaffCheckNeeded);
        }
        let slip = doc.build(&self.profile, &self.font)?;
        let before = self.status()?;
        if let Some(reason) = before.blocking_reason() {
            tracing::info!(owner = %owner, kind = doc.kind(), %reason, "printer not ready; job refused");
            return Err(PrintError::NotReady {
                reason,
                status: before,
            });
        }
        if !still_current(owner) {
            return Err(PrintError::NotCurrentSession);
        }
        let job_id = self.next_job;
        self.next_job += 1;
        let mut bytes = Vec::with_capacity(slip.bytes.len() + 6);
        bytes.extend_from_slice(&GS_ASB_OFF);
        bytes.extend_from_slice(&slip.bytes);
        if self.profile.completion == Completion::GsR {
            bytes.extend_from_slice(&GS_R_PAPER);
        }
        tracing::info!(owner = %owner, job_id, kind = doc.kind(), bytes = bytes.len(), "sending job");
        self.drain()?;
        self.link.send(&bytes)?;
        match self.wait_for_completion() {
            Ok(()) => {}
            Err(e) => {
                tracing::warn!(owner = %owner, job_id, error = %e, "job failed");
                return Err(e);
            }
        }
        let status_after = self.status()?;
        tracing::info!(owner = %owner, job_id, conditions = ?status_after.conditions, "job printed");
        Ok(JobReport {
            job_id,
            owner: owner.clone(),
            kind: doc.kind().to_owned(),
            bytes: bytes.len(),
            status_after,
        })
    }

    fn wait_for_completion(&mut self) -> Result<(), PrintError> {
        let started = Instant::now();
        let deadline = started + self.timeouts.job;
        let barrier = self.profile.completion == Completion::GsR;
        let settle_until = started + self.timeouts.settle;
        loop {
            if barrier && self.take_pending(|r| matches!(r, Reply::GsR(_))).is_some() {
                return Ok(());
            }
            let now = Instant::now();
            if !barrier && now >= settle_until {
                return Ok(());
            }
            if now >= deadline {
                let cleared = self.clear_buffers()?;
                return Err(PrintError::NotConfirmed {
                    waited: now - started,
                    cleared,
                });
            }
            let wait_until = (now + self.timeouts.poll).min(deadline);
            while Instant::now() < wait_until {
                self.read_some(wait_until)?;
                if barrier && self.pending.iter().any(|r| matches!(r, Reply::GsR(_))) {
                    break;
                }
            }
            if barrier && self.pending.iter().any(|r| matches!(r, Reply::GsR(_))) {
                continue;
            }
            let printer = self.query(StatusRequest::Printer)?;
            let status = if printer & RT1_OFFLINE != 0 {
                self.status_in_job()?
            } else {
                // Paper end stops printing and always sets the offline bit; still read the
                // sensor so that a clone which forgets the offline bit is caught too.
                let paper = self.query(StatusRequest::PaperSensor)?;
                PrinterStatus::from_raw(RawStatus {
                    printer,
                    paper,
                    ..RawStatus::ALL_CLEAR
                })
            };
            if let Some(reason) = status.blocking_reason() {
                let cleared = self.clear_buffers()?;
                return Err(PrintError::FailedMidJob { reason, cleared });
            }
        }
    }

    /// Throws away everything the printer holds of the current job, so that it does not
    /// print when the fault is fixed (for another resident, or twice).
    pub fn clear_buffers(&mut self) -> Result<ClearOutcome, PrintError> {
        self.link.send(&DLE_DC4_CLEAR)?;
        let deadline = Instant::now() + self.timeouts.clear_reply;
        loop {
            if self
                .take_pending(|r| matches!(r, Reply::ClearResponse))
                .is_some()
            {
                tracing::info!("printer buffers cleared (clear response {CLEAR_RESPONSE:02X?})");
                return Ok(ClearOutcome::Confirmed);
            }
            if Instant::now() >= deadline {
                break;
            }
            self.read_some(deadline)?;
        }
        self.link.send(&DLE_ENQ_CLEAR)?;
        self.staff_check = true;
        tracing::warn!("printer did not confirm clearing its buffers; locked until a staff check");
        Ok(ClearOutcome::Unconfirmed)
    }
}

/// The reason to report for a status that is not ready (for callers holding only a status).
pub fn not_ready_reason(status: &PrinterStatus) -> Option<Condition> {
    status.blocking_reason()
}
