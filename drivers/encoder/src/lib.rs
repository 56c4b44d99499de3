//! Chip personalisation of social security cards: APDUs with status-word handling over two
//! transports (PC/SC through pcscd, and the CRT-591 dispenser's contact reader), the SSSE
//! application flow with the card bureau relaying cryptograms, and a virtual card served
//! over vpcd's socket (tests through a real pcscd) or in the dispenser simulator's IC slot.
#![forbid(unsafe_code)]

pub mod apdu;
pub mod card;
pub mod cli;
pub mod crt591;
pub mod pcsc_transport;
pub mod ssse;
pub mod standin;
pub mod transport;
pub mod vpcd;

pub use apdu::{Apdu, Response, Sw, SwError};
pub use card::{CardProfile, CardStock, CardTransport, ChipFault, VirtualCard};
pub use crt591::Crt591Transport;
pub use pcsc_transport::PcscTransport;
pub use ssse::{
    AuthRequest, BureauError, CardBureau, Cryptogram, EncodeError, FlowOptions, HolderData,
    Personalisation, Personalised, RecordWrite, Step, personalise,
};
pub use transport::{ApduTransport, TransportError, exchange};
