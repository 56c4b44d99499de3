//! Jobs, their owners, and why a job did not print (in words a resident can be told).

use std::fmt;
use std::time::Duration;

use kiosk_link::LinkError;
use serde::{Deserialize, Serialize};

use crate::layout::SlipError;
use crate::protocol::{Condition, PrinterStatus};

/// The session a job belongs to (the app's session id; not personal data).
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SessionId(pub String);

impl SessionId {
    pub fn new(id: impl Into<String>) -> Self {
        SessionId(id.into())
    }
}

impl fmt::Debug for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SessionId({})", self.0)
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What happened to the printer's buffers after a job failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClearOutcome {
    /// `DLE DC4 fn=8` was answered: the receive and print buffers are empty, nothing of the
    /// job will print when paper is loaded.
    Confirmed,
    /// The printer did not answer the clear command (`DLE ENQ 2` was sent as well, which some
    /// models act on silently). The rest of the job MAY print when the fault is fixed, so
    /// the driver refuses further jobs until staff have checked the printer.
    Unconfirmed,
}

impl fmt::Display for ClearOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClearOutcome::Confirmed => f.write_str("printer buffers cleared"),
            ClearOutcome::Unconfirmed => f.write_str(
                "buffer clear not confirmed: the rest may print later, staff check needed",
            ),
        }
    }
}

/// A printed job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobReport {
    pub job_id: u64,
    pub owner: SessionId,
    pub kind: String,
    pub bytes: usize,
    /// Status read right after the job (e.g. paper near end).
    pub status_after: PrinterStatus,
}

/// Why a job was not printed. Every variant means: nothing of it will print later.
#[derive(Debug, thiserror::Error)]
pub enum PrintError {
    /// Checked before sending anything: the printer cannot print now.
    #[error("printer not ready ({reason}); nothing was sent")]
    NotReady {
        reason: Condition,
        status: PrinterStatus,
    },
    /// The printer stopped during the job (e.g. paper ran out).
    #[error("printing stopped ({reason}); {cleared}")]
    FailedMidJob {
        reason: Condition,
        cleared: ClearOutcome,
    },
    /// The printer never confirmed the job; it was cancelled.
    #[error("no confirmation within {waited:?} that the job printed; cancelled, {cleared}")]
    NotConfirmed {
        waited: Duration,
        cleared: ClearOutcome,
    },
    /// An earlier job's remainder may still be in the printer; staff must check it.
    #[error("an earlier job could not be cleared from the printer; staff check needed")]
    StaffCheckNeeded,
    /// The owner's session ended, or another session is current.
    #[error("the job's session is no longer current; not printed")]
    NotCurrentSession,
    /// The job waited in the queue past its limit and was dropped.
    #[error("the job waited too long and was dropped")]
    Expired,
    /// The printer did not answer a real-time status request.
    #[error("printer did not answer status request DLE EOT {0}")]
    NoAnswer(u8),
    #[error("cannot build the slip: {0}")]
    Slip(#[from] SlipError),
    #[error(transparent)]
    Link(#[from] LinkError),
    /// The device task has stopped.
    #[error("printer task stopped")]
    TaskGone,
}

/// The reason to give a resident, in one word of the kiosk's vocabulary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResidentReason {
    PaperOut,
    CoverOpen,
    PrinterFault,
    PrinterOffline,
    NotPrinted,
}

impl ResidentReason {
    /// Plain Chinese for the screen.
    pub fn message_zh(self) -> &'static str {
        match self {
            ResidentReason::PaperOut => {
                "打印机缺纸，本次未打印。请联系工作人员，您的业务不受影响。"
            }
            ResidentReason::CoverOpen => "打印机盖未关好，本次未打印。请联系工作人员。",
            ResidentReason::PrinterFault => "打印机故障，本次未打印。请联系工作人员。",
            ResidentReason::PrinterOffline => "打印机暂时无法使用，本次未打印。请联系工作人员。",
            ResidentReason::NotPrinted => "本次未打印，请重新操作或联系工作人员。",
        }
    }
}

fn reason_for(condition: Condition) -> ResidentReason {
    match condition {
        Condition::PaperOut => ResidentReason::PaperOut,
        Condition::CoverOpen => ResidentReason::CoverOpen,
        Condition::CutterError | Condition::OtherError => ResidentReason::PrinterFault,
        Condition::Offline | Condition::PaperNearEnd => ResidentReason::PrinterOffline,
    }
}

impl PrintError {
    /// What to tell the resident.
    pub fn resident_reason(&self) -> ResidentReason {
        match self {
            PrintError::NotReady { reason, .. } | PrintError::FailedMidJob { reason, .. } => {
                reason_for(*reason)
            }
            PrintError::StaffCheckNeeded => ResidentReason::PrinterFault,
            PrintError::NoAnswer(_) | PrintError::Link(_) | PrintError::TaskGone => {
                ResidentReason::PrinterOffline
            }
            PrintError::NotConfirmed { .. }
            | PrintError::NotCurrentSession
            | PrintError::Expired
            | PrintError::Slip(_) => ResidentReason::NotPrinted,
        }
    }

    /// True when the link is gone and the device task should reconnect.
    pub fn is_disconnect(&self) -> bool {
        matches!(self, PrintError::Link(e) if e.is_disconnect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_has_a_resident_message() {
        let status = PrinterStatus::all_clear();
        let errors = [
            PrintError::NotReady {
                reason: Condition::PaperOut,
                status,
            },
            PrintError::FailedMidJob {
                reason: Condition::CoverOpen,
                cleared: ClearOutcome::Confirmed,
            },
            PrintError::NotConfirmed {
                waited: Duration::from_secs(1),
                cleared: ClearOutcome::Unconfirmed,
            },
            PrintError::StaffCheckNeeded,
            PrintError::NotCurrentSession,
            PrintError::Expired,
            PrintError::NoAnswer(1),
            PrintError::TaskGone,
        ];
        for e in &errors {
            assert!(!e.resident_reason().message_zh().is_empty());
            assert!(!e.to_string().is_empty());
        }
        assert_eq!(errors[0].resident_reason(), ResidentReason::PaperOut);
    }
}
