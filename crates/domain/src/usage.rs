//! "Last seen" bookkeeping without a write per request.
//!
//! Requests only note `(id, time, ip)` in memory; a background task flushes the latest stamp per
//! id every few seconds in one batch. DuckDB rejects concurrent updates of one row, so this is
//! also what keeps heavy concurrent use of one session or token free of write conflicts.

use crate::store::ActivityStamp;
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::Mutex;
use uuid::Uuid;

#[derive(Default)]
pub struct ActivityLog {
    pending: Mutex<HashMap<Uuid, ActivityStamp>>,
}

impl ActivityLog {
    pub fn note(&self, id: Uuid, at: DateTime<Utc>, ip: Option<&str>) {
        let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        pending.insert(
            id,
            ActivityStamp {
                id,
                at,
                ip: ip.map(str::to_owned),
            },
        );
    }

    /// Takes everything noted so far, oldest-first order not guaranteed.
    pub fn drain(&self) -> Vec<ActivityStamp> {
        let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        pending.drain().map(|(_, stamp)| stamp).collect()
    }

    /// Puts back stamps whose flush failed, unless a newer one arrived meanwhile.
    pub fn restore(&self, stamps: Vec<ActivityStamp>) {
        let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        for stamp in stamps {
            pending.entry(stamp.id).or_insert(stamp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_latest_stamp_per_id() {
        let log = ActivityLog::default();
        let id = Uuid::new_v4();
        let t0 = Utc::now();
        log.note(id, t0, Some("10.0.0.1"));
        log.note(id, t0 + chrono::Duration::seconds(1), Some("10.0.0.2"));
        let stamps = log.drain();
        assert_eq!(stamps.len(), 1);
        assert_eq!(stamps[0].ip.as_deref(), Some("10.0.0.2"));
        assert!(log.drain().is_empty());
    }

    #[test]
    fn restore_does_not_overwrite_newer_stamps() {
        let log = ActivityLog::default();
        let id = Uuid::new_v4();
        let t0 = Utc::now();
        log.note(id, t0, None);
        let failed = log.drain();
        log.note(id, t0 + chrono::Duration::seconds(5), Some("newer"));
        log.restore(failed);
        assert_eq!(log.drain()[0].ip.as_deref(), Some("newer"));
    }
}
