//! A STAND-IN for the card bureau's key system, shared by the virtual card and the platform
//! simulator. It is not the real algorithm: real social security cards use keys held by the
//! card bureau's encryption machine (a three-level key system, "one card one key, one time
//! one key"), which the kiosk never sees; the kiosk only relays the cryptograms.
//!
//! The stand-in: cryptogram = first 16 bytes of HMAC-SHA256(key, card id ‖ challenge), with
//! the published test key `kiosk-sim-card-bureau-test-key` for both key ids (0A for EF05,
//! 04 for EF06): the same scheme as the platform simulator's card bureau
//! (`app/platform/src/sim/card.rs`, `card_bureau_cryptogram`), so the virtual card accepts
//! what the platform simulator returns. It is enough to test that the kiosk relays the right
//! challenge for the right card and sends back exactly what the bureau returned.

use sha2::{Digest, Sha256};

use crate::ssse::{AuthRequest, BureauError, CardBureau, Cryptogram};

/// Key id used for writing the issuer data (EF05) in the stand-in scheme.
pub const KEY_EF05: u8 = 0x0A;
/// Key id used for writing the holder data (EF06) in the stand-in scheme.
pub const KEY_EF06: u8 = 0x04;

/// The stand-in's test key (published on purpose; it protects nothing).
pub const TEST_KEY: &[u8] = b"kiosk-sim-card-bureau-test-key";

/// A key that is not the test key (for a "wrong bureau" in tests).
pub const WRONG_KEY: &[u8] = b"not-the-card-bureau-test-key";

/// The test key for a key id: the same for every key id in the stand-in.
pub fn test_key(_key_id: u8) -> &'static [u8] {
    TEST_KEY
}

/// The key id that protects writing to an elementary file in the stand-in scheme.
pub fn key_for_ef(ef: u16) -> u8 {
    if ef == crate::ssse::EF06 {
        KEY_EF06
    } else {
        KEY_EF05
    }
}

/// HMAC-SHA256 (RFC 2104), written out because it is ten lines over `sha2`.
pub fn hmac_sha256(key: &[u8], message: &[&[u8]]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut k = [0u8; BLOCK];
    if key.len() > BLOCK {
        let digest: [u8; 32] = Sha256::digest(key).into();
        k[..32].copy_from_slice(&digest);
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(k.map(|b| b ^ 0x36));
    for part in message {
        inner.update(part);
    }
    let inner: [u8; 32] = inner.finalize().into();
    let mut outer = Sha256::new();
    outer.update(k.map(|b| b ^ 0x5C));
    outer.update(inner);
    outer.finalize().into()
}

/// The stand-in cryptogram for a card id and challenge under a key.
pub fn cryptogram(key: &[u8], card_id: &[u8], challenge: &[u8]) -> [u8; 16] {
    let mac = hmac_sha256(key, &[card_id, challenge]);
    let mut out = [0u8; 16];
    out.copy_from_slice(&mac[..16]);
    out
}

/// A card bureau that answers with stand-in cryptograms from the test keys (for tests and
/// the platform simulator). `wrong_key` makes it answer with a key the card does not have.
#[derive(Debug, Default, Clone)]
pub struct StandInBureau {
    pub wrong_key: bool,
    /// Every request seen (card ids and challenges are not personal data).
    pub requests: Vec<(u16, Vec<u8>)>,
}

impl CardBureau for StandInBureau {
    fn external_auth(&mut self, req: &AuthRequest<'_>) -> Result<Cryptogram, BureauError> {
        self.requests.push((req.ef, req.challenge.to_vec()));
        let key_id = key_for_ef(req.ef);
        let key = if self.wrong_key {
            WRONG_KEY
        } else {
            test_key(key_id)
        };
        Ok(Cryptogram {
            key_id,
            bytes: cryptogram(key, req.card_id, req.challenge).to_vec(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The platform simulator's card bureau gives the same cryptogram for the same card id
    /// and challenge (vector computed with Python's hmac module).
    #[test]
    fn cryptogram_matches_the_platform_simulator() {
        let card_id = hex::decode("330300D15600000599110145FFFFFFFF").unwrap();
        let challenge = hex::decode("0102030405060708").unwrap();
        assert_eq!(
            hex::encode(cryptogram(TEST_KEY, &card_id, &challenge)),
            "0961883cd9e8d7df8aa70b685b05ceca"
        );
    }

    /// RFC 4231 test case 2.
    #[test]
    fn hmac_matches_rfc_4231() {
        let mac = hmac_sha256(b"Jefe", &[b"what do ya want ", b"for nothing?"]);
        assert_eq!(
            hex::encode(mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
