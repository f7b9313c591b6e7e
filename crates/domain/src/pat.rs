//! The personal access token format (`API.md` §1): `da_pat_` + 32 base62 characters from the
//! OS CSPRNG + a 6-character base62 CRC-32 of everything before it — 45 characters, matched by
//! `da_pat_[0-9A-Za-z]{38}`. Only the SHA-256 of the whole token is stored. Also the opaque
//! secrets of CLI sign-in (refresh tokens, device codes): a prefix and 256 random bits.

use sha2::{Digest, Sha256};

use da_types::pat_format::{ALPHABET, RANDOM_CHARS, checksum};
pub use da_types::pat_format::{LENGTH, PREFIX, is_well_formed};

/// `count` characters of `alphabet` (at most 256 of them), each equally likely, from the OS
/// CSPRNG.
pub fn random_chars(alphabet: &[u8], count: usize) -> Result<String, getrandom::Error> {
    let size = alphabet.len();
    // Rejection sampling: only bytes below the largest multiple of the alphabet's size.
    let limit = 256 - 256 % size;
    let mut out = String::with_capacity(count);
    let mut buffer = [0u8; 64];
    while out.len() < count {
        getrandom::fill(&mut buffer)?;
        for byte in buffer.iter().filter(|b| usize::from(**b) < limit) {
            if out.len() == count {
                break;
            }
            out.push(alphabet[usize::from(*byte) % size] as char);
        }
    }
    Ok(out)
}

/// Random characters in an opaque secret: 43 × log2(62) ≈ 256 bits.
const OPAQUE_CHARS: usize = 43;

/// `prefix` + 43 base62 characters (a refresh token `da_rt_…`, a device code `da_dc_…`).
pub fn opaque_secret(prefix: &str) -> Result<String, getrandom::Error> {
    Ok(format!("{prefix}{}", random_chars(ALPHABET, OPAQUE_CHARS)?))
}

/// In the shape of [`opaque_secret`], checked before anything is looked up.
pub fn is_opaque_secret(presented: &str, prefix: &str) -> bool {
    presented.len() == prefix.len() + OPAQUE_CHARS
        && presented.starts_with(prefix)
        && presented[prefix.len()..]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric())
}

/// A new token.
pub fn generate() -> Result<String, getrandom::Error> {
    let mut body = String::with_capacity(LENGTH);
    body.push_str(PREFIX);
    body.push_str(&random_chars(ALPHABET, RANDOM_CHARS)?);
    let sum = checksum(&body);
    body.push_str(&sum);
    Ok(body)
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
