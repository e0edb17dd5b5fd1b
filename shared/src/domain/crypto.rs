//! Secrets at rest (OAuth tokens, webhook signing secrets): AES-256-GCM with
//! `ENCRYPTION_KEY`, a random 96-bit nonce per value, stored as `nonce ‖ ciphertext ‖ tag`.
//! The associated data binds a value to what it is (e.g. `google:access:<tenant>`), so a
//! ciphertext copied into another row or column does not decrypt.

use aws_lc_rs::aead::{Aad, Nonce, RandomizedNonceKey, AES_256_GCM, NONCE_LEN};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rand::RngCore;

/// `N` fresh random bytes as base64url without padding (`ceil(4N/3)` characters): the
/// unguessable part of session tokens, handoff links, OAuth states and webhook secrets.
pub fn random_token<const N: usize>() -> String {
    let mut raw = [0u8; N];
    rand::rng().fill_bytes(&mut raw);
    URL_SAFE_NO_PAD.encode(raw)
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CryptoError {
    #[error("encryption failed")]
    Seal,
    #[error("the value cannot be decrypted with this key")]
    Open,
}

#[derive(Clone)]
pub struct SecretBox {
    key: std::sync::Arc<RandomizedNonceKey>,
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBox(<key>)")
    }
}

impl SecretBox {
    pub fn new(key: &[u8; 32]) -> Self {
        #[allow(clippy::expect_used)]
        let key = RandomizedNonceKey::new(&AES_256_GCM, key).expect("a 32-byte key is valid");
        Self {
            key: std::sync::Arc::new(key),
        }
    }

    pub fn seal(&self, context: &str, plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let mut buf = plaintext.to_vec();
        let nonce = self
            .key
            .seal_in_place_append_tag(Aad::from(context.as_bytes()), &mut buf)
            .map_err(|_| CryptoError::Seal)?;
        let mut out = Vec::with_capacity(NONCE_LEN + buf.len());
        out.extend_from_slice(nonce.as_ref());
        out.extend_from_slice(&buf);
        Ok(out)
    }

    pub fn open(&self, context: &str, sealed: &[u8]) -> Result<Vec<u8>, CryptoError> {
        if sealed.len() < NONCE_LEN + 16 {
            return Err(CryptoError::Open);
        }
        let (n, ct) = sealed.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(n).map_err(|_| CryptoError::Open)?;
        let mut buf = ct.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(context.as_bytes()), &mut buf)
            .map_err(|_| CryptoError::Open)?;
        Ok(plain.to_vec())
    }

    pub fn seal_str(&self, context: &str, s: &str) -> Result<Vec<u8>, CryptoError> {
        self.seal(context, s.as_bytes())
    }

    pub fn open_str(&self, context: &str, sealed: &[u8]) -> Result<String, CryptoError> {
        String::from_utf8(self.open(context, sealed)?).map_err(|_| CryptoError::Open)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    #[test]
    fn random_tokens_are_base64url_of_their_length_and_differ() {
        let a = super::random_token::<32>();
        assert_eq!(a.len(), 43);
        assert_eq!(super::random_token::<16>().len(), 22);
        assert!(a
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        assert_ne!(a, super::random_token::<32>());
    }

    use super::*;

    #[test]
    fn round_trip_and_tamper() {
        let b = SecretBox::new(&[7u8; 32]);
        let s = b.seal_str("ctx:a", "ya29.token").unwrap();
        assert!(!s.windows(4).any(|w| w == b"ya29"), "plaintext leaked");
        assert_eq!(b.open_str("ctx:a", &s).unwrap(), "ya29.token");
        // Fresh nonce each time.
        assert_ne!(b.seal_str("ctx:a", "ya29.token").unwrap(), s);
        // Wrong context, wrong key, flipped bit, truncated: all refused.
        assert_eq!(b.open_str("ctx:b", &s), Err(CryptoError::Open));
        assert_eq!(
            SecretBox::new(&[8u8; 32]).open_str("ctx:a", &s),
            Err(CryptoError::Open)
        );
        let mut t = s.clone();
        t[14] ^= 1;
        assert_eq!(b.open_str("ctx:a", &t), Err(CryptoError::Open));
        assert_eq!(b.open_str("ctx:a", &s[..10]), Err(CryptoError::Open));
    }
}
