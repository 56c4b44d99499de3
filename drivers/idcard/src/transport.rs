//! Opening the reader's port: serial (115200 8N1 by default), native USB bulk with the frame
//! split over two pipes each way (reference A.1), or TCP (a serial-over-network bridge).
//!
//! USB readers: OUT `0x02` carries `Preamble Len1 Len2`, OUT `0x06` the rest of a command;
//! IN `0x81` returns `Preamble Len1 Len2`, IN `0x85` the rest of the reply. The link below
//! turns that back into the plain byte stream the driver reads, so the same driver runs over
//! every transport. A USB reader with a single bulk pair gets whole frames on that pair.
//! Readers behind a USB-serial bridge or CDC-ACM are serial ports (`/dev/ttyUSB0`).

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use kiosk_link::serial::SerialLink;
use kiosk_link::usb::UsbBulk;
use kiosk_link::{Link, LinkError, Port};

use crate::handle::{Opener, Options};
use crate::protocol::{HEADER_LEN, PREAMBLE};

/// The reader's serial speed unless the port says otherwise.
pub const DEFAULT_BAUD: u32 = 115_200;
/// USB OUT pipe for `Preamble Len1 Len2`.
pub const USB_OUT_HEADER: u8 = 0x02;
/// USB OUT pipe for `CMD Para Data CHK`.
pub const USB_OUT_BODY: u8 = 0x06;
/// USB IN pipe for `Preamble Len1 Len2`.
pub const USB_IN_HEADER: u8 = 0x81;
/// USB IN pipe for `SW1 SW2 SW3 Data CHK`.
pub const USB_IN_BODY: u8 = 0x85;
/// Deadline of one USB OUT transfer ([G-OPENIDR200] uses 200 ms bulk timeouts).
pub const USB_WRITE_TIMEOUT: Duration = Duration::from_millis(200);
/// Once a reply header has arrived, how long the rest may take on the body pipe.
pub const USB_BODY_TIMEOUT: Duration = Duration::from_millis(500);

/// Opens `port` for an ID-card reader.
pub fn open_port(port: &Port, options: &Options) -> Result<Box<dyn Link>, LinkError> {
    open_with_baud(port, options.baud)
}

fn open_with_baud(port: &Port, default_baud: u32) -> Result<Box<dyn Link>, LinkError> {
    match port {
        Port::Serial { path, .. } => Ok(Box::new(SerialLink::open(
            path,
            port.baud_or(default_baud),
        )?)),
        Port::Usb { vid, pid } => Ok(Box::new(open_usb(*vid, *pid)?)),
        Port::Tcp { .. } => kiosk_link::open(port, default_baud),
    }
}

/// An opener for [`crate::Handle::spawn`] that (re)opens `port`.
pub fn opener(port: Port, options: &Options) -> Opener {
    let baud = options.baud;
    Box::new(move || open_with_baud(&port, baud))
}

/// Opens a native USB reader (`usb:VID:PID`).
pub fn open_usb(vid: u16, pid: u16) -> Result<SplitBulkLink<UsbBulk>, LinkError> {
    let (usb, eps) = UsbBulk::open(vid, pid)?;
    let split = [USB_OUT_HEADER, USB_OUT_BODY]
        .iter()
        .all(|e| eps.out.contains(e))
        && [USB_IN_HEADER, USB_IN_BODY]
            .iter()
            .all(|e| eps.input.contains(e));
    let endpoints = if split {
        Endpoints::SPLIT
    } else {
        let (Some(&out), Some(&input)) = (eps.out.first(), eps.input.first()) else {
            return Err(LinkError::Open {
                port: usb.name().to_owned(),
                reason: "no bulk endpoint pair".into(),
            });
        };
        tracing::info!(
            out,
            input,
            "USB ID-card reader without split pipes; whole frames"
        );
        Endpoints {
            out_header: out,
            out_body: out,
            in_header: input,
            in_body: input,
        }
    };
    Ok(SplitBulkLink::new(usb, endpoints))
}

/// Bulk transfers on numbered endpoints (implemented by [`UsbBulk`]; tests use a fake).
pub trait BulkPipes: Send {
    fn write(&self, endpoint: u8, data: &[u8], timeout: Duration) -> Result<(), LinkError>;
    /// One transfer; `Ok(0)` on timeout.
    fn read(&self, endpoint: u8, buf: &mut [u8], timeout: Duration) -> Result<usize, LinkError>;
    fn name(&self) -> String;
}

