//! Every way a scan can fail, each with a plain message a resident can be told (Chinese and
//! English) and the device state it leaves the scanner in.
//!
//! `Display` is for technicians and logs (English, with the SANE call and status); what the
//! screen shows comes from [`ScanError::resident_message_zh`] / [`ScanError::resident_message_en`].

use std::fmt;

use kiosk_link::DeviceState;
use serde::Serialize;

use crate::protocol::{FormatError, Status, status_name};

/// The SANE call that failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Call {
    Init,
    GetDevices,
    Open,
    Option,
    Parameters,
    Start,
    Read,
}

impl fmt::Display for Call {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Call::Init => "sane_init",
            Call::GetDevices => "sane_get_devices",
            Call::Open => "sane_open",
            Call::Option => "sane_control_option",
            Call::Parameters => "sane_get_parameters",
            Call::Start => "sane_start",
            Call::Read => "sane_read",
        })
    }
}

/// Why a scan (or opening the scanner) failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScanError {
    /// `SANE_STATUS_JAMMED`: paper stuck in the feeder.
    #[error("document feeder jammed")]
    Jammed,
    /// `SANE_STATUS_NO_DOCS`: nothing in the feeder (or on a sheet-fed scanner).
    #[error("no document in the feeder")]
    NoDocuments,
    /// `SANE_STATUS_COVER_OPEN`.
    #[error("scanner cover is open")]
    CoverOpen,
    /// `SANE_STATUS_DEVICE_BUSY` (or a lamp still warming up).
    #[error("scanner busy ({status:?} from {during})")]
    Busy { during: Call, status: Status },
    /// `SANE_STATUS_IO_ERROR` outside the reading of a page.
    #[error("scanner I/O error during {during}")]
    IoError { during: Call },
    /// The scanner stopped answering in the middle of a page (`SANE_STATUS_IO_ERROR` from
    /// `sane_read`, which is what USB backends report when the cable is pulled) or vanished.
    #[error("scanner gone: {detail}")]
    DeviceGone { detail: String },
    /// The scan was cancelled (by us, or `SANE_STATUS_CANCELLED` from the backend).
    #[error("scan cancelled")]
    Cancelled,
    /// No device with this name (`sane_open` answered `SANE_STATUS_INVAL`).
    #[error("no scanner named {name:?}")]
    NotFound { name: String },
    /// The scanner task is not connected to its device right now.
    #[error("scanner unavailable: {detail}")]
    Unavailable { detail: String },
    /// `SANE_STATUS_ACCESS_DENIED` (permissions on the USB device, or a password).
    #[error("access to the scanner denied during {during}")]
    AccessDenied { during: Call },
    /// `SANE_STATUS_HW_LOCKED`: the scan head is locked for transport.
    #[error("scanner mechanism locked for transport")]
    Locked,
    /// `SANE_STATUS_NO_MEM`.
    #[error("scanner backend out of memory during {during}")]
    OutOfMemory { during: Call },
    /// `SANE_STATUS_UNSUPPORTED`, or something this scanner cannot do (e.g. no feeder).
    #[error("not supported: {what}")]
    Unsupported { what: String },
    /// `SANE_STATUS_INVAL` outside `sane_open`.
    #[error("invalid request to the scanner during {during}")]
    Invalid { during: Call },
    /// A status code outside the table.
    #[error("unexpected {status:?} from {during}")]
    UnknownStatus { during: Call, status: Status },
    /// An option is missing, not settable, or refused our value.
    #[error("scanner option {name:?}: {problem}")]
    Option { name: String, problem: String },
    /// The page parameters cannot be handled.
    #[error("unusable page format: {0}")]
    Format(#[from] FormatError),
    /// The page ended before as many bytes as announced arrived.
    #[error("page incomplete: {got} of {expected} bytes")]
    IncompletePage { got: u64, expected: u64 },
    /// The page is larger than the configured limit.
    #[error("page too large: {detail}")]
    PageTooLarge { detail: String },
    /// Writing or reading a stored page or material failed.
    #[error("storage: {what}: {detail}")]
    Storage { what: String, detail: String },
    /// SANE's configuration directory could not be chosen.
    #[error("SANE configuration directory {dir:?}: {problem}")]
    Config { dir: String, problem: String },
    /// The device task has stopped.
    #[error("scanner task stopped")]
    Stopped,
}

/// The kind of a [`ScanError`], for the app to branch on (serialised in `snake_case`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    Jammed,
    NoDocuments,
    CoverOpen,
    Busy,
    IoError,
    DeviceGone,
    Cancelled,
    NotFound,
    Unavailable,
    AccessDenied,
    Locked,
    OutOfMemory,
    Unsupported,
    Invalid,
    UnknownStatus,
    Option,
    Format,
    IncompletePage,
    PageTooLarge,
    Storage,
    Config,
    Stopped,
}

