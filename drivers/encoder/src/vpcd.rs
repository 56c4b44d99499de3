//! The virtual card's side of vsmartcard's vpcd socket protocol, so tests run through a real
//! pcscd (reader "Virtual PCD 00 00"). The card connects by TCP to 127.0.0.1:35963; every
//! message is a 2-byte big-endian length and a payload. A 1-byte payload is a control:
//! 00 power off, 01 power on, 02 reset, 04 "send the ATR" (answered with the ATR). A longer
//! payload is a C-APDU, answered with the R-APDU.
//!
//! vpcd has no timeout of its own: a card that never answers would hang pcscd's reader (and a
//! zero-length answer also left pcscd waiting here). A silent chip therefore closes the
//! connection: vpcd fails the exchange and drops the card, as a real reader does after a
//! mute card.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::card::VirtualCard;

/// vpcd's default port (`/etc/reader.conf.d/vpcd`: `DEVICENAME /dev/null:0x8C7B`).
pub const DEFAULT_PORT: u16 = 35963;
/// The reader pcscd shows for vpcd's first slot.
pub const READER_NAME: &str = "Virtual PCD 00 00";

/// A message from vpcd to the card.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    PowerOff,
    PowerOn,
    Reset,
    /// Send the ATR.
    GetAtr,
    /// A control byte vpcd does not define.
    UnknownControl(u8),
    /// A zero-length message (not sent by vpcd; ignored).
    Empty,
    Apdu(Vec<u8>),
}

/// Cuts messages from the byte stream; never panics.
#[derive(Debug, Default, Clone)]
pub struct Decoder {
    buf: Vec<u8>,
}

impl Decoder {
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    pub fn next_message(&mut self) -> Option<Message> {
        let &[hi, lo] = self.buf.get(..2)? else {
            return None;
        };
        let len = usize::from(u16::from_be_bytes([hi, lo]));
        let payload = self.buf.get(2..2 + len)?.to_vec();
        self.buf.drain(..2 + len);
        Some(match payload.as_slice() {
            [] => Message::Empty,
            [0x00] => Message::PowerOff,
            [0x01] => Message::PowerOn,
            [0x02] => Message::Reset,
            [0x04] => Message::GetAtr,
            [other] => Message::UnknownControl(*other),
            _ => Message::Apdu(payload),
        })
    }
}

/// Frames a payload: 2-byte big-endian length, then the bytes (cut at 65535).
pub fn encode(payload: &[u8]) -> Vec<u8> {
    let payload = payload.get(..payload.len().min(0xFFFF)).unwrap_or_default();
    let len = u16::try_from(payload.len()).unwrap_or(u16::MAX);
    let mut out = Vec::with_capacity(payload.len() + 2);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(payload);
    out
}

/// What the card does with one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// Nothing to send (power controls).
    Nothing,
    /// Send these bytes (already length-prefixed).
    Send(Vec<u8>),
    /// The chip is silent or gone: close the connection.
    Hang,
}

/// What the card answers to one message.
pub fn answer(card: &VirtualCard, message: &Message) -> Answer {
    match message {
        Message::PowerOff => {
            card.power_off();
            Answer::Nothing
        }
        Message::PowerOn | Message::Reset => {
            card.power_on();
            Answer::Nothing
        }
        Message::GetAtr if card.is_removed() => Answer::Hang,
        Message::GetAtr => Answer::Send(encode(&card.atr())),
        Message::UnknownControl(_) | Message::Empty => Answer::Nothing,
        Message::Apdu(apdu) => match card.process(apdu) {
            Some(r) => Answer::Send(encode(&r)),
            None => Answer::Hang,
        },
    }
}

/// A virtual card plugged into vpcd; pulled out when dropped.
pub struct Attachment {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<io::Result<()>>>,
}

impl Attachment {
    /// Pulls the card out and waits for the serving thread.
    pub fn detach(mut self) -> io::Result<()> {
        self.stop.store(true, Ordering::SeqCst);
        match self.thread.take().map(JoinHandle::join) {
            Some(Ok(r)) => r,
            Some(Err(_)) => Err(io::Error::other("vpcd card thread panicked")),
            None => Ok(()),
        }
    }

