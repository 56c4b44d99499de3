//! Serial ports through `serialport`: 8 data bits, no parity, 1 stop bit, no flow control.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serialport::SerialPort;

use crate::link::{Link, LinkError, is_disconnect_kind};

pub struct SerialLink {
    port: Box<dyn SerialPort>,
    path: PathBuf,
}

impl SerialLink {
    pub fn open(path: &Path, baud: u32) -> Result<Self, LinkError> {
        let port = serialport::new(path.to_string_lossy(), baud)
            .data_bits(serialport::DataBits::Eight)
            .parity(serialport::Parity::None)
            .stop_bits(serialport::StopBits::One)
            .flow_control(serialport::FlowControl::None)
            .timeout(Duration::from_millis(100))
            .open()
            .map_err(|e| LinkError::Open {
                port: path.display().to_string(),
                reason: e.to_string(),
            })?;
        Ok(SerialLink {
            port,
            path: path.to_owned(),
        })
    }

    /// Wraps an already open port (e.g. one end of a pseudo-terminal pair).
    pub fn from_port(port: Box<dyn SerialPort>, path: PathBuf) -> Self {
        SerialLink { port, path }
    }
}

fn map_io(e: std::io::Error, path: &Path) -> LinkError {
    // A pty whose other end closed reports EIO; a pulled USB-serial adapter reports EIO or
    // ENXIO. Both mean the device is gone.
    // EIO = 5, ENXIO = 6.
    if is_disconnect_kind(e.kind()) || matches!(e.raw_os_error(), Some(5 | 6)) {
        LinkError::Disconnected(format!("{}: {e}", path.display()))
    } else {
        LinkError::Io(e)
    }
}

impl Link for SerialLink {
    fn send(&mut self, bytes: &[u8]) -> Result<(), LinkError> {
        self.port
            .write_all(bytes)
            .map_err(|e| map_io(e, &self.path))?;
        self.port.flush().map_err(|e| map_io(e, &self.path))
    }

    fn recv(&mut self, buf: &mut [u8], timeout: Duration) -> Result<usize, LinkError> {
        if buf.is_empty() {
            return Ok(0);
        }
        self.port
            .set_timeout(timeout.max(Duration::from_millis(1)))
            .map_err(|e| LinkError::Disconnected(format!("{}: {e}", self.path.display())))?;
        match self.port.read(buf) {
            Ok(0) => Err(LinkError::Disconnected(format!(
                "{}: end of file",
                self.path.display()
            ))),
            Ok(n) => Ok(n),
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => Ok(0),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => Ok(0),
            Err(e) => Err(map_io(e, &self.path)),
        }
    }

    fn drain(&mut self) -> Result<(), LinkError> {
        // clear() drops what the kernel buffered; then read whatever is still trickling in.
        let _ = self.port.clear(serialport::ClearBuffer::Input);
        let mut scratch = [0u8; 256];
        while self.recv(&mut scratch, Duration::from_millis(1))? > 0 {}
        Ok(())
    }

    fn describe(&self) -> String {
        self.path.display().to_string()
    }
}
