//! `DuckDbStore`: the SQL behind each [`Store`] method.

use crate::convert::{parse_uuid, store_error, ts, ts_opt, utc};
use crate::migrate::{self, OpenError};
use async_trait::async_trait;
use chrono::{DateTime, NaiveDateTime, Utc};
use da_domain::store::{
    ActivityStamp, AuditFilter, AuditRecord, CreateGuard, CreateOutcome, LinkKind, OneTimeToken,
    SessionRecord, SessionSweep, Store, StoreError, TokenFilter, TokenRecord, UserFilter,
    UserRecord, UserWrite, WriteOutcome,
};
use da_types::TokenStatus;
use duckdb::{Connection, OptionalExt, Row, ToSql, Transaction, params, params_from_iter};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use uuid::Uuid;

/// Reader connections kept for reuse; more are cloned on demand under load.
const IDLE_READERS: usize = 8;

#[derive(Clone)]
pub struct DuckDbStore {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    schema_version: i64,
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
}

impl DuckDbStore {
    /// Opens (or creates) the database file and applies pending migrations.
    pub fn open(path: &Path) -> Result<Self, OpenError> {
        let mut conn = migrate::open_connection(path)?;
        let schema_version = migrate::migrate(&mut conn, path)?;
        Ok(DuckDbStore {
            inner: Arc::new(Inner {
                path: path.to_owned(),
                schema_version,
                writer: Mutex::new(conn),
                readers: Mutex::new(Vec::new()),
            }),
        })
    }

    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Runs a read on a pooled connection, off the async workers.
    async fn read<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, duckdb::Error> + Send + 'static,
    {
        let inner = self.inner.clone();
        run_blocking(move || {
            let conn = match lock(&inner.readers).pop() {
                Some(conn) => conn,
                None => lock(&inner.writer).try_clone().map_err(store_error)?,
            };
            let result = work(&conn).map_err(store_error);
            let mut idle = lock(&inner.readers);
            if idle.len() < IDLE_READERS {
                idle.push(conn);
            }
            result
        })
        .await
    }

    /// Runs a write on the single writer connection: writes are serialised, so concurrent
    /// requests never collide on one row.
    async fn write<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, duckdb::Error> + Send + 'static,
    {
        let inner = self.inner.clone();
        run_blocking(move || work(&mut lock(&inner.writer)).map_err(store_error)).await
    }
}

async fn run_blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| StoreError::Other(format!("database task failed: {e}")))?
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

const USER_COLUMNS: &str = "id, email, name, role, active, password_hash, created_at, updated_at, \
                            last_login_at, deactivated_at, deactivated_by";

fn user_from_row(row: &Row<'_>) -> Result<UserRecord, duckdb::Error> {
    let role: String = row.get(3)?;
    Ok(UserRecord {
        id: parse_uuid(&row.get::<_, String>(0)?)?,
        email: row.get(1)?,
        name: row.get(2)?,
        role: role.parse().map_err(|e| {
            duckdb::Error::FromSqlConversionFailure(3, duckdb::types::Type::Text, Box::new(e))
        })?,
        active: row.get(4)?,
        password_hash: row.get(5)?,
        created_at: utc(row.get(6)?),
        updated_at: utc(row.get(7)?),
        last_login_at: row.get::<_, Option<NaiveDateTime>>(8)?.map(utc),
        deactivated_at: row.get::<_, Option<NaiveDateTime>>(9)?.map(utc),
        deactivated_by: row
            .get::<_, Option<String>>(10)?
            .map(|id| parse_uuid(&id))
            .transpose()?,
    })
}

const SESSION_COLUMNS: &str =
    "id, user_id, device_label, ip, created_at, last_active_at, expires_at, revoked_at";

fn session_from_row(row: &Row<'_>) -> Result<SessionRecord, duckdb::Error> {
    Ok(SessionRecord {
        id: parse_uuid(&row.get::<_, String>(0)?)?,
        user_id: parse_uuid(&row.get::<_, String>(1)?)?,
        device_label: row.get(2)?,
        ip: row.get(3)?,
        created_at: utc(row.get(4)?),
        last_active_at: utc(row.get(5)?),
        expires_at: utc(row.get(6)?),
        revoked_at: row.get::<_, Option<NaiveDateTime>>(7)?.map(utc),
    })
}

