//! Users' SQL. A change writes only the columns it names (`UserChange`), inside the writers'
//! transaction together with its guards, so concurrent changes of other columns survive.

use crate::conditions::Conditions;
use crate::rows::{self, DbError, USER_COLUMNS};
use chrono::{DateTime, Utc};
use da_domain::store::{ActiveChange, SsoIdentity, UserChange, UserFilter, UserRecord};
use deadpool_postgres::GenericClient;
use uuid::Uuid;

pub(crate) const ADMINS: &str = "WHERE role = 'admin'";
pub(crate) const ACTIVE_ADMINS: &str = "WHERE role = 'admin' AND active";

pub(crate) async fn count(db: &impl GenericClient, condition: &str) -> Result<u64, DbError> {
    let statement = db
        .prepare_cached(&format!("SELECT count(*) FROM users {condition}"))
        .await?;
    let count: i64 = db.query_one(&statement, &[]).await?.try_get(0)?;
    Ok(count.max(0) as u64)
}

pub(crate) async fn by_id(
    db: &impl GenericClient,
    id: Uuid,
) -> Result<Option<UserRecord>, DbError> {
    let statement = db
        .prepare_cached(&format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1"))
        .await?;
    db.query_opt(&statement, &[&id])
        .await?
        .map(|row| rows::user(&row))
        .transpose()
}

pub(crate) async fn by_email(
    db: &impl GenericClient,
    email: &str,
) -> Result<Option<UserRecord>, DbError> {
    let statement = db
        .prepare_cached(&format!(
            "SELECT {USER_COLUMNS} FROM users WHERE email = $1"
        ))
        .await?;
    db.query_opt(&statement, &[&email])
        .await?
        .map(|row| rows::user(&row))
        .transpose()
}

/// Inserts the user unless the email is taken; whether it was inserted.
pub(crate) async fn insert(db: &impl GenericClient, user: &UserRecord) -> Result<bool, DbError> {
    let statement = db
        .prepare_cached(&format!(
            "INSERT INTO users ({USER_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
             ON CONFLICT (email) DO NOTHING"
        ))
        .await?;
    let inserted = db
        .execute(
            &statement,
            &[
                &user.id,
                &user.email,
                &user.name,
                &user.role.as_str(),
                &user.active,
                &user.password_hash,
                &user.created_at,
                &user.updated_at,
                &user.last_login_at,
                &user.deactivated_at,
                &user.deactivated_by,
                &user.sso,
            ],
        )
        .await?;
    Ok(inserted > 0)
}

pub(crate) async fn list(
    db: &impl GenericClient,
    filter: &UserFilter,
) -> Result<(Vec<UserRecord>, u64), DbError> {
    let mut conditions = Conditions::default();
    if let Some(search) = &filter.search {
        let needle = search.to_lowercase();
        conditions.add(
            "(strpos(email, ?) > 0 OR strpos(lower(name), ?) > 0)",
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
    // The page and the number of all matches in one statement: the window count is taken
    // before LIMIT applies. An empty page (past the end, or `limit = 0` for a count) has no
    // row to carry it, hence the second statement only then.
    // Not a cached statement: every page size and offset would stay prepared on the
    // connection for good.
    let page = format!(
        "SELECT {USER_COLUMNS}, count(*) OVER () FROM users {} ORDER BY email COLLATE \"C\" \
         LIMIT {} OFFSET {}",
        conditions.sql(),
        filter.limit,
        filter.offset
    );
    let found = db.query(page.as_str(), &conditions.params()).await?;
    let total = match found.first() {
        Some(row) => row.try_get::<_, i64>(12)?.max(0) as u64,
        None if filter.offset == 0 && filter.limit > 0 => 0,
        None => {
            let statement = db
                .prepare_cached(&format!("SELECT count(*) FROM users {}", conditions.sql()))
                .await?;
            let total: i64 = db
                .query_one(&statement, &conditions.params())
                .await?
                .try_get(0)?;
            total.max(0) as u64
        }
    };
    Ok((rows::all(found, rows::user)?, total))
}

/// `Some(active)` of the user, `None` when there is no such user.
pub(crate) async fn active(db: &impl GenericClient, id: Uuid) -> Result<Option<bool>, DbError> {
    let statement = db
        .prepare_cached("SELECT active FROM users WHERE id = $1")
        .await?;
    Ok(db
        .query_opt(&statement, &[&id])
        .await?
        .map(|row| row.try_get(0))
        .transpose()?)
}

/// Writes the columns `change` names (and `updated_at`); whether the user exists.
pub(crate) async fn apply(
    db: &impl GenericClient,
    id: Uuid,
    at: DateTime<Utc>,
    change: &UserChange,
) -> Result<bool, DbError> {
    let mut sets = Conditions::default();
    sets.add("updated_at = ?", vec![Box::new(at)]);
    if let Some(name) = &change.name {
        sets.add("name = ?", vec![Box::new(name.clone())]);
    }
    if let Some(role) = change.role {
        sets.add("role = ?", vec![Box::new(role.as_str().to_owned())]);
    }
    match change.active {
        Some(ActiveChange::Deactivate { by }) => sets.add(
            "active = false, deactivated_at = ?, deactivated_by = ?",
            vec![Box::new(at), Box::new(by)],
        ),
        Some(ActiveChange::Activate) => sets.add(
            "active = true, deactivated_at = NULL, deactivated_by = NULL",
            vec![],
        ),
        None => {}
    }
    if let Some(hash) = &change.password_hash {
        sets.add("password_hash = ?", vec![Box::new(hash.clone())]);
    }
    if let Some(sso) = change.sso {
        sets.add("sso = ?", vec![Box::new(sso)]);
    }
    Ok(sets.update_by_id(db, "users", id).await? > 0)
}

/// Stamps a login; `sso` also marks the user as signing in through single sign-on.
pub(crate) async fn stamp_login(
    db: &impl GenericClient,
    id: Uuid,
    at: DateTime<Utc>,
    sso: Option<&SsoIdentity>,
) -> Result<(), DbError> {
    match sso {
        Some(identity) => {
            let statement = db
                .prepare_cached(
                    "UPDATE users SET last_login_at = $1, sso = true, oidc_issuer = $2, \
                     oidc_subject = $3 WHERE id = $4",
                )
                .await?;
            db.execute(&statement, &[&at, &identity.issuer, &identity.subject, &id])
                .await?
        }
        None => {
            let statement = db
                .prepare_cached("UPDATE users SET last_login_at = $1 WHERE id = $2")
                .await?;
            db.execute(&statement, &[&at, &id]).await?
        }
    };
    Ok(())
}

/// The identity single sign-on linked the user to (`None` also for an unknown user).
pub(crate) async fn sso_identity(
    db: &impl GenericClient,
    id: Uuid,
) -> Result<Option<SsoIdentity>, DbError> {
    let statement = db
        .prepare_cached("SELECT oidc_issuer, oidc_subject FROM users WHERE id = $1")
        .await?;
    let Some(row) = db.query_opt(&statement, &[&id]).await? else {
        return Ok(None);
    };
    Ok(
        match (
            row.try_get::<_, Option<String>>(0)?,
            row.try_get::<_, Option<String>>(1)?,
        ) {
            (Some(issuer), Some(subject)) => Some(SsoIdentity { issuer, subject }),
            _ => None,
        },
    )
}

/// `Some(hash)` of the user (which may be `None`), `None` when there is no such user.
pub(crate) async fn password_hash(
    db: &impl GenericClient,
    id: Uuid,
) -> Result<Option<Option<String>>, DbError> {
    let statement = db
        .prepare_cached("SELECT password_hash FROM users WHERE id = $1")
        .await?;
    Ok(db
        .query_opt(&statement, &[&id])
        .await?
        .map(|row| row.try_get(0))
        .transpose()?)
}

pub(crate) async fn delete(db: &impl GenericClient, id: Uuid) -> Result<bool, DbError> {
    let statement = db.prepare_cached("DELETE FROM users WHERE id = $1").await?;
    Ok(db.execute(&statement, &[&id]).await? > 0)
}
