//! Human-friendly booking reference codes: `ABCD-EFGH` over an alphabet without the
//! look-alikes 0/O, 1/I/L, so a code read over the phone or copied by hand survives.

use std::fmt;

use rand::Rng;
use serde::Serialize;

use super::ParseError;

/// 31 symbols: digits 2–9 and letters without I, L, O.
pub const ALPHABET: &[u8; 31] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
const LEN: usize = 8;

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct ReferenceCode(String);

impl ReferenceCode {
    /// A fresh random code (31^8 ≈ 8.5e11 codes; uniqueness per tenant is enforced by the database).
    pub fn generate() -> Self {
        let mut rng = rand::rng();
        let mut s = String::with_capacity(LEN + 1);
        for i in 0..LEN {
            if i == 4 {
                s.push('-');
            }
            s.push(ALPHABET[rng.random_range(0..ALPHABET.len())] as char);
        }
        Self(s)
    }

    /// Accepts any case, with or without the dash or spaces: ` abcd efgh ` → `ABCD-EFGH`.
    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        let mut out = String::with_capacity(LEN + 1);
        let mut n = 0;
        for c in raw.chars() {
            if c == '-' || c.is_whitespace() {
                continue;
            }
            let u = c.to_ascii_uppercase();
            if !u.is_ascii() || !ALPHABET.contains(&(u as u8)) {
                return Err(ParseError::new(
                    "reference",
                    "reference codes use the letters A–Z (no I, L, O) and digits 2–9",
                ));
            }
            if n == 4 {
                out.push('-');
            }
            out.push(u);
            n += 1;
        }
        if n != LEN {
            return Err(ParseError::new(
                "reference",
                "reference codes have 8 characters",
            ));
        }
        Ok(Self(out))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ReferenceCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn generated_codes_parse_back_and_avoid_lookalikes() {
        for _ in 0..2_000 {
            let c = ReferenceCode::generate();
            assert_eq!(ReferenceCode::parse(c.as_str()).unwrap(), c);
            assert!(!c.as_str().contains(['0', 'O', '1', 'I', 'L']));
            assert_eq!(c.as_str().len(), 9);
        }
    }

    #[test]
    fn parse_normalises_and_refuses() {
        assert_eq!(
            ReferenceCode::parse(" abcd efgh ").unwrap().as_str(),
            "ABCD-EFGH"
        );
        assert_eq!(
            ReferenceCode::parse("ABCDEFGH").unwrap().as_str(),
            "ABCD-EFGH"
        );
        assert!(ReferenceCode::parse("ABCD-EFG").is_err());
        assert!(ReferenceCode::parse("ABCD-EFG0").is_err());
        assert!(ReferenceCode::parse("ABCD-EFGHJ").is_err());
        assert!(ReferenceCode::parse("ÀBCD-EFGH").is_err());
    }
}
