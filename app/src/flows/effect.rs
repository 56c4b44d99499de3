//! What a step asks the runtime to do.

use std::time::Duration;

use kiosk_printer::slips::Document;

use super::SessionId;
use crate::domain::application::Application;
use crate::domain::evaluation::Evaluation;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimerId {
    /// No touch for the idle delay: show the warning.
    IdleWarning,
    /// One step of the warning's countdown.
    IdleTick,
    /// A card held at the gate was not taken in time (`Delays::card_take`).
    CardNotTaken,
}

/// How a progress inquiry identifies the application(s).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProgressQuery {
    /// By the number and the code printed on the acceptance notice.
    Number { number: String, code: String },
    /// Every application of the person whose card was read.
    IdNumber(String),
}

#[derive(Debug, Clone)]
pub enum Effect {
    StartTimer {
        id: TimerId,
        after: Duration,
    },
    CancelTimer(TimerId),
    /// Look up `dataset` for the person in `role` (answered by `Completion::Shared`).
    FetchShared {
        session: SessionId,
        dataset: String,
        role: String,
        id_number: String,
    },
    FetchProgress {
        session: SessionId,
        query: ProgressQuery,
    },
    /// Store the application with its outbox row in one durable transaction.
    Accept {
        session: SessionId,
        application: Box<Application>,
    },
    /// Print now for this session, or fail; never queue for later.
    Print {
        session: SessionId,
        document: Box<Document>,
    },
    Scan {
        session: SessionId,
        material: String,
    },
    CancelScan {
        session: SessionId,
    },
    SaveEvaluation {
        session: SessionId,
        evaluation: Evaluation,
    },
    /// Social security card issuing (see `issue_card`).
    Card(super::issue_card::CardEffect),
    /// Locker pickup (see `locker`).
    Locker(super::locker::LockerEffect),
    /// Staff mode (see `staff`).
    Staff(super::staff::StaffEffect),
    /// The session is over: drop its scans, print jobs and everything it showed.
    EndSession {
        session: SessionId,
    },
}
