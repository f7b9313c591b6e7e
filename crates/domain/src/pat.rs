//! The personal access token format (`API.md` §1): `da_pat_` + 32 base62 characters from the
//! OS CSPRNG + a 6-character base62 CRC-32 of everything before it — 45 characters, matched by
//! `da_pat_[0-9A-Za-z]{38}`. Only the SHA-256 of the whole token is stored.

use sha2::{Digest, Sha256};

pub const PREFIX: &str = "da_pat_";
pub const LENGTH: usize = 45;
const RANDOM_CHARS: usize = 32;
const CHECKSUM_CHARS: usize = 6;
const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// CRC-32 (IEEE) in base62, most significant digit first, left-padded with `0`.
fn checksum(body: &str) -> String {
    let mut value = crc32fast::hash(body.as_bytes());
    let mut digits = [b'0'; CHECKSUM_CHARS];
    for slot in digits.iter_mut().rev() {
        *slot = ALPHABET[(value % 62) as usize];
        value /= 62;
    }
    String::from_utf8_lossy(&digits).into_owned()
}

/// A new token.
pub fn generate() -> Result<String, getrandom::Error> {
    let mut body = String::with_capacity(LENGTH);
    body.push_str(PREFIX);
    let mut buffer = [0u8; 64];
    while body.len() < PREFIX.len() + RANDOM_CHARS {
        getrandom::fill(&mut buffer)?;
        // Rejection sampling keeps every character equally likely (248 = 4 × 62).
        for byte in buffer.iter().filter(|b| **b < 248) {
            if body.len() == PREFIX.len() + RANDOM_CHARS {
                break;
            }
            body.push(ALPHABET[(*byte % 62) as usize] as char);
        }
    }
    let sum = checksum(&body);
    body.push_str(&sum);
    Ok(body)
}

/// Shape and checksum; checked before any lookup, so garbage never reaches the store.
pub fn is_well_formed(token: &str) -> bool {
    token.len() == LENGTH
        && token.starts_with(PREFIX)
        && token[PREFIX.len()..]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric())
        && checksum(&token[..LENGTH - CHECKSUM_CHARS]) == token[LENGTH - CHECKSUM_CHARS..]
}

/// What the store keeps and looks tokens up by: hex SHA-256 of the whole token.
pub fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Shown so people can tell tokens apart: `da_pat_` + 5 characters.
pub fn prefix(token: &str) -> String {
    token.chars().take(12).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_tokens_have_the_documented_shape_and_verify() {
        for _ in 0..50 {
            let token = generate().unwrap();
            assert_eq!(token.len(), LENGTH);
            assert!(token.starts_with(PREFIX));
            assert!(token[7..].bytes().all(|b| b.is_ascii_alphanumeric()));
            assert!(is_well_formed(&token), "{token}");
            assert_eq!(prefix(&token).len(), 12);
        }
        assert_ne!(generate().unwrap(), generate().unwrap());
    }

    #[test]
    fn a_changed_character_breaks_the_checksum() {
        let token = generate().unwrap();
        let mut chars: Vec<char> = token.chars().collect();
        chars[10] = if chars[10] == 'a' { 'b' } else { 'a' };
        let tampered: String = chars.into_iter().collect();
        assert!(!is_well_formed(&tampered));
        assert!(!is_well_formed(&token[..44]));
        assert!(!is_well_formed(&format!("{token}x")));
        assert!(!is_well_formed("da_pat_"));
    }

    #[test]
    fn the_checksum_is_base62_crc32_msd_first() {
        // CRC-32 of "da_pat_" + 32 zeros, written in base62, padded to 6.
        let body = format!("da_pat_{}", "0".repeat(32));
        let crc = crc32fast::hash(body.as_bytes());
        let mut expected = String::new();
        let mut v = crc;
        while v > 0 {
            expected.insert(0, ALPHABET[(v % 62) as usize] as char);
            v /= 62;
        }
        while expected.len() < 6 {
            expected.insert(0, '0');
        }
        assert_eq!(checksum(&body), expected);
        assert!(is_well_formed(&format!("{body}{expected}")));
    }
}
