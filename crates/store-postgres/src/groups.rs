//! Groups' and memberships' SQL.

use crate::conditions::Conditions;
use crate::rows::{self, DbError, group_columns};
use chrono::{DateTime, Utc};
use da_domain::store::{GroupChange, GroupFilter, GroupRecord, MemberRecord};
use da_types::{MembershipSource, Role};
use deadpool_postgres::GenericClient;
use uuid::Uuid;

fn external_ids_json(ids: &[String]) -> serde_json::Value {
    serde_json::Value::from(ids.to_vec())
}

/// Whether a group other than `except` has this name, case-insensitively.
pub(crate) async fn name_taken(
    db: &impl GenericClient,
    name: &str,
    except: Option<Uuid>,
) -> Result<bool, DbError> {
    let statement = db
        .prepare_cached(
            "SELECT 1 FROM groups WHERE lower(name) = lower($1) AND id IS DISTINCT FROM $2",
        )
        .await?;
    Ok(db.query_opt(&statement, &[&name, &except]).await?.is_some())
}

pub(crate) async fn insert(db: &impl GenericClient, group: &GroupRecord) -> Result<(), DbError> {
    let statement = db
        .prepare_cached(&format!(
            "INSERT INTO groups ({}) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            group_columns("groups").replace("groups.", "")
        ))
        .await?;
    db.execute(
        &statement,
        &[
            &group.id,
            &group.name,
            &group.description,
            &group.role.map(Role::as_str),
            &external_ids_json(&group.external_ids),
            &group.created_at,
            &group.updated_at,
        ],
    )
    .await?;
    Ok(())
}

pub(crate) async fn by_id(
    db: &impl GenericClient,
    id: Uuid,
) -> Result<Option<GroupRecord>, DbError> {
    let statement = db
        .prepare_cached(&format!(
            "SELECT {} FROM groups g WHERE g.id = $1",
            group_columns("g")
        ))
        .await?;
    db.query_opt(&statement, &[&id])
        .await?
        .map(|row| rows::group(&row))
        .transpose()
}

pub(crate) async fn by_name(
    db: &impl GenericClient,
    name: &str,
) -> Result<Option<GroupRecord>, DbError> {
    let statement = db
        .prepare_cached(&format!(
            "SELECT {} FROM groups g WHERE lower(g.name) = lower($1)",
            group_columns("g")
        ))
        .await?;
    db.query_opt(&statement, &[&name.trim()])
        .await?
        .map(|row| rows::group(&row))
        .transpose()
}

/// Every group whose `external_ids` hold one of `values`.
pub(crate) async fn with_external_ids(
    db: &impl GenericClient,
    values: &[String],
) -> Result<Vec<GroupRecord>, DbError> {
    let statement = db
        .prepare_cached(&format!(
            "SELECT {} FROM groups g WHERE EXISTS (\
             SELECT 1 FROM jsonb_array_elements_text(g.external_ids) v WHERE v = ANY($1))",
            group_columns("g")
        ))
        .await?;
    rows::all(db.query(&statement, &[&values]).await?, rows::group)
}

pub(crate) async fn list(
    db: &impl GenericClient,
    filter: &GroupFilter,
) -> Result<(Vec<(GroupRecord, u64)>, u64), DbError> {
    let mut conditions = Conditions::default();
    if let Some(search) = &filter.search {
        let needle = search.to_lowercase();
        conditions.add(
            "(strpos(lower(g.name), ?) > 0 OR strpos(lower(g.description), ?) > 0)",
            vec![Box::new(needle.clone()), Box::new(needle)],
        );
    }
    let count = db
        .prepare_cached(&format!(
            "SELECT count(*) FROM groups g {}",
            conditions.sql()
        ))
        .await?;
    let total: i64 = db
        .query_one(&count, &conditions.params())
        .await?
        .try_get(0)?;
    let select = db
        // Not cached: each page would stay prepared on the connection for good.
        .prepare(&format!(
            "SELECT {}, (SELECT count(*) FROM memberships m WHERE m.group_id = g.id) \
             FROM groups g {} ORDER BY lower(g.name) COLLATE \"C\" LIMIT {} OFFSET {}",
            group_columns("g"),
            conditions.sql(),
            filter.limit,
            filter.offset
        ))
        .await?;
    let groups = db
        .query(&select, &conditions.params())
        .await?
        .iter()
        .map(|row| Ok((rows::group(row)?, row.try_get::<_, i64>(7)?.max(0) as u64)))
        .collect::<Result<Vec<_>, DbError>>()?;
    Ok((groups, total.max(0) as u64))
}

/// Writes the columns `change` names; whether the group exists.
pub(crate) async fn apply(
    db: &impl GenericClient,
    id: Uuid,
    at: DateTime<Utc>,
    change: &GroupChange,
) -> Result<bool, DbError> {
    let mut sets = Conditions::default();
    sets.add("updated_at = ?", vec![Box::new(at)]);
    if let Some(name) = &change.name {
        sets.add("name = ?", vec![Box::new(name.clone())]);
    }
    if let Some(description) = &change.description {
        sets.add("description = ?", vec![Box::new(description.clone())]);
    }
    if let Some(role) = change.role {
        sets.add(
            "role = ?",
            vec![Box::new(role.map(|r| r.as_str().to_owned()))],
        );
    }
    if let Some(ids) = &change.external_ids {
        sets.add("external_ids = ?", vec![Box::new(external_ids_json(ids))]);
    }
    Ok(sets.update_by_id(db, "groups", id).await? > 0)
}

