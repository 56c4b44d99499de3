//! A simulated card printer that writes each job's face as a PNG into a directory, with a
//! ribbon that runs down per card, and scripted ribbon-out and jam.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};

use crate::printer::{
    CardPrinter, JobId, JobState, PrintJob, PrinterError, PrinterState, PrinterStatus, Ribbon,
};

#[derive(Debug)]
struct State {
    dir: PathBuf,
    /// Cards the ribbon still prints.
    ribbon_left: u32,
    ribbon_capacity: u32,
    /// At or below this percentage the ribbon reports low.
    low_percent: u8,
    jammed: bool,
    jam_next: bool,
    accepting: bool,
    next_id: i32,
    jobs: BTreeMap<i32, JobState>,
    files: Vec<PathBuf>,
}

/// Run-time control of the simulated printer; clone it freely.
#[derive(Debug, Clone)]
pub struct SimControl {
    state: Arc<Mutex<State>>,
}

impl SimControl {
    fn lock(&self) -> MutexGuard<'_, State> {
        // Only a panicking test thread poisons this; the state is plain data.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The ribbon runs out now.
    pub fn ribbon_out(&self) {
        self.lock().ribbon_left = 0;
    }

    /// Staff fit a new ribbon.
    pub fn replace_ribbon(&self) {
        let mut s = self.lock();
        s.ribbon_left = s.ribbon_capacity;
    }

    pub fn set_ribbon_left(&self, cards: u32) {
        self.lock().ribbon_left = cards;
    }

    pub fn ribbon_left(&self) -> u32 {
        self.lock().ribbon_left
    }

    /// The next job jams (and the printer stays jammed until cleared).
    pub fn jam_next(&self) {
        self.lock().jam_next = true;
    }

    /// Jam now, or clear a jam.
    pub fn set_jam(&self, jammed: bool) {
        let mut s = self.lock();
        s.jammed = jammed;
        s.jam_next = false;
    }

    /// Staff disable the queue (or enable it again).
    pub fn set_accepting(&self, accepting: bool) {
        self.lock().accepting = accepting;
    }

    /// The PNG files written so far, in order.
    pub fn printed(&self) -> Vec<PathBuf> {
        self.lock().files.clone()
    }
}

/// The simulated printer.
#[derive(Debug, Clone)]
pub struct SimPrinter {
    control: SimControl,
}

impl SimPrinter {
    /// A printer writing into `dir` (created if missing) with a ribbon for `ribbon_cards`.
    pub fn new(dir: impl Into<PathBuf>, ribbon_cards: u32) -> std::io::Result<Self> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir)?;
        Ok(SimPrinter {
            control: SimControl {
                state: Arc::new(Mutex::new(State {
                    dir,
                    ribbon_left: ribbon_cards,
                    ribbon_capacity: ribbon_cards,
                    low_percent: 10,
                    jammed: false,
                    jam_next: false,
                    accepting: true,
                    next_id: 1,
                    jobs: BTreeMap::new(),
                    files: Vec::new(),
                })),
            },
        })
    }

    pub fn control(&self) -> SimControl {
        self.control.clone()
    }

    pub fn dir(&self) -> PathBuf {
        self.control.lock().dir.clone()
    }
}

fn ribbon(s: &State) -> Ribbon {
    if s.ribbon_left == 0 {
        return Ribbon::Out;
    }
    let percent = u8::try_from(
        (u64::from(s.ribbon_left) * 100 / u64::from(s.ribbon_capacity.max(1))).min(100),
    )
    .ok();
    if percent.is_some_and(|p| p <= s.low_percent) {
        Ribbon::Low { percent }
    } else {
        Ribbon::Ok { percent }
    }
}

/// A file name from the job name: letters, digits, '-' and '_' only.
fn safe_name(name: &str) -> String {
    let s: String = name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .take(64)
        .collect();
    if s.is_empty() { "job".into() } else { s }
}

impl CardPrinter for SimPrinter {
    fn status(&mut self) -> Result<PrinterStatus, PrinterError> {
        let s = self.control.lock();
        let mut reasons = Vec::new();
        let ribbon = ribbon(&s);
        match ribbon {
            Ribbon::Out => reasons.push("marker-supply-empty-error".to_owned()),
            Ribbon::Low { .. } => reasons.push("marker-supply-low-warning".to_owned()),
            _ => {}
        }
        if s.jammed {
            reasons.push("media-jam-error".to_owned());
        }
        let stopped = s.jammed || ribbon == Ribbon::Out;
        Ok(PrinterStatus {
            state: if stopped {
                PrinterState::Stopped
            } else {
                PrinterState::Idle
            },
            ribbon,
            accepting_jobs: s.accepting,
            reasons,
        })
    }

    fn print(&mut self, job: &PrintJob) -> Result<JobId, PrinterError> {
        let mut s = self.control.lock();
        if !s.accepting {
            return Err(PrinterError::NotAccepting("queue disabled".into()));
        }
        if s.jammed {
            return Err(PrinterError::Jam);
        }
        if s.ribbon_left == 0 {
            return Err(PrinterError::RibbonOut);
        }
        let id = s.next_id;
        s.next_id += 1;
        if s.jam_next {
            s.jam_next = false;
            s.jammed = true;
            s.jobs.insert(id, JobState::Stopped);
            return Ok(JobId(id));
        }
        let path = s.dir.join(format!("{id:04}-{}.png", safe_name(&job.name)));
        std::fs::write(&path, &job.png).map_err(|e| PrinterError::Io(e.to_string()))?;
        s.ribbon_left -= 1;
        s.files.push(path);
        s.jobs.insert(id, JobState::Completed);
        Ok(JobId(id))
    }

    fn job_state(&mut self, id: JobId) -> Result<JobState, PrinterError> {
        self.control
            .lock()
            .jobs
            .get(&id.0)
            .cloned()
            .ok_or(PrinterError::NoSuchJob(id))
    }

    fn cancel(&mut self, id: JobId) -> Result<(), PrinterError> {
        let mut s = self.control.lock();
        match s.jobs.get_mut(&id.0) {
            Some(state) if !state.is_final() => {
                *state = JobState::Canceled;
                Ok(())
            }
            Some(_) => Ok(()),
            None => Err(PrinterError::NoSuchJob(id)),
        }
    }

    fn describe(&self) -> String {
        format!("sim:{}", self.control.lock().dir.display())
    }
}