    /// True while the card is still connected to vpcd.
    pub fn is_attached(&self) -> bool {
        self.thread.as_ref().is_some_and(|t| !t.is_finished())
    }
}

impl Drop for Attachment {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Connects the card to vpcd at `addr` and serves it on a thread until detached, until the
/// card is removed ([`VirtualCard::remove`]), or until vpcd hangs up.
pub fn attach(card: VirtualCard, addr: impl ToSocketAddrs) -> io::Result<Attachment> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_nodelay(true)?;
    stream.set_read_timeout(Some(Duration::from_millis(20)))?;
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let thread = std::thread::spawn(move || {
        let result = serve(&card, &mut stream, &flag);
        let _ = stream.shutdown(Shutdown::Both);
        result
    });
    Ok(Attachment {
        stop,
        thread: Some(thread),
    })
}

fn serve(card: &VirtualCard, stream: &mut TcpStream, stop: &AtomicBool) -> io::Result<()> {
    let mut decoder = Decoder::default();
    let mut buf = [0u8; 1024];
    loop {
        if stop.load(Ordering::SeqCst) || card.is_removed() {
            return Ok(());
        }
        match stream.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => decoder.push(buf.get(..n).unwrap_or_default()),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                continue;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
        while let Some(message) = decoder.next_message() {
            if let Message::Apdu(apdu) = &message {
                tracing::trace!(len = apdu.len(), "vpcd apdu");
            }
            match answer(card, &message) {
                Answer::Nothing => {}
                Answer::Send(reply) => stream.write_all(&reply)?,
                // Silent or pulled out: vpcd sees the connection close.
                Answer::Hang => return Ok(()),
            }
        }
    }
}