impl BulkPipes for UsbBulk {
    fn write(&self, endpoint: u8, data: &[u8], timeout: Duration) -> Result<(), LinkError> {
        UsbBulk::write(self, endpoint, data, timeout)
    }
    fn read(&self, endpoint: u8, buf: &mut [u8], timeout: Duration) -> Result<usize, LinkError> {
        UsbBulk::read(self, endpoint, buf, timeout)
    }
    fn name(&self) -> String {
        UsbBulk::name(self).to_owned()
    }
}

/// Which pipe carries which part of a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Endpoints {
    pub out_header: u8,
    pub out_body: u8,
    pub in_header: u8,
    pub in_body: u8,
}

impl Endpoints {
    /// The split of reference A.1.
    pub const SPLIT: Endpoints = Endpoints {
        out_header: USB_OUT_HEADER,
        out_body: USB_OUT_BODY,
        in_header: USB_IN_HEADER,
        in_body: USB_IN_BODY,
    };
}

/// A byte link over USB bulk pipes that splits frames as the reader expects.
pub struct SplitBulkLink<P: BulkPipes> {
    pipes: P,
    endpoints: Endpoints,
    pending: VecDeque<u8>,
    scratch: Vec<u8>,
}

impl<P: BulkPipes> SplitBulkLink<P> {
    pub fn new(pipes: P, endpoints: Endpoints) -> Self {
        SplitBulkLink {
            pipes,
            endpoints,
            pending: VecDeque::new(),
            scratch: vec![0; 4096],
        }
    }

    fn read_into_pending(&mut self, endpoint: u8, timeout: Duration) -> Result<usize, LinkError> {
        let n = self.pipes.read(endpoint, &mut self.scratch, timeout)?;
        self.pending
            .extend(self.scratch.get(..n).unwrap_or_default().iter().copied());
        Ok(n)
    }
}

impl<P: BulkPipes> Link for SplitBulkLink<P> {
    fn send(&mut self, bytes: &[u8]) -> Result<(), LinkError> {
        let e = self.endpoints;
        if e.out_header == e.out_body || bytes.len() <= HEADER_LEN {
            return self.pipes.write(e.out_body, bytes, USB_WRITE_TIMEOUT);
        }
        let (header, body) = bytes.split_at(HEADER_LEN);
        self.pipes.write(e.out_header, header, USB_WRITE_TIMEOUT)?;
        self.pipes.write(e.out_body, body, USB_WRITE_TIMEOUT)
    }

    fn recv(&mut self, buf: &mut [u8], timeout: Duration) -> Result<usize, LinkError> {
        if self.pending.is_empty() {
            let e = self.endpoints;
            let got = self.read_into_pending(e.in_header, timeout)?;
            if got > 0 && e.in_header != e.in_body {
                // A header: fetch the rest from the body pipe.
                let header: Vec<u8> = self.pending.iter().take(HEADER_LEN).copied().collect();
                if header.len() == HEADER_LEN && header.starts_with(&PREAMBLE) {
                    let len = usize::from(u16::from_be_bytes([
                        header.get(5).copied().unwrap_or(0),
                        header.get(6).copied().unwrap_or(0),
                    ]));
                    let want = HEADER_LEN + len;
                    let deadline = Instant::now() + USB_BODY_TIMEOUT;
                    while self.pending.len() < want {
                        let now = Instant::now();
                        if now >= deadline {
                            break;
                        }
                        if self.read_into_pending(e.in_body, deadline - now)? == 0 {
                            break;
                        }
                    }
                }
            }
        }
        let n = buf.len().min(self.pending.len());
        for (slot, byte) in buf.iter_mut().zip(self.pending.drain(..n)) {
            *slot = byte;
        }
        Ok(n)
    }

    fn drain(&mut self) -> Result<(), LinkError> {
        self.pending.clear();
        let e = self.endpoints;
        for endpoint in [e.in_header, e.in_body] {
            while self.read_into_pending(endpoint, Duration::from_millis(5))? > 0 {
                self.pending.clear();
            }
        }
        self.pending.clear();
        Ok(())
    }

    fn describe(&self) -> String {
        self.pipes.name()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{Command, Status, encode_reply};
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex};

    type Writes = Arc<Mutex<Vec<(u8, Vec<u8>)>>>;

