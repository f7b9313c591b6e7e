//! The personal access token format (`API.md` §1): `da_pat_` + 32 base62 characters from the
//! OS CSPRNG + a 6-character base62 CRC-32 of everything before it — 45 characters, matched by
//! `da_pat_[0-9A-Za-z]{38}`. Here so that the server and `da token scan` recognise the same
//! strings; generating and hashing tokens is the server's business.

pub const PREFIX: &str = "da_pat_";
pub const LENGTH: usize = 45;
pub const RANDOM_CHARS: usize = 32;
pub const CHECKSUM_CHARS: usize = 6;
pub const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// CRC-32 (IEEE) in base62, most significant digit first, left-padded with `0`.
pub fn checksum(body: &str) -> String {
    let mut value = crc32fast::hash(body.as_bytes());
    let mut digits = [b'0'; CHECKSUM_CHARS];
    for slot in digits.iter_mut().rev() {
        *slot = ALPHABET[(value % 62) as usize];
        value /= 62;
    }
    String::from_utf8_lossy(&digits).into_owned()
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

/// Every well-formed token in `text`, with its byte offset: `da_pat_` followed by exactly 38
/// alphanumerics (not part of a longer run) whose checksum holds.
pub fn find_in(text: &str) -> Vec<(usize, &str)> {
    let bytes = text.as_bytes();
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(at) = text[from..].find(PREFIX).map(|i| from + i) {
        from = at + PREFIX.len();
        let glued_before = at > 0 && is_token_byte(bytes[at - 1]);
        let end = at + LENGTH;
        let glued_after = bytes.get(end).is_some_and(|b| b.is_ascii_alphanumeric());
        if glued_before || glued_after || end > bytes.len() || !text.is_char_boundary(end) {
            continue;
        }
        let candidate = &text[at..end];
        if is_well_formed(candidate) {
            found.push((at, candidate));
            from = end;
        }
    }
    found
}

fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(random: &str) -> String {
        let body = format!("{PREFIX}{random}");
        let sum = checksum(&body);
        format!("{body}{sum}")
    }

    #[test]
    fn tokens_are_found_in_text_but_not_lookalikes() {
        let a = token(&"a".repeat(32));
        let b = token(&"B1".repeat(16));
        let text = format!(
            "export DA_TOKEN={a}\n\"token\": \"{b}\", x{a} {a}y {}",
            &a[..44]
        );
        let found: Vec<&str> = find_in(&text).into_iter().map(|(_, t)| t).collect();
        assert_eq!(found, vec![a.as_str(), b.as_str()]);
        let broken = format!("{}{}", &a[..44], if a.ends_with('0') { '1' } else { '0' });
        assert!(find_in(&broken).is_empty());
        assert!(find_in("da_pat_ da_pat_da_pat_").is_empty());
        assert!(find_in(&format!("da_pat_{}", "\u{e9}".repeat(30))).is_empty());
    }
}
