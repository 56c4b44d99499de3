//! APDUs through PC/SC (pcscd) with the `pcsc` crate: the reader is chosen by name; T=0 or
//! T=1 is negotiated by pcscd (`Protocols::ANY`).

use std::ffi::CString;
use std::time::{Duration, Instant};

use pcsc::{Card, Context, Disposition, Protocols, ReaderState, Scope, ShareMode, State};

use crate::transport::{ApduTransport, TransportError};

/// How long `connect` waits for a card to be present by default.
pub const DEFAULT_CARD_WAIT: Duration = Duration::from_secs(5);

/// A PC/SC reader.
pub struct PcscTransport {
    ctx: Context,
    reader: CString,
    card: Option<Card>,
    card_wait: Duration,
}

impl std::fmt::Debug for PcscTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PcscTransport({:?})", self.reader)
    }
}

fn map_err(e: pcsc::Error) -> TransportError {
    use pcsc::Error as E;
    match e {
        E::NoService | E::ServiceStopped | E::NoReadersAvailable => {
            TransportError::NoService(e.to_string())
        }
        E::NoSmartcard | E::UnpoweredCard => TransportError::NoCard,
        E::RemovedCard => TransportError::CardRemoved,
        E::UnresponsiveCard | E::NotTransacted | E::CommError | E::Timeout => {
            TransportError::NoAnswer
        }
        other => TransportError::Reader(other.to_string()),
    }
}

/// The names of the readers pcscd knows.
pub fn readers() -> Result<Vec<String>, TransportError> {
    let ctx = Context::establish(Scope::User).map_err(map_err)?;
    list(&ctx)
}

fn list(ctx: &Context) -> Result<Vec<String>, TransportError> {
    match ctx.list_readers_owned() {
        Ok(names) => Ok(names
            .iter()
            .map(|n| n.to_string_lossy().into_owned())
            .collect()),
        Err(pcsc::Error::NoReadersAvailable) => Ok(Vec::new()),
        Err(e) => Err(map_err(e)),
    }
}

/// Picks a reader: an exact name, else the only one whose name contains `name`
/// (case-insensitive).
pub fn choose_reader(available: &[String], name: &str) -> Option<String> {
    if let Some(exact) = available.iter().find(|r| *r == name) {
        return Some(exact.clone());
    }
    let needle = name.to_lowercase();
    let mut matches = available
        .iter()
        .filter(|r| r.to_lowercase().contains(&needle));
    let first = matches.next()?;
    matches.next().is_none().then(|| first.clone())
}

impl PcscTransport {
    /// Opens the reader called `name` (see [`choose_reader`]).
    pub fn open(name: &str) -> Result<Self, TransportError> {
        let ctx = Context::establish(Scope::User).map_err(map_err)?;
        let available = list(&ctx)?;
        let chosen = choose_reader(&available, name).ok_or_else(|| TransportError::NoReader {
            name: name.to_owned(),
            available: available.join(", "),
        })?;
        let reader = CString::new(chosen)
            .map_err(|_| TransportError::Reader("reader name has a NUL byte".into()))?;
        Ok(PcscTransport {
            ctx,
            reader,
            card: None,
            card_wait: DEFAULT_CARD_WAIT,
        })
    }

    /// How long `connect` waits for a card.
    #[must_use]
    pub fn with_card_wait(mut self, wait: Duration) -> Self {
        self.card_wait = wait;
        self
    }

    pub fn reader_name(&self) -> String {
        self.reader.to_string_lossy().into_owned()
    }

    /// Waits until a card is present in the reader.
    fn wait_for_card(&self) -> Result<(), TransportError> {
        let deadline = Instant::now() + self.card_wait;
        let mut states = [ReaderState::new(self.reader.clone(), State::UNAWARE)];
        loop {
            self.ctx
                .get_status_change(Duration::from_millis(0), &mut states)
                .or_else(|e| match e {
                    pcsc::Error::Timeout => Ok(()),
                    other => Err(map_err(other)),
                })?;
            let state = states[0].event_state();
            if state.contains(State::PRESENT) && !state.contains(State::MUTE) {
                return Ok(());
            }
            if state.contains(State::UNKNOWN) || state.contains(State::UNAVAILABLE) {
                return Err(TransportError::NoReader {
                    name: self.reader_name(),
                    available: String::new(),
                });
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(TransportError::NoCard);
            }
            states[0].sync_current_state();
            let step = (deadline - now).min(Duration::from_millis(500));
            match self.ctx.get_status_change(step, &mut states) {
                Ok(()) | Err(pcsc::Error::Timeout) => {}
                Err(e) => return Err(map_err(e)),
            }
        }
    }
}

impl ApduTransport for PcscTransport {
    fn connect(&mut self) -> Result<Vec<u8>, TransportError> {
        if let Some(card) = self.card.take() {
            let _ = card.disconnect(Disposition::ResetCard);
        }
        // A card that was just inserted (or one just taken away with a new one behind it)
        // can be reported present before pcscd has powered it: retry until the wait is up.
        let deadline = Instant::now() + self.card_wait;
        let card = loop {
            self.wait_for_card()?;
            match self
                .ctx
                .connect(&self.reader, ShareMode::Shared, Protocols::ANY)
            {
                Ok(card) => break card,
                Err(
                    e @ (pcsc::Error::NoSmartcard
                    | pcsc::Error::RemovedCard
                    | pcsc::Error::UnpoweredCard
                    | pcsc::Error::ResetCard
                    | pcsc::Error::UnresponsiveCard),
                ) => {
                    if Instant::now() >= deadline {
                        return Err(map_err(e));
                    }
                    std::thread::sleep(Duration::from_millis(100));
                }
                Err(e) => return Err(map_err(e)),
            }
        };
        let status = card.status2_owned().map_err(map_err)?;
        let atr = status.atr().to_vec();
        tracing::debug!(reader = %self.reader_name(), protocol = ?status.protocol2(), "card connected");
        self.card = Some(card);
        Ok(atr)
    }

    fn transmit(&mut self, apdu: &[u8]) -> Result<Vec<u8>, TransportError> {
        let card = self.card.as_ref().ok_or(TransportError::NoCard)?;
        let mut buf = [0u8; pcsc::MAX_BUFFER_SIZE];
        let r = card.transmit(apdu, &mut buf).map_err(map_err)?;
        Ok(r.to_vec())
    }

    fn disconnect(&mut self) -> Result<(), TransportError> {
        if let Some(card) = self.card.take() {
            card.disconnect(Disposition::UnpowerCard)
                .map_err(|(_, e)| map_err(e))?;
        }
        Ok(())
    }

    fn describe(&self) -> String {
        format!("pcsc:{}", self.reader_name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readers_are_chosen_by_exact_or_unique_partial_name() {
        let readers = vec![
            "Virtual PCD 00 00".to_owned(),
            "Virtual PCD 00 01".to_owned(),
            "ACS ACR39U 01 00".to_owned(),
        ];
        assert_eq!(
            choose_reader(&readers, "Virtual PCD 00 00").as_deref(),
            Some("Virtual PCD 00 00")
        );
        assert_eq!(
            choose_reader(&readers, "acr39").as_deref(),
            Some("ACS ACR39U 01 00")
        );
        assert_eq!(choose_reader(&readers, "Virtual"), None, "ambiguous");
        assert_eq!(choose_reader(&readers, "Gemalto"), None);
    }
}