/// Deletes the group, its memberships and grants; its members' ids, or `None` for no such
/// group.
pub(crate) async fn delete(
    db: &impl GenericClient,
    id: Uuid,
) -> Result<Option<Vec<Uuid>>, DbError> {
    let members = db
        .prepare_cached("DELETE FROM memberships WHERE group_id = $1 RETURNING user_id")
        .await?;
    let members = db
        .query(&members, &[&id])
        .await?
        .iter()
        .map(|row| row.try_get(0))
        .collect::<Result<Vec<Uuid>, _>>()?;
    crate::datasets::delete_grants_of_group(db, id).await?;
    let group = db
        .prepare_cached("DELETE FROM groups WHERE id = $1")
        .await?;
    let deleted = db.execute(&group, &[&id]).await?;
    Ok((deleted > 0).then_some(members))
}

pub(crate) async fn members(
    db: &impl GenericClient,
    group_id: Uuid,
) -> Result<Vec<MemberRecord>, DbError> {
    let statement = db
        .prepare_cached(
            "SELECT m.user_id, u.email, u.name, m.source, m.added_at \
             FROM memberships m JOIN users u ON u.id = m.user_id \
             WHERE m.group_id = $1 ORDER BY u.email COLLATE \"C\"",
        )
        .await?;
    rows::all(db.query(&statement, &[&group_id]).await?, |row| {
        Ok(MemberRecord {
            user_id: row.try_get(0)?,
            email: row.try_get(1)?,
            name: row.try_get(2)?,
            source: rows::source(row.try_get(3)?)?,
            added_at: row.try_get(4)?,
        })
    })
}

/// The membership's source, if the user is a member.
pub(crate) async fn membership(
    db: &impl GenericClient,
    group_id: Uuid,
    user_id: Uuid,
) -> Result<Option<MembershipSource>, DbError> {
    let statement = db
        .prepare_cached("SELECT source FROM memberships WHERE group_id = $1 AND user_id = $2")
        .await?;
    match db.query_opt(&statement, &[&group_id, &user_id]).await? {
        Some(row) => Ok(Some(rows::source(row.try_get(0)?)?)),
        None => Ok(None),
    }
}

pub(crate) async fn insert_member(
    db: &impl GenericClient,
    group_id: Uuid,
    user_id: Uuid,
    source: MembershipSource,
    at: DateTime<Utc>,
) -> Result<(), DbError> {
    let statement = db
        .prepare_cached(
            "INSERT INTO memberships (group_id, user_id, source, added_at) VALUES ($1, $2, $3, $4)",
        )
        .await?;
    db.execute(&statement, &[&group_id, &user_id, &source.as_str(), &at])
        .await?;
    Ok(())
}

pub(crate) async fn set_source(
    db: &impl GenericClient,
    group_id: Uuid,
    user_id: Uuid,
    source: MembershipSource,
) -> Result<(), DbError> {
    let statement = db
        .prepare_cached("UPDATE memberships SET source = $1 WHERE group_id = $2 AND user_id = $3")
        .await?;
    db.execute(&statement, &[&source.as_str(), &group_id, &user_id])
        .await?;
    Ok(())
}

pub(crate) async fn delete_member(
    db: &impl GenericClient,
    group_id: Uuid,
    user_id: Uuid,
) -> Result<(), DbError> {
    let statement = db
        .prepare_cached("DELETE FROM memberships WHERE group_id = $1 AND user_id = $2")
        .await?;
    db.execute(&statement, &[&group_id, &user_id]).await?;
    Ok(())
}

pub(crate) async fn delete_memberships_of(
    db: &impl GenericClient,
    user_id: Uuid,
) -> Result<(), DbError> {
    let statement = db
        .prepare_cached("DELETE FROM memberships WHERE user_id = $1")
        .await?;
    db.execute(&statement, &[&user_id]).await?;
    Ok(())
}

pub(crate) async fn of_user(
    db: &impl GenericClient,
    user_id: Uuid,
) -> Result<Vec<(GroupRecord, MembershipSource)>, DbError> {
    let statement = db
        .prepare_cached(&format!(
            "SELECT {}, m.source FROM memberships m JOIN groups g ON g.id = m.group_id \
             WHERE m.user_id = $1 ORDER BY lower(g.name) COLLATE \"C\"",
            group_columns("g")
        ))
        .await?;
    rows::all(db.query(&statement, &[&user_id]).await?, |row| {
        Ok((rows::group(row)?, rows::source(row.try_get(7)?)?))
    })
}

pub(crate) async fn roles_of_users(
    db: &impl GenericClient,
    users: &[Uuid],
) -> Result<Vec<(Uuid, Role)>, DbError> {
    if users.is_empty() {
        return Ok(Vec::new());
    }
    let statement = db
        .prepare_cached(
            "SELECT m.user_id, g.role FROM memberships m JOIN groups g ON g.id = m.group_id \
             WHERE g.role IS NOT NULL AND m.user_id = ANY($1)",
        )
        .await?;
    rows::all(db.query(&statement, &[&users]).await?, |row| {
        Ok((row.try_get(0)?, rows::role("role", row.try_get(1)?)?))
    })
}
