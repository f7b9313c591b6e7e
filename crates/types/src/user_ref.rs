//! How people name a user where an id is expected: by id or by email.
//!
//! The rule lives here once, for the CLI's `USER` arguments and the web UI's filters alike.

use crate::validation::normalize_email;
use uuid::Uuid;

/// A user named by id or by (normalised) email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserRef {
    Id(Uuid),
    Email(String),
}

impl UserRef {
    /// A UUID is an id; anything with an `@` is an email; everything else names nobody.
    pub fn parse(raw: &str) -> Result<UserRef, String> {
        let raw = raw.trim();
        if let Ok(id) = Uuid::parse_str(raw) {
            return Ok(UserRef::Id(id));
        }
        if raw.contains('@') {
            return normalize_email(raw)
                .map(UserRef::Email)
                .map_err(str::to_owned);
        }
        Err(format!("{raw:?} is neither a user id nor an email"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_emails_are_told_apart() {
        let id = Uuid::nil();
        assert_eq!(UserRef::parse(&id.to_string()), Ok(UserRef::Id(id)));
        assert_eq!(
            UserRef::parse(" Ada@Example.com "),
            Ok(UserRef::Email("ada@example.com".into()))
        );
        assert!(UserRef::parse("ada").is_err());
        assert!(UserRef::parse("a@").is_err());
    }
}
