//! Users' SQL. A change writes only the columns it names (`UserChange`), inside the writer's
//! transaction together with its guards, so concurrent changes of other columns survive.

use crate::conditions::Conditions;
use crate::rows::{USER_COLUMNS, ts, ts_opt, user_from_row};
use chrono::{DateTime, Utc};
use da_domain::store::{ActiveChange, SsoIdentity, UserChange, UserFilter, UserRecord};
use duckdb::{Connection, OptionalExt, ToSql, params, params_from_iter};
use uuid::Uuid;

pub(crate) fn count(conn: &Connection, condition: &str) -> Result<u64, duckdb::Error> {
    conn.prepare_cached(&format!("SELECT count(*) FROM users {condition}"))?
        .query_row([], |row| row.get(0))
}

pub(crate) const ADMINS: &str = "WHERE role = 'admin'";
pub(crate) const ACTIVE_ADMINS: &str = "WHERE role = 'admin' AND active";

pub(crate) fn by_id(conn: &Connection, id: Uuid) -> Result<Option<UserRecord>, duckdb::Error> {
    conn.prepare_cached(&format!("SELECT {USER_COLUMNS} FROM users WHERE id = ?"))?
        .query_row([id.to_string()], user_from_row)
        .optional()
}

pub(crate) fn by_email(
    conn: &Connection,
    email: &str,
) -> Result<Option<UserRecord>, duckdb::Error> {
    conn.prepare_cached(&format!("SELECT {USER_COLUMNS} FROM users WHERE email = ?"))?
        .query_row([email], user_from_row)
        .optional()
}

pub(crate) fn email_taken(conn: &Connection, email: &str) -> Result<bool, duckdb::Error> {
    let taken: i64 = conn.query_row(
        "SELECT count(*) FROM users WHERE email = ?",
        [email],
        |row| row.get(0),
    )?;
    Ok(taken > 0)
}

pub(crate) fn insert(conn: &Connection, user: &UserRecord) -> Result<(), duckdb::Error> {
    conn.execute(
        &format!("INSERT INTO users ({USER_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
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
            user.sso,
        ],
    )?;
    Ok(())
}

pub(crate) fn list(
    conn: &Connection,
    filter: &UserFilter,
) -> Result<(Vec<UserRecord>, u64), duckdb::Error> {
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
    match filter.has_password {
        Some(true) => conditions.add("password_hash IS NOT NULL", vec![]),
        Some(false) => conditions.add("password_hash IS NULL", vec![]),
        None => {}
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
}

/// `Some(active)` of the user, `None` when there is no such user.
pub(crate) fn active(conn: &Connection, id: Uuid) -> Result<Option<bool>, duckdb::Error> {
    conn.query_row(
        "SELECT active FROM users WHERE id = ?",
        [id.to_string()],
        |row| row.get(0),
    )
    .optional()
}

/// Writes the columns `change` names (and `updated_at`); whether the user exists.
pub(crate) fn apply(
    conn: &Connection,
    id: Uuid,
    at: DateTime<Utc>,
    change: &UserChange,
) -> Result<bool, duckdb::Error> {
    let mut sets = vec!["updated_at = ?"];
    let mut args: Vec<Box<dyn ToSql>> = vec![Box::new(ts(at))];
    if let Some(name) = &change.name {
        sets.push("name = ?");
        args.push(Box::new(name.clone()));
    }
    if let Some(role) = change.role {
        sets.push("role = ?");
        args.push(Box::new(role.as_str()));
    }
    match change.active {
        Some(ActiveChange::Deactivate { by }) => {
            sets.push("active = false, deactivated_at = ?, deactivated_by = ?");
            args.push(Box::new(ts(at)));
            args.push(Box::new(by.to_string()));
        }
        Some(ActiveChange::Activate) => {
            sets.push("active = true, deactivated_at = NULL, deactivated_by = NULL");
        }
        None => {}
    }
    if let Some(hash) = &change.password_hash {
        sets.push("password_hash = ?");
        args.push(Box::new(hash.clone()));
    }
    if let Some(sso) = change.sso {
        sets.push("sso = ?");
        args.push(Box::new(sso));
    }
    args.push(Box::new(id.to_string()));
    let changed = conn.execute(
        &format!("UPDATE users SET {} WHERE id = ?", sets.join(", ")),
        params_from_iter(args.iter().map(|a| a.as_ref())),
    )?;
    Ok(changed > 0)
}

/// Stamps a login; `sso` also marks the user as signing in through single sign-on.
pub(crate) fn stamp_login(
    conn: &Connection,
    id: Uuid,
    at: DateTime<Utc>,
    sso: Option<&SsoIdentity>,
) -> Result<(), duckdb::Error> {
    match sso {
        Some(identity) => conn.execute(
            "UPDATE users SET last_login_at = ?, sso = true, oidc_issuer = ?, oidc_subject = ? \
             WHERE id = ?",
            params![ts(at), identity.issuer, identity.subject, id.to_string()],
        )?,
        None => conn.execute(
            "UPDATE users SET last_login_at = ? WHERE id = ?",
            params![ts(at), id.to_string()],
        )?,
    };
    Ok(())
}

/// The identity single sign-on linked the user to (`None` also for an unknown user).
pub(crate) fn sso_identity(
    conn: &Connection,
    id: Uuid,
) -> Result<Option<SsoIdentity>, duckdb::Error> {
    let linked: Option<(Option<String>, Option<String>)> = conn
        .query_row(
            "SELECT oidc_issuer, oidc_subject FROM users WHERE id = ?",
            params![id.to_string()],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()?;
    Ok(match linked {
        Some((Some(issuer), Some(subject))) => Some(SsoIdentity { issuer, subject }),
        _ => None,
    })
}

pub(crate) fn password_hash(
    conn: &Connection,
    id: Uuid,
) -> Result<Option<Option<String>>, duckdb::Error> {
    conn.query_row(
        "SELECT password_hash FROM users WHERE id = ?",
        [id.to_string()],
        |row| row.get(0),
    )
    .optional()
}

pub(crate) fn delete(conn: &Connection, id: Uuid) -> Result<bool, duckdb::Error> {
    Ok(conn.execute("DELETE FROM users WHERE id = ?", [id.to_string()])? > 0)
}
