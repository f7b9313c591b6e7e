//! Reading what callers send: paging values, ids, roles, names. Every rule that turns raw
//! input into a typed value (or the contract's 400) lives here once.

use crate::error::{Error, detail};
use chrono::{DateTime, Utc};
use da_types::Role;
use da_types::paging::OFFSET_MAX;
use da_types::validation::check_no_control_chars;
use uuid::Uuid;

/// A user's display name is at most this long.
pub const USER_NAME_MAX_CHARS: usize = 200;

/// A path id that is not a UUID names nothing: the same 404 as an unknown one.
pub fn parse_id(raw: &str, not_found: &str) -> Result<Uuid, Error> {
    Uuid::parse_str(raw.trim()).map_err(|_| Error::NotFound(not_found.to_owned()))
}

/// An id in a query filter: a malformed one is a 400 naming the parameter.
pub fn parse_filter_id(raw: Option<&str>, name: &str) -> Result<Option<Uuid>, Error> {
    match raw.map(str::trim) {
        None | Some("") => Ok(None),
        Some(raw) => Uuid::parse_str(raw)
            .map(Some)
            .map_err(|_| Error::invalid(format!("{name} must be a UUID"))),
    }
}

pub fn parse_role(raw: &str) -> Result<Role, Error> {
    raw.trim()
        .parse::<Role>()
        .map_err(|e| Error::invalid(e.to_string()))
}

/// `limit`: 1..=`max`, `default` when absent.
pub fn parse_limit(raw: Option<&str>, max: u32, default: u32) -> Result<u32, Error> {
    match raw.map(str::trim) {
        None | Some("") => Ok(default),
        Some(raw) => raw
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=max).contains(n))
            .ok_or_else(|| Error::invalid(format!("limit must be between 1 and {max}"))),
    }
}

/// `offset`: 0..=[`OFFSET_MAX`] (what a database's signed 64-bit integers address), 0 when
/// absent.
pub fn parse_offset(raw: Option<&str>) -> Result<u64, Error> {
    match raw.map(str::trim) {
        None | Some("") => Ok(0),
        Some(raw) => raw
            .parse::<u64>()
            .ok()
            .filter(|n| *n <= OFFSET_MAX)
            .ok_or_else(|| Error::invalid(format!("offset must be between 0 and {OFFSET_MAX}"))),
    }
}

/// A display name as given: trimmed, not blank, at most [`USER_NAME_MAX_CHARS`], no control
/// characters.
pub fn user_name(raw: &str) -> Result<String, Error> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(Error::invalid("name must not be blank"));
    }
    if name.chars().count() > USER_NAME_MAX_CHARS {
        return Err(Error::invalid(format!(
            "name must be at most {USER_NAME_MAX_CHARS} characters"
        )));
    }
    check_no_control_chars("name", name).map_err(Error::Invalid)?;
    Ok(name.to_owned())
}

/// A display name where one is optional: the given one (checked as [`user_name`]), or the
/// email's local part when none or a blank one is given.
pub fn display_name(raw: Option<&str>, email: &str) -> Result<String, Error> {
    match raw.map(str::trim) {
        Some(name) if !name.is_empty() => user_name(name),
        _ => Ok(email.split('@').next().unwrap_or(email).to_owned()),
    }
}

/// A token's or a group's name: trimmed, required, at most 100 characters, no control
/// characters.
pub fn label(raw: &str) -> Result<String, Error> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(Error::invalid(detail::TOKEN_NAME_REQUIRED));
    }
    if name.chars().count() > da_types::validation::LABEL_MAX_CHARS {
        return Err(Error::invalid(detail::TOKEN_NAME_TOO_LONG));
    }
    check_no_control_chars("name", name).map_err(Error::Invalid)?;
    Ok(name.to_owned())
}

/// `true` / `false`, or absent.
pub fn parse_bool(raw: Option<&str>, name: &str) -> Result<Option<bool>, Error> {
    match raw.map(str::trim) {
        None | Some("") => Ok(None),
        Some("true") => Ok(Some(true)),
        Some("false") => Ok(Some(false)),
        Some(_) => Err(Error::invalid(format!("{name} must be true or false"))),
    }
}

/// A query text filter: trimmed, `None` when blank.
pub fn text_filter(raw: Option<&str>) -> Option<String> {
    raw.map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// A filter naming a person: an exact id, and/or text that is a user id or part of an email
/// (`Ada@`, `example.com`). Returns the id to match and the lower-case email substring.
pub fn person_filter(id: Option<Uuid>, text: Option<&str>) -> (Option<Uuid>, Option<String>) {
    match text_filter(text) {
        None => (id, None),
        Some(text) => match Uuid::parse_str(&text) {
            Ok(named) => (id.or(Some(named)), None),
            Err(_) => (id, Some(text.to_lowercase())),
        },
    }
}

/// Timestamps go out in whole seconds.
pub fn seconds(at: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp(at.timestamp(), 0).unwrap_or(at)
}

/// The longest description a group or a dataset may have.
const DESCRIPTION_MAX_CHARS: usize = 1000;

/// A group's or a dataset's description: trimmed, bounded, no control characters.
pub fn description(raw: &str) -> Result<String, Error> {
    let text = raw.trim();
    if text.chars().count() > DESCRIPTION_MAX_CHARS {
        return Err(Error::invalid(format!(
            "description must be at most {DESCRIPTION_MAX_CHARS} characters"
        )));
    }
    check_no_control_chars("description", text).map_err(Error::Invalid)?;
    Ok(text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(result: Result<impl std::fmt::Debug, Error>) -> String {
        match result {
            Err(Error::Invalid(detail)) => detail,
            other => panic!("expected a 400, got {other:?}"),
        }
    }

    #[test]
    fn offsets_stop_where_the_database_does() {
        assert_eq!(parse_offset(None).unwrap(), 0);
        assert_eq!(
            parse_offset(Some("9223372036854775807")).unwrap(),
            OFFSET_MAX
        );
        for bad in [
            "9223372036854775808",
            "18446744073709551615",
            "-1",
            "x",
            "1e3",
        ] {
            assert_eq!(
                refusal(parse_offset(Some(bad))),
                "offset must be between 0 and 9223372036854775807",
                "{bad}"
            );
        }
    }

    #[test]
    fn limits_are_bounded() {
        assert_eq!(parse_limit(None, 500, 100).unwrap(), 100);
        assert_eq!(parse_limit(Some("500"), 500, 100).unwrap(), 500);
        for bad in ["0", "501", "-1", "99999999999999999999", "ten"] {
            assert_eq!(
                refusal(parse_limit(Some(bad), 500, 100)),
                "limit must be between 1 and 500"
            );
        }
    }

    #[test]
    fn names_are_trimmed_bounded_and_clean() {
        assert_eq!(user_name(" Ada L ").unwrap(), "Ada L");
        assert_eq!(refusal(user_name("  ")), "name must not be blank");
        assert_eq!(
            refusal(user_name(&"x".repeat(201))),
            "name must be at most 200 characters"
        );
        assert_eq!(
            refusal(user_name("a\u{1b}[2J")),
            "name must not contain control characters"
        );
        assert_eq!(display_name(None, "ada@example.com").unwrap(), "ada");
        assert_eq!(display_name(Some("  "), "ada@example.com").unwrap(), "ada");
        assert_eq!(refusal(label(" ")), "name is required");
        assert_eq!(
            refusal(label("ci\u{202e}")),
            "name must not contain control characters"
        );
    }
}
