//! Printing for a session: a job belongs to the session that asked and either prints now or
//! fails with a reason the resident is told; it is never queued to print later.

use kiosk_printer::slips::Document;
use kiosk_printer::{PrintError, ResidentReason};

use super::KioskIo;
use crate::bi;
use crate::domain::text::Bilingual;
use crate::flows::SessionId;
use crate::flows::event::Completion;

pub fn owner(session: SessionId) -> kiosk_printer::SessionId {
    kiosk_printer::SessionId::new(format!("session-{}", session.0))
}

pub fn print(io: &KioskIo, session: SessionId, document: Document) {
    let done = io.done(session);
    let Some(printer) = io.services.printer.clone() else {
        done(Completion::Printed(Err(reason(
            ResidentReason::PrinterOffline,
        ))));
        return;
    };
    let owner = owner(session);
    printer.begin_session(owner.clone());
    io.tokio.spawn(async move {
        let kind = document.kind();
        match printer.print(owner, document).await {
            Ok(report) => {
                tracing::info!(kind, job = report.job_id, bytes = report.bytes, "printed");
                done(Completion::Printed(Ok(())));
            }
            Err(e) => {
                tracing::warn!(kind, error = %e, "not printed");
                done(Completion::Printed(Err(message(&e))));
            }
        }
    });
}

fn message(e: &PrintError) -> Bilingual {
    reason(e.resident_reason())
}

/// What the resident is told, in both languages.
pub fn reason(r: ResidentReason) -> Bilingual {
    let en = match r {
        ResidentReason::PaperOut => {
            "The printer is out of paper, so nothing was printed. Please ask a member of staff; your application is not affected."
        }
        ResidentReason::CoverOpen => {
            "The printer cover is open, so nothing was printed. Please ask a member of staff."
        }
        ResidentReason::PrinterFault => {
            "The printer has a fault, so nothing was printed. Please ask a member of staff."
        }
        ResidentReason::PrinterOffline => {
            "The printer cannot be used right now, so nothing was printed. Please ask a member of staff."
        }
        ResidentReason::NotPrinted => {
            "Nothing was printed. Please try again or ask a member of staff."
        }
    };
    bi!(r.message_zh(), en)
}
