//! Input rules shared by the server and the SPA, with the contract's exact messages.

pub const EMAIL_INVALID: &str = "A valid email address is required";
pub const PASSWORD_TOO_SHORT: &str = "Password must be at least 8 characters";
pub const PASSWORD_TOO_LONG: &str = "Password must be at most 256 characters";
pub const PASSWORD_MIN_CHARS: usize = 8;
pub const PASSWORD_MAX_CHARS: usize = 256;
/// Longest token or group name, in characters (`name must be at most 100 characters`).
pub const LABEL_MAX_CHARS: usize = 100;
const EMAIL_MAX_CHARS: usize = 254;

/// Characters no name may carry: Unicode `Cc` (C0, DEL, C1: terminal escapes, bells, line
/// breaks) and the bidirectional controls of `Cf` (which can make text read backwards, as in
/// "evil\u{202e}gnp.exe").
pub fn is_forbidden_char(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
        )
}

/// `<field> must not contain control characters` when `value` has one (see
/// [`is_forbidden_char`]).
pub fn check_no_control_chars(field: &str, value: &str) -> Result<(), String> {
    if value.chars().any(is_forbidden_char) {
        Err(format!("{field} must not contain control characters"))
    } else {
        Ok(())
    }
}

/// Trims and lower-cases an email, and checks that it looks like `local@domain`.
pub fn normalize_email(raw: &str) -> Result<String, &'static str> {
    let email = raw.trim().to_lowercase();
    let valid = email.chars().count() <= EMAIL_MAX_CHARS
        && !email
            .chars()
            .any(|c| c.is_whitespace() || is_forbidden_char(c))
        && match email.split_once('@') {
            Some((local, domain)) => {
                !local.is_empty()
                    && !domain.is_empty()
                    && !domain.contains('@')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
            }
            None => false,
        };
    if valid { Ok(email) } else { Err(EMAIL_INVALID) }
}

/// Checks the length rules; counts characters, not bytes.
pub fn validate_password(password: &str) -> Result<(), &'static str> {
    let chars = password.chars().count();
    if chars < PASSWORD_MIN_CHARS {
        Err(PASSWORD_TOO_SHORT)
    } else if chars > PASSWORD_MAX_CHARS {
        Err(PASSWORD_TOO_LONG)
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_trimmed_and_lowercased() {
        assert_eq!(
            normalize_email("  Ada@Example.COM "),
            Ok("ada@example.com".into())
        );
    }

    #[test]
    fn malformed_emails_are_refused() {
        for bad in [
            "",
            "ada",
            "@x",
            "ada@",
            "a@b@c",
            "a b@c",
            "a@.c",
            "a@c.",
            "a\u{202e}@b.c",
            "a@b\u{1b}.c",
        ] {
            assert_eq!(normalize_email(bad), Err(EMAIL_INVALID), "{bad:?}");
        }
    }

    #[test]
    fn control_and_bidi_characters_are_named_in_the_refusal() {
        for bad in [
            "a\u{1b}[31m",
            "bell\u{7}",
            "line\nbreak",
            "tab\t",
            "\u{202e}gnp",
            "\u{2067}x",
            "\u{9b}",
        ] {
            assert_eq!(
                check_no_control_chars("name", bad),
                Err("name must not contain control characters".into()),
                "{bad:?}"
            );
        }
        for fine in [
            "Zoë Ångström",
            "李小龍",
            "O'Brien (ops)",
            "emoji 🦀",
            "zero\u{200d}width joiner",
        ] {
            assert_eq!(check_no_control_chars("name", fine), Ok(()), "{fine:?}");
        }
    }

    #[test]
    fn password_length_is_counted_in_characters() {
        assert_eq!(validate_password("1234567"), Err(PASSWORD_TOO_SHORT));
        assert_eq!(validate_password("12345678"), Ok(()));
        assert_eq!(validate_password(&"é".repeat(256)), Ok(()));
        assert_eq!(validate_password(&"x".repeat(257)), Err(PASSWORD_TOO_LONG));
    }
}
