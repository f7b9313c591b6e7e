//! The audit log's hash chain (`API.md` §14): every row's `hash` is the SHA-256 (hex) of the
//! previous row's `hash` followed by this row's canonical JSON, and `seq` counts rows from 1
//! without gaps. Editing, inserting or deleting a row behind the server's back breaks the
//! chain at that row.
//!
//! The stores append in one SQL statement (`hash = sha256(prev || head || seq || '}')`), so
//! the part of the canonical JSON before the seq ([`canonical_head`]) is made here and `seq` —
//! last in key order — is written by the database, which alone knows it. [`link`] is the same
//! computation in Rust, for checking.

use crate::store::AuditRecord;
pub use crate::store::ChainedAudit;
use chrono::SecondsFormat;
use da_types::CredentialKind;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// The "previous hash" of the first row.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The row's canonical JSON up to and including `"seq":` — keys sorted, no whitespace,
/// timestamps to the microsecond (what both databases keep).
pub fn canonical_head(row: &AuditRecord) -> String {
    let credential_kind = row.credential.map(|c| match c.kind {
        CredentialKind::Session => "session",
        CredentialKind::Pat => "pat",
    });
    let fields: [(&str, Value); 10] = [
        ("action", Value::from(row.action.as_str())),
        ("actor_email", row.actor_email.as_deref().into()),
        ("actor_id", row.actor_id.map(|id| id.to_string()).into()),
        (
            "at",
            Value::from(row.at.to_rfc3339_opts(SecondsFormat::Micros, true)),
        ),
        (
            "credential_id",
            row.credential.map(|c| c.id.to_string()).into(),
        ),
        ("credential_kind", credential_kind.into()),
        ("id", Value::from(row.id.to_string())),
        ("ip", row.ip.as_deref().into()),
        ("params", row.params.clone()),
        ("resource", row.resource.as_deref().into()),
    ];
    let mut out = String::from("{");
    for (key, value) in fields {
        write_string(&mut out, key);
        out.push(':');
        write_canonical(&mut out, &value);
        out.push(',');
    }
    out.push_str("\"seq\":");
    out
}

/// The hash of the row at `seq` whose canonical head is `head`, after `previous`.
pub fn link(previous: &str, head: &str, seq: u64) -> String {
    let mut hasher = Sha256::new();
    hasher.update(previous.as_bytes());
    hasher.update(head.as_bytes());
    hasher.update(seq.to_string().as_bytes());
    hasher.update(b"}");
    hex::encode(hasher.finalize())
}

/// Checks rows in `seq` order, page after page.
#[derive(Debug, Clone)]
pub struct ChainCheck {
    expected_seq: u64,
    previous: String,
    broken_at: Option<u64>,
}

impl Default for ChainCheck {
    fn default() -> Self {
        ChainCheck {
            expected_seq: 1,
            previous: GENESIS.to_owned(),
            broken_at: None,
        }
    }
}

impl ChainCheck {
    /// Takes the next row; `false` once the chain is broken (later rows are not looked at).
    pub fn push(&mut self, row: &ChainedAudit) -> bool {
        if self.broken_at.is_some() {
            return false;
        }
        // A missing row shows as a gap: the first seq that is not there is the break.
        if row.seq != self.expected_seq {
            self.broken_at = Some(self.expected_seq.min(row.seq));
            return false;
        }
        let expected = link(&self.previous, &canonical_head(&row.record), row.seq);
        if expected != row.hash {
            self.broken_at = Some(row.seq);
            return false;
        }
        self.previous = row.hash.clone();
        self.expected_seq += 1;
        true
    }

    /// Rows that checked out so far.
    pub fn rows(&self) -> u64 {
        self.expected_seq - 1
    }

    /// The last good row's hash ([`GENESIS`] for an empty log).
    pub fn head(&self) -> &str {
        &self.previous
    }

    pub fn broken_at(&self) -> Option<u64> {
        self.broken_at
    }
}