impl ScanError {
    /// Maps a SANE status from `during` to the error a resident can be told about.
    /// `JAMMED` and `NO_DOCS` always keep their own names.
    pub fn from_status(status: Status, during: Call) -> ScanError {
        match status {
            Status::JAMMED => ScanError::Jammed,
            Status::NO_DOCS => ScanError::NoDocuments,
            Status::COVER_OPEN => ScanError::CoverOpen,
            Status::DEVICE_BUSY | Status::WARMING_UP => ScanError::Busy { during, status },
            Status::IO_ERROR if during == Call::Read => ScanError::DeviceGone {
                detail: "SANE_STATUS_IO_ERROR while reading the page".into(),
            },
            Status::IO_ERROR => ScanError::IoError { during },
            Status::CANCELLED => ScanError::Cancelled,
            Status::ACCESS_DENIED => ScanError::AccessDenied { during },
            Status::HW_LOCKED => ScanError::Locked,
            Status::NO_MEM => ScanError::OutOfMemory { during },
            Status::UNSUPPORTED => ScanError::Unsupported {
                what: format!("{during} ({})", status_name(status)),
            },
            Status::INVAL => ScanError::Invalid { during },
            other => ScanError::UnknownStatus {
                during,
                status: other,
            },
        }
    }

    pub fn kind(&self) -> ErrorKind {
        match self {
            ScanError::Jammed => ErrorKind::Jammed,
            ScanError::NoDocuments => ErrorKind::NoDocuments,
            ScanError::CoverOpen => ErrorKind::CoverOpen,
            ScanError::Busy { .. } => ErrorKind::Busy,
            ScanError::IoError { .. } => ErrorKind::IoError,
            ScanError::DeviceGone { .. } => ErrorKind::DeviceGone,
            ScanError::Cancelled => ErrorKind::Cancelled,
            ScanError::NotFound { .. } => ErrorKind::NotFound,
            ScanError::Unavailable { .. } => ErrorKind::Unavailable,
            ScanError::AccessDenied { .. } => ErrorKind::AccessDenied,
            ScanError::Locked => ErrorKind::Locked,
            ScanError::OutOfMemory { .. } => ErrorKind::OutOfMemory,
            ScanError::Unsupported { .. } => ErrorKind::Unsupported,
            ScanError::Invalid { .. } => ErrorKind::Invalid,
            ScanError::UnknownStatus { .. } => ErrorKind::UnknownStatus,
            ScanError::Option { .. } => ErrorKind::Option,
            ScanError::Format(_) => ErrorKind::Format,
            ScanError::IncompletePage { .. } => ErrorKind::IncompletePage,
            ScanError::PageTooLarge { .. } => ErrorKind::PageTooLarge,
            ScanError::Storage { .. } => ErrorKind::Storage,
            ScanError::Config { .. } => ErrorKind::Config,
            ScanError::Stopped => ErrorKind::Stopped,
        }
    }

    /// The state the scanner is in after this error, in the shared device vocabulary.
    pub fn device_state(&self) -> DeviceState {
        match self.kind() {
            ErrorKind::Jammed | ErrorKind::CoverOpen | ErrorKind::Locked => {
                DeviceState::HardwareError
            }
            ErrorKind::IoError
            | ErrorKind::DeviceGone
            | ErrorKind::Unavailable
            | ErrorKind::AccessDenied
            | ErrorKind::Stopped => DeviceState::Offline,
            ErrorKind::NotFound => DeviceState::NoDevice,
            _ => DeviceState::Online,
        }
    }

    /// True when the connection to the device should be dropped and opened again.
    pub fn needs_reconnect(&self) -> bool {
        matches!(self.kind(), ErrorKind::IoError | ErrorKind::DeviceGone)
    }

    /// True when the resident can fix it themselves (put paper in, close the lid, wait).
    pub fn resident_can_fix(&self) -> bool {
        matches!(
            self.kind(),
            ErrorKind::NoDocuments | ErrorKind::CoverOpen | ErrorKind::Busy | ErrorKind::Cancelled
        )
    }

    /// What to tell the resident, in plain Chinese.
    pub fn resident_message_zh(&self) -> &'static str {
        match self.kind() {
            ErrorKind::Jammed => "纸张卡在扫描仪里了。请不要用力拉扯，请找工作人员帮忙。",
            ErrorKind::NoDocuments => "没有检测到纸张。请把材料放进扫描仪，再点一次“扫描”。",
            ErrorKind::CoverOpen => "扫描仪的盖子没有盖好。请盖好盖子，再点一次“扫描”。",
            ErrorKind::Busy => "扫描仪正在准备，请稍等一会儿再试。",
            ErrorKind::Cancelled => "扫描已取消。",
            ErrorKind::DeviceGone => "扫描仪连接中断了，这一页没有扫好。请找工作人员帮忙。",
            ErrorKind::IncompletePage => "这一页没有扫完整，请再扫一次。",
            ErrorKind::IoError
            | ErrorKind::Locked
            | ErrorKind::NotFound
            | ErrorKind::Unavailable
            | ErrorKind::AccessDenied
            | ErrorKind::Stopped => "扫描仪暂时不能使用，请找工作人员帮忙。",
            _ => "扫描没有成功，请再试一次；如果还不行，请找工作人员帮忙。",
        }
    }

    /// What to tell the resident, in plain English.
    pub fn resident_message_en(&self) -> &'static str {
        match self.kind() {
            ErrorKind::Jammed => {
                "The paper is stuck in the scanner. Please don't pull it out; ask a member of staff for help."
            }
            ErrorKind::NoDocuments => {
                "No paper was found. Please put your papers in the scanner and tap \"Scan\" again."
            }
            ErrorKind::CoverOpen => {
                "The scanner lid is open. Please close it and tap \"Scan\" again."
            }
            ErrorKind::Busy => "The scanner is getting ready. Please wait a moment and try again.",
            ErrorKind::Cancelled => "Scanning was cancelled.",
            ErrorKind::DeviceGone => {
                "The scanner stopped responding, so this page was not scanned. Please ask a member of staff for help."
            }
            ErrorKind::IncompletePage => {
                "This page was not scanned completely. Please scan it again."
            }
            ErrorKind::IoError
            | ErrorKind::Locked
            | ErrorKind::NotFound
            | ErrorKind::Unavailable
            | ErrorKind::AccessDenied
            | ErrorKind::Stopped => {
                "The scanner cannot be used at the moment. Please ask a member of staff for help."
            }
            _ => {
                "The scan did not work. Please try again; if it still fails, ask a member of staff for help."
            }
        }
    }

    pub(crate) fn storage(what: impl Into<String>, err: &std::io::Error) -> ScanError {
        ScanError::Storage {
            what: what.into(),
            detail: err.to_string(),
        }
    }
}

