//! The byte-link trait every driver is written against.

use std::io;
use std::time::{Duration, Instant};

use crate::port::Port;

/// Why a link operation failed.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    /// The device or its port went away (unplugged, closed, hung up). Drivers go offline and
    /// reconnect in the background.
    #[error("device disconnected: {0}")]
    Disconnected(String),
    /// Fewer bytes than expected arrived before the deadline.
    #[error("no complete answer within {waited:?} ({got} bytes received)")]
    Timeout { waited: Duration, got: usize },
    /// The port could not be opened.
    #[error("cannot open {port}: {reason}")]
    Open { port: String, reason: String },
    #[error("i/o error: {0}")]
    Io(#[from] io::Error),
}

impl LinkError {
    /// True when the device is gone and the driver should reconnect rather than retry.
    pub fn is_disconnect(&self) -> bool {
        match self {
            LinkError::Disconnected(_) | LinkError::Open { .. } => true,
            LinkError::Io(e) => is_disconnect_kind(e.kind()),
            LinkError::Timeout { .. } => false,
        }
    }
}

pub(crate) fn is_disconnect_kind(kind: io::ErrorKind) -> bool {
    matches!(
        kind,
        io::ErrorKind::BrokenPipe
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::NotConnected
            | io::ErrorKind::UnexpectedEof
            | io::ErrorKind::NotFound
    )
}

/// A two-way byte pipe to one device.
///
/// Reads never block longer than the timeout the caller gives, so every command in a driver
/// has its own deadline and a silent device can never hang the device task.
pub trait Link: Send {
    /// Sends all of `bytes`.
    fn send(&mut self, bytes: &[u8]) -> Result<(), LinkError>;

    /// Waits up to `timeout` for at least one byte and returns how many were read into `buf`.
    /// `Ok(0)` means nothing arrived in time.
    fn recv(&mut self, buf: &mut [u8], timeout: Duration) -> Result<usize, LinkError>;

    /// Throws away everything received and not yet read, so that a stale or late answer is
    /// never taken for the answer to the next command.
    fn drain(&mut self) -> Result<(), LinkError>;

    /// A short description for logs (the port, never data).
    fn describe(&self) -> String;
}

impl<L: Link + ?Sized> Link for Box<L> {
    fn send(&mut self, bytes: &[u8]) -> Result<(), LinkError> {
        (**self).send(bytes)
    }
    fn recv(&mut self, buf: &mut [u8], timeout: Duration) -> Result<usize, LinkError> {
        (**self).recv(buf, timeout)
    }
    fn drain(&mut self) -> Result<(), LinkError> {
        (**self).drain()
    }
    fn describe(&self) -> String {
        (**self).describe()
    }
}

/// Reads exactly `buf.len()` bytes, or fails with [`LinkError::Timeout`] at `deadline`.
pub fn recv_exact(link: &mut dyn Link, buf: &mut [u8], deadline: Instant) -> Result<(), LinkError> {
    let started = Instant::now();
    let mut got = 0;
    while got < buf.len() {
        let now = Instant::now();
        if now >= deadline {
            return Err(LinkError::Timeout {
                waited: now - started,
                got,
            });
        }
        got += link.recv(&mut buf[got..], deadline - now)?;
    }
    Ok(())
}

/// Opens a serial or TCP port with the generic link for it. USB devices whose frames are
/// split over several endpoints (the ID-card reader) open their own link from [`crate::usb`].
pub fn open(port: &Port, default_baud: u32) -> Result<Box<dyn Link>, LinkError> {
    match port {
        Port::Serial { path, .. } => Ok(Box::new(crate::serial::SerialLink::open(
            path,
            port.baud_or(default_baud),
        )?)),
        Port::Tcp { host, port: p } => Ok(Box::new(crate::tcp::TcpLink::connect(
            host,
            *p,
            Duration::from_secs(3),
        )?)),
        Port::Usb { vid, pid } => Ok(Box::new(crate::usb::UsbBulkLink::open_first_bulk_pair(
            *vid, *pid,
        )?)),
    }
}
