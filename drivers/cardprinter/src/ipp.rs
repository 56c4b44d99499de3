//! A card printer behind a CUPS queue (or any IPP printer), through the `ipp` crate's
//! blocking client: Print-Job with the face as `image/png`, Get-Printer-Attributes for state,
//! reasons and marker (ribbon) levels, Get-Job-Attributes and Cancel-Job.
//!
//! Why IPP and not `lp`/`lpstat`: CUPS *is* an IPP server, so one library call per
//! operation gives typed job ids, job states and the `marker-levels` CUPS keeps for the
//! ribbon, without parsing localised command output or needing the CUPS client tools on
//! the kiosk. `ipp` (ancwrd1/ipp.rs) is maintained, MIT/Apache, and its blocking client
//! fits the device-thread model.

use std::io::Cursor;
use std::time::Duration;

use ipp::prelude::*;

use crate::printer::{
    CardPrinter, JobId, JobState, PrintJob, PrinterError, PrinterState, PrinterStatus, Ribbon,
    ribbon_from_markers,
};

/// How long one IPP request may take.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// A card printer reached over IPP.
pub struct IppPrinter {
    uri: Uri,
    client: IppClient,
    user: String,
}

impl std::fmt::Debug for IppPrinter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "IppPrinter({})", self.uri)
    }
}

impl IppPrinter {
    /// A printer at an IPP or HTTP URI, e.g. `ipp://localhost:631/printers/CardPrinter`.
    pub fn new(uri: &str) -> Result<Self, PrinterError> {
        let uri: Uri = uri
            .parse()
            .map_err(|e| PrinterError::Unreachable(format!("bad printer address {uri:?}: {e}")))?;
        let client = IppClient::builder(uri.clone())
            .request_timeout(REQUEST_TIMEOUT)
            .build();
        Ok(IppPrinter {
            uri,
            client,
            user: "kiosk".into(),
        })
    }

    /// A queue of the local CUPS server (`http://localhost:631/printers/QUEUE`).
    pub fn cups_queue(queue: &str) -> Result<Self, PrinterError> {
        if queue.is_empty() || !queue.chars().all(|c| c.is_ascii_graphic() && c != '/') {
            return Err(PrinterError::Unreachable(format!(
                "bad CUPS queue name {queue:?}"
            )));
        }
        IppPrinter::new(&format!("http://localhost:631/printers/{queue}"))
    }

    pub fn uri(&self) -> &Uri {
        &self.uri
    }

    fn send(&self, op: impl IppOperation) -> Result<IppRequestResponse, PrinterError> {
        let response = self.client.send(op).map_err(map_err)?;
        let status = response.header().status_code();
        if status.is_success() {
            Ok(response)
        } else {
            Err(PrinterError::Rejected(status.to_string()))
        }
    }
}

use ipp::operation::IppOperation;

fn map_err(e: IppError) -> PrinterError {
    match e {
        IppError::StatusError(status) => PrinterError::Rejected(status.to_string()),
        IppError::RequestError(code) => PrinterError::Rejected(format!("HTTP {code}")),
        IppError::IoError(e) => PrinterError::Unreachable(e.to_string()),
        other => PrinterError::Unreachable(other.to_string()),
    }
}

fn integers(v: &IppValue) -> Vec<i32> {
    match v {
        IppValue::Integer(i) | IppValue::Enum(i) => vec![*i],
        IppValue::Array(items) => items.iter().flat_map(integers).collect(),
        _ => Vec::new(),
    }
}

fn strings(v: &IppValue) -> Vec<String> {
    match v {
        IppValue::Array(items) => items.iter().flat_map(strings).collect(),
        other => vec![other.to_string()],
    }
}

