//! The errors of the ID-card reader, each with a plain meaning. None carries card text.

use std::time::Duration;

use kiosk_link::LinkError;

use crate::identity::IdentityError;
use crate::protocol::{Command, PayloadError, Status};

/// Why an ID-card reader operation failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The port failed or the device went away.
    #[error(transparent)]
    Link(#[from] LinkError),
    /// Nothing (or only noise) came back before the command's deadline.
    #[error("the ID-card reader did not answer {command} within {waited:?}")]
    NoReply { command: Command, waited: Duration },
    /// A reply started but stopped before its length was complete.
    #[error("the ID-card reader's answer to {command} was cut short ({got} bytes arrived)")]
    Truncated { command: Command, got: usize },
    /// The reply failed its checksum, and so did the reply to the one re-sent command.
    #[error("the ID-card reader's answer to {command} failed its checksum twice; nothing was used")]
    BadChecksum { command: Command },
    /// The reader answered with a status other than what the command needs (SW3, table A.3).
    #[error("the ID-card reader could not {command}: {status}")]
    Status {
        command: Command,
        status: Status,
        sw1: u8,
        sw2: u8,
    },
    /// The reply's data does not have the shape the command promises.
    #[error("the ID-card reader's answer to {command} is malformed: {reason}")]
    Malformed {
        command: Command,
        reason: PayloadError,
    },
    /// The card was read but its data cannot be used (wrong ID check digit, bad date, …).
    #[error("the card data cannot be used: {0}")]
    Identity(#[from] IdentityError),
    /// No card was put on the reader in time (command line `read`).
    #[error("no card was placed on the reader within {0:?}")]
    NoCardPresented(Duration),
    /// The reader is offline (the device task is reconnecting).
    #[error("the ID-card reader is offline")]
    Offline,
    /// The device task has stopped.
    #[error("the ID-card reader task has stopped")]
    Stopped,
}

impl Error {
    /// `true` when the device is gone and the link must be reopened.
    pub fn is_disconnect(&self) -> bool {
        matches!(self, Error::Link(e) if e.is_disconnect())
    }

    /// The reader's status word, for errors that carry one.
    pub fn status(&self) -> Option<Status> {
        match self {
            Error::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// `true` for faults of the line (no reply, cut short, bad checksum) rather than answers.
    pub fn is_transport(&self) -> bool {
        matches!(
            self,
            Error::NoReply { .. } | Error::Truncated { .. } | Error::BadChecksum { .. }
        ) || matches!(self, Error::Link(LinkError::Timeout { .. }))
    }
}