impl Serialize for ScanError {
    /// `{"kind": "jammed", "detail": "...", "message_zh": "...", "message_en": "..."}`.
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("ScanError", 4)?;
        st.serialize_field("kind", &self.kind())?;
        st.serialize_field("detail", &self.to_string())?;
        st.serialize_field("message_zh", self.resident_message_zh())?;
        st.serialize_field("message_en", self.resident_message_en())?;
        st.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_sane_status_has_a_named_error() {
        let cases = [
            (Status::JAMMED, Call::Read, ErrorKind::Jammed),
            (Status::JAMMED, Call::Start, ErrorKind::Jammed),
            (Status::NO_DOCS, Call::Start, ErrorKind::NoDocuments),
            (Status::NO_DOCS, Call::Read, ErrorKind::NoDocuments),
            (Status::COVER_OPEN, Call::Start, ErrorKind::CoverOpen),
            (Status::DEVICE_BUSY, Call::Open, ErrorKind::Busy),
            (Status::WARMING_UP, Call::Start, ErrorKind::Busy),
            (Status::IO_ERROR, Call::Read, ErrorKind::DeviceGone),
            (Status::IO_ERROR, Call::Start, ErrorKind::IoError),
            (Status::CANCELLED, Call::Read, ErrorKind::Cancelled),
            (Status::ACCESS_DENIED, Call::Open, ErrorKind::AccessDenied),
            (Status::HW_LOCKED, Call::Start, ErrorKind::Locked),
            (Status::NO_MEM, Call::Read, ErrorKind::OutOfMemory),
            (Status::UNSUPPORTED, Call::Read, ErrorKind::Unsupported),
            (Status::INVAL, Call::Start, ErrorKind::Invalid),
            (Status::EOF, Call::Start, ErrorKind::UnknownStatus),
            (Status(42), Call::Read, ErrorKind::UnknownStatus),
        ];
        for (status, call, kind) in cases {
            assert_eq!(
                ScanError::from_status(status, call).kind(),
                kind,
                "{status:?} {call}"
            );
        }
    }

    #[test]
    fn messages_are_plain_and_in_both_languages() {
        let errors = [
            ScanError::Jammed,
            ScanError::NoDocuments,
            ScanError::CoverOpen,
            ScanError::from_status(Status::DEVICE_BUSY, Call::Start),
            ScanError::from_status(Status::IO_ERROR, Call::Start),
            ScanError::from_status(Status::IO_ERROR, Call::Read),
            ScanError::Cancelled,
            ScanError::NotFound { name: "x".into() },
            ScanError::IncompletePage {
                got: 1,
                expected: 2,
            },
            ScanError::Storage {
                what: "page".into(),
                detail: "disk full".into(),
            },
        ];
        for e in &errors {
            assert!(!e.resident_message_zh().is_empty());
            assert!(e.resident_message_en().ends_with('.'));
            // Residents never see SANE jargon.
            assert!(!e.resident_message_en().contains("SANE"));
        }
        assert!(ScanError::Jammed.resident_message_zh().contains("卡"));
        assert!(
            ScanError::NoDocuments
                .resident_message_en()
                .contains("No paper")
        );
        assert_eq!(ScanError::Jammed.device_state(), DeviceState::HardwareError);
        assert_eq!(
            ScanError::from_status(Status::IO_ERROR, Call::Read).device_state(),
            DeviceState::Offline
        );
        assert!(ScanError::from_status(Status::IO_ERROR, Call::Read).needs_reconnect());
        assert!(ScanError::NoDocuments.resident_can_fix());
        let json = serde_json::to_value(ScanError::Jammed).unwrap();
        assert_eq!(json["kind"], "jammed");
        assert_eq!(json["message_en"], ScanError::Jammed.resident_message_en());
    }
}