/// Reads printer-state, reasons, accepting and markers from a response.
pub fn status_from(response: &IppRequestResponse) -> PrinterStatus {
    let group = response
        .attributes()
        .first_of(DelimiterTag::PrinterAttributes);
    let get = |name: &str| group.and_then(|g| g.get(name)).map(IppAttribute::value);
    let state = match get("printer-state").map(integers).as_deref() {
        Some([4, ..]) => PrinterState::Processing,
        Some([5, ..]) => PrinterState::Stopped,
        _ => PrinterState::Idle,
    };
    let reasons: Vec<String> = get("printer-state-reasons")
        .map(strings)
        .unwrap_or_default()
        .into_iter()
        .filter(|r| r != "none")
        .collect();
    let accepting_jobs = !matches!(
        get("printer-is-accepting-jobs"),
        Some(IppValue::Boolean(false))
    );
    let types = get("marker-types").map(strings).unwrap_or_default();
    let levels = get("marker-levels").map(integers).unwrap_or_default();
    let lows = get("marker-low-levels").map(integers).unwrap_or_default();
    let mut ribbon = ribbon_from_markers(&types, &levels, &lows);
    if reasons
        .iter()
        .any(|r| r.starts_with("marker-supply-empty") || r.starts_with("marker-ribbon-empty"))
    {
        ribbon = Ribbon::Out;
    } else if ribbon == Ribbon::Unknown
        && reasons.iter().any(|r| r.starts_with("marker-supply-low"))
    {
        ribbon = Ribbon::Low { percent: None };
    }
    PrinterStatus {
        state,
        ribbon,
        accepting_jobs,
        reasons,
    }
}

impl CardPrinter for IppPrinter {
    fn status(&mut self) -> Result<PrinterStatus, PrinterError> {
        let op = IppOperationBuilder::get_printer_attributes(self.uri.clone())
            .attributes([
                "printer-state",
                "printer-state-reasons",
                "printer-is-accepting-jobs",
                "marker-names",
                "marker-types",
                "marker-levels",
                "marker-low-levels",
            ])
            .build()
            .map_err(|e| PrinterError::Rejected(e.to_string()))?;
        Ok(status_from(&self.send(op)?))
    }

    fn print(&mut self, job: &PrintJob) -> Result<JobId, PrinterError> {
        let status = self.status()?;
        if status.ribbon_out() {
            return Err(PrinterError::RibbonOut);
        }
        if status.jammed() {
            return Err(PrinterError::Jam);
        }
        if !status.accepting_jobs {
            return Err(PrinterError::NotAccepting(status.reasons.join(", ")));
        }
        let payload = IppPayload::new(Cursor::new(job.png.clone()));
        let op = IppOperationBuilder::print_job(self.uri.clone(), payload)
            .user_name(self.user.clone())
            .job_title(job.name.clone())
            .document_format("image/png")
            .build()
            .map_err(|e| PrinterError::Rejected(e.to_string()))?;
        let response = self.send(op)?;
        let id = response
            .attributes()
            .first_of(DelimiterTag::JobAttributes)
            .and_then(|g| g.get("job-id"))
            .map(|a| integers(a.value()))
            .and_then(|v| v.first().copied())
            .ok_or_else(|| PrinterError::Rejected("no job-id in the answer".into()))?;
        tracing::info!(job = id, printer = %self.uri, "card face sent to the printer");
        Ok(JobId(id))
    }

    fn job_state(&mut self, id: JobId) -> Result<JobState, PrinterError> {
        let op = IppOperationBuilder::get_job_attributes(self.uri.clone(), id.0)
            .user_name(self.user.clone())
            .build()
            .map_err(|e| PrinterError::Rejected(e.to_string()))?;
        let response = match self.send(op) {
            Err(PrinterError::Rejected(s)) if s.contains("not-found") || s.contains("NotFound") => {
                return Err(PrinterError::NoSuchJob(id));
            }
            other => other?,
        };
        response
            .attributes()
            .first_of(DelimiterTag::JobAttributes)
            .and_then(|g| g.get("job-state"))
            .map(|a| integers(a.value()))
            .and_then(|v| v.first().copied())
            .and_then(JobState::from_ipp)
            .ok_or_else(|| PrinterError::Rejected("no job-state in the answer".into()))
    }

    fn cancel(&mut self, id: JobId) -> Result<(), PrinterError> {
        let op = IppOperationBuilder::cancel_job(self.uri.clone(), id.0)
            .user_name(self.user.clone())
            .build()
            .map_err(|e| PrinterError::Rejected(e.to_string()))?;
        self.send(op).map(|_| ())
    }

    fn describe(&self) -> String {
        format!("ipp:{}", self.uri)
    }
}
