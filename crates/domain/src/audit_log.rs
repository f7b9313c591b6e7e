//! The audit log as admins read it (`GET /api/admin/audit`): filters, cursor paging; and its
//! integrity (`API.md` §14): the chain check and the export for a SIEM.

use crate::audit_chain::ChainCheck;
use crate::error::Error;
use crate::params::{parse_filter_id, parse_limit, person_filter, seconds, text_filter};
use crate::policy::Admin;
use crate::services::Services;
use crate::store::{AuditFilter, AuditRecord};
use chrono::{DateTime, Utc};
use da_types::paging::{AUDIT_DEFAULT, AUDIT_MAX};
use da_types::{
    AuditCredential, AuditExportRow, AuditPage, AuditParams, AuditRow, AuditVerification,
};
use uuid::Uuid;

fn timestamp(raw: Option<&str>, name: &str) -> Result<Option<DateTime<Utc>>, Error> {
    match raw.map(str::trim) {
        None | Some("") => Ok(None),
        Some(raw) => DateTime::parse_from_rfc3339(raw)
            .map(|at| Some(at.with_timezone(&Utc)))
            .map_err(|_| {
                Error::invalid(format!(
                    "{name} must be an RFC 3339 timestamp, e.g. 2026-11-22T17:04:05Z"
                ))
            }),
    }
}

/// A cursor names the last row of a page: `<microseconds>_<id>`.
fn cursor_of(row: &AuditRecord) -> String {
    format!("{}_{}", row.at.timestamp_micros(), row.id)
}

fn parse_cursor(raw: &str) -> Result<(DateTime<Utc>, Uuid), Error> {
    let invalid = || Error::invalid("cursor is not valid: pass next_cursor back unchanged");
    let (micros, id) = raw.trim().split_once('_').ok_or_else(invalid)?;
    let at = micros
        .parse::<i64>()
        .ok()
        .and_then(DateTime::from_timestamp_micros)
        .ok_or_else(invalid)?;
    Ok((at, Uuid::parse_str(id).map_err(|_| invalid())?))
}

fn row_view(row: AuditRecord) -> AuditRow {
    AuditRow {
        id: row.id,
        at: seconds(row.at),
        actor_id: row.actor_id,
        actor_email: row.actor_email,
        action: row.action,
        resource: row.resource,
        params: row.params,
        ip: row.ip,
        credential: row.credential.map(|c| AuditCredential {
            kind: c.kind,
            id: c.id,
        }),
    }
}

/// Rows read per store call when walking the chain.
const CHAIN_PAGE: u32 = 5_000;

impl Services {
    /// `GET /api/admin/audit/verify`: walks the hash chain from its first row and reports the
    /// first row that does not match (edited, inserted or deleted behind the server's back).
    pub async fn verify_audit(&self, _admin: &Admin) -> Result<AuditVerification, Error> {
        // The head first: rows appended while the walk runs lie beyond it and are not judged.
        let state = self.inner.store.audit_chain_state().await?;
        let mut check = ChainCheck::default();
        let mut after = 0;
        while after < state.head_seq {
            let page = self.inner.store.audit_chain(after, CHAIN_PAGE).await?;
            let Some(last) = page.last() else { break };
            after = last.seq;
            let mine = page.iter().filter(|row| row.seq <= state.head_seq);
            if !mine.into_iter().all(|row| check.push(row)) {
                break;
            }
        }
        let broken_at = check.broken_at().or_else(|| {
            // The walk checks out, but it must end where the database's head says, at that
            // hash, having seen every row: a cut-off tail, or a row without a place in the chain
            // (no seq, a repeated seq), is a break just after the last good row.
            let whole = check.rows() == state.head_seq
                && check.head() == state.head_hash
                && state.rows == state.head_seq;
            (!whole).then(|| check.rows().min(state.head_seq) + 1)
        });
        Ok(match broken_at {
            None => AuditVerification {
                ok: true,
                rows: check.rows(),
                head_hash: Some(check.head().to_owned()),
                first_bad_seq: None,
            },
            Some(seq) => {
                tracing::error!(first_bad_seq = seq, "the audit log's hash chain is broken");
                AuditVerification {
                    ok: false,
                    rows: check.rows(),
                    head_hash: None,
                    first_bad_seq: Some(seq),
                }
            }
        })
    }

    /// One page of `GET /api/admin/audit/export`: up to `limit` rows after `after_seq`, oldest
    /// first. The surface streams pages until one comes back short.
    pub async fn export_audit(
        &self,
        _admin: &Admin,
        after_seq: u64,
        limit: u32,
    ) -> Result<Vec<AuditExportRow>, Error> {
        let rows = self
            .inner
            .store
            .audit_chain(after_seq, limit.clamp(1, CHAIN_PAGE))
            .await?;
        Ok(rows
            .into_iter()
            .map(|row| AuditExportRow {
                seq: row.seq,
                hash: row.hash,
                at_micros: row
                    .record
                    .at
                    .to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
                row: row_view(row.record),
            })
            .collect())
    }

    /// `since_seq` of the export, as sent: rows after it (0, the default, is all of them).
    pub fn parse_since_seq(raw: Option<&str>) -> Result<u64, Error> {
        match raw.map(str::trim) {
            None | Some("") => Ok(0),
            Some(raw) => raw
                .parse::<u64>()
                .map_err(|_| Error::invalid("since_seq must be a non-negative integer")),
        }
    }

    /// `GET /api/admin/audit`: newest first, `limit` rows a page, `next_cursor` while more.
    pub async fn audit_log(
        &self,
        _admin: &Admin,
        params: &AuditParams,
    ) -> Result<AuditPage, Error> {
        let limit = parse_limit(params.limit.as_deref(), AUDIT_MAX, AUDIT_DEFAULT)?;
        let (actor_id, actor_contains) = person_filter(
            parse_filter_id(params.actor_id.as_deref(), "actor_id")?,
            params.actor.as_deref(),
        );
        let filter = AuditFilter {
            action_prefix: text_filter(params.action_prefix.as_deref()),
            actor_id,
            actor_contains,
            resource: text_filter(params.resource.as_deref()),
            since: timestamp(params.since.as_deref(), "since")?,
            until: timestamp(params.until.as_deref(), "until")?,
            before: params.cursor.as_deref().map(parse_cursor).transpose()?,
            // One more than asked tells whether another page follows.
            limit: limit + 1,
        };
        let mut rows = self.inner.store.list_audit(&filter).await?;
        let next_cursor = if rows.len() > limit as usize {
            rows.truncate(limit as usize);
            rows.last().map(cursor_of)
        } else {
            None
        };
        Ok(AuditPage {
            rows: rows.into_iter().map(row_view).collect(),
            next_cursor,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_a_clear_400() {
        let row = crate::audit::record("x", "y");
        let (at, id) = parse_cursor(&cursor_of(&row)).unwrap();
        assert_eq!(id, row.id);
        assert_eq!(at.timestamp_micros(), row.at.timestamp_micros());
        for bad in [
            "",
            "abc",
            "1_notauuid",
            "x_00000000-0000-0000-0000-000000000000",
        ] {
            assert!(matches!(parse_cursor(bad), Err(Error::Invalid(_))), "{bad}");
        }
    }
}