fn write_canonical(out: &mut String, value: &Value) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(out, key);
                out.push(':');
                write_canonical(out, &map[key]);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(out, item);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

fn write_string(out: &mut String, text: &str) {
    out.push_str(&Value::from(text).to_string());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::CredentialRef;
    use chrono::{TimeZone, Utc};
    use uuid::Uuid;

    fn row(action: &str) -> AuditRecord {
        AuditRecord {
            id: Uuid::from_u128(7),
            at: Utc.with_ymd_and_hms(2026, 12, 2, 17, 0, 0).unwrap()
                + chrono::Duration::microseconds(123_456),
            actor_id: Some(Uuid::from_u128(1)),
            actor_email: Some("a@b.c".into()),
            credential: Some(CredentialRef {
                kind: CredentialKind::Pat,
                id: Uuid::from_u128(2),
            }),
            action: action.into(),
            resource: None,
            params: serde_json::json!({"z": 1, "a": {"y": [true, null], "b": "\"q\""}}),
            ip: Some("127.0.0.1".into()),
        }
    }

    #[test]
    fn the_canonical_form_sorts_keys_and_ends_before_the_seq() {
        let head = canonical_head(&row("user.update"));
        assert_eq!(
            head,
            "{\"action\":\"user.update\",\"actor_email\":\"a@b.c\",\
             \"actor_id\":\"00000000-0000-0000-0000-000000000001\",\
             \"at\":\"2026-12-02T17:00:00.123456Z\",\
             \"credential_id\":\"00000000-0000-0000-0000-000000000002\",\
             \"credential_kind\":\"pat\",\"id\":\"00000000-0000-0000-0000-000000000007\",\
             \"ip\":\"127.0.0.1\",\"params\":{\"a\":{\"b\":\"\\\"q\\\"\",\"y\":[true,null]},\"z\":1},\
             \"resource\":null,\"seq\":"
        );
        let whole: Value = serde_json::from_str(&format!("{head}5}}")).unwrap();
        assert_eq!(whole["seq"], 5);
    }

    fn chain(actions: &[&str]) -> Vec<ChainedAudit> {
        let mut previous = GENESIS.to_owned();
        actions
            .iter()
            .enumerate()
            .map(|(i, action)| {
                let record = row(action);
                let seq = i as u64 + 1;
                let hash = link(&previous, &canonical_head(&record), seq);
                previous = hash.clone();
                ChainedAudit { seq, hash, record }
            })
            .collect()
    }

    fn check(rows: &[ChainedAudit]) -> ChainCheck {
        let mut check = ChainCheck::default();
        for row in rows {
            check.push(row);
        }
        check
    }

    #[test]
    fn an_intact_chain_checks_out() {
        let rows = chain(&["a", "b", "c"]);
        let result = check(&rows);
        assert_eq!((result.rows(), result.broken_at()), (3, None));
        assert_eq!(result.head(), rows[2].hash);
        assert_eq!(check(&[]).head(), GENESIS);
    }

    #[test]
    fn an_edit_a_deletion_or_a_reorder_is_found_where_it_happened() {
        let mut edited = chain(&["a", "b", "c", "d"]);
        edited[1].record.params = serde_json::json!({"z": 2});
        assert_eq!(check(&edited).broken_at(), Some(2));

        let mut deleted = chain(&["a", "b", "c", "d"]);
        deleted.remove(2);
        assert_eq!(check(&deleted).broken_at(), Some(3));

        let mut renumbered = chain(&["a", "b", "c", "d"]);
        renumbered.remove(2);
        renumbered[2].seq = 3;
        assert_eq!(check(&renumbered).broken_at(), Some(3));

        let mut forged = chain(&["a", "b", "c"]);
        forged[2].hash = link(GENESIS, &canonical_head(&forged[2].record), 3);
        assert_eq!(check(&forged).broken_at(), Some(3));
        assert_eq!(check(&forged).rows(), 2);
    }
}