fn insert_audit(conn: &Connection, audit: &AuditRecord) -> Result<(), duckdb::Error> {
    conn.execute(
        "INSERT INTO audit_log (id, occurred_at, actor_id, actor_email, action, resource, params, ip)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        params![
            audit.id.to_string(),
            ts(audit.at),
            audit.actor_id.map(|id| id.to_string()),
            audit.actor_email,
            audit.action,
            audit.resource,
            audit.params.to_string(),
            audit.ip,
        ],
    )?;
    Ok(())
}

const TOKEN_COLUMNS: &str = "id, user_id, name, prefix, token_hash, role, created_at, \
                             expires_at, last_used_at, last_used_ip, revoked_at";

fn token_from_row(row: &Row<'_>) -> Result<TokenRecord, duckdb::Error> {
    let role: Option<String> = row.get(5)?;
    Ok(TokenRecord {
        id: parse_uuid(&row.get::<_, String>(0)?)?,
        user_id: parse_uuid(&row.get::<_, String>(1)?)?,
        name: row.get(2)?,
        prefix: row.get(3)?,
        token_hash: row.get(4)?,
        role: role
            .map(|r| {
                r.parse().map_err(|e| {
                    duckdb::Error::FromSqlConversionFailure(
                        5,
                        duckdb::types::Type::Text,
                        Box::new(e),
                    )
                })
            })
            .transpose()?,
        created_at: utc(row.get(6)?),
        expires_at: row.get::<_, Option<NaiveDateTime>>(7)?.map(utc),
        last_used_at: row.get::<_, Option<NaiveDateTime>>(8)?.map(utc),
        last_used_ip: row.get(9)?,
        revoked_at: row.get::<_, Option<NaiveDateTime>>(10)?.map(utc),
    })
}

fn insert_link(conn: &Connection, link: &OneTimeToken) -> Result<(), duckdb::Error> {
    conn.execute(
        "DELETE FROM one_time_tokens WHERE user_id = ? AND kind = ?",
        params![link.user_id.to_string(), link.kind.as_str()],
    )?;
    conn.execute(
        "INSERT INTO one_time_tokens (user_id, kind, token_hash, created_at, expires_at)
         VALUES (?, ?, ?, ?, ?)",
        params![
            link.user_id.to_string(),
            link.kind.as_str(),
            link.token_hash,
            ts(link.created_at),
            ts(link.expires_at),
        ],
    )?;
    Ok(())
}

fn parse_link_kind(raw: &str) -> Result<LinkKind, duckdb::Error> {
    match raw {
        "reset" => Ok(LinkKind::Reset),
        "setup" => Ok(LinkKind::Setup),
        other => Err(duckdb::Error::FromSqlConversionFailure(
            1,
            duckdb::types::Type::Text,
            format!("unknown link kind {other}").into(),
        )),
    }
}

fn active_admins(tx: &Transaction<'_>) -> Result<i64, duckdb::Error> {
    tx.query_row(
        "SELECT count(*) FROM users WHERE role = 'admin' AND active",
        [],
        |row| row.get(0),
    )
}

