//! The APDU transport trait with its back-ends, and the exchange that handles the status
//! words every transport needs (61xx GET RESPONSE, 6Cxx re-send with the right Le).

use crate::apdu::{Apdu, Response};

/// Why an APDU could not be carried to the chip and back.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    /// pcscd is not running or not reachable.
    #[error("the PC/SC service is not available: {0}")]
    NoService(String),
    /// No reader of that name.
    #[error("no card reader named {name:?} (readers: {available})")]
    NoReader { name: String, available: String },
    /// No card in the reader (or at the IC position).
    #[error("no card in the reader")]
    NoCard,
    /// The card went away during the dialogue.
    #[error("the card was removed")]
    CardRemoved,
    /// The chip did not answer (mute card, broken contact, transmission timeout).
    #[error("the chip did not answer")]
    NoAnswer,
    /// The dispenser's contact reader failed.
    #[error("dispenser: {0}")]
    Dispenser(#[from] kiosk_dispenser::DispenserError),
    /// Any other reader-level failure.
    #[error("card reader: {0}")]
    Reader(String),
    /// An APDU that cannot be sent (too long).
    #[error("invalid APDU: {0}")]
    Invalid(String),
}

/// Carries raw APDUs to one chip. Implemented by [`crate::pcsc_transport::PcscTransport`]
/// (PC/SC readers, including vpcd in tests), [`crate::crt591::Crt591Transport`] (the
/// dispenser's own contact reader, CM 51 PM 39), and [`crate::card::CardTransport`] (the
/// virtual card in memory, for benchmarks and unit tests).
pub trait ApduTransport {
    /// Powers the chip up (connects to the card); returns the ATR.
    fn connect(&mut self) -> Result<Vec<u8>, TransportError>;
    /// Sends one C-APDU; returns the R-APDU with its status word.
    fn transmit(&mut self, apdu: &[u8]) -> Result<Vec<u8>, TransportError>;
    /// Powers the chip down (disconnects).
    fn disconnect(&mut self) -> Result<(), TransportError>;
    /// A short description for logs (never data).
    fn describe(&self) -> String;
}

impl<T: ApduTransport + ?Sized> ApduTransport for Box<T> {
    fn connect(&mut self) -> Result<Vec<u8>, TransportError> {
        (**self).connect()
    }
    fn transmit(&mut self, apdu: &[u8]) -> Result<Vec<u8>, TransportError> {
        (**self).transmit(apdu)
    }
    fn disconnect(&mut self) -> Result<(), TransportError> {
        (**self).disconnect()
    }
    fn describe(&self) -> String {
        (**self).describe()
    }
}

/// Longest chain of GET RESPONSE calls followed (a broken card could ask forever).
const MAX_GET_RESPONSE: usize = 16;

/// Sends an APDU and handles the transport-level status words: 61xx is followed by GET
/// RESPONSE (the data of all parts joined), 6Cxx makes the APDU go again once with Le = xx.
/// Other status words are returned for the caller to judge.
pub fn exchange(t: &mut dyn ApduTransport, apdu: &Apdu) -> Result<Response, TransportError> {
    let mut response = send(t, &apdu.to_bytes())?;
    if response.sw.sw1() == 0x6C {
        let again = apdu.clone().with_le(response.sw.sw2());
        response = send(t, &again.to_bytes())?;
    }
    let mut data = std::mem::take(&mut response.data);
    let mut rounds = 0;
    while response.sw.sw1() == 0x61 && rounds < MAX_GET_RESPONSE {
        rounds += 1;
        let get = Apdu::new(apdu.cla & 0x03, 0xC0, 0, 0).with_le(response.sw.sw2());
        response = send(t, &get.to_bytes())?;
        data.append(&mut response.data);
    }
    Ok(Response {
        data,
        sw: response.sw,
    })
}

fn send(t: &mut dyn ApduTransport, bytes: &[u8]) -> Result<Response, TransportError> {
    let raw = t.transmit(bytes)?;
    Response::from_bytes(&raw).ok_or(TransportError::NoAnswer)
}

/// Parses raw bytes as an APDU and sends them through [`exchange`] (technician command line).
pub fn exchange_raw(t: &mut dyn ApduTransport, bytes: &[u8]) -> Result<Response, String> {
    let apdu = Apdu::parse(bytes).map_err(|e| e.to_string())?;
    exchange(t, &apdu).map_err(|e| e.to_string())
}
