//! Records to put into a store under test.

use chrono::{DateTime, Duration, Utc};
use da_domain::audit;
use da_domain::store::{
    AuditRecord, CreateGuard, CreateOutcome, LinkKind, OneTimeToken, SessionRecord, Store,
    TokenRecord, UserRecord,
};
use da_types::Role;
use std::sync::Arc;
use uuid::Uuid;

/// Whole microseconds: what every backend can store exactly.
pub fn now() -> DateTime<Utc> {
    DateTime::from_timestamp_micros(Utc::now().timestamp_micros()).expect("a valid time")
}

pub fn user(email: &str, role: Role) -> UserRecord {
    let at = now();
    UserRecord {
        id: Uuid::new_v4(),
        email: email.to_owned(),
        name: email.split('@').next().unwrap_or("x").to_owned(),
        role,
        active: true,
        password_hash: Some(format!("$argon2id$v=19$m=19456,t=2,p=1$fake${email}")),
        created_at: at,
        updated_at: at,
        last_login_at: None,
        deactivated_at: None,
        deactivated_by: None,
        sso: false,
    }
}

pub fn row(action: &str) -> AuditRecord {
    audit::record(action, "test")
}

/// A `group.sso_sync` row naming the ids the sync added and removed.
pub fn sync_row() -> da_domain::store::SyncAudit {
    Box::new(|added, removed| {
        row("group.sso_sync").with_params(serde_json::json!({"added": added, "removed": removed}))
    })
}

/// Inserts a user, asserting it worked.
pub async fn add_user(store: &Arc<dyn Store>, email: &str, role: Role) -> UserRecord {
    let user = user(email, role);
    let outcome = store
        .create_user(&user, CreateGuard::EmailFree, None, &row("user.create"))
        .await
        .expect("create_user");
    assert_eq!(outcome, CreateOutcome::Created, "{email}");
    user
}

pub fn session(user_id: Uuid, lifetime: Duration) -> SessionRecord {
    let at = now();
    SessionRecord {
        id: Uuid::new_v4(),
        user_id,
        device_label: "contract test".into(),
        ip: Some("192.0.2.1".into()),
        created_at: at,
        last_active_at: at,
        expires_at: at + lifetime,
        revoked_at: None,
    }
}

/// A token record; its secret is `secret`, stored as its SHA-256.
pub fn token(user_id: Uuid, secret: &str) -> TokenRecord {
    TokenRecord {
        id: Uuid::new_v4(),
        user_id,
        name: "contract".into(),
        prefix: da_domain::pat::prefix(secret),
        token_hash: da_domain::pat::hash(secret),
        role: None,
        created_at: now(),
        expires_at: None,
        last_used_at: None,
        last_used_ip: None,
        revoked_at: None,
    }
}

pub fn link(user_id: Uuid, kind: LinkKind, hash: &str, lifetime: Duration) -> OneTimeToken {
    let at = now();
    OneTimeToken {
        user_id,
        kind,
        token_hash: hash.to_owned(),
        created_at: at,
        expires_at: at + lifetime,
    }
}

/// How many audit rows have this action.
pub async fn audited(store: &Arc<dyn Store>, action: &str) -> usize {
    let filter = da_domain::store::AuditFilter {
        action_prefix: Some(action.to_owned()),
        limit: 10_000,
        ..Default::default()
    };
    store
        .list_audit(&filter)
        .await
        .expect("list_audit")
        .iter()
        .filter(|r| r.action == action)
        .count()
}