/// Revokes the user's live sessions (but `sweep.except`) and returns their ids.
fn sweep_sessions(
    tx: &Transaction<'_>,
    user_id: Uuid,
    sweep: SessionSweep,
) -> Result<Vec<Uuid>, duckdb::Error> {
    let except = sweep.except.map(|id| id.to_string()).unwrap_or_default();
    let mut select = tx.prepare(
        "SELECT id FROM sessions
         WHERE user_id = ? AND revoked_at IS NULL AND expires_at > ? AND id <> ?",
    )?;
    let ids = select
        .query_map(params![user_id.to_string(), ts(sweep.at), except], |row| {
            parse_uuid(&row.get::<_, String>(0)?)
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let mut update = tx.prepare("UPDATE sessions SET revoked_at = ? WHERE id = ?")?;
    for id in &ids {
        update.execute(params![ts(sweep.at), id.to_string()])?;
    }
    Ok(ids)
}

/// Marks one row of `table` (sessions or tokens) revoked, once, with its audit row; `false`
/// when there is no such row.
fn revoke_row(
    conn: &mut Connection,
    table: &'static str,
    id: Uuid,
    at: DateTime<Utc>,
    audit: &AuditRecord,
) -> Result<bool, duckdb::Error> {
    let tx = conn.transaction()?;
    let exists: i64 = tx.query_row(
        &format!("SELECT count(*) FROM {table} WHERE id = ?"),
        [id.to_string()],
        |row| row.get(0),
    )?;
    if exists == 0 {
        return Ok(false);
    }
    let changed = tx.execute(
        &format!("UPDATE {table} SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL"),
        params![ts(at), id.to_string()],
    )?;
    // Revoking twice is answered like the first time, but only a real change is audited.
    if changed > 0 {
        insert_audit(&tx, audit)?;
    }
    tx.commit()?;
    Ok(true)
}

fn audit_from_row(row: &Row<'_>) -> Result<AuditRecord, duckdb::Error> {
    let params: String = row.get(6)?;
    Ok(AuditRecord {
        id: parse_uuid(&row.get::<_, String>(0)?)?,
        at: utc(row.get(1)?),
        actor_id: row
            .get::<_, Option<String>>(2)?
            .map(|id| parse_uuid(&id))
            .transpose()?,
        actor_email: row.get(3)?,
        action: row.get(4)?,
        resource: row.get(5)?,
        params: serde_json::from_str(&params).unwrap_or(serde_json::Value::Null),
        ip: row.get(7)?,
    })
}

/// A WHERE clause built from optional parts, with its parameters in order.
#[derive(Default)]
struct Conditions {
    clauses: Vec<String>,
    args: Vec<Box<dyn ToSql + Send>>,
}

impl Conditions {
    fn add(&mut self, clause: &str, args: Vec<Box<dyn ToSql + Send>>) {
        self.clauses.push(clause.to_owned());
        self.args.extend(args);
    }

    fn sql(&self) -> String {
        if self.clauses.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", self.clauses.join(" AND "))
        }
    }

    fn params(&self) -> impl Iterator<Item = &(dyn ToSql + Send)> {
        self.args.iter().map(|arg| arg.as_ref())
    }
}

#[async_trait]
impl Store for DuckDbStore {
    fn backend(&self) -> &'static str {
        "duckdb"
    }

    async fn schema_version(&self) -> Result<i64, StoreError> {
        Ok(self.inner.schema_version)
    }

    async fn count_users(&self) -> Result<u64, StoreError> {
        self.read(|conn| conn.query_row("SELECT count(*) FROM users", [], |row| row.get(0)))
            .await
    }

    async fn count_admins(&self) -> Result<u64, StoreError> {
        self.read(|conn| {
            conn.query_row(
                "SELECT count(*) FROM users WHERE role = 'admin'",
                [],
                |row| row.get(0),
            )
        })
        .await
    }

    async fn user_by_id(&self, id: Uuid) -> Result<Option<UserRecord>, StoreError> {
        self.read(move |conn| {
            conn.prepare_cached(&format!("SELECT {USER_COLUMNS} FROM users WHERE id = ?"))?
                .query_row([id.to_string()], user_from_row)
                .optional()
        })
        .await
    }

    async fn user_by_email(&self, email: &str) -> Result<Option<UserRecord>, StoreError> {
        let email = email.to_owned();
        self.read(move |conn| {
            conn.prepare_cached(&format!("SELECT {USER_COLUMNS} FROM users WHERE email = ?"))?
                .query_row([email], user_from_row)
                .optional()
        })
        .await
    }

    async fn create_user(
        &self,
        user: &UserRecord,
        guard: CreateGuard,
        invite: Option<&OneTimeToken>,
        audit: &AuditRecord,
    ) -> Result<CreateOutcome, StoreError> {
        let (user, invite, audit) = (user.clone(), invite.cloned(), audit.clone());
        self.write(move |conn| {
            let tx = conn.transaction()?;
            if guard == CreateGuard::NoAdmin {
                let admins: i64 = tx.query_row(
                    "SELECT count(*) FROM users WHERE role = 'admin'",
                    [],
                    |row| row.get(0),
                )?;
                if admins > 0 {
                    return Ok(CreateOutcome::AdminExists);
                }
            }
            let taken: i64 = tx.query_row(
                "SELECT count(*) FROM users WHERE email = ?",
                [&user.email],
                |row| row.get(0),
            )?;
            if taken > 0 {
                return Ok(CreateOutcome::EmailTaken);
            }
            tx.execute(
                &format!(
                    "INSERT INTO users ({USER_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                ),
                params![
                    user.id.to_string(),
                    user.email,
                    user.name,
                    user.role.as_str(),
                    user.active,
                    user.password_hash,
                    ts(user.created_at),
                    ts(user.updated_at),
                    ts_opt(user.last_login_at),
                    ts_opt(user.deactivated_at),
                    user.deactivated_by.map(|id| id.to_string()),
                ],
            )?;
            if let Some(invite) = &invite {
                insert_link(&tx, invite)?;
            }
            insert_audit(&tx, &audit)?;
            tx.commit()?;
            Ok(CreateOutcome::Created)
        })
        .await
    }

    async fn list_users(&self, filter: &UserFilter) -> Result<(Vec<UserRecord>, u64), StoreError> {
        let filter = filter.clone();
        self.read(move |conn| {
            let mut conditions = Conditions::default();
            if let Some(search) = &filter.search {
                let needle = search.to_lowercase();
                conditions.add(
                    "(contains(email, ?) OR contains(lower(name), ?))",
                    vec![Box::new(needle.clone()), Box::new(needle)],
                );
            }
            if let Some(email) = &filter.email {
                conditions.add("email = ?", vec![Box::new(email.clone())]);
            }
            if let Some(role) = filter.role {
                conditions.add("role = ?", vec![Box::new(role.as_str().to_owned())]);
            }
            if let Some(active) = filter.active {
                conditions.add("active = ?", vec![Box::new(active)]);
            }
            let total: u64 = conn
                .prepare_cached(&format!("SELECT count(*) FROM users {}", conditions.sql()))?
                .query_row(params_from_iter(conditions.params()), |row| row.get(0))?;
            let mut select = conn.prepare_cached(&format!(
                "SELECT {USER_COLUMNS} FROM users {} ORDER BY email LIMIT {} OFFSET {}",
                conditions.sql(),
                filter.limit,
                filter.offset
            ))?;
            let users = select
                .query_map(params_from_iter(conditions.params()), user_from_row)?
                .collect::<Result<Vec<_>, _>>()?;
            Ok((users, total))
        })
        .await
    }

    async fn write_user(
        &self,
        write: &UserWrite,
        audit: &AuditRecord,
    ) -> Result<WriteOutcome, StoreError> {
        let (write, audit) = (write.clone(), audit.clone());
        self.write(move |conn| {
            let tx = conn.transaction()?;
            let user = &write.user;
            if let Some((kind, hash)) = &write.consume_link {
                let consumed = tx.execute(
                    "DELETE FROM one_time_tokens
                     WHERE user_id = ? AND kind = ? AND token_hash = ? AND expires_at > ?",
                    params![
                        user.id.to_string(),
                        kind.as_str(),
                        hash,
                        ts(user.updated_at)
                    ],
                )?;
                if consumed == 0 {
                    return Ok(WriteOutcome::LinkGone);
                }
            }
            let changed = tx.execute(
                "UPDATE users SET name = ?, role = ?, active = ?, password_hash = ?,
                     updated_at = ?, deactivated_at = ?, deactivated_by = ?
                 WHERE id = ?",
                params![
                    user.name,
                    user.role.as_str(),
                    user.active,
                    user.password_hash,
                    ts(user.updated_at),
                    ts_opt(user.deactivated_at),
                    user.deactivated_by.map(|id| id.to_string()),
                    user.id.to_string(),
                ],
            )?;
            if changed == 0 {
                return Ok(WriteOutcome::NotFound);
            }
            // Checked after the update, inside the transaction: two admins demoting each other
            // at once cannot both succeed.
            if write.keep_an_admin && active_admins(&tx)? == 0 {
                return Ok(WriteOutcome::LastAdmin);
            }
            let revoked_sessions = match write.revoke_sessions {
                Some(sweep) => sweep_sessions(&tx, user.id, sweep)?,
                None => Vec::new(),
            };
            insert_audit(&tx, &audit)?;
            tx.commit()?;
            Ok(WriteOutcome::Written { revoked_sessions })
        })
        .await
    }

    async fn delete_user(
        &self,
        id: Uuid,
        at: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<WriteOutcome, StoreError> {
        let audit = audit.clone();
        self.write(move |conn| {
            let tx = conn.transaction()?;
            let revoked_sessions = sweep_sessions(&tx, id, SessionSweep { at, except: None })?;
            tx.execute(
                "DELETE FROM one_time_tokens WHERE user_id = ?",
                [id.to_string()],
            )?;
            tx.execute(
                "UPDATE tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL",
                params![ts(at), id.to_string()],
            )?;
            let deleted = tx.execute("DELETE FROM users WHERE id = ?", [id.to_string()])?;
            if deleted == 0 {
                return Ok(WriteOutcome::NotFound);
            }
            if active_admins(&tx)? == 0 {
                return Ok(WriteOutcome::LastAdmin);
            }
            insert_audit(&tx, &audit)?;
            tx.commit()?;
            Ok(WriteOutcome::Written { revoked_sessions })
        })
        .await
    }

    async fn put_link(&self, link: &OneTimeToken, audit: &AuditRecord) -> Result<(), StoreError> {
        let (link, audit) = (link.clone(), audit.clone());
        self.write(move |conn| {
            let tx = conn.transaction()?;
            insert_link(&tx, &link)?;
            insert_audit(&tx, &audit)?;
            tx.commit()
        })
        .await
    }

    async fn link(
        &self,
        user_id: Uuid,
        kind: LinkKind,
    ) -> Result<Option<OneTimeToken>, StoreError> {
        self.read(move |conn| {
            conn.query_row(
                "SELECT user_id, kind, token_hash, created_at, expires_at FROM one_time_tokens
                 WHERE user_id = ? AND kind = ?",
                params![user_id.to_string(), kind.as_str()],
                |row| {
                    Ok(OneTimeToken {
                        user_id: parse_uuid(&row.get::<_, String>(0)?)?,
                        kind: parse_link_kind(&row.get::<_, String>(1)?)?,
                        token_hash: row.get(2)?,
                        created_at: utc(row.get(3)?),
                        expires_at: utc(row.get(4)?),
                    })
                },
            )
            .optional()
        })
        .await
    }

    async fn record_login(
        &self,
        session: &SessionRecord,
        audit: &AuditRecord,
    ) -> Result<(), StoreError> {
        let (session, audit) = (session.clone(), audit.clone());
        self.write(move |conn| {
            let tx = conn.transaction()?;
            tx.execute(
                &format!(
                    "INSERT INTO sessions ({SESSION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
                ),
                params![
                    session.id.to_string(),
                    session.user_id.to_string(),
                    session.device_label,
                    session.ip,
                    ts(session.created_at),
                    ts(session.last_active_at),
                    ts(session.expires_at),
                    ts_opt(session.revoked_at),
                ],
            )?;
            tx.execute(
                "UPDATE users SET last_login_at = ? WHERE id = ?",
                params![ts(session.created_at), session.user_id.to_string()],
            )?;
            insert_audit(&tx, &audit)?;
            tx.commit()
        })
        .await
    }

    async fn session_by_id(&self, id: Uuid) -> Result<Option<SessionRecord>, StoreError> {
        self.read(move |conn| {
            conn.prepare_cached(&format!(
                "SELECT {SESSION_COLUMNS} FROM sessions WHERE id = ?"
            ))?
            .query_row([id.to_string()], session_from_row)
            .optional()
        })
        .await
    }

    async fn revoke_session(
        &self,
        id: Uuid,
        at: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<bool, StoreError> {
        let audit = audit.clone();
        self.write(move |conn| revoke_row(conn, "sessions", id, at, &audit))
            .await
    }

    async fn live_sessions(
        &self,
        user_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<Vec<SessionRecord>, StoreError> {
        self.read(move |conn| {
            let mut select = conn.prepare_cached(&format!(
                "SELECT {SESSION_COLUMNS} FROM sessions
                 WHERE user_id = ? AND revoked_at IS NULL AND expires_at > ?
                 ORDER BY created_at DESC"
            ))?;
            select
                .query_map(params![user_id.to_string(), ts(now)], session_from_row)?
                .collect()
        })
        .await
    }

    async fn revoke_user_sessions(
        &self,
        user_id: Uuid,
        sweep: SessionSweep,
        audit: &AuditRecord,
    ) -> Result<Vec<Uuid>, StoreError> {
        let audit = audit.clone();
        self.write(move |conn| {
            let tx = conn.transaction()?;
            let revoked = sweep_sessions(&tx, user_id, sweep)?;
            insert_audit(&tx, &audit)?;
            tx.commit()?;
            Ok(revoked)
        })
        .await
    }

    async fn touch_sessions(&self, stamps: &[ActivityStamp]) -> Result<(), StoreError> {
        let stamps = stamps.to_vec();
        self.write(move |conn| {
            let tx = conn.transaction()?;
            {
                let mut update = tx.prepare(
                    "UPDATE sessions SET last_active_at = greatest(last_active_at, ?) WHERE id = ?",
                )?;
                for stamp in &stamps {
                    update.execute(params![ts(stamp.at), stamp.id.to_string()])?;
                }
            }
            tx.commit()
        })
        .await
    }

    async fn insert_audit(&self, audit: &AuditRecord) -> Result<(), StoreError> {
        let audit = audit.clone();
        self.write(move |conn| insert_audit(conn, &audit)).await
    }

    async fn create_token(
        &self,
        token: &TokenRecord,
        audit: &AuditRecord,
    ) -> Result<(), StoreError> {
        let (token, audit) = (token.clone(), audit.clone());
        self.write(move |conn| {
            let tx = conn.transaction()?;
            tx.execute(
                &format!(
                    "INSERT INTO tokens ({TOKEN_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                ),
                params![
                    token.id.to_string(),
                    token.user_id.to_string(),
                    token.name,
                    token.prefix,
                    token.token_hash,
                    token.role.map(|r| r.as_str()),
                    ts(token.created_at),
                    ts_opt(token.expires_at),
                    ts_opt(token.last_used_at),
                    token.last_used_ip,
                    ts_opt(token.revoked_at),
                ],
            )?;
            insert_audit(&tx, &audit)?;
            tx.commit()
        })
        .await
    }

    async fn token_by_hash(&self, token_hash: &str) -> Result<Option<TokenRecord>, StoreError> {
        let token_hash = token_hash.to_owned();
        self.read(move |conn| {
            conn.prepare_cached(&format!(
                "SELECT {TOKEN_COLUMNS} FROM tokens WHERE token_hash = ?"
            ))?
            .query_row([token_hash], token_from_row)
            .optional()
        })
        .await
    }

    async fn token_by_id(&self, id: Uuid) -> Result<Option<TokenRecord>, StoreError> {
        self.read(move |conn| {
            conn.prepare_cached(&format!("SELECT {TOKEN_COLUMNS} FROM tokens WHERE id = ?"))?
                .query_row([id.to_string()], token_from_row)
                .optional()
        })
        .await
    }

    async fn tokens_of_user(&self, user_id: Uuid) -> Result<Vec<TokenRecord>, StoreError> {
        self.read(move |conn| {
            let mut select = conn.prepare_cached(&format!(
                "SELECT {TOKEN_COLUMNS} FROM tokens WHERE user_id = ? ORDER BY created_at DESC, id DESC"
            ))?;
            select
                .query_map([user_id.to_string()], token_from_row)?
                .collect()
        })
        .await
    }

    async fn list_tokens(
        &self,
        filter: &TokenFilter,
    ) -> Result<(Vec<(TokenRecord, Option<String>)>, u64), StoreError> {
        let filter = filter.clone();
        self.read(move |conn| {
            let mut conditions = Conditions::default();
            if let Some(user_id) = filter.user_id {
                conditions.add("t.user_id = ?", vec![Box::new(user_id.to_string())]);
            }
            match filter.status {
                None => {}
                Some(TokenStatus::Revoked) => conditions.add("t.revoked_at IS NOT NULL", vec![]),
                Some(TokenStatus::Expired) => conditions.add(
                    "t.revoked_at IS NULL AND t.expires_at IS NOT NULL AND t.expires_at <= ?",
                    vec![Box::new(ts(filter.now))],
                ),
                Some(TokenStatus::Active) => conditions.add(
                    "t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > ?)",
                    vec![Box::new(ts(filter.now))],
                ),
            }
            let total: u64 = conn.query_row(
                &format!("SELECT count(*) FROM tokens t {}", conditions.sql()),
                params_from_iter(conditions.params()),
                |row| row.get(0),
            )?;
            let columns = TOKEN_COLUMNS
                .split(", ")
                .map(|c| format!("t.{c}"))
                .collect::<Vec<_>>()
                .join(", ");
            let mut select = conn.prepare_cached(&format!(
                "SELECT {columns}, u.email FROM tokens t LEFT JOIN users u ON u.id = t.user_id
                 {} ORDER BY t.created_at DESC, t.id DESC LIMIT {} OFFSET {}",
                conditions.sql(),
                filter.limit,
                filter.offset
            ))?;
            let tokens = select
                .query_map(params_from_iter(conditions.params()), |row| {
                    Ok((token_from_row(row)?, row.get::<_, Option<String>>(11)?))
                })?
                .collect::<Result<Vec<_>, _>>()?;
            Ok((tokens, total))
        })
        .await
    }

    async fn revoke_token(
        &self,
        id: Uuid,
        at: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<bool, StoreError> {
        let audit = audit.clone();
        self.write(move |conn| revoke_row(conn, "tokens", id, at, &audit))
            .await
    }

    async fn touch_tokens(&self, stamps: &[ActivityStamp]) -> Result<(), StoreError> {
        let stamps = stamps.to_vec();
        self.write(move |conn| {
            let tx = conn.transaction()?;
            {
                let mut update = tx.prepare(
                    "UPDATE tokens SET last_used_at = ?, last_used_ip = ?
                     WHERE id = ? AND (last_used_at IS NULL OR last_used_at <= ?)",
                )?;
                for stamp in &stamps {
                    update.execute(params![
                        ts(stamp.at),
                        stamp.ip,
                        stamp.id.to_string(),
                        ts(stamp.at)
                    ])?;
                }
            }
            tx.commit()
        })
        .await
    }

    async fn list_audit(&self, filter: &AuditFilter) -> Result<Vec<AuditRecord>, StoreError> {
        let filter = filter.clone();
        self.read(move |conn| {
            let mut conditions = Conditions::default();
            if let Some(prefix) = &filter.action_prefix {
                conditions.add("starts_with(action, ?)", vec![Box::new(prefix.clone())]);
            }
            if let Some(actor) = filter.actor_id {
                conditions.add("actor_id = ?", vec![Box::new(actor.to_string())]);
            }
            if let Some(resource) = &filter.resource {
                conditions.add("resource = ?", vec![Box::new(resource.clone())]);
            }
            if let Some(since) = filter.since {
                conditions.add("occurred_at >= ?", vec![Box::new(ts(since))]);
            }
            if let Some(until) = filter.until {
                conditions.add("occurred_at < ?", vec![Box::new(ts(until))]);
            }
            if let Some((at, id)) = filter.before {
                conditions.add(
                    "(occurred_at < ? OR (occurred_at = ? AND id < ?))",
                    vec![Box::new(ts(at)), Box::new(ts(at)), Box::new(id.to_string())],
                );
            }
            let mut select = conn.prepare_cached(&format!(
                "SELECT id, occurred_at, actor_id, actor_email, action, resource, params, ip
                 FROM audit_log {} ORDER BY occurred_at DESC, id DESC LIMIT {}",
                conditions.sql(),
                filter.limit
            ))?;
            select
                .query_map(params_from_iter(conditions.params()), audit_from_row)?
                .collect()
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use da_domain::audit;
    use da_types::Role;

    fn user(email: &str, role: Role) -> UserRecord {
        let now = Utc::now();
        UserRecord {
            id: Uuid::new_v4(),
            email: email.into(),
            name: "n".into(),
            role,
            active: true,
            password_hash: Some("$argon2id$x".into()),
            created_at: now,
            updated_at: now,
            last_login_at: None,
            deactivated_at: None,
            deactivated_by: None,
        }
    }

    #[tokio::test]
    async fn users_sessions_and_audit_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let store = DuckDbStore::open(&dir.path().join("da.duckdb")).unwrap();
        let admin = user("a@example.com", Role::Admin);
        let row = audit::record("test", "user:a");
        assert_eq!(
            store
                .create_user(&admin, CreateGuard::NoAdmin, None, &row)
                .await
                .unwrap(),
            CreateOutcome::Created
        );
        let second = user("b@example.com", Role::Admin);
        let row = audit::record("test", "user:b");
        assert_eq!(
            store
                .create_user(&second, CreateGuard::NoAdmin, None, &row)
                .await
                .unwrap(),
            CreateOutcome::AdminExists
        );
        let dup = user("a@example.com", Role::Viewer);
        let row = audit::record("test", "user:dup");
        assert_eq!(
            store
                .create_user(&dup, CreateGuard::EmailFree, None, &row)
                .await
                .unwrap(),
            CreateOutcome::EmailTaken
        );

        let loaded = store.user_by_email("a@example.com").await.unwrap().unwrap();
        assert_eq!(loaded.id, admin.id);
        assert_eq!(
            loaded.created_at.timestamp_micros(),
            admin.created_at.timestamp_micros()
        );
        assert_eq!(store.count_users().await.unwrap(), 1);

        let now = Utc::now();
        let session = SessionRecord {
            id: Uuid::new_v4(),
            user_id: admin.id,
            device_label: "test".into(),
            ip: Some("127.0.0.1".into()),
            created_at: now,
            last_active_at: now,
            expires_at: now + chrono::Duration::hours(1),
            revoked_at: None,
        };
        store
            .record_login(&session, &audit::record("auth.login", "s"))
            .await
            .unwrap();
        let later = now + chrono::Duration::seconds(30);
        store
            .touch_sessions(&[ActivityStamp {
                id: session.id,
                at: later,
                ip: None,
            }])
            .await
            .unwrap();
        let loaded = store.session_by_id(session.id).await.unwrap().unwrap();
        assert_eq!(loaded.last_active_at.timestamp(), later.timestamp());
        assert!(loaded.revoked_at.is_none());

        assert!(
            store
                .revoke_session(session.id, later, &audit::record("auth.logout", "s"))
                .await
                .unwrap()
        );
        assert!(
            store
                .session_by_id(session.id)
                .await
                .unwrap()
                .unwrap()
                .revoked_at
                .is_some()
        );
        assert!(
            !store
                .revoke_session(Uuid::new_v4(), later, &audit::record("auth.logout", "s"))
                .await
                .unwrap()
        );
        assert!(
            store
                .user_by_id(admin.id)
                .await
                .unwrap()
                .unwrap()
                .last_login_at
                .is_some()
        );
    }
}
