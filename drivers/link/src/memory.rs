//! An in-memory duplex byte pipe for tests: a driver on one end, a simulator on the other.
//! Dropping either end makes the other see a disconnect, exactly like an unplugged cable.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::link::{Link, LinkError};

#[derive(Default)]
struct Pipe {
    bytes: VecDeque<u8>,
    writer_gone: bool,
    reader_gone: bool,
}

#[derive(Default)]
struct Channel {
    pipe: Mutex<Pipe>,
    ready: Condvar,
}

impl Channel {
    fn lock(&self) -> MutexGuard<'_, Pipe> {
        // A panic while holding this lock can only come from a test thread; the data is
        // plain bytes, so carrying on with it is sound.
        self.pipe
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// One end of an in-memory link.
pub struct MemoryLink {
    incoming: Arc<Channel>,
    outgoing: Arc<Channel>,
    name: &'static str,
}

/// Two connected ends: what one sends, the other receives.
pub fn pair() -> (MemoryLink, MemoryLink) {
    let a_to_b = Arc::new(Channel::default());
    let b_to_a = Arc::new(Channel::default());
    (
        MemoryLink {
            incoming: b_to_a.clone(),
            outgoing: a_to_b.clone(),
            name: "memory:a",
        },
        MemoryLink {
            incoming: a_to_b,
            outgoing: b_to_a,
            name: "memory:b",
        },
    )
}

impl Drop for MemoryLink {
    fn drop(&mut self) {
        self.outgoing.lock().writer_gone = true;
        self.outgoing.ready.notify_all();
        self.incoming.lock().reader_gone = true;
        self.incoming.ready.notify_all();
    }
}

impl Link for MemoryLink {
    fn send(&mut self, bytes: &[u8]) -> Result<(), LinkError> {
        let mut pipe = self.outgoing.lock();
        if pipe.reader_gone {
            return Err(LinkError::Disconnected(format!(
                "{}: other end closed",
                self.name
            )));
        }
        pipe.bytes.extend(bytes);
        drop(pipe);
        self.outgoing.ready.notify_all();
        Ok(())
    }

    fn recv(&mut self, buf: &mut [u8], timeout: Duration) -> Result<usize, LinkError> {
        let deadline = Instant::now() + timeout;
        let mut pipe = self.incoming.lock();
        loop {
            if !pipe.bytes.is_empty() {
                let n = buf.len().min(pipe.bytes.len());
                for (slot, byte) in buf.iter_mut().zip(pipe.bytes.drain(..n)) {
                    *slot = byte;
                }
                return Ok(n);
            }
            if pipe.writer_gone {
                return Err(LinkError::Disconnected(format!(
                    "{}: other end closed",
                    self.name
                )));
            }
            let now = Instant::now();
            if now >= deadline || buf.is_empty() {
                return Ok(0);
            }
            pipe = self
                .incoming
                .ready
                .wait_timeout(pipe, deadline - now)
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .0;
        }
    }

    fn drain(&mut self) -> Result<(), LinkError> {
        self.incoming.lock().bytes.clear();
        Ok(())
    }

    fn describe(&self) -> String {
        self.name.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::link::recv_exact;

    #[test]
    fn bytes_cross_both_ways() {
        let (mut a, mut b) = pair();
        a.send(b"ping").unwrap();
        let mut buf = [0u8; 4];
        recv_exact(&mut b, &mut buf, Instant::now() + Duration::from_secs(1)).unwrap();
        assert_eq!(&buf, b"ping");
        b.send(&[0x03, 0x11, 0x13]).unwrap();
        let mut buf = [0u8; 3];
        recv_exact(&mut a, &mut buf, Instant::now() + Duration::from_secs(1)).unwrap();
        assert_eq!(buf, [0x03, 0x11, 0x13]);
    }

    #[test]
    fn silence_is_a_timeout_not_a_hang() {
        let (mut a, _b) = pair();
        let mut buf = [0u8; 1];
        assert_eq!(a.recv(&mut buf, Duration::from_millis(10)).unwrap(), 0);
        let err =
            recv_exact(&mut a, &mut buf, Instant::now() + Duration::from_millis(10)).unwrap_err();
        assert!(matches!(err, LinkError::Timeout { got: 0, .. }));
    }

    #[test]
    fn dropping_one_end_disconnects_the_other_after_buffered_bytes() {
        let (mut a, mut b) = pair();
        b.send(&[1, 2]).unwrap();
        drop(b);
        let mut buf = [0u8; 8];
        assert_eq!(a.recv(&mut buf, Duration::from_millis(10)).unwrap(), 2);
        assert!(
            a.recv(&mut buf, Duration::from_millis(10))
                .unwrap_err()
                .is_disconnect()
        );
        assert!(a.send(&[1]).unwrap_err().is_disconnect());
    }

    #[test]
    fn drain_discards_stale_input() {
        let (mut a, mut b) = pair();
        b.send(&[9, 9, 9]).unwrap();
        a.drain().unwrap();
        let mut buf = [0u8; 8];
        assert_eq!(a.recv(&mut buf, Duration::from_millis(5)).unwrap(), 0);
    }
}