    /// Fake USB pipes: records writes per endpoint, serves queued transfers per endpoint.
    #[derive(Clone, Default)]
    struct FakePipes {
        written: Writes,
        to_read: Arc<Mutex<HashMap<u8, VecDeque<Vec<u8>>>>>,
    }

    impl BulkPipes for FakePipes {
        fn write(&self, endpoint: u8, data: &[u8], _: Duration) -> Result<(), LinkError> {
            self.written.lock().unwrap().push((endpoint, data.to_vec()));
            Ok(())
        }
        fn read(&self, endpoint: u8, buf: &mut [u8], _: Duration) -> Result<usize, LinkError> {
            let mut map = self.to_read.lock().unwrap();
            let Some(t) = map.get_mut(&endpoint).and_then(VecDeque::pop_front) else {
                return Ok(0);
            };
            buf[..t.len()].copy_from_slice(&t);
            Ok(t.len())
        }
        fn name(&self) -> String {
            "usb:fake".into()
        }
    }

    impl FakePipes {
        fn queue(&self, endpoint: u8, data: &[u8]) {
            self.to_read
                .lock()
                .unwrap()
                .entry(endpoint)
                .or_default()
                .push_back(data.to_vec());
        }
    }

    #[test]
    fn commands_are_split_over_out_0x02_and_0x06() {
        let pipes = FakePipes::default();
        let mut link = SplitBulkLink::new(pipes.clone(), Endpoints::SPLIT);
        link.send(&Command::FindCard.encode()).unwrap();
        let written = pipes.written.lock().unwrap().clone();
        assert_eq!(
            written,
            vec![
                (0x02, vec![0xAA, 0xAA, 0xAA, 0x96, 0x69, 0x00, 0x03]),
                (0x06, vec![0x20, 0x01, 0x22]),
            ]
        );
    }

    #[test]
    fn replies_are_joined_from_in_0x81_and_0x85() {
        let pipes = FakePipes::default();
        let mut frame = Vec::new();
        encode_reply(0, 0, Status::FindSuccess, &[0; 4], &mut frame).unwrap();
        pipes.queue(0x81, &frame[..7]);
        // The body arrives in two transfers.
        pipes.queue(0x85, &frame[7..10]);
        pipes.queue(0x85, &frame[10..]);
        let mut link = SplitBulkLink::new(pipes, Endpoints::SPLIT);
        let mut got = vec![0u8; 64];
        let n = link.recv(&mut got, Duration::from_millis(10)).unwrap();
        assert_eq!(&got[..n], &frame[..]);
        assert_eq!(link.recv(&mut got, Duration::from_millis(1)).unwrap(), 0);
    }

    #[test]
    fn a_single_pair_carries_whole_frames() {
        let pipes = FakePipes::default();
        let e = Endpoints {
            out_header: 0x01,
            out_body: 0x01,
            in_header: 0x82,
            in_body: 0x82,
        };
        let mut link = SplitBulkLink::new(pipes.clone(), e);
        link.send(&Command::SelectCard.encode()).unwrap();
        assert_eq!(
            pipes.written.lock().unwrap().clone(),
            vec![(0x01, Command::SelectCard.encode())]
        );
        pipes.queue(0x82, &[1, 2, 3]);
        let mut got = [0u8; 2];
        assert_eq!(link.recv(&mut got, Duration::from_millis(1)).unwrap(), 2);
        assert_eq!(got, [1, 2]);
        assert_eq!(link.recv(&mut got, Duration::from_millis(1)).unwrap(), 1);
    }

    #[test]
    fn drain_empties_both_in_pipes() {
        let pipes = FakePipes::default();
        pipes.queue(0x81, &[9; 7]);
        pipes.queue(0x85, &[9; 20]);
        let mut link = SplitBulkLink::new(pipes, Endpoints::SPLIT);
        link.drain().unwrap();
        let mut got = [0u8; 8];
        assert_eq!(link.recv(&mut got, Duration::from_millis(1)).unwrap(), 0);
    }

    #[test]
    fn serial_port_default_and_override() {
        let port: Port = "serial:/nonexistent/ttyX@9600".parse().unwrap();
        assert_eq!(port.baud_or(DEFAULT_BAUD), 9600);
        let port: Port = "/nonexistent/ttyX".parse().unwrap();
        assert_eq!(port.baud_or(DEFAULT_BAUD), 115_200);
        let err = open_port(&port, &Options::default()).err().unwrap();
        assert!(matches!(err, LinkError::Open { .. }));
    }
}