/// Test support: a cross-process lock on the vpcd reader and a pcscd that is running.
pub mod testing {
    use std::fs::{File, OpenOptions};
    use std::io;
    use std::path::Path;
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};

    /// The lock file every process using vpcd's first reader takes.
    pub const LOCK_PATH: &str = "/tmp/kiosk-vpcd.lock";

    /// Holds the vpcd reader for this test (only one virtual card can attach at a time, and
    /// other test processes may use it too). Released when dropped.
    #[derive(Debug)]
    pub struct VpcdLock {
        _file: File,
    }

    /// Blocks until this process holds the vpcd reader.
    pub fn lock_vpcd() -> io::Result<VpcdLock> {
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(LOCK_PATH)?;
        file.lock()?;
        Ok(VpcdLock { _file: file })
    }

    /// Reader state and ATR as pcscd reports them now.
    fn reader_state(reader: &str) -> Result<(pcsc::State, Vec<u8>), pcsc::Error> {
        let ctx = pcsc::Context::establish(pcsc::Scope::User)?;
        let name = std::ffi::CString::new(reader).map_err(|_| pcsc::Error::InvalidValue)?;
        let mut states = [pcsc::ReaderState::new(name, pcsc::State::UNAWARE)];
        ctx.get_status_change(Duration::from_millis(0), &mut states)?;
        Ok((states[0].event_state(), states[0].atr().to_vec()))
    }

    /// Plugs `card` into vpcd and waits until pcscd shows it (by its ATR, so a card of an
    /// earlier test still listed is not taken for it). Give each test's card its own ATR
    /// (e.g. random historical bytes).
    pub fn attach_and_wait(
        card: &crate::card::VirtualCard,
        reader: &str,
        wait: Duration,
    ) -> Result<super::Attachment, String> {
        let attachment = super::attach(card.clone(), ("127.0.0.1", super::DEFAULT_PORT))
            .map_err(|e| format!("cannot reach vpcd: {e}"))?;
        let atr = card.atr();
        let deadline = Instant::now() + wait;
        loop {
            if let Ok((state, seen)) = reader_state(reader)
                && state.contains(pcsc::State::PRESENT)
                && seen == atr
            {
                return Ok(attachment);
            }
            if Instant::now() >= deadline {
                return Err(format!("pcscd did not show the virtual card in {reader:?}"));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// pcscd asks a reader whether a card is present every 400 ms
    /// (`PCSCLITE_STATUS_POLL_RATE`).
    const PCSCD_POLL: Duration = Duration::from_millis(400);

    /// Pulls the card out and waits until pcscd shows the reader empty.
    ///
    /// After a failed exchange pcscd may report the reader empty before its own event thread
    /// has seen the card go; if the next card connected before that poll, pcscd would take
    /// it for the old card and never announce it. So this also waits out two presence polls
    /// with no card connected. and waits until pcscd shows the reader empty.
    pub fn detach_and_wait(attachment: super::Attachment, reader: &str, wait: Duration) {
        let _ = attachment.detach();
        let deadline = Instant::now() + wait;
        while Instant::now() < deadline {
            match reader_state(reader) {
                Ok((state, _)) if state.contains(pcsc::State::PRESENT) => {}
                _ => break,
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        std::thread::sleep(2 * PCSCD_POLL);
    }

    fn reader_listed(reader: &str) -> Result<bool, pcsc::Error> {
        let ctx = pcsc::Context::establish(pcsc::Scope::User)?;
        match ctx.list_readers_owned() {
            Ok(names) => Ok(names.iter().any(|n| n.to_bytes() == reader.as_bytes())),
            Err(pcsc::Error::NoReadersAvailable) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Makes sure pcscd runs and shows `reader` (starting `pcscd -f --auto-exit` in the
    /// background when no pcscd answers: CI has no systemd socket activation).
    pub fn ensure_pcscd(reader: &str, wait: Duration) -> Result<(), String> {
        let deadline = Instant::now() + wait;
        let mut started = false;
        loop {
            match reader_listed(reader) {
                Ok(true) => return Ok(()),
                Err(pcsc::Error::NoService | pcsc::Error::ServiceStopped) if !started => {
                    start_pcscd()?;
                    started = true;
                }
                Ok(false) | Err(_) => {}
            }
            if Instant::now() >= deadline {
                return Err(format!("pcscd does not show the reader {reader:?}"));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn start_pcscd() -> Result<(), String> {
        let binary = ["/usr/sbin/pcscd", "/usr/bin/pcscd", "/sbin/pcscd"]
            .into_iter()
            .find(|p| Path::new(p).exists())
            .unwrap_or("pcscd");
        // The child outlives the test on purpose (other tests use it); --auto-exit ends it
        // after a minute without clients.
        Command::new(binary)
            .args(["-f", "--auto-exit"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map(|_| ())
            .map_err(|e| format!("cannot start pcscd ({binary}): {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_cut_from_a_split_stream() {
        let mut d = Decoder::default();
        let mut stream = encode(&[0x04]);
        stream.extend(encode(&[0x00, 0xA4, 0x04, 0x00]));
        stream.extend(encode(&[0x01]));
        stream.extend(encode(&[]));
        for b in &stream {
            d.push(&[*b]);
        }
        assert_eq!(d.next_message(), Some(Message::GetAtr));
        assert_eq!(
            d.next_message(),
            Some(Message::Apdu(vec![0x00, 0xA4, 0x04, 0x00]))
        );
        assert_eq!(d.next_message(), Some(Message::PowerOn));
        assert_eq!(d.next_message(), Some(Message::Empty));
        assert_eq!(d.next_message(), None);
        d.push(&[0x00, 0x05, 0x01]);
        assert_eq!(d.next_message(), None, "incomplete");
    }

    #[test]
    fn the_card_answers_atr_and_apdus() {
        let card = VirtualCard::new(crate::card::CardProfile::default());
        assert_eq!(answer(&card, &Message::PowerOn), Answer::Nothing);
        let Answer::Send(atr) = answer(&card, &Message::GetAtr) else {
            panic!()
        };
        assert_eq!(&atr[2..], card.atr().as_slice());
        let Answer::Send(r) = answer(&card, &Message::Apdu(vec![0, 0x84, 0, 0, 8])) else {
            panic!()
        };
        assert_eq!(r[..2], [0, 10]);
        card.fail_next(crate::card::ChipFault::NoAnswer);
        assert_eq!(
            answer(&card, &Message::Apdu(vec![0, 0x84, 0, 0, 8])),
            Answer::Hang
        );
    }
}
