//! TCP links, e.g. ESC/POS printers on port 9100.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use crate::link::{Link, LinkError, is_disconnect_kind};

pub struct TcpLink {
    stream: TcpStream,
    peer: String,
}

impl TcpLink {
    /// Connects to `host:port` (names are resolved), trying each address within `timeout`.
    pub fn connect(host: &str, port: u16, timeout: Duration) -> Result<Self, LinkError> {
        let peer = format!("{host}:{port}");
        let open_err = |reason: String| LinkError::Open {
            port: format!("tcp:{peer}"),
            reason,
        };
        let addrs = (host, port)
            .to_socket_addrs()
            .map_err(|e| open_err(e.to_string()))?;
        let mut last = String::from("no address");
        for addr in addrs {
            match TcpStream::connect_timeout(&addr, timeout) {
                Ok(stream) => {
                    stream
                        .set_nodelay(true)
                        .map_err(|e| open_err(e.to_string()))?;
                    return Ok(TcpLink { stream, peer });
                }
                Err(e) => last = e.to_string(),
            }
        }
        Err(open_err(last))
    }

    pub fn from_stream(stream: TcpStream) -> Self {
        let peer = stream
            .peer_addr()
            .map_or_else(|_| "tcp".to_owned(), |a| a.to_string());
        TcpLink { stream, peer }
    }
}

impl Link for TcpLink {
    fn send(&mut self, bytes: &[u8]) -> Result<(), LinkError> {
        self.stream
            .write_all(bytes)
            .map_err(|e| map_io(e, &self.peer))
    }

    fn recv(&mut self, buf: &mut [u8], timeout: Duration) -> Result<usize, LinkError> {
        if buf.is_empty() {
            return Ok(0);
        }
        self.stream
            .set_read_timeout(Some(timeout.max(Duration::from_millis(1))))?;
        match self.stream.read(buf) {
            Ok(0) => Err(LinkError::Disconnected(format!(
                "{}: closed by peer",
                self.peer
            ))),
            Ok(n) => Ok(n),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                Ok(0)
            }
            Err(e) => Err(map_io(e, &self.peer)),
        }
    }

    fn drain(&mut self) -> Result<(), LinkError> {
        let mut scratch = [0u8; 256];
        while self.recv(&mut scratch, Duration::from_millis(1))? > 0 {}
        Ok(())
    }

    fn describe(&self) -> String {
        format!("tcp:{}", self.peer)
    }
}

fn map_io(e: std::io::Error, peer: &str) -> LinkError {
    if is_disconnect_kind(e.kind()) {
        LinkError::Disconnected(format!("{peer}: {e}"))
    } else {
        LinkError::Io(e)
    }
}
