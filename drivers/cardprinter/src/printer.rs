//! The card-printer driver trait: send a rendered face as a job, ask the printer's state
//! (ribbon included), follow and cancel a job.

use std::fmt;

/// A print job: the face as PNG and a job name that identifies the application, never the
/// person (it ends up in CUPS logs).
#[derive(Clone)]
pub struct PrintJob {
    /// E.g. the issuance attempt id.
    pub name: String,
    pub png: Vec<u8>,
}

impl fmt::Debug for PrintJob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PrintJob({:?}, {} bytes)", self.name, self.png.len())
    }
}

/// A printer-side job id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct JobId(pub i32);

/// Where a job is.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    Pending,
    Held,
    Processing,
    /// Stopped by the printer (ribbon out, jam): waits for a person.
    Stopped,
    Canceled,
    Aborted,
    Completed,
}

impl JobState {
    /// From IPP's job-state enum (RFC 8011 §5.3.7).
    pub fn from_ipp(value: i32) -> Option<JobState> {
        Some(match value {
            3 => JobState::Pending,
            4 => JobState::Held,
            5 => JobState::Processing,
            6 => JobState::Stopped,
            7 => JobState::Canceled,
            8 => JobState::Aborted,
            9 => JobState::Completed,
            _ => return None,
        })
    }

    pub fn is_final(&self) -> bool {
        matches!(
            self,
            JobState::Canceled | JobState::Aborted | JobState::Completed
        )
    }
}

/// The printer's state (IPP printer-state).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PrinterState {
    Idle,
    Processing,
    Stopped,
}

/// What is known about the ribbon.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum Ribbon {
    Ok {
        percent: Option<u8>,
    },
    Low {
        percent: Option<u8>,
    },
    Out,
    /// The printer does not report its ribbon.
    Unknown,
}

/// State, ribbon and the printer's reasons (IPP keywords such as `media-jam-error`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PrinterStatus {
    pub state: PrinterState,
    pub ribbon: Ribbon,
    pub accepting_jobs: bool,
    pub reasons: Vec<String>,
}

impl PrinterStatus {
    pub fn jammed(&self) -> bool {
        self.reasons.iter().any(|r| r.starts_with("media-jam"))
    }

    pub fn ribbon_out(&self) -> bool {
        self.ribbon == Ribbon::Out
    }

    /// True when a card can be printed now.
    pub fn ready(&self) -> bool {
        self.state != PrinterState::Stopped
            && self.accepting_jobs
            && !self.ribbon_out()
            && !self.jammed()
            && !self.reasons.iter().any(|r| r.ends_with("-error"))
    }
}

/// Why a printer call failed.
#[derive(Debug, thiserror::Error)]
pub enum PrinterError {
    /// The print service or printer cannot be reached.
    #[error("card printer unreachable: {0}")]
    Unreachable(String),
    /// The ribbon is used up: nothing can be printed until it is changed.
    #[error("card printer ribbon is out")]
    RibbonOut,
    /// A card is jammed in the printer.
    #[error("card jammed in the printer")]
    Jam,
    /// The queue refuses jobs (disabled by staff, or rejecting).
    #[error("card printer queue is not accepting jobs: {0}")]
    NotAccepting(String),
    /// The print service refused the request.
    #[error("card printer refused the job: {0}")]
    Rejected(String),
    /// The job is unknown to the printer.
    #[error("no such print job {0:?}")]
    NoSuchJob(JobId),
    #[error("card printer i/o: {0}")]
    Io(String),
}

/// A card printer. The issuance flow checks [`CardPrinter::status`] before printing,
/// submits one job per card, then follows it to a final state.
pub trait CardPrinter: Send {
    fn status(&mut self) -> Result<PrinterStatus, PrinterError>;
    fn print(&mut self, job: &PrintJob) -> Result<JobId, PrinterError>;
    fn job_state(&mut self, id: JobId) -> Result<JobState, PrinterError>;
    fn cancel(&mut self, id: JobId) -> Result<(), PrinterError>;
    /// A short description for logs (queue or directory, never data).
    fn describe(&self) -> String;
}

/// Turns IPP marker levels into a ribbon state: the first marker whose type mentions
/// "ribbon", else the first marker. Levels: 0–100 %, −1 unavailable, −2 unknown, −3 "some
/// left" (RFC 3805 / CUPS `marker-levels`).
pub fn ribbon_from_markers(types: &[String], levels: &[i32], low_levels: &[i32]) -> Ribbon {
    if levels.is_empty() {
        return Ribbon::Unknown;
    }
    let idx = types.iter().position(|t| t.contains("ribbon")).unwrap_or(0);
    let Some(&level) = levels.get(idx) else {
        return Ribbon::Unknown;
    };
    let low = low_levels.get(idx).copied().unwrap_or(10).max(1);
    match level {
        0 => Ribbon::Out,
        -3 => Ribbon::Ok { percent: None },
        l if l < 0 => Ribbon::Unknown,
        l => {
            let percent = u8::try_from(l.min(100)).ok();
            if l <= low {
                Ribbon::Low { percent }
            } else {
                Ribbon::Ok { percent }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ribbon_levels() {
        let t = |s: &[&str]| s.iter().map(|x| (*x).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            ribbon_from_markers(&t(&["ribbonWax"]), &[55], &[10]),
            Ribbon::Ok { percent: Some(55) }
        );
        assert_eq!(
            ribbon_from_markers(&t(&["toner", "ribbon"]), &[90, 5], &[10, 10]),
            Ribbon::Low { percent: Some(5) }
        );
        assert_eq!(ribbon_from_markers(&t(&["ribbon"]), &[0], &[]), Ribbon::Out);
        assert_eq!(
            ribbon_from_markers(&t(&["ribbon"]), &[-2], &[]),
            Ribbon::Unknown
        );
        assert_eq!(ribbon_from_markers(&[], &[], &[]), Ribbon::Unknown);
        assert_eq!(JobState::from_ipp(9), Some(JobState::Completed));
        assert!(JobState::Aborted.is_final());
    }
}
