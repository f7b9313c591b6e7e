//! Audit rows in words, for people who do not read JSON: "Deactivated user ann@example.com",
//! and the parameters as `key: value` text.

use da_types::AuditRow;
use da_types::audit::{action, failure, issued_by, scope, via};
use serde_json::Value;

fn text(params: &Value, key: &str) -> Option<String> {
    match params.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        other => Some(other.to_string()),
    }
}

/// The user an action was about: the email in its parameters, else the actor's.
fn subject(row: &AuditRow) -> String {
    text(&row.params, "email")
        .or_else(|| row.actor_email.clone())
        .unwrap_or_else(|| "someone".into())
}

fn quoted(params: &Value, key: &str) -> String {
    text(params, key).map_or_else(String::new, |name| format!(" “{name}”"))
}

/// One sentence for what happened.
pub fn describe(row: &AuditRow) -> String {
    let p = &row.params;
    match row.action.as_str() {
        action::AUTH_LOGIN => "Signed in".into(),
        action::AUTH_LOGIN_FAILED => {
            let reason = match text(p, "reason").as_deref() {
                Some(failure::UNKNOWN_EMAIL) => "unknown email",
                Some(failure::WRONG_PASSWORD) => "wrong password",
                Some(failure::NO_PASSWORD) => "no password set yet",
                Some(failure::DEACTIVATED) => "account deactivated",
                _ => "refused",
            };
            format!("Failed sign-in as {} ({reason})", subject(row))
        }
        action::AUTH_LOGOUT => "Signed out".into(),
        action::AUTH_BOOTSTRAP => format!("Created the first admin, {}", subject(row)),
        action::USER_CREATE => {
            let role = text(p, "role").unwrap_or_default();
            let invite = if p.get("invite") == Some(&Value::Bool(true)) {
                ", with an invite link"
            } else {
                ""
            };
            format!("Created user {} as {role}{invite}", subject(row))
        }
        action::USER_UPDATE => {
            let mut changes = Vec::new();
            if let Some(change) = p.get("changes") {
                if let Some(name) = text(change, "name") {
                    changes.push(format!("renamed to “{name}”"));
                }
                if let Some(role) = change.get("role") {
                    changes.push(format!(
                        "role {} → {}",
                        text(role, "from").unwrap_or_default(),
                        text(role, "to").unwrap_or_default()
                    ));
                }
                match change.get("active") {
                    Some(Value::Bool(false)) => changes.push("deactivated".into()),
                    Some(Value::Bool(true)) => changes.push("activated".into()),
                    _ => {}
                }
            }
            let what = if changes.is_empty() {
                "changed".to_owned()
            } else {
                changes.join(", ")
            };
            let what = capitalised(&what);
            format!("{what}: user {}", subject(row))
        }
        action::USER_DELETE => format!("Deleted user {}", subject(row)),
        action::USER_RESET_PASSWORD => match text(p, "issued_by").as_deref() {
            Some(issued_by::SELF) => format!("{} asked for a password reset link", subject(row)),
            _ => format!("Made a password reset link for {}", subject(row)),
        },
        action::USER_INVITE => format!("Made a new invite link for {}", subject(row)),
        action::USER_SET_PASSWORD => format!("Set the password of {}", subject(row)),
        action::USER_PASSWORD_CHANGED => match text(p, "via").as_deref() {
            Some(via::RESET_LINK) => {
                format!("{} chose a new password from a reset link", subject(row))
            }
            Some(via::SETUP_LINK) => {
                format!("{} set up their account from an invite", subject(row))
            }
            _ => format!("{} changed their password", subject(row)),
        },
        action::SESSION_REVOKE => match text(p, "scope").as_deref() {
            Some(scope::ALL) => "Signed out all sessions of a user".into(),
            Some(scope::OTHERS) => "Signed out their other sessions".into(),
            _ => format!("Signed out a session{}", quoted(p, "device_label")),
        },
        action::TOKEN_CREATE => format!("Created token{}", quoted(p, "name")),
        action::TOKEN_REVOKE => format!("Revoked token{}", quoted(p, "name")),
        action::TOKEN_ADMIN_REVOKE => format!("Revoked another user's token{}", quoted(p, "name")),
        action::TOKEN_FIRST_USE_NEW_IP => format!(
            "A token was used from a new address, {} (before: {})",
            text(p, "ip").unwrap_or_else(|| "?".into()),
            text(p, "previous_ip").unwrap_or_else(|| "?".into())
        ),
        action::GROUP_CREATE => format!("Created group{}", quoted(p, "name")),
        action::GROUP_UPDATE => format!("Changed group{}", quoted(p, "name")),
        action::GROUP_DELETE => format!("Deleted group{}", quoted(p, "name")),
        action::GROUP_MEMBER_ADD => {
            format!("Added {} to group{}", subject(row), quoted(p, "group"))
        }
        action::GROUP_MEMBER_REMOVE => {
            format!("Removed {} from group{}", subject(row), quoted(p, "group"))
        }
        action::GROUP_SSO_SYNC => format!("Synced {}'s groups from single sign-on", subject(row)),
        action::DATASET_PUT => format!("Uploaded dataset{}", quoted(p, "name")),
        action::DATASET_UPDATE => format!("Changed dataset{}", quoted(p, "name")),
        action::DATASET_DELETE => format!("Deleted dataset{}", quoted(p, "name")),
        action::DATASET_GRANT => format!(
            "Granted dataset{} to group{}",
            quoted(p, "name"),
            quoted(p, "group")
        ),
        action::DATASET_REVOKE => format!(
            "Took dataset{} from group{}",
            quoted(p, "name"),
            quoted(p, "group")
        ),
        action::QUERY_RUN => "Ran a query".into(),
        action::SESSION_REFRESH => "Renewed a CLI session".into(),
        action::SESSION_REFRESH_REUSE => format!(
            "A spent refresh token came back: signed out the CLI session{}",
            quoted(p, "device_label")
        ),
        action::DEVICE_REQUEST => format!("A device asked to sign in{}", quoted(p, "client_name")),
        action::DEVICE_APPROVE => format!("Approved a device sign-in{}", quoted(p, "client_name")),
        action::DEVICE_DENY => format!("Denied a device sign-in{}", quoted(p, "client_name")),
        action::TOKEN_LEAK_REVOKE => match text(p, "source") {
            Some(source) => format!(
                "Revoked leaked token{} (found in {source})",
                quoted(p, "name")
            ),
            None => format!("Revoked leaked token{}", quoted(p, "name")),
        },
        other => other.to_owned(),
    }
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The parameters as `key: value` pairs (nested objects flattened as `a.b`).
pub fn details(params: &Value) -> Vec<(String, String)> {
    fn walk(prefix: &str, value: &Value, out: &mut Vec<(String, String)>) {
        match value {
            Value::Object(map) => {
                for (key, value) in map {
                    let key = if prefix.is_empty() {
                        key.clone()
                    } else {
                        format!("{prefix}.{key}")
                    };
                    walk(&key, value, out);
                }
            }
            Value::Null => out.push((prefix.to_owned(), "—".into())),
            Value::String(s) => out.push((prefix.to_owned(), s.clone())),
            other => out.push((prefix.to_owned(), other.to_string())),
        }
    }
    let mut out = Vec::new();
    walk("", params, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn row(action: &str, params: Value) -> AuditRow {
        serde_json::from_value(json!({
            "id": "00000000-0000-0000-0000-000000000000",
            "at": "2026-11-22T17:04:05Z",
            "actor_id": null,
            "actor_email": "admin@example.com",
            "action": action,
            "resource": "user:x",
            "params": params,
            "ip": null,
        }))
        .unwrap()
    }

    #[test]
    fn rows_read_as_sentences() {
        assert_eq!(
            describe(&row(
                "user.update",
                json!({"email": "ann@example.com", "changes": {"active": false}})
            )),
            "Deactivated: user ann@example.com"
        );
        assert_eq!(
            describe(&row(
                "user.update",
                json!({"email": "ann@example.com", "changes": {"role": {"from": "viewer", "to": "analyst"}}})
            )),
            "Role viewer → analyst: user ann@example.com"
        );
        assert_eq!(
            describe(&row(
                "user.create",
                json!({"email": "b@x.io", "role": "viewer", "invite": true})
            )),
            "Created user b@x.io as viewer, with an invite link"
        );
        assert_eq!(
            describe(&row(
                "auth.login_failed",
                json!({"email": "c@x.io", "reason": "wrong_password"})
            )),
            "Failed sign-in as c@x.io (wrong password)"
        );
        assert_eq!(describe(&row("something.new", json!({}))), "something.new");
        for known in action::ALL {
            assert_ne!(
                describe(&row(known, json!({}))),
                *known,
                "{known} has no words"
            );
        }
    }

    #[test]
    fn details_are_flat_key_value_pairs() {
        assert_eq!(
            details(
                &json!({"email": "a@b.c", "changes": {"role": {"from": "viewer", "to": "admin"}}})
            ),
            [
                ("changes.role.from".to_owned(), "viewer".to_owned()),
                ("changes.role.to".to_owned(), "admin".to_owned()),
                ("email".to_owned(), "a@b.c".to_owned()),
            ]
        );
    }
}
