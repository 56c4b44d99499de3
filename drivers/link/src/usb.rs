//! USB bulk pipes through `rusb` (libusb).

use std::collections::VecDeque;
use std::time::Duration;

use rusb::{Context, DeviceHandle, Direction, TransferType, UsbContext};

use crate::link::{Link, LinkError};

/// An opened USB device with one claimed interface, for drivers that need to address
/// endpoints themselves (the ID-card reader splits each frame over two OUT pipes).
pub struct UsbBulk {
    handle: DeviceHandle<Context>,
    interface: u8,
    name: String,
}

/// The bulk endpoints of the claimed interface.
#[derive(Debug, Clone, Default)]
pub struct BulkEndpoints {
    pub out: Vec<u8>,
    pub input: Vec<u8>,
}

fn usb_err(name: &str, e: rusb::Error) -> LinkError {
    match e {
        rusb::Error::NoDevice | rusb::Error::NotFound | rusb::Error::Pipe | rusb::Error::Io => {
            LinkError::Disconnected(format!("{name}: {e}"))
        }
        other => LinkError::Io(std::io::Error::other(format!("{name}: {other}"))),
    }
}

impl UsbBulk {
    /// Opens the first device with `vid:pid` and claims the first interface that has bulk
    /// endpoints, detaching a kernel driver (e.g. `usblp`) if one is bound.
    pub fn open(vid: u16, pid: u16) -> Result<(Self, BulkEndpoints), LinkError> {
        let name = format!("usb:{vid:04X}:{pid:04X}");
        let open_err = |reason: String| LinkError::Open {
            port: name.clone(),
            reason,
        };
        let context = Context::new().map_err(|e| open_err(e.to_string()))?;
        let handle = context
            .open_device_with_vid_pid(vid, pid)
            .ok_or_else(|| open_err("no such device attached (or no permission)".into()))?;
        let device = handle.device();
        let config = device
            .active_config_descriptor()
            .map_err(|e| open_err(e.to_string()))?;
        for interface in config.interfaces() {
            for desc in interface.descriptors() {
                let mut eps = BulkEndpoints::default();
                for ep in desc.endpoint_descriptors() {
                    if ep.transfer_type() == TransferType::Bulk {
                        match ep.direction() {
                            Direction::Out => eps.out.push(ep.address()),
                            Direction::In => eps.input.push(ep.address()),
                        }
                    }
                }
                if eps.out.is_empty() || eps.input.is_empty() {
                    continue;
                }
                let number = desc.interface_number();
                if handle.kernel_driver_active(number).unwrap_or(false) {
                    handle
                        .detach_kernel_driver(number)
                        .map_err(|e| open_err(e.to_string()))?;
                }
                handle
                    .claim_interface(number)
                    .map_err(|e| open_err(e.to_string()))?;
                return Ok((
                    UsbBulk {
                        handle,
                        interface: number,
                        name,
                    },
                    eps,
                ));
            }
        }
        Err(open_err(
            "no interface with bulk IN and OUT endpoints".into(),
        ))
    }

    pub fn write(&self, endpoint: u8, data: &[u8], timeout: Duration) -> Result<(), LinkError> {
        let mut sent = 0;
        while sent < data.len() {
            sent += self
                .handle
                .write_bulk(endpoint, &data[sent..], timeout)
                .map_err(|e| usb_err(&self.name, e))?;
        }
        Ok(())
    }

    /// Reads one transfer; `Ok(0)` on timeout.
    pub fn read(
        &self,
        endpoint: u8,
        buf: &mut [u8],
        timeout: Duration,
    ) -> Result<usize, LinkError> {
        match self.handle.read_bulk(endpoint, buf, timeout) {
            Ok(n) => Ok(n),
            Err(rusb::Error::Timeout) => Ok(0),
            Err(e) => Err(usb_err(&self.name, e)),
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for UsbBulk {
    fn drop(&mut self) {
        let _ = self.handle.release_interface(self.interface);
    }
}

/// A plain bulk pipe pair used as a byte link (most USB printers).
pub struct UsbBulkLink {
    usb: UsbBulk,
    out: u8,
    input: u8,
    pending: VecDeque<u8>,
}

impl UsbBulkLink {
    pub fn open_first_bulk_pair(vid: u16, pid: u16) -> Result<Self, LinkError> {
        let (usb, eps) = UsbBulk::open(vid, pid)?;
        let (Some(&out), Some(&input)) = (eps.out.first(), eps.input.first()) else {
            return Err(LinkError::Open {
                port: usb.name().to_owned(),
                reason: "no bulk pair".into(),
            });
        };
        Ok(UsbBulkLink {
            usb,
            out,
            input,
            pending: VecDeque::new(),
        })
    }
}

impl Link for UsbBulkLink {
    fn send(&mut self, bytes: &[u8]) -> Result<(), LinkError> {
        self.usb.write(self.out, bytes, Duration::from_secs(5))
    }

    fn recv(&mut self, buf: &mut [u8], timeout: Duration) -> Result<usize, LinkError> {
        if self.pending.is_empty() {
            // A bulk transfer returns whole packets; read into a packet-sized buffer so a
            // short caller buffer never overflows the transfer.
            let mut packet = [0u8; 512];
            let n = self.usb.read(self.input, &mut packet, timeout)?;
            self.pending.extend(&packet[..n]);
        }
        let n = buf.len().min(self.pending.len());
        for (slot, byte) in buf.iter_mut().zip(self.pending.drain(..n)) {
            *slot = byte;
        }
        Ok(n)
    }

    fn drain(&mut self) -> Result<(), LinkError> {
        self.pending.clear();
        let mut packet = [0u8; 512];
        while self
            .usb
            .read(self.input, &mut packet, Duration::from_millis(5))?
            > 0
        {}
        Ok(())
    }

    fn describe(&self) -> String {
        self.usb.name().to_owned()
    }
}
