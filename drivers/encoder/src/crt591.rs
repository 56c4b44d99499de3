//! APDUs through the CRT-591 dispenser's own contact reader (CM 51: cold reset, power off,
//! PM 39 APDU with automatic T=0/T=1), for cards written in the dispenser's IC position
//! (reference §2.3, "Where the real reader sits"). Works over the blocking [`Driver`] or the
//! device task's [`kiosk_dispenser::Handle`] (any [`ChipReader`]).
//!
//! [`Driver`]: kiosk_dispenser::Driver

use kiosk_dispenser::{ChipReader, DispenserError, ErrorCode, Vcc};

use crate::transport::{ApduTransport, TransportError};

/// The dispenser's contact reader as an APDU transport.
pub struct Crt591Transport<R: ChipReader> {
    reader: R,
    vcc: Vcc,
}

impl<R: ChipReader> Crt591Transport<R> {
    /// A transport activating the chip with `vcc` (ISO 7816-3 5 V is the usual choice).
    pub fn new(reader: R, vcc: Vcc) -> Self {
        Crt591Transport { reader, vcc }
    }

    pub fn into_inner(self) -> R {
        self.reader
    }
}

fn map_err(e: DispenserError) -> TransportError {
    match e.code() {
        Some(ErrorCode::IcActivationFailed | ErrorCode::IcCardNotActivated) => {
            TransportError::NoCard
        }
        Some(ErrorCode::IcTransmissionTimeout | ErrorCode::IcTransmissionError) => {
            TransportError::NoAnswer
        }
        _ => TransportError::Dispenser(e),
    }
}

impl<R: ChipReader> ApduTransport for Crt591Transport<R> {
    fn connect(&mut self) -> Result<Vec<u8>, TransportError> {
        let activation = self.reader.chip_power_on(self.vcc).map_err(map_err)?;
        Ok(activation.atr)
    }

    fn transmit(&mut self, apdu: &[u8]) -> Result<Vec<u8>, TransportError> {
        self.reader.chip_apdu(apdu).map_err(map_err)
    }

    fn disconnect(&mut self) -> Result<(), TransportError> {
        self.reader.chip_power_off().map_err(map_err)
    }

    fn describe(&self) -> String {
        "crt591 contact reader".into()
    }
}
