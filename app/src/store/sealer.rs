//! Field-level encryption of personal data at rest: XChaCha20-Poly1305 with a 256-bit key
//! in a file only the kiosk user can read (mode 0600, in the data directory).
//!
//! Why not `SQLCipher`: it would encrypt the whole database, but needs a crypto library linked
//! into SQLite and makes every operational query (outbox depth, audit checks, purge) depend
//! on the key. Sealing only the personal fields keeps status, times and counts readable for
//! maintenance, and a retention purge is just dropping the sealed blob.

use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

use chacha20poly1305::aead::{Aead, Generate, Key, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};

use sha2::Digest as _;

use super::StoreError;

const NONCE_LEN: usize = 24;

pub struct Sealer {
    cipher: XChaCha20Poly1305,
    /// Key of [`Sealer::keyed_hash`], derived from the sealing key (never the key itself).
    hash_key: [u8; 32],
}

impl Sealer {
    /// Loads the key at `path`, creating it (0600) on first start.
    pub fn load_or_create(path: &Path) -> Result<Sealer, StoreError> {
        let key_err = |what: &str, e: std::io::Error| {
            StoreError::Key(format!("{what} {}: {e}", path.display()))
        };
        match std::fs::read(path) {
            Ok(bytes) => {
                let meta = std::fs::metadata(path).map_err(|e| key_err("cannot read", e))?;
                if meta.permissions().mode() & 0o077 != 0 {
                    return Err(StoreError::Key(format!(
                        "{} is readable by other users; it must be mode 0600",
                        path.display()
                    )));
                }
                let key = Key::<XChaCha20Poly1305>::try_from(bytes.as_slice()).map_err(|_| {
                    StoreError::Key(format!("{} does not hold a 32-byte key", path.display()))
                })?;
                Ok(Sealer::from_key(&key))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir)
                        .map_err(|e| key_err("cannot create the folder of", e))?;
                }
                let key = Key::<XChaCha20Poly1305>::generate();
                let mut file = std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o600)
                    .open(path)
                    .map_err(|e| key_err("cannot create", e))?;
                file.write_all(key.as_slice())
                    .map_err(|e| key_err("cannot write", e))?;
                file.sync_all().map_err(|e| key_err("cannot sync", e))?;
                Ok(Sealer::from_key(&key))
            }
            Err(e) => Err(key_err("cannot read", e)),
        }
    }

    /// A sealer with a fixed key, for tests.
    pub fn for_tests() -> Sealer {
        Sealer::from_key(&Key::<XChaCha20Poly1305>::from([7u8; 32]))
    }

    fn from_key(key: &Key<XChaCha20Poly1305>) -> Sealer {
        use hmac::{KeyInit as _, Mac as _};
        // A separate key for hashing, so a hash never exposes anything about the sealing key.
        let hash_key = match hmac::Hmac::<sha2::Sha256>::new_from_slice(key.as_slice()) {
            Ok(mut mac) => {
                mac.update(b"kiosk keyed-hash key v1");
                mac.finalize().into_bytes().into()
            }
            // HMAC takes keys of any length; unreachable, but still derived from the key.
            Err(_) => sha2::Sha256::digest(key.as_slice()).into(),
        };
        Sealer {
            cipher: XChaCha20Poly1305::new(key),
            hash_key,
        }
    }

    /// HMAC-SHA256 of `text` under a key derived from the sealing key, in lower-case hex: a
    /// value that can be matched (a pickup code, an ID number) without keeping it in clear,
    /// and that cannot be found by hashing guesses without the kiosk's key.
    pub fn keyed_hash(&self, text: &str) -> String {
        use hmac::{KeyInit as _, Mac as _};
        if let Ok(mut mac) = hmac::Hmac::<sha2::Sha256>::new_from_slice(&self.hash_key) {
            mac.update(text.as_bytes());
            hex::encode(mac.finalize().into_bytes())
        } else {
            // HMAC takes keys of any length; unreachable, but still keyed if it happened.
            let mut h = sha2::Sha256::new();
            h.update(self.hash_key);
            h.update(text.as_bytes());
            hex::encode(h.finalize())
        }
    }

    /// Encrypts `plain`, binding it to `context` (e.g. the row id) so a blob copied to
    /// another row does not open.
    pub fn seal(&self, plain: &[u8], context: &str) -> Result<Vec<u8>, StoreError> {
        let nonce = XNonce::generate();
        let sealed = self
            .cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: plain,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| StoreError::Crypto)?;
        let mut out = Vec::with_capacity(NONCE_LEN + sealed.len());
        out.extend_from_slice(nonce.as_slice());
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    pub fn open(&self, sealed: &[u8], context: &str) -> Result<Vec<u8>, StoreError> {
        if sealed.len() < NONCE_LEN {
            return Err(StoreError::Crypto);
        }
        let (nonce, body) = sealed.split_at(NONCE_LEN);
        let nonce = XNonce::try_from(nonce).map_err(|_| StoreError::Crypto)?;
        self.cipher
            .decrypt(
                &nonce,
                Payload {
                    msg: body,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| StoreError::Crypto)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seals_and_binds_to_the_context() {
        let s = Sealer::for_tests();
        let sealed = s.seal(b"360426199101010071", "application:1").unwrap();
        assert!(!sealed.windows(18).any(|w| w == b"360426199101010071"));
        assert_eq!(
            s.open(&sealed, "application:1").unwrap(),
            b"360426199101010071"
        );
        assert!(s.open(&sealed, "application:2").is_err());
        let mut tampered = sealed.clone();
        *tampered.last_mut().unwrap() ^= 1;
        assert!(s.open(&tampered, "application:1").is_err());
    }

    #[test]
    fn the_key_file_is_private_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys/field.key");
        let a = Sealer::load_or_create(&path).unwrap();
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let sealed = a.seal(b"x", "c").unwrap();
        let b = Sealer::load_or_create(&path).unwrap();
        assert_eq!(b.open(&sealed, "c").unwrap(), b"x");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(
            matches!(Sealer::load_or_create(&path), Err(StoreError::Key(m)) if m.contains("0600"))
        );
    }
}
